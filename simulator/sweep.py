"""What-if analysis: add options from Python and sweep one lever across values.

Every value of a sweep is run as an option of the same scenario, so all values share the
same worlds (common random numbers) and the curve is free of seed-to-seed noise between
points; each point still carries its own 95% interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from simulator.api import Engine, run
from simulator.errors import ScenarioError
from simulator.scenario.params import REGISTRY
from simulator.analysis.results import Results
from simulator.scenario.load import Option, Scenario, parse_spec
from simulator.scenario.yamlio import Located


def with_option(scenario: Scenario, name: str, changes: Mapping[str, Mapping[str, Any]],
                based_on: str | None = None, description: str = "") -> Scenario:
    """A copy of ``scenario`` with one more option: ``based_on``'s changes plus ``changes``.

    ``changes`` is nested like a scenario file: ``{"united_kingdom": {"troops_offered": 20000}}``;
    a value may be plain or a mapping such as ``{"dist": "uniform", "low": 1, "high": 2}``.
    """
    loc = Located(file=f"{scenario.path} (option {name})", data=None)
    merged = dict(scenario.option(based_on).changes) if based_on else {}
    for actor, params in changes.items():
        if actor not in scenario.actors:
            raise ScenarioError(loc.file, 1, 1, f"unknown actor '{actor}'",
                                "choose one of: " + ", ".join(scenario.actors))
        role = scenario.actors[actor].role
        for pname, raw in params.items():
            if pname not in REGISTRY[role]:
                raise ScenarioError(loc.file, 1, 1, f"unknown parameter '{pname}' for {actor}",
                                    "see 'geosim sources' for the parameters of each actor")
            merged[(actor, pname)] = parse_spec(loc, (actor, pname), raw, REGISTRY[role][pname],
                                                 scenario.facts, f"{actor}.{pname}")
    options = dict(scenario.options)
    options[name] = Option(name, description, merged)
    return replace(scenario, options=options)


def sweep(scenario: Scenario, actor: str, parameter: str, values: Sequence[Any], based_on: str | None = None,
          worlds: int | None = None, seed: int | None = None, horizon_months: int | None = None,
          progress: bool = False, engine: Engine | None = None) -> tuple[pd.DataFrame, Results]:
    """Run ``actor.parameter`` at each of ``values`` (on top of option ``based_on``).

    ``engine`` is passed to ``run`` (default: this process). Returns one row per value with the
    summary's columns (``p_hold_36`` and its interval, ``p_direct_clash``, ``mean_aid_bn`` ...)
    and the full ``Results`` of the run.
    """
    sc = scenario
    names = []
    for value in values:
        shown = value if not isinstance(value, Mapping) else value.get("value", value.get("dist"))
        name = f"{actor}.{parameter}={shown}"
        sc = with_option(sc, name, {actor: {parameter: value}}, based_on=based_on)
        names.append(name)
    results = run(sc, options=names, worlds=worlds, seed=seed, horizon_months=horizon_months, engine=engine,
                  progress=progress)
    table = results.summary.set_index("option").loc[names].reset_index()
    table.insert(1, "value", list(values))
    table.insert(1, "parameter", f"{actor}.{parameter}")
    return table, results
