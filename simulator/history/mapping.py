"""From history to the model's levers: the generic base world and the documented lever mapping.

Every case is the same generic world (``generic_scenario``: a challenger and a defender
with default parameters, aims drawn widely, a Fortna-sized mix of decided and undecided
wars) plus the levers its coding sets (``case_levers``, ``case_scenario``). The tables
below (docs/validation.md) set only levers (commitment, troops, aid, incident control,
whether the war before was decided), by category, never by case: never a hazard
constant, never a per-case knob. Every case shares one seed, so cases differ only by their
levers (common random numbers). The generic comparisons scored against Fortna
(``generic_scenarios``) are built from the same tables.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import UsageError, did_you_mean
from simulator.history.cases import Case
from simulator.history.settings import DEFAULT_SEED, DEFAULT_WORLDS
from simulator.scenario.distributions import Choice, Fixed, LogNormal, Spec
from simulator.scenario.load import Actor, Option, Scenario
from simulator.scenario.params import CONSTANTS

PEACEKEEPING_TROOPS = 5000  # the interposition force of the peacekeeping comparison


def _j(text: str) -> str:
    return "judgement: " + text


# The documented mapping from a case's coding to the model's levers (docs/validation.md).
# Each entry: (actor, parameter) -> (value, source). Values are by category, never by case.
# Share of generic ceasefires that stop an undecided war: Fortna's ceasefires without
# peacekeepers, 47 of 62 of which followed no decisive victory (tests check the file agrees).
UNDECIDED_SHARE = (47, 62)
GENERIC_BASE: dict[tuple[str, str], Spec] = {
    ("challenger", "gains_value"): LogNormal(
        dist="lognormal", median=1.0, sigma=0.9,
        source=_j("a generic challenger's aims are unknown: gains about the war's cost, as widely spread as "
                  "in the Ukraine scenario")),
    ("challenger", "war_undecided"): Choice(
        dist="choice", values=[0.0, 1.0], weights=[UNDECIDED_SHARE[1] - UNDECIDED_SHARE[0], UNDECIDED_SHARE[0]],
        source=(f"cite: data/fortna_civil_ceasefires.csv: {UNDECIDED_SHARE[0]} of the {UNDECIDED_SHARE[1]} "
                "ceasefires without peacekeepers followed no decisive victory")),
}
# How a case's war ended sets the challenger's war_undecided (model.md: undecided_optimism).
WAR_UNDECIDED = {"decisive": 0.0, "indecisive": 1.0, "no_war": 0.0}
_OUTCOME_WORDS = {"decisive": "the war ended in a decisive victory", "indecisive": "the war was undecided",
                  "no_war": "no war came before it"}

GUARANTEE_LEVERS: dict[str, dict[tuple[str, str], tuple[Any, str]]] = {
    "none": {},
    "assurances": {},  # words only: no commitment to fight, so no lever (Budapest 1994)
    "mediated": {},  # a mediator or a UN resolution commits nobody to fight
    "partisan_guarantor": {
        ("guarantor", "commitment"): (0.5, _j("a side's patron with forces there is bound by interest, not by "
                                               "treaty: half-committed, like a backstop")),
        ("guarantor", "resolve"): (0.6, _j("partisan guarantors have usually answered challenges to their client")),
        ("guarantor", "credibility_prior_mean"): (0.5, _j("its presence makes its resolve believed more than a "
                                                          "distant ally's")),
        ("guarantor", "power"): (2.0, _j("a regional power, about twice the defender")),
    },
    "defense_treaty": {
        ("alliance", "invited"): (True, _j("a defence treaty in force from the start")),
        ("alliance", "accession_delay_months"): (0.0, _j("already in force: no accession window")),
        ("alliance", "veto_members"): (0, _j("nothing to veto")),
        ("alliance", "credibility_prior_mean"): (0.5, _j("a treaty in force is believed more than a bare promise")),
        ("alliance", "power"): (5.0, _j("a great power's defence treaty: several times the defender")),
    },
}
GUARANTEE_ROLES = {"partisan_guarantor": ("guarantor", "patron"), "defense_treaty": ("alliance", "alliance")}

FORCE_LEVERS: dict[str, dict[tuple[str, str], tuple[Any, str]]] = {
    "none": {},
    "interposition": {
        ("force", "power"): (0.0, _j("peacekeepers do not fight the war itself")),
        ("force", "power_per_1000_troops"): (0.001, _j("lightly armed: a quarter of a combat brigade's local power")),
        ("force", "tripwire_half_troops"): (5000.0, _j("a traditional mission of about 5,000 covers a ceasefire "
                                                       "line (UNEF II, UNMEE, UNFICYP)")),
        ("force", "incident_control"): (0.5, "cite: Fortna (2004): peacekeepers stop incidents from spiralling"),
        ("force", "resolve"): (0.1, _j("peacekeepers almost never fight a returning war (UNEF 1967, UNIFIL 1982 "
                                       "and 2024)")),
        ("force", "credibility_prior_mean"): (0.1, _j("and are believed accordingly")),
        ("force", "casualty_tolerance_per_1000"): (10.0, _j("contributors to UN missions leave after a few deaths: 50 for a mission of 5,000")),
        ("force", "deploy_month"): (3.0, _j("missions took months to reach strength (data/README.md)")),
    },
    "deterrent": {
        ("force", "power"): (0.5, _j("a combat-capable allied force: half the defender, as the default")),
        ("force", "power_per_1000_troops"): (0.004, _j("combat troops, as the default")),
        ("force", "tripwire_half_troops"): (20000.0, "cite: Reiter and Poast (2021): a force must shift the balance"),
        ("force", "incident_control"): (0.25, _j("combat forces deter but do not patrol a buffer: half of "
                                                 "peacekeepers' incident control")),
        ("force", "resolve"): (0.7, _j("allied troops defending their side usually fight")),
        ("force", "credibility_prior_mean"): (0.6, _j("and are believed to")),
        ("force", "casualty_tolerance_per_1000"): (50.0, _j("a combat force on its side's soil accepts losses: 1,000 for 20,000 troops")),
        ("force", "deploy_month"): (0.0, _j("already on the ground when the fighting stops")),
    },
}

# Monitors and a demilitarised zone act only through incident control: the "line" actor is a
# force contributor of unit size with no power, no resolve and no credibility (no tripwire).
MONITOR_INCIDENT_CONTROL = 0.25
MONITOR_FULL_STRENGTH = 200
DMZ_INCIDENT_CONTROL = 0.25
LINE_LEVERS: dict[tuple[str, str], tuple[Any, str]] = {
    ("line", "troops_offered"): (1, _j("a unit-size actor: only its incident control matters")),
    ("line", "tripwire_half_troops"): (1.0, _j("full strength from the start")),
    ("line", "deploy_month"): (0.0, _j("in place when the ceasefire starts")),
    ("line", "power"): (0.0, _j("monitors and a zone do not fight")),
    ("line", "power_per_1000_troops"): (0.0, _j("monitors and a zone do not fight")),
    ("line", "resolve"): (0.0, _j("no tripwire: nobody answers for the line")),
    ("line", "credibility_prior_mean"): (0.0, _j("and the challenger knows it")),
}

AID_BN_PER_YEAR = {"none": 0.0, "low": 5.0, "medium": 20.0, "high": 50.0}
AID_SOURCE = _j("aid in the model's units: 'high' sustains half the defender's strength at the default "
                "absorption (like US aid to Ukraine 2022-2024); medium two fifths of that, low a tenth")


def line_incident_control(monitors: int, dmz: bool) -> float:
    """Share of incidents prevented by unarmed monitors and a demilitarised zone together."""
    c_mon = MONITOR_INCIDENT_CONTROL * min(1.0, monitors / MONITOR_FULL_STRENGTH)
    c_dmz = DMZ_INCIDENT_CONTROL if dmz else 0.0
    return 1.0 - (1.0 - c_mon) * (1.0 - c_dmz)


def _fixed(table: dict[tuple[str, str], tuple[Any, str]]) -> dict[tuple[str, str], Fixed]:
    """A mapping table of (value, source) pairs as fixed parameter specs."""
    return {key: Fixed(value=value, source=source) for key, (value, source) in table.items()}


def case_levers(case: Case) -> tuple[dict[str, str], dict[tuple[str, str], Fixed]]:
    """The actors (name -> role) beyond challenger and defender, and the lever settings of a case."""
    roles: dict[str, str] = {}
    levers: dict[tuple[str, str], Fixed] = {}

    def put(table: dict[tuple[str, str], tuple[Any, str]]) -> None:
        levers.update(_fixed(table))

    if case.guarantee in GUARANTEE_ROLES:
        name, role = GUARANTEE_ROLES[case.guarantee]
        roles[name] = role
        put(GUARANTEE_LEVERS[case.guarantee])
    if case.foreign_troops > 0:
        roles["force"] = "force_contributor"
        put(FORCE_LEVERS[case.force_type])
        levers[("force", "troops_offered")] = Fixed(
            value=case.foreign_troops, source=f"cite: data/historical_ceasefires.csv, {case.case_id}")
    control = line_incident_control(case.monitors, case.dmz)
    if control > 0:
        roles["line"] = "force_contributor"
        put(LINE_LEVERS)
        what = " and ".join(w for w, on in ((f"{case.monitors} monitors", case.monitors > 0),
                                            ("a demilitarised zone", case.dmz)) if on)
        levers[("line", "incident_control")] = Fixed(
            value=control, source=_j(f"{what}: {MONITOR_INCIDENT_CONTROL:g} for a full monitoring mission "
                                     f"({MONITOR_FULL_STRENGTH}+), {DMZ_INCIDENT_CONTROL:g} for a zone, combined"))
    if case.war_outcome is not None:
        levers[("challenger", "war_undecided")] = Fixed(
            value=WAR_UNDECIDED[case.war_outcome],
            source=_j(f"{_OUTCOME_WORDS[case.war_outcome]}: {case.war_outcome_reason} (data/war_outcomes.csv)"))
    aid = AID_BN_PER_YEAR[case.defender_aid]
    if aid > 0:
        donor = "guarantor" if "guarantor" in roles else "donor"
        roles.setdefault(donor, "patron")
        levers[(donor, "aid_bn_per_year")] = Fixed(value=aid, source=AID_SOURCE)
    return roles, levers


def lever_key(case: Case) -> tuple[Any, ...]:
    """What a case's scenario depends on: its added actors and lever values (not their sources).

    Cases with the same key have the same scenario, apart from names, and so the same
    predicted survival: it is simulated once for all of them.
    """
    roles, levers = case_levers(case)
    return (tuple(sorted(roles.items())), tuple(sorted((k, v.value) for k, v in levers.items())))


def generic_scenario(roles: dict[str, str] | None = None, levers: dict[tuple[str, str], Spec] | None = None,
                     *, name: str = "generic", path: str = "generic", horizon_months: int = 120,
                     worlds: int = DEFAULT_WORLDS, seed: int = DEFAULT_SEED,
                     constants: dict[str, float] | None = None) -> Scenario:
    """A challenger and a defender with default parameters, plus the given guarantors and levers."""
    actors = {"challenger": Actor("challenger", "challenger", "challenger", ""),
              "defender": Actor("defender", "defender", "defender", "")}
    for actor, role in (roles or {}).items():
        actors[actor] = Actor(actor, role, actor, "")  # type: ignore[arg-type]
    base = dict(GENERIC_BASE)
    base.update(levers or {})
    return Scenario(path=path, name=name, description="", horizon_months=horizon_months, worlds=worlds, seed=seed,
                    actors=actors, base=base, constants=constant_specs(constants), baseline="case",
                    options={"case": Option("case", "", {})}, facts={})


def constant_specs(values: dict[str, float] | None, source: str = "calibrated: trial value") -> dict[str, Spec]:
    """Scenario ``constants`` from plain values (unknown names are refused)."""
    out: dict[str, Spec] = {}
    for name, value in (values or {}).items():
        if name not in CONSTANTS:
            raise UsageError(f"unknown model constant '{name}'; {did_you_mean(name, CONSTANTS, what='known')}")
        out[name] = Fixed(value=float(value), source=source)
    return out


def case_scenario(case: Case, *, horizon_months: int | None = None, worlds: int = DEFAULT_WORLDS,
                  seed: int = DEFAULT_SEED, constants: dict[str, float] | None = None,
                  path: str = "cases") -> Scenario:
    """The scenario of one historical case: the generic base world plus the case's levers."""
    roles, levers = case_levers(case)
    return generic_scenario(roles, levers, name=case.case_id, path=f"{path}#{case.case_id}",
                            horizon_months=horizon_months or case.months, worlds=worlds, seed=seed,
                            constants=constants)


def peacekeeping_scenarios(troops: int = PEACEKEEPING_TROOPS, **kwargs: Any) -> tuple[Scenario, Scenario]:
    """The generic no-guarantee case without and with an interposition force, all else equal."""
    without = generic_scenario(name="no_guarantee", **kwargs)
    levers = _fixed(FORCE_LEVERS["interposition"])
    levers[("force", "troops_offered")] = Fixed(value=troops, source=_j("a traditional mission of typical size"))
    with_pk = generic_scenario({"force": "force_contributor"}, levers, name="interposition", **kwargs)
    return without, with_pk


def monitors_scenario(monitors: int = MONITOR_FULL_STRENGTH, **kwargs: Any) -> Scenario:
    """The generic no-guarantee case with a full mission of unarmed monitors and nothing else."""
    levers = _fixed(LINE_LEVERS)
    levers[("line", "incident_control")] = Fixed(value=line_incident_control(monitors, False),
                                                 source=_j(f"{monitors} monitors (the mapping above)"))
    return generic_scenario({"line": "force_contributor"}, levers, name="monitors", **kwargs)


def victory_scenarios(**kwargs: Any) -> tuple[Scenario, Scenario]:
    """The generic no-guarantee case after an undecided war and after a decisive victory, all else equal."""
    out = []
    for value, name in ((1.0, "undecided"), (0.0, "decisive")):
        lever = {("challenger", "war_undecided"): Fixed(value=value, source=_j(f"the {name} arm of the comparison"))}
        out.append(generic_scenario(None, lever, name=name, **kwargs))
    return out[0], out[1]


def generic_scenarios(horizon: int, *, worlds: int, seed: int, constants: dict[str, float] | None = None,
                      monitors: bool = False) -> dict[str, Scenario]:
    """The generic comparisons scored against Fortna, by arm: ``none``, ``peacekeepers``,
    ``undecided``, ``decisive`` and, if asked, ``monitors``."""
    kw: dict[str, Any] = dict(horizon_months=horizon, worlds=worlds, seed=seed, constants=constants)
    out = dict(zip(("none", "peacekeepers"), peacekeeping_scenarios(**kw)))
    out.update(zip(("undecided", "decisive"), victory_scenarios(**kw)))
    if monitors:
        out["monitors"] = monitors_scenario(**kw)
    return out
