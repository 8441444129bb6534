"""Each role's parameters as one frozen, typed object, read as attributes (``p.troops_offered``).

The registry (``simulator/scenario/params.py``) says what every parameter means, its unit,
range, default and source; the classes here say what the model holds once the parameters
are drawn: a ``float`` where every world has the same value, or a numpy array with one
draw per world. Their fields are exactly the registry's names for the role (a test checks
it), so a parameter can be followed by name from the scenario file to the code that reads it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from simulator.errors import ScenarioError, UsageError, did_you_mean, printable
from simulator.model.streams import Streams
from simulator.scenario.distributions import Fixed, Spec
from simulator.scenario.load import Scenario, parse_spec
from simulator.scenario.params import CONSTANTS, REGISTRY, Kind, Role
from simulator.scenario.yamlio import Located

# A value shared by all worlds, or one draw per world.
Value = float | np.ndarray
# The same for true/false parameters.
Flag = bool | np.ndarray


@dataclass(frozen=True, slots=True)
class ChallengerParameters:
    """The challenger's aims, costs, strength and probing (meanings: ``REGISTRY["challenger"]``)."""

    gains_value: Value
    hold_value: Value
    intervention_cost: Value
    capability: Value
    regeneration_per_month: Value
    sanctions_drag: Value
    depreciation_per_month: Value
    probe_rate_per_month: Value
    war_undecided: Value
    refusal_log_odds: Value
    probe_uncertainty_weight: Value


@dataclass(frozen=True, slots=True)
class DefenderParameters:
    """The defender's rebuilding, demands and own restarts (meanings: ``REGISTRY["defender"]``)."""

    production_per_month: Value
    depreciation_per_month: Value
    aid_absorption_per_bn: Value
    guarantee_demand: Value
    war_weariness: Value
    aid_security_per_bn_year: Value
    own_restart_per_month: Value
    moral_hazard: Value


@dataclass(frozen=True, slots=True)
class PatronParameters:
    """A patron's resolve, aid, political will, stake and backstop (meanings: ``REGISTRY["patron"]``)."""

    resolve: Value
    credibility_prior_mean: Value
    credibility_prior_strength: Value
    power: Value
    aid_bn_per_year: Value
    will_initial: Value
    fatigue_per_bn: Value
    outrage_per_probe: Value
    stake: Value
    stake_will_per_month: Value
    stake_resolve: Value
    cutoff_will: Value
    commitment: Value
    backstop: Flag
    backstop_commitment: Value


@dataclass(frozen=True, slots=True)
class ForceContributorParameters:
    """A force contributor's troops, tripwire and casualties (meanings: ``REGISTRY["force_contributor"]``)."""

    resolve: Value
    credibility_prior_mean: Value
    credibility_prior_strength: Value
    power: Value
    troops_offered: Value
    deploy_month: Value
    needs_backstop: Value
    tripwire_half_troops: Value
    power_per_1000_troops: Value
    incident_control: Value
    casualty_tolerance_per_1000: Value
    deaths_per_probe_per_1000: Value
    rally_per_death: Value
    objection: Value


@dataclass(frozen=True, slots=True)
class AllianceParameters:
    """An alliance's invitation, accession and commitments (meanings: ``REGISTRY["alliance"]``)."""

    resolve: Value
    credibility_prior_mean: Value
    credibility_prior_strength: Value
    power: Value
    invited: Flag
    accession_delay_months: Value
    veto_members: Value
    veto_probability_each: Value
    pending_commitment: Value
    member_commitment: Value
    objection: Value


@dataclass(frozen=True, slots=True)
class ModelConstants:
    """The mechanisms' strengths shared by all actors (meanings: ``CONSTANTS``)."""

    hazard_intercept: Value
    hazard_exponent: Value
    tension_weight: Value
    undecided_optimism: Value
    preventive_weight: Value
    discount_per_month: Value
    optimism_fade_per_month: Value
    tension_initial: Value
    tension_decay_per_month: Value
    incident_rate_per_month: Value
    incident_tension: Value
    probe_tension: Value


RoleParameters = (ChallengerParameters | DefenderParameters | PatronParameters
                  | ForceContributorParameters | AllianceParameters)

PARAMETER_CLASSES: dict[Role, type[RoleParameters]] = {
    "challenger": ChallengerParameters,
    "defender": DefenderParameters,
    "patron": PatronParameters,
    "force_contributor": ForceContributorParameters,
    "alliance": AllianceParameters,
}


def field_names(cls: type) -> tuple[str, ...]:
    """The attribute names of a parameter class, in declaration order."""
    return tuple(f.name for f in fields(cls))


class _DrawMemory:
    """The parameter draws of the last block of worlds, for the next model of the same worlds.

    A draw is a pure function of (seed, channel, distribution, worlds), and some inverse CDFs
    (the Beta's above all) cost more than simulating many months. The other options of a
    chunk, the next trial of a calibration or the next value of a sweep run on the same worlds
    and reuse them. Only one block of worlds is kept, up to ``max_bytes``: memory stays that
    of one model's parameters, and a new block of worlds replaces the old one.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._worlds: tuple[object, ...] | None = None
        self._draws: dict[tuple[str, str, str], np.ndarray] = {}
        self._bytes = 0

    def draw(self, spec: Spec, streams: Streams, channel: str, kind: Kind) -> np.ndarray:
        worlds = streams.identity()
        key = (channel, kind, spec.model_dump_json(exclude={"source"}))
        with self._lock:
            if worlds == self._worlds and key in self._draws:
                return self._draws[key]
        values = _inverse_cdf(spec, streams, channel, kind)
        with self._lock:
            if worlds != self._worlds:
                self._worlds, self._draws, self._bytes = worlds, {}, 0
            if self._bytes + values.nbytes <= self.max_bytes:
                self._draws[key] = values
                self._bytes += values.nbytes
        return values


_DRAWN = _DrawMemory(max_bytes=64 * 2**20)


def _inverse_cdf(spec: Spec, streams: Streams, channel: str, kind: Kind) -> np.ndarray:
    values = spec.ppf(streams.uniform(channel))
    if kind == "bool":
        values = values.astype(bool)
    elif kind == "count":
        values = np.round(values)
    else:
        values = values.astype(float)
    values.flags.writeable = False  # parameters are fixed for the ceasefire's life (and shared)
    return values


def draw(spec: Spec, streams: Streams, channel: str, kind: Kind) -> Value | Flag:
    """One value per world (by inverse CDF of the world's own uniform, read-only), or a plain value."""
    if isinstance(spec, Fixed):
        value = spec.value
        return bool(value) if kind == "bool" else float(value)
    return _DRAWN.draw(spec, streams, channel, kind)


def role_parameters(role: Role, values: Mapping[str, Any]) -> RoleParameters:
    """The typed parameters of one actor of ``role`` from its drawn values, by registry name."""
    return PARAMETER_CLASSES[role](**values)


def model_constants(values: Mapping[str, Any]) -> ModelConstants:
    """The typed model constants from their drawn values, by registry name."""
    return ModelConstants(**values)


@dataclass(frozen=True)
class Overrides:
    """Values set on top of an option: actors' parameters by ``(actor, parameter)``, constants by name."""

    parameters: dict[tuple[str, str], Spec]
    constants: dict[str, Spec]


def override_specs(scenario: Scenario, overrides: Mapping[str, Any]) -> Overrides:
    """The checked values of ``overrides``, to set on top of an option of ``scenario``.

    ``overrides`` maps ``"actor.parameter"`` (or ``"constants.name"`` for a model constant) to a
    value written as in a scenario file: a number, true/false, ``{"value": ...}`` or ``{"dist": ...}``.
    Each is checked as the scenario file's own values are; any mistake raises ``UsageError``.
    """
    out = Overrides(parameters={}, constants={})
    for key, raw in overrides.items():
        actor, _, name = str(key).partition(".")
        shown = printable(str(key))
        is_constant = actor == "constants" and actor not in scenario.actors
        if is_constant:
            known = CONSTANTS
            if name not in known:
                raise UsageError(f"override '{shown}': unknown constant '{printable(name)}'; "
                                 + did_you_mean(name, known))
        elif actor in scenario.actors:
            role = scenario.actors[actor].role
            known = REGISTRY[role]
            if name not in known:
                raise UsageError(f"override '{shown}': unknown parameter '{printable(name)}' for {actor} "
                                 f"(a {role}); " + did_you_mean(name, known))
        else:
            raise UsageError(f"override '{shown}': unknown actor '{printable(actor)}' (write 'actor.parameter'); "
                             + did_you_mean(actor, [*scenario.actors, "constants"]))
        try:
            spec = parse_spec(Located(file="overrides", data=None), (actor, name), raw, known[name],
                              scenario.facts, f"{actor}.{name}")
        except ScenarioError as exc:
            raise UsageError(f"override '{shown}': {exc.what}; {exc.fix}") from None
        if is_constant:
            out.constants[name] = spec
        else:
            out.parameters[(actor, name)] = spec
    return out
