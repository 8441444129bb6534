"""The levers of the what-if page: which parameters it offers, and how each one changes an option.

A lever is one parameter (``actor.parameter``, or ``constants.NAME`` for a model constant) that
the page shows as a slider or a switch. Until the user moves it, a lever changes nothing: every
option keeps the scenario's value (often a distribution). Once set, its value replaces the
scenario's in the options it reaches, which depends on its scope:

``option``
    Something an option offers (troops, a backstop, aid, a minerals stake). It reaches only the
    options that set the parameter themselves: moving the troops slider changes the force in
    ``peacekeepers`` and ``bridge_force`` but puts no troops into the baseline.
``world``
    Something about the world every option faces (a contributor's need for a backstop, the
    accession delay, the veto risk, the defender's demand, a model constant). It reaches every
    option except those that fix the parameter themselves, as ``article5_guarantee`` fixes the
    accession delay at 0.

``overrides_for`` gives, for one option, the values a ``CeasefireModel`` takes as ``overrides``;
``scenario_with`` gives a scenario whose options carry those values, for ``simulator.run``.
The two agree world by world (tests/test_app.py checks it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from simulator.errors import UsageError, printable
from simulator.scenario.distributions import Spec
from simulator.scenario.load import Option, Scenario
from simulator.scenario.params import CONSTANTS, REGISTRY
from simulator.scenario.settings import Setting, setting_specs

Scope = Literal["option", "world"]
CONSTANTS_ACTOR = "constants"


@dataclass(frozen=True)
class Lever:
    """One slider or switch: the parameter it sets, how it reads, where it reaches and its range."""

    key: str  # "united_kingdom.troops_offered" or "constants.preventive_weight"
    label: str  # "United Kingdom: troops offered"
    scope: Scope
    low: float
    high: float
    step: float
    kind: str  # the registry's kind: "count", "real", "prob" or "bool"

    @property
    def actor(self) -> str:
        return self.key.partition(".")[0]

    @property
    def parameter(self) -> str:
        return self.key.partition(".")[2]

    @property
    def is_switch(self) -> bool:
        return self.kind == "bool"

    @property
    def is_whole(self) -> bool:
        """A slider of whole numbers (troops, months) rather than fractions."""
        return self.kind == "count" or float(self.step).is_integer() and float(self.low).is_integer()


# (parameter, scope, what it reads as, low, high, step) for each role; the ranges go somewhat
# beyond the scenario's values so that a user can ask "what if twice as much".
_BY_ROLE: dict[str, list[tuple[str, Scope, str, float, float, float]]] = {
    "force_contributor": [
        ("troops_offered", "option", "troops offered", 0, 60_000, 1_000),
        ("needs_backstop", "world", "chance it will not deploy without a backstop", 0, 1, 0.05),
    ],
    "patron": [
        ("backstop", "option", "backstop for a deployed force", 0, 1, 1),
        ("aid_bn_per_year", "option", "aid, bn USD a year", 0, 120, 5),
        ("stake", "option", "minerals stake (0 none, 1 a full partnership)", 0, 1, 0.1),
    ],
    "alliance": [
        ("accession_delay_months", "world", "accession delay, months", 0, 120, 3),
        ("veto_probability_each", "world", "veto probability per member", 0, 1, 0.05),
    ],
    "defender": [
        ("guarantee_demand", "world", "guarantee demand (expected intervention it wants before it signs)", 0, 1,
         0.05),
    ],
}
_CONSTANTS: list[tuple[str, Scope, str, float, float, float]] = [
    ("preventive_weight", "world", "preventive-motive weight", 0, 2, 0.1),
]


def _short(label: str) -> str:
    """An actor's label without its parenthesis: ``United Kingdom (lead of a force)`` -> ``United Kingdom``."""
    return label.split(" (")[0].strip() or label


def levers(scenario: Scenario) -> list[Lever]:
    """The levers of ``scenario``, actor by actor in the file's order, then the constants.

    A patron's backstop is offered only where some actor contributes a force for it to back.
    """
    out: list[Lever] = []
    has_force = bool(scenario.actors_with_role("force_contributor"))
    for actor in scenario.actors.values():
        for name, scope, reads, low, high, step in _BY_ROLE.get(actor.role, []):
            if name == "backstop" and not has_force:
                continue
            kind = REGISTRY[actor.role][name].kind
            out.append(Lever(f"{actor.name}.{name}", f"{_short(actor.label)}: {reads}", scope, low, high, step, kind))
    for name, scope, reads, low, high, step in _CONSTANTS:
        out.append(Lever(f"{CONSTANTS_ACTOR}.{name}", f"Model constant: {reads}", scope, low, high, step,
                         CONSTANTS[name].kind))
    return out


def lever_named(scenario: Scenario, key: str) -> Lever:
    for lever in levers(scenario):
        if lever.key == key:
            return lever
    raise UsageError(f"no lever '{printable(key)}' in scenario '{scenario.name}'; the levers are: "
                     + ", ".join(lv.key for lv in levers(scenario)))


def _sets(option: Option, lever: Lever) -> bool:
    """Whether ``option`` sets the lever's parameter itself (its own settings or its base's)."""
    return (lever.actor, lever.parameter) in option.changes


def reaches(scenario: Scenario, lever: Lever, option: str) -> bool:
    """Whether a value set on ``lever`` changes ``option`` (see the module's docstring)."""
    if lever.actor == CONSTANTS_ACTOR and lever.actor not in scenario.actors:
        return True  # options do not set constants
    sets = _sets(scenario.option(option), lever)
    return sets if lever.scope == "option" else not sets


def reached(scenario: Scenario, lever: Lever, options: Iterable[str]) -> list[str]:
    """The options among ``options`` that ``lever`` reaches."""
    return [o for o in options if reaches(scenario, lever, o)]


def _value(lever: Lever, value: Any) -> bool | int | float:
    """A lever's value as the model takes it: a bool for a switch, a whole number for a count."""
    if lever.is_switch:
        return bool(value)
    x = float(value)
    if not math.isfinite(x):
        raise UsageError(f"{lever.key}: {value!r} is not a number")
    return int(round(x)) if lever.kind == "count" else x


def checked(scenario: Scenario, values: Mapping[str, Any]) -> dict[str, bool | int | float]:
    """``values`` by lever key, each converted to the model's type; an unknown key is a ``UsageError``."""
    by_key = {lv.key: lv for lv in levers(scenario)}
    out = {}
    for key, value in values.items():
        if key not in by_key:
            lever_named(scenario, key)  # raises, naming the levers
        out[key] = _value(by_key[key], value)
    return out


def overrides_for(scenario: Scenario, option: str, values: Mapping[str, Any]) -> dict[str, bool | int | float]:
    """The lever values that reach ``option``, as ``CeasefireModel(..., overrides=...)`` takes them."""
    by_key = {lv.key: lv for lv in levers(scenario)}
    return {key: v for key, v in checked(scenario, values).items() if reaches(scenario, by_key[key], option)}


def _spec(scenario: Scenario, key: str, value: Any) -> Spec:
    """A value checked exactly as a scenario file's would be (range, kind)."""
    return setting_specs(scenario, Setting.of(key, [value]))[0]


def scenario_with(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """``scenario`` with each set lever's value in the options it reaches (constants: for all).

    Without values, ``scenario`` itself. The result's ``sha256`` covers the values.
    """
    chosen = checked(scenario, values)
    if not chosen:
        return scenario
    by_key = {lv.key: lv for lv in levers(scenario)}
    options = {}
    for name, option in scenario.options.items():
        changes = dict(option.changes)
        for key, value in chosen.items():
            lever = by_key[key]
            if lever.actor != CONSTANTS_ACTOR and reaches(scenario, lever, name):
                changes[(lever.actor, lever.parameter)] = _spec(scenario, key, value)
        options[name] = Option(option.name, option.description, changes, option.based_on)
    constants = dict(scenario.constants)
    for key, value in chosen.items():
        if by_key[key].actor == CONSTANTS_ACTOR and CONSTANTS_ACTOR not in scenario.actors:
            constants[by_key[key].parameter] = _spec(scenario, key, value)
    text = "\n".join(f"{k}={v}" for k, v in sorted(chosen.items()))
    digest = hashlib.sha256(f"{scenario.sha256}\napp levers\n{text}".encode()).hexdigest()
    return dataclasses.replace(scenario, options=options, constants=constants, sha256=digest)


def scenario_spec(scenario: Scenario, lever: Lever, option: str) -> Spec:
    """What ``option`` has for the lever's parameter before any lever is set."""
    if lever.actor == CONSTANTS_ACTOR and lever.actor not in scenario.actors:
        return scenario.constant_specs()[lever.parameter]
    for p in scenario.parameters(option):
        if (p.actor, p.name) == (lever.actor, lever.parameter):
            return p.spec
    raise UsageError(f"no parameter {lever.key} in scenario '{scenario.name}'")  # pragma: no cover


def starting_value(scenario: Scenario, lever: Lever, options: Sequence[str]) -> bool | int | float:
    """Where the lever's slider starts: the median of the scenario's value in the first option it reaches
    (the baseline's where it reaches none), on the slider's grid and within its range."""
    chosen = reached(scenario, lever, options) or [scenario.baseline]
    spec = scenario_spec(scenario, lever, chosen[0])
    median = float(np.asarray(spec.ppf(np.array([0.5]))).ravel()[0])
    if lever.is_switch:
        return bool(median >= 0.5)
    x = min(max(median, lever.low), lever.high)
    x = lever.low + round((x - lever.low) / lever.step) * lever.step
    x = round(x, 10)
    return int(x) if lever.is_whole else x


def scenario_text(scenario: Scenario, lever: Lever, options: Sequence[str]) -> str:
    """What the chosen options have for the lever before it is set, e.g.
    ``peacekeepers, bridge_force: triangular(10000, 20000, 30000)``; or that it reaches none of them."""
    chosen = reached(scenario, lever, options)
    if not chosen:
        return "reaches none of the chosen options"
    groups: dict[str, list[str]] = {}
    for option in chosen:
        groups.setdefault(scenario_spec(scenario, lever, option).describe(), []).append(option)
    return "; ".join(f"{', '.join(opts)}: {text}" for text, opts in groups.items())
