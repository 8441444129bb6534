"""The uncertain inputs of two options, each a factor on the scale of its quantiles.

A factor is a parameter that either option (or the scenario under both) gives as a distribution,
or a calibrated model constant. A design point gives each factor a quantile ``u`` in (0, 1); the
value a world of option ``o`` then uses is ``ppf(u)`` of ``o``'s own distribution, the same
inverse-CDF map the model applies to a world's own uniform when it draws. So a design sampled
uniformly in quantiles is a sample from the scenario's distributions, and two options that give
a parameter different distributions see comonotone values, as they do in a run. An option that
sets the parameter to a plain value keeps that value: the factor does not act there.

The calibrated constants (``hazard_intercept``, ``hazard_exponent``, ``tension_weight``,
``tension_decay_per_month``, ``undecided_optimism``) range uniformly between the 5% and 95%
quantiles of their posterior draws where geosim ships a draws file, else over 10% either side of
the calibrated value (clipped to the constant's allowed range). A constant the scenario sets
itself keeps the scenario's value if plain, and is a factor over the scenario's distribution if
not. ``DICE`` is one more factor: which dice the worlds of a design point roll (see evaluate.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.errors import UsageError
from simulator.scenario.distributions import U_MAX, U_MIN, Fixed, Spec, Uniform
from simulator.scenario.load import Scenario
from simulator.scenario.params import CONSTANTS, REGISTRY, Kind

DICE = "dice"  # the pseudo-factor that picks the model's own dice; its index is the dice's share
CONSTANT_SPREAD = 0.10  # without posterior draws: 10% either side of the calibrated value
POSTERIOR_QUANTILES = (0.05, 0.95)
# The constants geosim calibrates (their registry source says so): the ones the analysis varies.
CALIBRATED = tuple(name for name, d in CONSTANTS.items() if d.source.startswith("calibrated"))


@dataclass(frozen=True)
class Factor:
    """One uncertain input.

    Attributes:
        name: as in a world table's columns: ``actor.parameter`` or ``constants.NAME``.
        kind: the registry's kind (``real``, ``prob``, ``count``, ``bool``).
        specs: per option, in the order of the options, the distribution a quantile is mapped
            through; ``None`` where that option sets a plain value (the factor cannot act there).
        origin: where its range comes from, in words.
    """

    name: str
    kind: Kind
    specs: tuple[Spec | None, ...]
    origin: str

    def values(self, option: int, u: np.ndarray) -> np.ndarray | None:
        """The values that quantiles ``u`` give under the option at index ``option`` (``None``: plain there)."""
        spec = self.specs[option]
        if spec is None:
            return None
        v = np.asarray(spec.ppf(np.clip(np.asarray(u, float), U_MIN, U_MAX)), dtype=float)
        if self.kind == "count":
            return np.round(v)
        if self.kind == "bool":
            return (v != 0).astype(float)
        return v

    def shown(self, u: np.ndarray) -> np.ndarray:
        """The values on the factor's own scale: under the first option that draws it."""
        for i in range(len(self.specs)):
            v = self.values(i, u)
            if v is not None:
                return v
        raise AssertionError(f"{self.name} acts under no option")  # a factor always has a spec

    def describe(self) -> str:
        """Its distribution under each option, in words (``uniform(0.3, 0.8)``)."""
        parts = {spec.describe() if spec is not None else "plain" for spec in self.specs}
        return " / ".join(sorted(parts))


def constant_ranges(posterior_file: str | Path | None = None) -> dict[str, tuple[float, float, str]]:
    """(low, high, origin) of each calibrated constant: its posterior's 5%-95% quantiles where the
    draws file (``posterior_file``, default: the one geosim ships) has its draws, else 10% either
    side of the calibrated value."""
    from simulator.scenario.posterior_draws import load_draws

    draws: dict[str, np.ndarray] = {}
    shown = ""
    try:
        d = load_draws(posterior_file)
    except UsageError:
        if posterior_file is not None:
            raise
    else:
        shown = d.path
        rows = np.asarray(d.rows, dtype=float).reshape(len(d.rows), len(d.names))
        draws = {name: rows[:, j] for j, name in enumerate(d.names)}
    out: dict[str, tuple[float, float, str]] = {}
    for name in CALIBRATED:
        definition = CONSTANTS[name]
        lo_bound, hi_bound = definition.bounds()
        if name in draws and np.ptp(draws[name]) > 0:
            lo, hi = (float(q) for q in np.quantile(draws[name], POSTERIOR_QUANTILES))
            origin = f"posterior 5%-95% ({shown})"
        else:
            centre = float(definition.default)
            lo, hi = centre - CONSTANT_SPREAD * abs(centre), centre + CONSTANT_SPREAD * abs(centre)
            origin = "10% either side of the calibrated value"
        if lo_bound is not None:
            lo = max(lo, lo_bound)
        if hi_bound is not None:
            hi = min(hi, hi_bound)
        out[name] = (lo, hi, origin)
    return out


def uncertain_factors(scenario: Scenario, options: Sequence[str],
                      posterior_file: str | Path | None = None) -> list[Factor]:
    """Every factor of ``options``: parameters given as a distribution by either option or by the
    scenario, in the scenario's order, then the model constants."""
    options = tuple(options)
    by_option = [{(p.actor, p.name): p.spec for p in scenario.parameters(o)} for o in options]
    factors: list[Factor] = []
    for actor, name in by_option[0]:
        specs = tuple(None if isinstance(p[(actor, name)], Fixed) else p[(actor, name)] for p in by_option)
        if all(s is None for s in specs):
            continue
        origins = [scenario.option(o).name for o, s in zip(options, specs, strict=True)
                   if s is not None and (actor, name) in scenario.option(o).changes]
        origin = "option " + " and ".join(origins) if origins else "scenario"
        kind = REGISTRY[scenario.actors[actor].role][name].kind
        factors.append(Factor(f"{actor}.{name}", kind, specs, origin))
    ranges = constant_ranges(posterior_file)
    for name, definition in CONSTANTS.items():
        own = scenario.constants.get(name)
        if own is not None:
            if isinstance(own, Fixed):
                continue  # the scenario's own value wins, as it does over posterior draws
            factors.append(Factor(f"constants.{name}", definition.kind, (own,) * len(options), "scenario"))
        elif name in ranges:
            lo, hi, origin = ranges[name]
            spec = Uniform(dist="uniform", low=lo, high=hi)
            factors.append(Factor(f"constants.{name}", definition.kind, (spec,) * len(options), origin))
    return factors


def overrides(factors: Sequence[Factor], option: int, u: np.ndarray) -> list[dict[str, float | bool]]:
    """For each row of quantiles ``u`` (one column per factor), the ``overrides`` that fix the
    factors' values under the option at index ``option``."""
    columns: dict[str, np.ndarray] = {}
    kinds: dict[str, Kind] = {}
    for j, f in enumerate(factors):
        v = f.values(option, u[:, j])
        if v is not None:
            columns[f.name] = v
            kinds[f.name] = f.kind
    rows: list[dict[str, float | bool]] = []
    for i in range(u.shape[0]):
        rows.append({name: bool(v[i]) if kinds[name] == "bool" else float(v[i]) for name, v in columns.items()})
    return rows
