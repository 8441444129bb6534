"""Validation and calibration: the lever mapping, the metrics by hand, bad cases files, and the targets."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import load_scenario
from simulator.cli.main import main
from simulator.errors import GeosimError
from simulator.history import cases as C
from simulator.history import fortna as F
from simulator.history import mapping as M
from simulator.history import scores as S
from simulator.history import settings
from simulator.history import validate as V
from simulator.history.calibrate import CALIBRATED, Objective, case_log_likelihood
from simulator.model.model import CeasefireModel
from simulator.scenario.constants_file import load_constants
from simulator.scenario.params import CONSTANTS

ROOT = Path(__file__).resolve().parent.parent
CASES = settings.DEFAULT_CASES
FORTNA = settings.DEFAULT_FORTNA
HEADER = list(C.CASE_COLUMNS) + ["notes"]


def case(**kw) -> C.Case:
    base = dict(case_id="x", name="x", kind="ceasefire", start=date(2000, 1, 1), end=None, failed=False,
                guarantee="none", foreign_troops=0, force_type="none", monitors=0, dmz=False, defender_aid="none")
    base.update(kw)
    return C.Case(**base)


def levers(c: C.Case) -> tuple[dict[str, str], dict[tuple[str, str], float]]:
    roles, lv = M.case_levers(c)
    return roles, {k: v.value for k, v in lv.items()}


# ------------------------------------------------------------------------------ mapping

@pytest.mark.parametrize("guarantee", ["none", "assurances", "mediated"])
def test_words_and_mediation_set_no_lever(guarantee: str) -> None:
    roles, lv = levers(case(guarantee=guarantee))
    assert roles == {} and lv == {}


def test_partisan_guarantor_is_a_committed_patron() -> None:
    roles, lv = levers(case(guarantee="partisan_guarantor"))
    assert roles == {"guarantor": "patron"}
    assert 0 < lv[("guarantor", "commitment")] < 1
    assert lv[("guarantor", "power")] > 0


def test_defense_treaty_is_alliance_membership_from_the_start() -> None:
    c = case(guarantee="defense_treaty")
    roles, lv = levers(c)
    assert roles == {"alliance": "alliance"}
    assert lv[("alliance", "invited")] is True and lv[("alliance", "veto_members")] == 0
    m = CeasefireModel(M.case_scenario(c, horizon_months=2, worlds=8, seed=1), None, 8, 1, collect=False)
    m.step()
    alliance = m.alliances[0]
    # a member from the start wherever the deal was signed (history is of signed deals)
    assert m.agreed.any() and alliance.member[m.agreed].all() and not m.window_open().any()
    assert np.allclose(alliance.commitment()[m.agreed], alliance.p.member_commitment)


def test_force_types_map_to_a_force_contributor() -> None:
    _, inter = levers(case(foreign_troops=5000, force_type="interposition"))
    roles, deter = levers(case(foreign_troops=5000, force_type="deterrent"))
    assert roles == {"force": "force_contributor"}
    assert inter[("force", "troops_offered")] == deter[("force", "troops_offered")] == 5000
    # interposition: low combat power, incident control
    assert inter[("force", "power")] == 0 and inter[("force", "power_per_1000_troops")] < deter[
        ("force", "power_per_1000_troops")]
    assert inter[("force", "incident_control")] > deter[("force", "incident_control")] > 0
    # deterrent: combat-capable, higher commitment (expected intervention = tripwire x believed resolve)
    for troops in (1000, 5000, 20000, 40000):
        q = {name: troops / (troops + lv[("force", "tripwire_half_troops")]) * lv[("force", "credibility_prior_mean")]
             for name, lv in (("inter", inter), ("deter", deter))}
        assert q["deter"] > q["inter"]
    assert deter[("force", "power")] > 0 and deter[("force", "resolve")] > inter[("force", "resolve")]


def test_monitors_and_dmz_are_incident_control_without_a_tripwire() -> None:
    roles, lv = levers(case(monitors=250, dmz=True))
    assert roles == {"line": "force_contributor"}
    assert lv[("line", "power")] == lv[("line", "power_per_1000_troops")] == 0
    assert lv[("line", "resolve")] == lv[("line", "credibility_prior_mean")] == 0
    assert M.line_incident_control(0, False) == 0
    assert 0 < M.line_incident_control(50, False) < M.line_incident_control(200, False) \
        == M.line_incident_control(900, False) < M.line_incident_control(200, True) < 1
    assert M.line_incident_control(0, True) == M.DMZ_INCIDENT_CONTROL
    # no tripwire: in the first month (before any incident) the challenger's hazard is unchanged
    h = []
    for c in (case(), case(monitors=250, dmz=True)):
        m = CeasefireModel(M.case_scenario(c, horizon_months=1, worlds=64, seed=3), None, 64, 3, collect=False)
        m.step()
        h.append(m.challenger.last_hazard.copy())
    np.testing.assert_allclose(h[0], h[1])
    # ... but fewer incidents over time
    inc = []
    for c in (case(), case(monitors=250, dmz=True)):
        m = CeasefireModel(M.case_scenario(c, horizon_months=60, worlds=400, seed=3), None, 400, 3, collect=False)
        m.run()
        inc.append(m.incidents.sum())
    assert inc[1] < inc[0]


def test_aid_levels_are_patron_aid() -> None:
    aid = [levers(case(defender_aid=a))[1].get(("donor", "aid_bn_per_year"), 0.0) for a in C.AID_LEVELS]
    assert aid[0] == 0 and aid == sorted(aid) and len(set(aid)) == 4
    roles, lv = levers(case(guarantee="partisan_guarantor", defender_aid="high"))
    assert roles == {"guarantor": "patron"} and lv[("guarantor", "aid_bn_per_year")] == aid[-1]


def test_mapping_only_sets_levers_never_constants() -> None:
    allowed = {"commitment", "resolve", "credibility_prior_mean", "power", "invited", "accession_delay_months",
               "veto_members", "troops_offered", "power_per_1000_troops", "tripwire_half_troops",
               "incident_control", "casualty_tolerance_per_1000", "deploy_month", "aid_bn_per_year"}
    for c in C.read_cases(CASES):
        sc = M.case_scenario(c)
        assert sc.constants == {}
        _, lv = M.case_levers(c)
        assert {p for a, p in lv if a != "challenger"} <= allowed
        assert {p for a, p in lv if a == "challenger"} == {"war_undecided"}  # every shipped case is coded
        assert all(spec.source for spec in lv.values())
        assert {a for a, _ in lv} <= (set(sc.actors) - {"defender"})


@pytest.mark.parametrize("outcome,value", [("decisive", 0.0), ("indecisive", 1.0), ("no_war", 0.0)])
def test_war_outcome_sets_the_challengers_war_undecided(outcome: str, value: float) -> None:
    c = case(war_outcome=outcome, war_outcome_reason="because")
    assert levers(c)[1] == {("challenger", "war_undecided"): value}
    assert "because" in M.case_levers(c)[1][("challenger", "war_undecided")].source


def test_uncoded_case_keeps_the_generic_mix_of_wars() -> None:
    assert levers(case())[1] == {}
    spec = M.case_scenario(case()).base[("challenger", "war_undecided")]
    f = F.fortna_targets(FORTNA)
    # the generic mix is the share of Fortna's no-peacekeeper ceasefires that followed no decisive victory
    assert spec.weights[1] / sum(spec.weights) == pytest.approx(f.undecided_share_no_pk)
    assert M.UNDECIDED_SHARE == (47, 62)


def test_shipped_war_outcomes_code_every_shipped_case() -> None:
    coded = C.read_war_outcomes(settings.DEFAULT_WAR_OUTCOMES)
    assert sorted(coded) == sorted(c.case_id for c in C.read_cases(CASES, None))
    assert all(reason for _, reason in coded.values())
    cases = {c.case_id: c for c in C.read_cases(CASES)}
    assert cases["minsk1_2014"].war_outcome == "indecisive"
    assert cases["budapest_1994"].war_outcome == "no_war"
    assert all(c.war_outcome is None for c in C.read_cases(CASES, None))


def test_coding_for_a_case_that_is_not_there_is_refused(tmp_path: Path, capsys) -> None:
    coding = tmp_path / "outcomes.csv"
    coding.write_text("case_id,war_outcome,reason\nminsk1_2014,indecisive,x\nminks2_2015,indecisive,y\n")
    code, _, err = run_cli(["validate", "--war-outcomes", str(coding), "--out", str(tmp_path / "v"),
                            "--worlds", "5"], capsys)
    assert code == 2 and err.startswith(f"{coding}:3:1:") and "did you mean 'minsk2_2015'" in err


def test_war_outcome_options(tmp_path: Path, capsys) -> None:
    cases = tmp_path / "small.csv"
    cases.write_text(SMALL)
    # another cases file is not given the shipped coding (it codes other cases)
    code, text, err = run_cli(["validate", "--cases", str(cases), "--out", str(tmp_path / "a"), "--worlds", "20"],
                              capsys)
    assert code == 0, err
    assert "war outcomes: none" in text
    assert json.loads((tmp_path / "a" / "validation.json").read_text())["cases_without_war_outcome"] == ["a", "b", "c"]
    # --no-war-outcomes leaves the shipped cases uncoded
    code, text, err = run_cli(["validate", "--no-war-outcomes", "--out", str(tmp_path / "b"), "--worlds", "20"],
                              capsys)
    assert code == 0, err
    assert set(pd.read_csv(tmp_path / "b" / "validation.csv")["war_outcome"]) == {"not coded"}
    # the two options exclude each other
    code, _, err = run_cli(["validate", "--no-war-outcomes", "--war-outcomes", str(settings.DEFAULT_WAR_OUTCOMES),
                            "--out", str(tmp_path / "c")], capsys)
    assert code == 2 and "not allowed with" in err


def test_victory_comparison_puts_the_decisive_war_in_the_treated_arm() -> None:
    f = F.fortna_targets(FORTNA)
    h = 60
    follow = [min(x, h) for x in f.follow_up_months]
    ratios = []
    for optimism in (0.0, 1.5):
        und, dec = M.victory_scenarios(horizon_months=h, worlds=300, seed=3, constants={"undecided_optimism": optimism})
        s_und, s_dec = (S.expected_survival(sc, h, 300, 3) for sc in (und, dec))
        ratios.append(S.weighted_cox_hazard_ratio(s_und, s_dec, follow))
    assert ratios[0] == pytest.approx(1.0, abs=1e-6)  # no optimism: the arms are the same worlds
    assert ratios[1] < 0.8  # optimism after an undecided war: a decisive one is safer


@pytest.mark.parametrize("text,line,col,what", [
    ("case_id,war_outcome,reason\nminsk1_2014,decisve,why\n", 2, 2, "did you mean 'decisive'"),
    ("case_id,war_outcome,reason\nminsk1_2014,decisive,\n", 2, 3, "no reason given"),
    ("case_id,war_outcome,reason\na,decisive,x\na,no_war,y\n", 3, 1, "duplicate case_id 'a' (first on line 2)"),
    ("case_id,outcome,reason\na,decisive,x\n", 1, 2, "missing column 'war_outcome'"),
])
def test_bad_war_outcomes_file_names_line_and_column(tmp_path: Path, capsys, text, line, col, what) -> None:
    bad = tmp_path / "outcomes.csv"
    bad.write_text(text)
    code, _, err = run_cli(["validate", "--war-outcomes", str(bad), "--out", str(tmp_path / "v"),
                            "--worlds", "5"], capsys)
    assert code == 2
    assert err.startswith(f"{bad}:{line}:{col}:") and what in err
    assert not (tmp_path / "v").exists()


def test_observed_span_in_months() -> None:
    cases = {c.case_id: c for c in C.read_cases(CASES)}
    assert cases["minsk1_2014"].months == 5 and cases["minsk1_2014"].failed
    assert cases["arab_israeli_truce_1948"].months == 3
    georgia = cases["georgia_2008"]
    assert not georgia.failed and georgia.end is None
    assert georgia.observed_months == pytest.approx((C.CENSOR_DATE - date(2008, 8, 12)).days / C.MONTH_DAYS)


# ------------------------------------------------------------------------------ metrics

def test_concordance_by_hand() -> None:
    # comparable pairs (the shorter one failed): (0,1) (0,2) (0,3) (1,2) (1,3); the censored
    # case 2 (6 months) cannot be compared with case 3 (8 months). Predictions rank 4 of 5 right.
    observed, failed = [2, 4, 6, 8], [1, 1, 0, 1]
    assert S.concordance(observed, [1, 3, 2, 4], failed) == pytest.approx(4 / 5)
    assert S.concordance(observed, [1, 2, 3, 4], failed) == pytest.approx(1.0)
    assert S.concordance(observed, [4, 3, 2, 1], failed) == pytest.approx(0.0)
    # a tie in prediction counts one half: pairs (0,1) C, (0,2) tie, (1,2) D
    assert S.concordance([1, 2, 3], [1, 2, 1], [1, 1, 1]) == pytest.approx(1.5 / 3)


def test_brier_and_calibration_table_by_hand() -> None:
    p, y = [0.2, 0.9, 0.5, 0.6], [0, 1, 1, 0]
    assert S.brier(p, y) == pytest.approx((0.04 + 0.01 + 0.25 + 0.36) / 4)
    table = S.calibration_table(p, y).set_index("bin")
    assert table.loc["0.00-0.25", "cases"] == 1 and table.loc["0.00-0.25", "observed_failure_share"] == 0
    assert table.loc["0.50-0.75", "cases"] == 2
    assert table.loc["0.50-0.75", "mean_predicted_failure"] == pytest.approx(0.55)
    assert table.loc["0.50-0.75", "observed_failure_share"] == pytest.approx(0.5)
    assert table.loc["0.75-1.00", "cases"] == 1 and table["cases"].sum() == 4


def test_survival_summaries_by_hand() -> None:
    s = np.array([1.0, 0.8, 0.6, 0.5, 0.4])
    assert S.median_months(s) == 3 and math.isnan(S.median_months(np.ones(5)))
    assert S.restricted_mean(s) == pytest.approx(2.3)
    # first-year share with follow-ups of 2 and 4 months and a 12-month "year" beyond the curve:
    # failures by follow-up: 0.4 and 0.6; all of them inside the first year
    assert S.first_year_share(s, [2, 4]) == pytest.approx(1.0)
    c = case(start=date(2000, 1, 1), end=date(2000, 3, 1), failed=True)  # fails in month 2
    assert case_log_likelihood(s, c) == pytest.approx(math.log(0.2))
    assert case_log_likelihood(s, case(start=date(2000, 1, 1))) == pytest.approx(math.log(0.4))


def test_fortna_figures_are_recomputed_from_the_file() -> None:
    f = F.fortna_targets(FORTNA)
    assert (f.n, f.n_no_peacekeepers, f.n_controls) == (96, 62, 84)
    assert round(f.survival_1y_no_pk, 2) == 0.61 and round(f.survival_5y_no_pk, 2) == 0.39
    assert (round(f.hazard_ratio, 2), round(f.hazard_ratio_lower, 2), round(f.hazard_ratio_upper, 2)) == (
        0.54, 0.30, 0.97)
    assert round(f.hazard_ratio_controls, 2) == 0.35
    assert round(f.first_year_failure_share, 2) == 0.55
    # decisive victory, alone (data/README.md gives the file; computed here by the project)
    assert (round(f.victory_hazard_ratio, 2), round(f.victory_hazard_ratio_lower, 2),
            round(f.victory_hazard_ratio_upper, 2)) == (0.44, 0.21, 0.94)
    assert f.undecided_share_no_pk == pytest.approx(47 / 62)
    # observer missions only against no mission, among the 67 cases with at most observers
    assert (round(f.observer_hazard_ratio, 2), round(f.observer_hazard_ratio_lower, 2),
            round(f.observer_hazard_ratio_upper, 2)) == (0.89, 0.32, 2.48)


def test_fortna_file_without_mission_types_still_gives_the_targets(tmp_path: Path) -> None:
    frame = pd.read_csv(FORTNA, dtype=str, keep_default_na=False).drop(columns=["pkopC"])
    bare = tmp_path / "fortna.csv"
    frame.to_csv(bare, index=False)
    f, full = F.fortna_targets(bare), F.fortna_targets(FORTNA)
    assert math.isnan(f.observer_hazard_ratio)
    assert (f.hazard_ratio, f.victory_hazard_ratio, f.survival_1y_no_pk) == (
        full.hazard_ratio, full.victory_hazard_ratio, full.survival_1y_no_pk)


def test_conditional_survival_matches_the_plain_model() -> None:
    c = case(foreign_troops=5000, force_type="interposition", monitors=100, defender_aid="medium")
    sc = M.case_scenario(c, horizon_months=48, worlds=3000, seed=11)
    s = S.expected_survival(sc, 48, 3000, 11)
    months, collapsed = S.sampled_durations(sc, 48, 3000, 11)
    for m in (6, 12, 24, 48):
        sampled = float(np.mean(~collapsed | (months > m)))
        se = math.sqrt(s[m] * (1 - s[m]) / months.size)  # the worlds that signed
        assert abs(sampled - s[m]) < 4 * se, (m, sampled, s[m])


# --------------------------------------------------------------------- bad cases files

def write_cases(path: Path, mutate=None, drop: str | None = None) -> Path:
    rows = list(csv.reader(io.StringIO(CASES.read_text())))
    header, body = rows[0], rows[1:]
    if mutate:
        mutate(header, body)
    if drop:
        k = header.index(drop)
        header = header[:k] + header[k + 1:]
        body = [r[:k] + r[k + 1:] for r in body]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(body)
    path.write_text(buf.getvalue())
    return path


def set_cell(row: int, column: str, value: str):
    def mutate(header, body):
        body[row][header.index(column)] = value
    return mutate


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("column", ["guarantee", "dmz", "end"])
def test_missing_column_is_refused(tmp_path: Path, capsys, column: str) -> None:
    bad = write_cases(tmp_path / "cases.csv", drop=column)
    code, _, err = run_cli(["validate", "--cases", str(bad), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    pos = C.CASE_COLUMNS.index(column) + 1
    assert err.startswith(f"{bad}:1:{pos}: missing column '{column}'")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("row,column,value,what", [
    (4, "guarantee", "nato", "unknown guarantee 'nato'"),
    (0, "force_type", "interpositon", "did you mean 'interposition'"),
    (12, "defender_aid", "huge", "unknown defender_aid 'huge'"),
    (2, "kind", "truce", "unknown kind 'truce'"),
])
def test_unknown_category_names_row_and_column(tmp_path: Path, capsys, row, column, value, what) -> None:
    bad = write_cases(tmp_path / "cases.csv", set_cell(row, column, value))
    code, _, err = run_cli(["validate", "--cases", str(bad), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err.startswith(f"{bad}:{row + 2}:{HEADER.index(column) + 1}: ")
    assert what in err


@pytest.mark.parametrize("row,column,value", [
    (3, "start", "1994-13-05"), (1, "end", "24/02/2022"), (6, "start", ""), (9, "end", "2019-02-30"),
])
def test_bad_date_names_row_and_column(tmp_path: Path, capsys, row, column, value) -> None:
    bad = write_cases(tmp_path / "cases.csv", set_cell(row, column, value))
    code, _, err = run_cli(["calibrate", "--cases", str(bad), "--out", str(tmp_path / "c.yaml"), "--quiet"], capsys)
    assert code == 2
    assert err.startswith(f"{bad}:{row + 2}:{HEADER.index(column) + 1}: bad date")
    assert not (tmp_path / "c.yaml").exists()


def test_inconsistent_rows_are_refused(tmp_path: Path) -> None:
    cases = [
        (set_cell(0, "end", ""), "end", "failed is 1 but end is empty"),
        (set_cell(4, "foreign_troops", "0"), "foreign_troops", "force_type 'deterrent' but no foreign troops"),
        (set_cell(2, "monitors", "-5"), "monitors", "not a whole number"),
        (set_cell(5, "case_id", "minsk1_2014"), "case_id", "duplicate case_id"),
    ]
    for mutate, column, what in cases:
        bad = write_cases(tmp_path / "cases.csv", mutate)
        with pytest.raises(GeosimError) as err:
            C.read_cases(bad)
        assert err.value.col == HEADER.index(column) + 1 and what in err.value.what


# ----------------------------------------------------------------------- the commands

SMALL = """case_id,name,kind,start,end,failed,guarantee,foreign_troops,force_type,monitors,dmz,defender_aid,notes
a,A,ceasefire,2023-01-01,2023-04-01,1,none,0,none,0,0,none,"fast failure, no levers"
b,B,ceasefire,2023-01-01,2024-07-01,1,mediated,0,none,100,1,low,monitors and a zone
c,C,ceasefire,2023-06-01,,0,mediated,6000,interposition,0,1,medium,peacekeepers
"""


def test_validate_writes_its_outputs(tmp_path: Path, capsys) -> None:
    cases = tmp_path / "small.csv"
    cases.write_text(SMALL)
    out = tmp_path / "val"
    code, text, err = run_cli(["validate", "--cases", str(cases), "--out", str(out), "--worlds", "60",
                               "--seed", "5"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["calibration_table.csv", "fortna_cases.csv", "validation.csv",
                                                     "validation.json", "validation.png"]
    table = pd.read_csv(out / "validation.csv")
    assert list(table.columns[:5]) == ["case_id", "observed_months", "failed", "predicted_survival_at_observed",
                                       "predicted_median_months"]
    assert list(table["case_id"]) == ["a", "b", "c"] and list(table["failed"]) == [1, 1, 0]
    metrics = json.loads((out / "validation.json").read_text())
    for key in ("concordance", "brier", "peacekeeping_hazard_ratio", "survival_1y_no_guarantee",
                "survival_5y_no_guarantee", "first_year_failure_share", "empirical"):
        assert key in metrics
    assert metrics["empirical"]["hazard_ratio"] == pytest.approx(0.5375, abs=1e-3)
    assert "concordance" in text and "0.61" in text
    # an existing output is not replaced without --force
    code, _, err = run_cli(["validate", "--cases", str(cases), "--out", str(out), "--worlds", "10"], capsys)
    assert code == 2 and "--force" in err


def test_calibrate_writes_a_pasteable_constants_block(tmp_path: Path, capsys) -> None:
    cases = tmp_path / "small.csv"
    cases.write_text(SMALL)
    out = tmp_path / "calibrated.yaml"
    code, text, err = run_cli(["calibrate", "--cases", str(cases), "--out", str(out), "--worlds", "30",
                               "--max-evals", "5", "--loo-max-evals", "2", "--quiet"], capsys)
    assert code == 0, err
    assert "leave-one-out concordance" in text
    values = load_constants(out)
    assert sorted(values) == sorted(CALIBRATED)
    # paste the block into a copy of the Ukraine scenario: it validates, with calibrated sources
    scenario = (ROOT / "scenarios" / "ukraine_2025.yaml").read_text().replace(
        "seeds: ../seeds/facts.yaml", f"seeds: {ROOT / 'seeds' / 'facts.yaml'}")
    pasted = tmp_path / "ukraine_calibrated.yaml"
    pasted.write_text(scenario + "\n" + out.read_text())
    sc = load_scenario(pasted)
    assert set(sc.constants) == set(CALIBRATED)
    for name, spec in sc.constants.items():
        assert spec.value == pytest.approx(values[name]) and spec.source.startswith("calibrated:")


def test_objective_is_deterministic_with_common_random_numbers() -> None:
    cases = C.read_cases(CASES)[:2]
    f = F.fortna_targets(FORTNA)
    start = {n: float(CONSTANTS[n].default) for n in CALIBRATED}
    a = Objective(cases, f, worlds=40, seed=2).components(start)
    b = Objective(cases, f, worlds=40, seed=2).components(start)
    assert a == b and np.isfinite(a["loss"])
    nudged = dict(start, hazard_intercept=start["hazard_intercept"] + 0.01)
    c = Objective(cases, f, worlds=40, seed=2).components(nudged)
    assert 0 < abs(c["loss"] - a["loss"]) < 0.5  # smooth: a small step moves the loss a little


def test_calibrated_defaults_say_how_they_were_calibrated() -> None:
    for name in CALIBRATED:
        assert CONSTANTS[name].source.startswith("calibrated:")
        assert "geosim calibrate" in CONSTANTS[name].source


# ------------------------------------------------------- the shipped defaults and targets

@pytest.fixture(scope="module")
def shipped() -> V.ValidationReport:
    return V.validate(CASES, FORTNA, worlds=settings.DEFAULT_WORLDS, seed=settings.DEFAULT_SEED)


def test_shipped_defaults_peacekeeping_hazard_ratio_in_fortnas_interval(shipped) -> None:
    m, t = shipped.metrics, shipped.metrics["empirical"]
    assert t["hazard_ratio_lower"] <= m["peacekeeping_hazard_ratio"] <= t["hazard_ratio_upper"]
    assert t["hazard_ratio_lower"] <= m["peacekeeping_hazard_ratio_expected"] <= t["hazard_ratio_upper"]


def test_shipped_defaults_one_year_survival_without_guarantees(shipped) -> None:
    m, t = shipped.metrics, shipped.metrics["empirical"]
    assert abs(m["survival_1y_no_guarantee"] - t["survival_1y_no_pk"]) <= V.TARGETS["survival_1y_tolerance"]


def test_shipped_defaults_concordance_target(shipped) -> None:
    assert shipped.metrics["concordance"] >= V.TARGETS["concordance_min"]


def test_shipped_defaults_victory_hazard_ratio_in_fortnas_interval(shipped) -> None:
    m, t = shipped.metrics, shipped.metrics["empirical"]
    assert t["victory_hazard_ratio_lower"] <= m["victory_hazard_ratio"] <= t["victory_hazard_ratio_upper"]


def test_shipped_defaults_monitors_alone_do_little_as_in_fortnas_data(shipped) -> None:
    m, t = shipped.metrics, shipped.metrics["empirical"]
    assert t["observer_hazard_ratio_lower"] <= m["monitors_hazard_ratio_expected"] < 1.0


def test_minsk_like_cases_fail_faster_than_any_case_after_a_decided_war(shipped) -> None:
    # the design's check that Minsk-like cases fail fast: both Minsk ceasefires are expected to
    # fail sooner than every case that followed a decisive war or no war, troops or not
    frame = shipped.cases.set_index("case_id")
    settled = frame[frame["war_outcome"].isin(["decisive", "no_war"])]
    for minsk in ("minsk1_2014", "minsk2_2015"):
        assert frame.loc[minsk, "predicted_mean_months"] < settled["predicted_mean_months"].min()
        assert frame.loc[minsk, "predicted_median_months"] < settled["predicted_median_months"].min()
