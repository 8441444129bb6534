"""Calibration of the model's global constants against history and Fortna's civil-war figures.

Only a small, identifiable subset of the global ``CONSTANTS`` is fitted (``CALIBRATED``):
the hazard's intercept and its sensitivity to the balance of gains and costs, and the
strength and fading of post-war tension (which make the hazard front-loaded). Nothing per
case is fitted: the cases enter only through the documented lever mapping of
``simulator.history.validate``.

The loss (docs/validation.md) is a negative log-likelihood:

    loss = - sum over cases of log L_i  +  1/2 * (z_1y^2 + z_5y^2 + z_HR^2)  +  1/2 * sum_j p_j^2

where L_i is the model's probability of what case i did (failing in its observed month,
S(k-1) - S(k); or holding through it, S(k)), and the z are the distances of the generic
no-guarantee case's survival at 1 and 5 years and of its peacekeeping hazard ratio (log
scale) from Fortna's estimates, in units of those estimates' standard errors: the
Gaussian likelihood of Fortna's figures. The last term is a weak Gaussian prior on each
fitted constant (``PRIOR``: centred on the first, hand-tuned values, wide on the searched
scale): the data pin down the level and the front-loading of the hazard but leave a
shallow ridge between the intercept and the tension weight, along which an unpenalised
fit wanders without end. Every survival curve is computed by conditional
Monte Carlo with common random numbers (same seed and worlds at every trial), so the loss
is a smooth function of the constants and Nelder-Mead can minimise it.
"""

from __future__ import annotations

import math
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy.optimize import minimize

from simulator.errors import UsageError
from simulator.scenario.params import CONSTANTS
from simulator.history.validate import (DEFAULT_CASES, DEFAULT_FORTNA, DEFAULT_SEED, Case, FortnaTargets, _lever_key,
                         case_scenario, concordance, expected_survival, fortna_targets, generic_scenarios,
                         predict_cases, read_cases, restricted_mean, weighted_cox_hazard_ratio)
from simulator.history.settings import DEFAULT_WAR_OUTCOMES

CALIBRATED = ("hazard_intercept", "hazard_exponent", "tension_weight", "tension_decay_per_month",
              "undecided_optimism")
from simulator.history.settings import CALIBRATION_WORLDS as DEFAULT_WORLDS  # noqa: E402
from simulator.history.settings import DEFAULT_MAX_EVALS, LOO_MAX_EVALS  # noqa: E402,F401
EPS = 1e-6

# How each constant is searched: on its own scale, or logged / logit-ed to keep it in range.
_TRANSFORM: dict[str, str] = {"hazard_intercept": "identity", "hazard_exponent": "log", "tension_weight": "log",
                              "tension_decay_per_month": "logit", "undecided_optimism": "log", "window_weight": "log",
                              "tension_initial": "log", "incident_rate_per_month": "logit", "incident_tension": "log",
                              "probe_tension": "log"}
INITIAL_STEP = 0.3  # size of the starting simplex, in the searched scale

# The weak prior: (centre, sd) on the searched scale (log-odds for the intercept, log for the
# exponent and the tension weight, logit for the decay). Centres are the hand-tuned values
# of the first version (hazard_intercept -4.8, hazard_exponent 1.5, tension_weight 3.5,
# tension_decay_per_month 0.2), fixed here so that recalibrating does not depend on the
# current defaults; an sd of 1.5 log-odds, or a factor of about 2 either way, is wide.
PRIOR: dict[str, tuple[float, float]] = {
    "hazard_intercept": (-4.8, 1.5),
    "hazard_exponent": (math.log(1.5), 0.7),
    "tension_weight": (math.log(3.5), 0.7),
    "tension_decay_per_month": (math.log(0.2 / 0.8), 1.0),
    # Added with the lever war_undecided, so it had no hand-tuned value: centred on expecting
    # twice the gain of another round after an undecided war, a factor of e either way at one sd.
    "undecided_optimism": (0.0, 1.0),
}


def _to_x(name: str, value: float) -> float:
    kind = _TRANSFORM.get(name, "identity")
    if kind == "log":
        return math.log(max(value, 1e-9))
    if kind == "logit":
        v = min(max(value, 1e-9), 1 - 1e-9)
        return math.log(v / (1 - v))
    return value


def _from_x(name: str, x: float) -> float:
    kind = _TRANSFORM.get(name, "identity")
    if kind == "log":
        value = math.exp(min(x, 50.0))
    elif kind == "logit":
        value = 1.0 / (1.0 + math.exp(-x))
    else:
        value = x
    lo, hi = CONSTANTS[name].bounds()
    if lo is not None:
        value = max(value, lo)
    if hi is not None:
        value = min(value, hi)
    return value


def case_log_likelihood(survival: np.ndarray, case: Case) -> float:
    """log P(what the case did): failed in its observed month, or held through it."""
    k = min(case.months, len(survival) - 1)
    p = survival[k - 1] - survival[k] if case.failed else survival[k]
    return math.log(max(float(p), EPS))


@dataclass
class Objective:
    """The calibration loss as a function of the calibrated constants (common random numbers throughout)."""

    cases: list[Case]
    fortna: FortnaTargets
    worlds: int = DEFAULT_WORLDS
    seed: int = DEFAULT_SEED
    names: tuple[str, ...] = CALIBRATED
    fixed: dict[str, float] = field(default_factory=dict)  # other constants held at these values
    prior: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(PRIOR))
    evaluations: int = 0
    _cache: dict[tuple[float, ...], dict[str, float]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        unknown = [n for n in self.names if n not in CONSTANTS]
        if unknown:
            raise UsageError(f"unknown model constant(s): {', '.join(unknown)}")
        groups: dict[tuple[Any, ...], list[Case]] = {}
        for c in self.cases:
            groups.setdefault(_lever_key(c), []).append(c)
        self._groups = list(groups.values())
        self._generic_horizon = int(math.ceil(max(self.fortna.follow_up_months)))

    def constants(self, values: dict[str, float]) -> dict[str, float]:
        return {**self.fixed, **values}

    def components(self, values: dict[str, float]) -> dict[str, float]:
        """Every term of the loss at these constant values."""
        key = tuple(round(float(values[n]), 10) for n in self.names)
        if key in self._cache:
            return self._cache[key]
        self.evaluations += 1
        consts = self.constants(values)
        nll = 0.0
        for group in self._groups:
            h = max(c.months for c in group)
            sc = case_scenario(group[0], horizon_months=h, worlds=self.worlds, seed=self.seed, constants=consts)
            s = expected_survival(sc, h, self.worlds, self.seed)
            nll -= sum(case_log_likelihood(s, c) for c in group)
        f = self.fortna
        h = self._generic_horizon
        arms = generic_scenarios(h, worlds=self.worlds, seed=self.seed, constants=consts)
        curves = {name: expected_survival(sc, h, self.worlds, self.seed) for name, sc in arms.items()}
        s0 = curves["none"]
        hr = weighted_cox_hazard_ratio(s0, curves["peacekeepers"], f.follow_up_months)
        vhr = weighted_cox_hazard_ratio(curves["undecided"], curves["decisive"], f.follow_up_months)
        z1 = (s0[12] - f.survival_1y_no_pk) / f.survival_1y_no_pk_se
        z5 = (s0[60] - f.survival_5y_no_pk) / f.survival_5y_no_pk_se
        zhr = (math.log(max(hr, EPS)) - math.log(f.hazard_ratio)) / f.log_hazard_ratio_se
        zv = (math.log(max(vhr, EPS)) - math.log(f.victory_hazard_ratio)) / f.victory_log_hazard_ratio_se
        prior = 0.0
        for n in self.names:
            if n in self.prior:
                centre, sd = self.prior[n]
                prior += 0.5 * ((_to_x(n, values[n]) - centre) / sd) ** 2
        out = {"loss": nll + 0.5 * (z1 * z1 + z5 * z5 + zhr * zhr + zv * zv) + prior, "nll_cases": nll,
               "prior": prior, "z_survival_1y": float(z1), "z_survival_5y": float(z5), "z_hazard_ratio": float(zhr),
               "z_victory_hazard_ratio": float(zv), "survival_1y": float(s0[12]), "survival_5y": float(s0[60]),
               "hazard_ratio": float(hr), "victory_hazard_ratio": float(vhr)}
        self._cache[key] = out
        return out

    def values(self, x: np.ndarray) -> dict[str, float]:
        return {n: _from_x(n, float(v)) for n, v in zip(self.names, x)}

    def x(self, values: dict[str, float]) -> np.ndarray:
        return np.array([_to_x(n, values[n]) for n in self.names])

    def __call__(self, x: np.ndarray) -> float:
        return self.components(self.values(x))["loss"]


def minimise(objective: Objective, start: dict[str, float], max_evals: int,
             step: float = INITIAL_STEP, progress: Callable[[str], None] | None = None) -> tuple[dict[str, float], Any]:
    """Nelder-Mead from ``start`` in the searched scale, with at most ``max_evals`` loss evaluations."""
    x0 = objective.x(start)
    simplex = np.vstack([x0] + [x0 + step * np.eye(len(x0))[i] for i in range(len(x0))])
    best = [math.inf]

    def f(x: np.ndarray) -> float:
        value = objective(x)
        if progress is not None and value < best[0] - 1e-9:
            best[0] = value
            shown = ", ".join(f"{n} {v:.4g}" for n, v in objective.values(x).items())
            progress(f"  eval {objective.evaluations:4d}: loss {value:.4f}  ({shown})")
        return value

    res = minimize(f, x0, method="Nelder-Mead",
                   options={"maxfev": max(1, int(max_evals)), "initial_simplex": simplex,
                            "xatol": 1e-3, "fatol": 1e-3, "adaptive": False})
    return objective.values(res.x), res


@dataclass
class CalibrationReport:
    names: tuple[str, ...]
    old: dict[str, float]
    fitted: dict[str, float]
    start_components: dict[str, float]
    fit_components: dict[str, float]
    concordance: float
    loo_concordance: float | None
    loo_scores: dict[str, float] | None
    loo_fits: dict[str, dict[str, float]] | None
    evaluations: int
    converged: bool
    message: str
    worlds: int
    seed: int
    cases_file: str
    n_cases: int
    war_outcomes_file: str | None = None

    def _coding(self) -> str:
        if self.war_outcomes_file is None:
            return "war outcomes not coded"
        return f"war outcomes coded in {Path(self.war_outcomes_file).name}"

    def source(self) -> str:
        return (f"calibrated: maximum likelihood of the {self.n_cases} historical ceasefires in "
                f"{Path(self.cases_file).name} ({self._coding()}; generic base world, documented lever "
                f"mapping) with Fortna (2004) no-peacekeeper survival at 1 and 5 years and hazard ratios of "
                f"peacekeeping and of a decisive victory as Gaussian penalties, weak prior; geosim calibrate, "
                f"{self.worlds} worlds, seed {self.seed} (docs/validation.md)")

    def yaml(self) -> str:
        """The calibrated constants as a scenario ``constants:`` block."""
        lines = [
            "# Model constants fitted by `geosim calibrate` (docs/validation.md).",
            f"# Loss {self.fit_components['loss']:.3f} (start {self.start_components['loss']:.3f}); "
            f"concordance {self.concordance:.3f}"
            + (f", leave-one-out {self.loo_concordance:.3f}" if self.loo_concordance is not None else "") + ".",
            "# Paste the block below into a scenario file to use these values there.",
            "constants:",
        ]
        src = self.source().replace("\\", "\\\\").replace('"', '\\"')
        for n in self.names:
            lines += [f"  {n}:", f"    value: {self.fitted[n]:.4g}", f'    source: "{src}"']
        return "\n".join(lines) + "\n"

    def write_yaml(self, path: str | Path) -> Path:
        """Write the YAML file atomically (a temporary file moved into place)."""
        p = Path(path)
        parent = p.parent if str(p.parent) else Path(".")
        if p.exists() and p.is_dir():
            raise UsageError(f"output path '{p}' is a directory; give a file name for --out")
        try:
            parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.partial-", dir=parent)
        except OSError as exc:
            raise UsageError(f"cannot write to '{parent}' ({exc.strerror}); choose another --out") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.yaml())
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return p

    def text(self) -> str:
        s, e = self.start_components, self.fit_components
        w = max(len(n) for n in self.names)
        lines = [f"{'constant':<{w}}  {'old':>9}  {'calibrated':>10}"]
        lines += [f"{n:<{w}}  {self.old[n]:>9.4g}  {self.fitted[n]:>10.4g}" for n in self.names]
        lines += ["", f"{'term':<28} {'old':>9} {'calibrated':>10}"]
        for key, label in (("loss", "loss"), ("nll_cases", "-log likelihood of the cases"), ("prior", "weak prior"),
                           ("survival_1y", "survival 1 y, no guarantee"), ("survival_5y", "survival 5 y, no guarantee"),
                           ("hazard_ratio", "peacekeeping hazard ratio"),
                           ("victory_hazard_ratio", "decisive-victory hazard ratio"), ("z_survival_1y", "  z (1 y)"),
                           ("z_survival_5y", "  z (5 y)"), ("z_hazard_ratio", "  z (hazard ratio, log)"),
                           ("z_victory_hazard_ratio", "  z (victory hazard ratio, log)")):
            lines.append(f"{label:<28} {s[key]:>9.3f} {e[key]:>10.3f}")
        lines += ["", f"concordance on the cases (in sample): {self.concordance:.3f}"]
        if self.loo_concordance is not None:
            lines.append(f"leave-one-out concordance (each case predicted by a fit without it): "
                         f"{self.loo_concordance:.3f}")
        lines.append(f"{self.evaluations} loss evaluations, {self.worlds} worlds, seed {self.seed}; "
                     f"optimiser: {self.message}")
        return "\n".join(lines)


def _scores(cases: list[Case], constants: dict[str, float], worlds: int, seed: int, horizon: int) -> dict[str, float]:
    preds = predict_cases(cases, worlds=worlds, seed=seed, constants=constants, horizon=horizon)
    return {c.case_id: restricted_mean(preds.curves[c.case_id]) for c in cases}


def _loo_one(args: tuple[int, list[Case], FortnaTargets, int, int, tuple[str, ...], dict[str, float],
                         dict[str, float], int, int]) -> tuple[str, float, dict[str, float]]:
    i, cases, fortna, worlds, seed, names, fixed, start, max_evals, horizon = args
    held = cases[i]
    rest = cases[:i] + cases[i + 1:]
    obj = Objective(rest, fortna, worlds, seed, names, dict(fixed))
    fitted, _ = minimise(obj, start, max_evals)
    score = _scores([held], {**fixed, **fitted}, worlds, seed, horizon)[held.case_id]
    return held.case_id, score, fitted


def calibrate(cases_path: str | Path = DEFAULT_CASES, fortna_path: str | Path = DEFAULT_FORTNA, *,
              worlds: int = DEFAULT_WORLDS, seed: int = DEFAULT_SEED, names: tuple[str, ...] = CALIBRATED,
              max_evals: int = DEFAULT_MAX_EVALS, loo: bool = True, loo_max_evals: int = LOO_MAX_EVALS,
              start: dict[str, float] | None = None, jobs: int = 1,
              progress: Callable[[str], None] | None = None,
              war_outcomes: str | Path | None = DEFAULT_WAR_OUTCOMES) -> CalibrationReport:
    """Fit ``names`` to the cases and Fortna's figures; optionally leave-one-out cross-validate."""
    if worlds < 1:
        raise UsageError(f"worlds must be a positive whole number, got {worlds}")
    cases = read_cases(cases_path, war_outcomes)
    fortna = fortna_targets(fortna_path)
    old = {n: float(CONSTANTS[n].default) for n in names}
    begin = dict(old if start is None else start)
    obj = Objective(cases, fortna, worlds, seed, tuple(names))
    start_components = obj.components(begin)
    if progress:
        progress(f"fitting {', '.join(names)} to {len(cases)} cases and Fortna's figures "
                 f"({worlds} worlds, at most {max_evals} evaluations)")
    fitted, res = minimise(obj, begin, max_evals, progress=progress)
    fit_components = obj.components(fitted)
    horizon = max(c.months for c in cases)
    scores = _scores(cases, fitted, worlds, seed, horizon)
    observed = [c.observed_months for c in cases]
    failed = [c.failed for c in cases]
    c_in = concordance(observed, [scores[c.case_id] for c in cases], failed)

    loo_c = loo_scores = loo_fits = None
    if loo:
        if progress:
            progress(f"leave-one-out: {len(cases)} refits of at most {loo_max_evals} evaluations each")
        jobs_args = [(i, cases, fortna, worlds, seed, tuple(names), {}, fitted, loo_max_evals, horizon)
                     for i in range(len(cases))]
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                results = list(pool.map(_loo_one, jobs_args))
        else:
            results = []
            for a in jobs_args:
                results.append(_loo_one(a))
                if progress:
                    progress(f"  left out {results[-1][0]}: predicted mean {results[-1][1]:.0f} months")
        loo_scores = {cid: s for cid, s, _ in results}
        loo_fits = {cid: f for cid, _, f in results}
        loo_c = concordance(observed, [loo_scores[c.case_id] for c in cases], failed)

    return CalibrationReport(tuple(names), old, fitted, start_components, fit_components, c_in, loo_c, loo_scores,
                             loo_fits, obj.evaluations, bool(res.success), str(res.message), worlds, seed,
                             str(cases_path), len(cases), None if war_outcomes is None else str(war_outcomes))
