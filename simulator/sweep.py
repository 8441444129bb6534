"""What-if analysis: add options from Python, sweep one lever, or run a design over several.

Every value of a sweep is run as an option of the same scenario, so all values share the
same worlds (common random numbers) and the curve is free of seed-to-seed noise between
points; each point still carries its own 95% interval.

``factorial`` crosses several levers (every combination of their values, ``geosim sweep``)
on top of one option. Every combination runs on the same seed and so on the same worlds as
the option as it is, so the differences between combinations are paired, world by world.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from simulator.analysis.results import Results
from simulator.api import Engine, Sequential, run
from simulator.errors import ScenarioError, UsageError, did_you_mean, printable
from simulator.scenario.distributions import Fixed, Spec
from simulator.scenario.load import Option, Scenario, parse_spec
from simulator.scenario.params import REGISTRY
from simulator.scenario.settings import Setting, label, setting_specs, with_settings
from simulator.scenario.yamlio import Located

MAX_COMBINATIONS = 1000
# Combinations run together (with the option as it is and the baseline): the paired statistics of a
# run grow with the square of its options, so a large design runs in batches. Every batch has the
# same seed and worlds, so the numbers are the same as in one run.
BATCH = 6


def with_option(scenario: Scenario, name: str, changes: Mapping[str, Mapping[str, Any]],
                based_on: str | None = None, description: str = "") -> Scenario:
    """A copy of ``scenario`` with one more option: ``based_on``'s changes plus ``changes``.

    ``changes`` is nested like a scenario file: ``{"united_kingdom": {"troops_offered": 20000}}``;
    a value may be plain or a mapping such as ``{"dist": "uniform", "low": 1, "high": 2}``.

    Raises:
        ScenarioError: an unknown actor or parameter, or a value a scenario file could not hold.
        UsageError: the scenario has an option named ``name`` already.
    """
    loc = Located(file=f"{scenario.path} (option {name})", data=None)
    specs: dict[tuple[str, str], Spec] = {}
    for actor, params in changes.items():
        if actor not in scenario.actors:
            raise ScenarioError(loc.file, 1, 1, f"unknown actor '{actor}'",
                                "choose one of: " + ", ".join(scenario.actors))
        role = scenario.actors[actor].role
        for pname, raw in params.items():
            if pname not in REGISTRY[role]:
                raise ScenarioError(loc.file, 1, 1, f"unknown parameter '{pname}' for {actor}",
                                    "see 'geosim sources' for the parameters of each actor")
            specs[(actor, pname)] = parse_spec(loc, (actor, pname), raw, REGISTRY[role][pname],
                                               scenario.facts, f"{actor}.{pname}")
    return _add_option(scenario, name, specs, based_on, description)


def _add_option(scenario: Scenario, name: str, specs: Mapping[tuple[str, str], Spec], based_on: str | None,
                description: str = "") -> Scenario:
    if name in scenario.options:  # replacing it would quietly show one option's results under two names
        raise UsageError(f"the scenario has an option named '{printable(name)}' already; choose another name")
    merged = {**scenario.option(based_on).changes, **specs} if based_on else dict(specs)
    options = dict(scenario.options)
    options[name] = Option(name, description, merged, based_on)
    return replace(scenario, options=options)


def _named(where: str, specs: Sequence[Spec]) -> list[str]:
    """Each value's name (``label``); two values with one name are refused (the second would replace the first)."""
    names = [label(s) for s in specs]
    for i, name in enumerate(names):
        if name in names[:i]:
            first = names.index(name) + 1
            raise UsageError(f"{where}: values {first} and {i + 1} are both {name}; give each value once")
    return names


def sweep(scenario: Scenario, actor: str, parameter: str, values: Sequence[Any], based_on: str | None = None,
          worlds: int | None = None, seed: int | None = None, horizon_months: int | None = None,
          progress: bool = False, engine: Engine | None = None) -> tuple[pd.DataFrame, Results]:
    """Run ``actor.parameter`` at each of ``values`` (on top of option ``based_on``).

    A value is written as in a scenario file: a number, true/false or a mapping such as
    ``{"dist": "choice", "values": [True, False], "weights": [1, 3]}``. Each value runs as an
    option named ``actor.parameter=NAME``, its name given by what it is (``20000``, ``true``,
    ``choice(values=[true, false], weights=[1, 3])``); two values with the same name are refused.

    ``engine`` is passed to ``run`` (default: this process). Returns one row per value with the
    summary's columns (``p_hold_36`` and its interval, ``p_direct_clash``, ``mean_aid_bn`` ...)
    and the full ``Results`` of the run.
    """
    setting = Setting.of(f"{actor}.{parameter}", list(values))
    if based_on is not None:
        scenario.option(based_on)  # an unknown base is refused before anything runs
    specs = setting_specs(scenario, setting)
    if setting.is_constant and actor not in scenario.actors:
        raise UsageError(f"{setting.where}: a sweep sets actors' parameters; a constant is shared by every "
                         "option of a run, so run once per value (geosim run --set constants.NAME=VALUE)")
    sc = scenario
    names = [f"{setting.key}={shown}" for shown in _named(setting.where, specs)]
    for name, spec in zip(names, specs, strict=True):
        sc = _add_option(sc, name, {(actor, parameter): spec}, based_on)
    results = run(sc, options=names, worlds=worlds, seed=seed, horizon_months=horizon_months, engine=engine,
                  progress=progress)
    table = results.summary.set_index("option").loc[names].reset_index()
    shown = [v if isinstance(s, Fixed) else label(s) for v, s in zip(values, specs, strict=True)]
    table.insert(1, "value", shown)
    table.insert(1, "parameter", setting.key)
    return table, results


def factorial(scenario: Scenario, option: str, levers: Sequence[Setting] | Mapping[str, Sequence[Any]], *,
              worlds: int | None = None, seed: int | None = None, horizon_months: int | None = None,
              progress: bool = False, engine: Engine | None = None) -> tuple[pd.DataFrame, Results]:
    """Every combination of the levers' values on top of ``option``, on shared worlds (``geosim sweep``).

    Args:
        scenario: a loaded scenario.
        option: the option the levers are set on.
        levers: ``{"actor.parameter": [value, ...]}``, or parsed ``--set`` arguments (``Setting``),
            each value written as in a scenario file. A model constant (``constants.NAME``) takes
            one value, set for the whole run (options share the constants).
        worlds, seed, horizon_months, progress, engine: as for ``simulator.run``.

    Returns:
        One row for the option as it is, then one per combination (the first lever's values
        vary slowest): ``option`` (the name the combination ran as), a column per lever with
        its value's name, ``worlds``, the summary's columns, and for every measure compared
        world by world ``diff_MEASURE``, ``diff_MEASURE_lo`` and ``diff_MEASURE_hi``: the paired
        difference from the option as it is, with its 95% interval. Also the ``Results`` of
        the baseline, the option and every combination (``manifest["design"]`` records the levers).

    Raises:
        UsageError: an unknown option, actor or parameter, a bad value (naming the lever and the
            value), a lever given twice, two values with one name, or more than 1,000 combinations.
    """
    if option not in scenario.options:
        raise UsageError(f"{scenario.path}: no option named '{printable(option)}'; "
                         f"{did_you_mean(option, scenario.options)}")
    settings = ([Setting.of(k, v) for k, v in levers.items()] if isinstance(levers, Mapping) else list(levers))
    if not settings:
        raise UsageError("a sweep needs at least one lever: --set actor.parameter=v1,v2,...")
    seen: set[str] = set()
    for s in settings:
        if s.key in seen:
            raise UsageError(f"{s.where}: '{printable(s.key)}' is given twice; give all its values at once")
        seen.add(s.key)
    sc, factors = _factors(scenario, settings)
    count = 1
    for _, _, specs in factors:
        count *= len(specs)
    if count > MAX_COMBINATIONS:
        raise UsageError(f"{count:,} combinations of the levers' values, over the limit of {MAX_COMBINATIONS:,}; "
                         "give fewer values or fewer levers")
    names, rows = [], []
    for combo in itertools.product(*(range(len(specs)) for _, _, specs in factors)):
        shown = {s.key: names_[i] for (s, names_, _), i in zip(factors, combo, strict=True)}
        name = ", ".join(f"{k}={v}" for k, v in shown.items())
        changes = {(s.actor, s.parameter): specs[i] for (s, _, specs), i in zip(factors, combo, strict=True)}
        sc = _add_option(sc, name, changes, option)
        names.append(name)
        rows.append(shown)
    results = _run_batches(sc, option, names, worlds, seed, horizon_months, progress, engine)
    results.manifest["design"] = {"option": option, "levers": {s.key: list(n) for s, n, _ in factors},
                                  "combinations": len(names), "settings": list(sc.settings)}
    as_is = {s.key: _current(sc, option, s) for s in settings}
    return _design_table(results, option, [as_is, *rows], names), results


def _factors(scenario: Scenario, settings: list[Setting]) -> tuple[Scenario, list[tuple[Setting, list[str], list[Spec]]]]:
    """The scenario with the constants set (one value each), and each actors' lever with its values' names and specs."""
    constants = [s for s in settings if s.is_constant and s.actor not in scenario.actors]
    for s in constants:
        if len(s.values) != 1:
            raise UsageError(f"{s.where}: {len(s.values)} values, but a constant takes one: constants are shared by "
                             "every option of a run; sweep it by running once per value")
    sc = with_settings(scenario, constants)
    factors = []
    for s in settings:
        specs = setting_specs(sc, s)
        factors.append((s, _named(s.where, specs), specs))
    return sc, factors


def _current(sc: Scenario, option: str, setting: Setting) -> str:
    """The name of the value ``setting``'s parameter has under ``option`` as it is."""
    if setting.is_constant and setting.actor not in sc.actors:
        return label(sc.constant_specs()[setting.parameter])
    spec = next(p.spec for p in sc.parameters(option) if (p.actor, p.name) == (setting.actor, setting.parameter))
    return label(spec)


def _run_batches(sc: Scenario, option: str, names: list[str], worlds: int | None, seed: int | None,
                 horizon_months: int | None, progress: bool, engine: Engine | None) -> Results:
    """Run the option and the combinations, ``BATCH`` combinations at a time, and merge the results."""
    engine = Sequential() if engine is None else engine
    parts: list[Results] = []
    t0 = time.perf_counter()
    with contextlib.nullcontext() if engine.is_open else engine:
        for i in range(0, len(names), BATCH):
            parts.append(run(sc, options=[option, *names[i:i + BATCH]], worlds=worlds, seed=seed,
                             horizon_months=horizon_months, engine=engine, worlds_to=None, progress=progress))
    first = parts[0]
    order = list(dict.fromkeys(o for p in parts for o in p.options))
    summary = pd.concat([p.summary for p in parts]).drop_duplicates("option").set_index("option").loc[order]
    survival = pd.concat([p.survival for p in parts]).drop_duplicates(["option", "month"], keep="first")
    pairs = pd.concat([p.pairs for p in parts]).drop_duplicates(["option", "baseline", "measure"])
    manifest = dict(first.manifest, options=order, wall_seconds=round(time.perf_counter() - t0, 3),
                    run=dict(first.manifest["run"], batches=len(parts)))
    return Results(summary=summary.reset_index(), survival=survival.reset_index(drop=True),
                   pairs=pairs.reset_index(drop=True), manifest=manifest)


def _design_table(results: Results, option: str, levels: list[dict[str, str]], names: list[str]) -> pd.DataFrame:
    rows = [option, *names]
    table = results.summary.set_index("option").loc[rows].reset_index()
    for j, key in enumerate(levels[0]):
        table.insert(1 + j, key, [level[key] for level in levels])
    diff = results.compare(option).set_index(["option", "measure"])
    for measure in dict.fromkeys(diff.index.get_level_values("measure")):
        for suffix, column in (("", "difference"), ("_lo", "lower"), ("_hi", "upper")):
            table[f"diff_{measure}{suffix}"] = [diff.loc[(r, measure), column] for r in rows]
    return table
