"""Designs over several levers (``geosim sweep``), ``--set`` on ``geosim run``, and ``based_on:`` options.

- A design runs every combination of the levers' values on the seed and worlds of the option
  as it is: the combination that equals the option reproduces ``geosim run``'s numbers exactly,
  and its paired difference from the option is exactly zero.
- Values of a sweep are named by what they are, so distribution-valued settings no longer
  overwrite one another (the bug: five ``choice`` values all named ``...=choice``).
- ``--set`` on ``run`` changes exactly what it says: the same worlds as a model given the same
  ``overrides``, and nothing else in the scenario.
- ``based_on:`` inherits, chains and refuses cycles and unknown bases at their line; the shipped
  scenario, rewritten with ``based_on:``, resolves to the values it had before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import simulator
from simulator import cli
from simulator.api import run
from simulator.errors import ScenarioError, UsageError
from simulator.report.write import rounded
from simulator.model.model import CeasefireModel
from simulator.scenario.distributions import Choice, Fixed, Triangular, Uniform
from simulator.scenario.settings import label, parse_settings, with_settings
from simulator.sweep import BATCH, factorial, sweep, with_option

WORLDS = 1500
TROOPS = {"dist": "triangular", "low": 10000, "mode": 20000, "high": 30000}  # as peacekeepers has them


def choice(p_true: float) -> dict:
    return {"dist": "choice", "values": [True, False], "weights": [p_true, 1 - p_true]}


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])])


# ------------------------------------------------------------------------------------- factorial designs


def test_full_factorial_on_shared_worlds(ukraine) -> None:
    levers = {"united_kingdom.troops_offered": [0, TROOPS, 40000],
              "united_states.backstop": [True, False, choice(0.5)]}
    table, results = factorial(ukraine, "peacekeepers", levers, worlds=WORLDS)
    assert len(table) == 1 + 3 * 3 > 1 + BATCH  # the option as it is, then every combination (in two batches)
    assert list(table.columns[:4]) == ["option", "united_kingdom.troops_offered", "united_states.backstop", "worlds"]
    troops = ["0", "triangular(low=10000, mode=20000, high=30000)", "40000"]
    backstop = ["true", "false", "choice(values=[true, false], weights=[0.5, 0.5])"]
    assert table["united_kingdom.troops_offered"].tolist() == [troops[1]] + [t for t in troops for _ in backstop]
    assert table["united_states.backstop"].tolist() == ["true"] + backstop * 3
    assert table["option"].is_unique
    assert results.options == [ukraine.baseline, "peacekeepers", *table["option"][1:]]
    assert results.manifest["design"]["levers"] == {"united_kingdom.troops_offered": troops,
                                                    "united_states.backstop": backstop}

    # The combination equal to the option as it is: the same numbers, and a paired difference of exactly 0.
    same = table.iloc[1 + 1 * 3 + 0]
    assert (same["united_kingdom.troops_offered"], same["united_states.backstop"]) == (troops[1], "true")
    alone = run(ukraine, options=["peacekeepers"], worlds=WORLDS, progress=False).summary.set_index("option")
    for column in alone.columns:
        expected = alone.loc["peacekeepers", column]
        assert same[column] == expected or (pd.isna(expected) and pd.isna(same[column])), column
    diffs = [c for c in table.columns if c.startswith("diff_")]
    assert len(diffs) >= 3 and all(same[c] == 0 for c in diffs)
    assert (table.loc[0, diffs] == 0).all()

    # A combination of the second batch is the same as that option run on its own: batches share the worlds.
    last = table.iloc[-1]
    own = with_option(ukraine, "last", {"united_kingdom": {"troops_offered": 40000},
                                        "united_states": {"backstop": choice(0.5)}}, based_on="peacekeepers")
    single = run(own, options=["peacekeepers", "last"], worlds=WORLDS, progress=False)
    numbers = _numbers(table).drop(columns=diffs)
    pd.testing.assert_series_equal(numbers.iloc[-1], single.summary.set_index("option").loc["last", numbers.columns],
                                   check_names=False, check_exact=True)
    pair = single.compare("peacekeepers").set_index(["option", "measure"]).loc[("last", "hold_36")]
    assert (last["diff_hold_36"], last["diff_hold_36_lo"], last["diff_hold_36_hi"]) == (
        pair["difference"], pair["lower"], pair["upper"])


def test_geosim_sweep_reproduces_geosim_run(tmp_path: Path, capsys) -> None:
    common = ["--worlds", "1000", "--quiet", "--no-plots"]
    assert cli.main(["run", "ukraine_2025", "--option", "peacekeepers", "--out", str(tmp_path / "run"), *common]) == 0
    assert cli.main(["sweep", "ukraine_2025", "--option", "peacekeepers", "--out", str(tmp_path / "sweep"),
                     "--set", "united_kingdom.troops_offered=10000,{dist: triangular, low: 10000, mode: 20000, high: 30000}",
                     "--set", "united_states.backstop=true", *common]) == 0
    out = capsys.readouterr().out
    assert "2 combinations on 1,000 shared worlds" in out and "as it is" in out
    ran = pd.read_csv(tmp_path / "run" / "summary.csv", float_precision="round_trip").set_index("option")
    design = pd.read_csv(tmp_path / "sweep" / "sweep.csv", float_precision="round_trip")
    assert len(design) == 3
    equal = rounded(design).iloc[2]  # geosim run writes its tables to six significant digits
    assert equal["united_kingdom.troops_offered"] == "triangular(low=10000, mode=20000, high=30000)"
    for column in ran.columns:
        expected = ran.loc["peacekeepers", column]
        assert equal[column] == expected or (pd.isna(expected) and pd.isna(equal[column])), column
    assert equal["diff_hold_36"] == 0 and design.iloc[1]["diff_hold_36"] != 0
    manifest = json.loads((tmp_path / "sweep" / "manifest.json").read_text())
    assert "sweep.csv" in manifest["sha256"] and manifest["design"]["option"] == "peacekeepers"
    loaded = simulator.load_results(tmp_path / "sweep")  # a results folder like any other
    assert list(loaded.summary["option"])[1:] == list(design["option"])


def test_a_constant_takes_one_value_for_the_whole_design(ukraine) -> None:
    table, results = factorial(ukraine, "aid_only", {"united_states.stake": [0, 1],
                                                     "constants.tension_weight": [1.5]}, worlds=500)
    assert table["constants.tension_weight"].tolist() == ["1.5"] * 3
    assert results.manifest["design"]["settings"] == ["constants.tension_weight=1.5"]
    set_alone = run(with_settings(ukraine, {"constants.tension_weight": 1.5}), options=["aid_only"], worlds=500,
                    progress=False).summary.set_index("option")
    unset = run(ukraine, options=["aid_only"], worlds=500, progress=False).summary.set_index("option")
    assert table["p_hold_36"][0] == set_alone.loc["aid_only", "p_hold_36"] != unset.loc["aid_only", "p_hold_36"]
    with pytest.raises(UsageError, match="a constant takes one"):
        factorial(ukraine, "aid_only", {"constants.tension_weight": [1, 2]}, worlds=500)


# ------------------------------------------------------------------------ unique names (the old bug)


def test_distribution_values_of_a_sweep_keep_their_own_rows(ukraine) -> None:
    """Five choice values used to be named 'united_states.backstop=choice' alike: five rows of one result."""
    values = [choice(p) for p in (0.0, 0.25, 0.5, 0.75, 1.0)]
    table, results = sweep(ukraine, "united_states", "backstop", values, based_on="peacekeepers", worlds=WORLDS)
    assert table["option"].is_unique and len(table) == 5
    assert len(results.summary) == 1 + 5  # the baseline and every value
    assert table["option"][1] == "united_states.backstop=choice(values=[true, false], weights=[0.25, 0.75])"
    plain, _ = sweep(ukraine, "united_states", "backstop", [False, True], based_on="peacekeepers", worlds=WORLDS)
    hold = table["p_hold_36"].tolist()
    # A choice that always draws false (true) is the plain value, world by world.
    assert hold[0] == plain["p_hold_36"][0] and hold[-1] == plain["p_hold_36"][1] and hold[0] != hold[-1]
    assert len(set(hold)) == 5


@pytest.mark.parametrize("parameter,values,shown", [
    ("backstop", [True, True], "both true"),
    ("stake", [1, {"value": 1, "source": "judgement: the same value with a source"}], "both 1"),
    ("backstop", [choice(0.5), {"dist": "choice", "values": [True, False], "weights": [0.5, 0.5]}],
     "both choice(values=[true, false], weights=[0.5, 0.5])"),
])
def test_two_values_with_one_name_are_refused(ukraine, parameter: str, values: list, shown: str) -> None:
    with pytest.raises(UsageError, match=re.escape(f"values 1 and 2 are {shown}; give each value once")):
        sweep(ukraine, "united_states", parameter, values, based_on="aid_only", worlds=100)


def test_labels_name_values_by_what_they_are() -> None:
    assert label(Fixed(value=20000.0)) == "20000"
    assert label(Fixed(value=True)) == "true"
    assert label(Fixed(value=0.1 + 0.2)) == "0.3" and label(Fixed(value=1e-7)) == "1e-07"
    assert label(Uniform(dist="uniform", low=1, high=2)) == "uniform(low=1, high=2)"
    assert label(Triangular(dist="triangular", low=0, mode=1, high=3, source="judgement: x")) == \
        "triangular(low=0, mode=1, high=3)"
    assert label(Choice(dist="choice", values=[True, False], weights=[1, 3])) == \
        "choice(values=[true, false], weights=[1, 3])"


def test_with_option_refuses_a_name_it_would_overwrite(ukraine) -> None:
    with pytest.raises(UsageError, match="option named 'peacekeepers' already"):
        with_option(ukraine, "peacekeepers", {"united_states": {"backstop": False}})


# ---------------------------------------------------------------------------------------- --set on run


SETS = ["united_kingdom.troops_offered=5000", "russia.gains_value={dist: uniform, low: 1, high: 2}",
        "constants.tension_weight=1.5"]
OVERRIDES = {"united_kingdom.troops_offered": 5000, "russia.gains_value": {"dist": "uniform", "low": 1, "high": 2},
             "constants.tension_weight": 1.5}


def test_set_changes_exactly_what_it_says(ukraine) -> None:
    changed = with_settings(ukraine, parse_settings(SETS))
    set_keys = {("united_kingdom", "troops_offered"), ("russia", "gains_value")}
    for option in ukraine.options:
        before = {(p.actor, p.name): p.spec for p in ukraine.parameters(option)}
        after = {(p.actor, p.name): p.spec for p in changed.parameters(option)}
        assert {k for k in before if before[k] != after[k]} <= set_keys
        assert after[("united_kingdom", "troops_offered")] == Fixed(value=5000)
        assert after[("russia", "gains_value")] == Uniform(dist="uniform", low=1, high=2)
    before_c, after_c = ukraine.constant_specs(), changed.constant_specs()
    assert {k for k in before_c if before_c[k] != after_c[k]} == {"tension_weight"}
    assert changed.settings == ("united_kingdom.troops_offered=5000",
                                'russia.gains_value={"dist": "uniform", "low": 1, "high": 2}',
                                "constants.tension_weight=1.5")
    assert changed.sha256 != ukraine.sha256  # checkpoints of a run with other settings are never reused

    # The same worlds as a model given the same values as overrides, under every option run.
    results = run(changed, options=["peacekeepers"], worlds=600, worlds_to="memory", progress=False)
    assert results.manifest["set"] == list(changed.settings)
    for option in results.options:
        model = CeasefireModel(ukraine, option, worlds=600, rng=ukraine.seed, collect=False, overrides=OVERRIDES).run()
        got = results.worlds[results.worlds["option"] == option].drop(columns="option").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, model.outcomes().reset_index(drop=True)[got.columns], check_exact=True)


def test_geosim_run_records_what_was_set(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    argv = ["run", "ukraine_2025", "--option", "peacekeepers", "--worlds", "300", "--out", str(out), "--quiet",
            "--no-plots"]
    assert cli.main([*argv, *(x for s in SETS for x in ("--set", s))]) == 0
    assert "set on top of every option: united_kingdom.troops_offered=5000;" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["set"][0] == "united_kingdom.troops_offered=5000" and len(manifest["set"]) == 3
    assert cli.main([*argv, "--force"]) == 0
    assert "set" not in json.loads((out / "manifest.json").read_text())


BAD_SETS = [
    ("united_kingdom.troops_offered", "write actor.parameter=value; e.g. --set"),
    ("troops_offered=5", "write actor.parameter=value"),
    ("united_kingdom.troops_offered=", "no value after '='"),
    ("united_kingdm.troops_offered=5", "unknown actor 'united_kingdm' (write actor.parameter); did you mean 'united_kingdom'?"),
    ("united_kingdom.troops_offerd=5", ("unknown parameter 'troops_offerd' for united_kingdom (a force_contributor); "
                                       "did you mean 'troops_offered'?")),
    ("constants.tension_wieght=1", "unknown constant 'tension_wieght'; did you mean 'tension_weight'?"),
    ("united_kingdom.troops_offered=-5", "united_kingdom.troops_offered cannot be below 0"),
    ("united_states.backstop=0.5", "united_states.backstop is true or false; write true or false"),
    ("united_states.resolve=1.5", "is a probability but 1.5 is outside 0..1"),
    ("russia.gains_value={dist: uniform, low: 2, high: 1}", "low (2) is above high (1); put the bounds in order"),
    ("russia.gains_value={dist: unifrom, low: 1, high: 2}", "unknown distribution 'unifrom'; did you mean 'uniform'?"),
    ("russia.gains_value={dist: uniform, low: 1", "cannot read the value"),
    ("united_kingdom.troops_offered=0x10", "'0x10' is not a plain decimal number"),
    ("united_kingdom.troops_offered=many", "expected a number, true/false or a mapping, got text 'many'"),
    ("united_kingdom.troops_offered=5000,6000", ("2 values, but a run takes one per parameter; give one value, or "
                                                "try several with 'geosim sweep'")),
]


@pytest.mark.parametrize("text,message", BAD_SETS, ids=[t for t, _ in BAD_SETS])
def test_bad_set_values_name_the_argument_and_the_fix(text: str, message: str, tmp_path: Path, capsys) -> None:
    assert cli.main(["run", "ukraine_2025", "--set", text, "--worlds", "10", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"geosim: --set '{text}'") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv,message", [
    (["--set", "united_states.backstop=true,true"], "values 1 and 2 are both true; give each value once"),
    (["--set", "united_states.backstop=true", "--set", "united_states.backstop=false"], "is set twice; give all its values in one --set"),
    (["--set", "constants.tension_weight=1,2"], "2 values, but a constant takes one"),
    (["--set", "united_states.backstop=true,{dist: choice, values: [true, false], weights: [1, -1]}"],
     "(value 2 of 2): united_states.backstop: weights must be non-negative"),
])
def test_bad_sweeps_are_refused_before_running(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    assert cli.main(["sweep", "ukraine_2025", "--option", "peacekeepers", *argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("geosim: --set '") and message in err, err
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------------------- based_on


SCENARIO = """\
name: based
horizon_months: 24
worlds: 100
seed: 1
actors:
  russia: {role: challenger}
  ukraine: {role: defender}
  united_states: {role: patron}
  united_kingdom: {role: force_contributor}
baseline: ceasefire_only
options:
  ceasefire_only:
    actors:
      united_states: {aid_bn_per_year: 5}
  stronger_than_force:
    based_on: force_without_backstop
    actors:
      united_kingdom: {troops_offered: 30000}
  force_without_backstop:
    based_on: force
    actors:
      united_states: {backstop: false}
  force:
    based_on: ceasefire_only
    actors:
      united_kingdom: {troops_offered: 20000}
      united_states: {backstop: true}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "based.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_based_on_inherits_overrides_and_chains(tmp_path: Path) -> None:
    sc = simulator.load_scenario(_write(tmp_path, SCENARIO))

    def values(option: str) -> dict[str, float | bool]:
        return {f"{a}.{p}": s.value for (a, p), s in sc.option(option).changes.items()}  # type: ignore[union-attr]

    assert values("force") == {"united_states.aid_bn_per_year": 5, "united_kingdom.troops_offered": 20000,
                               "united_states.backstop": True}
    assert values("force_without_backstop") == {"united_states.aid_bn_per_year": 5,
                                                "united_kingdom.troops_offered": 20000, "united_states.backstop": False}
    assert values("stronger_than_force") == {"united_states.aid_bn_per_year": 5,
                                             "united_kingdom.troops_offered": 30000, "united_states.backstop": False}
    assert sc.option("stronger_than_force").based_on == "force_without_backstop"
    assert sc.option("ceasefire_only").based_on is None
    origin = {(p.actor, p.name): p.origin for p in sc.parameters("stronger_than_force")}
    assert origin[("united_states", "aid_bn_per_year")] == "option stronger_than_force"


def _rebase(option: str, base: str) -> tuple[str, tuple[int, int]]:
    """The scenario with ``option`` based on ``base``, and the line and column of that ``based_on:`` value."""
    head = f"  {option}:\n    based_on: "
    at = SCENARIO.index(head) + len(head)
    text = SCENARIO[:at] + base + SCENARIO[SCENARIO.index("\n", at):]
    return text, (text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at))


@pytest.mark.parametrize("option,base,what", [
    ("force", "stronger_than_force", ("options based on each other in a cycle: "
     "stronger_than_force -> force_without_backstop -> force -> stronger_than_force; remove one 'based_on:'")),
    ("force", "force_without_backstop", ("options based on each other in a cycle: "
     "force_without_backstop -> force -> force_without_backstop")),
    ("force", "force", "option 'force' is based on itself; remove its 'based_on:' or name another option"),
    ("force_without_backstop", "frce", ("option 'force_without_backstop' is based on 'frce', which is not an option; "
     "did you mean 'force'?")),
    ("force_without_backstop", "nothing_like_it", ("which is not an option; choose one of: ceasefire_only, "
     "stronger_than_force, force_without_backstop, force")),
    ("force", "5", "options.force.based_on should be a valid string (got 5)"),
])
def test_bad_bases_are_refused_at_their_line(tmp_path: Path, option: str, base: str, what: str, capsys) -> None:
    text, (line, col) = _rebase(option, base)
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        simulator.load_scenario(path)
    assert (info.value.line, info.value.col) == (line, col), str(info.value)
    assert what in str(info.value)
    assert cli.main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:{line}:{col}: ") and what in err


def test_a_misspelt_based_on_is_named(tmp_path: Path) -> None:
    text = SCENARIO.replace("based_on: force\n", "base_on: force\n")
    with pytest.raises(ScenarioError, match="unknown key 'base_on'; did you mean 'based_on'") as info:
        simulator.load_scenario(_write(tmp_path, text))
    assert (info.value.line, info.value.col) == (text[: text.index("base_on")].count("\n") + 1, 5)


def test_check_shows_the_base(tmp_path: Path, capsys) -> None:
    assert cli.main(["check", str(_write(tmp_path, SCENARIO))]) == 0
    out = capsys.readouterr().out
    assert "united_states.backstop (based on force_without_backstop)" in out


# Every option of the shipped scenario as it was written before it used based_on: the values each
# sets (sources apart). The rewrite must resolve to exactly these.
SHIPPED = {
    "ceasefire_only": {},
    "nato_membership": {"nato.invited": {"value": True}},
    "peacekeepers": {"united_kingdom.troops_offered": TROOPS, "united_states.backstop": {"value": True}},
    "peacekeepers_no_backstop": {"united_kingdom.troops_offered": TROOPS, "united_states.backstop": {"value": False}},
    "aid_only": {"united_states.aid_bn_per_year": {"dist": "uniform", "low": 29, "high": 58}},
    "minerals_deal": {"united_states.aid_bn_per_year": {"dist": "uniform", "low": 29, "high": 58},
                      "united_states.stake": {"value": 1.0}},
    "article5_guarantee": {"nato.invited": {"value": True}, "nato.accession_delay_months": {"value": 0},
                           "nato.veto_members": {"value": 0}, "nato.member_commitment": {"value": 0.6},
                           "nato.objection": {"dist": "uniform", "low": 0.3, "high": 0.7}},
    "bridge_force": {"nato.invited": {"value": True}, "united_kingdom.troops_offered": TROOPS,
                     "united_states.backstop": {"value": True}},
}
BASES = {"peacekeepers_no_backstop": "peacekeepers", "minerals_deal": "aid_only", "bridge_force": "nato_membership"}


def test_the_shipped_scenario_resolves_as_before(ukraine) -> None:
    assert set(SHIPPED) <= set(ukraine.options)
    for option, expected in SHIPPED.items():
        opt = ukraine.option(option)
        assert opt.based_on == BASES.get(option)
        got = {f"{a}.{p}": s.model_dump(exclude={"source"}, exclude_none=True) for (a, p), s in opt.changes.items()}
        want = {k: {f: (float(x) if isinstance(x, int) and not isinstance(x, bool) else x) for f, x in v.items()}
                for k, v in expected.items()}
        assert got == want, option
        # Every other parameter is the scenario's own, as under the baseline (which changes nothing).
        for p, q in zip(ukraine.parameters(option), ukraine.parameters("ceasefire_only"), strict=True):
            if f"{p.actor}.{p.name}" not in expected:
                assert p.spec == q.spec, (option, p.name)
    # An inherited value keeps the base's source; a value an option writes itself keeps its own.
    for option, base in BASES.items():
        for key, spec in ukraine.option(option).changes.items():
            if key in ukraine.option(base).changes and spec == ukraine.option(base).changes[key]:
                assert spec.source == ukraine.option(base).changes[key].source
    assert "seed:minerals_deal" in ukraine.option("minerals_deal").changes[("united_states", "stake")].source
