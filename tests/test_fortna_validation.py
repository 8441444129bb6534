"""Per-case validation on Fortna's ceasefires: the mapping rules, the baselines, the scores and the command."""

from __future__ import annotations

import contextlib
import io
import json
import math
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index

from simulator.cli.main import main
from simulator.errors import GeosimError
from simulator.history import baselines as B
from simulator.history import cases as C
from simulator.history import fortna_cases as FC
from simulator.history import mapping as M
from simulator.history import settings
from simulator.history import validate as V
from simulator.history.fortna import FORTNA_CENSOR_DATE

FORTNA = settings.DEFAULT_FORTNA
SHIPPED = pd.read_csv(FORTNA, dtype=str, keep_default_na=False)
# ten shipped rows: failures and censored cases, every mission type, a case missing logcost
# (Egypt, 450) and one whose pk_dum Fortna coded 0 despite a mission (Guatemala, 570)
SMALL_IDS = ["10", "15", "40", "60", "70", "220", "450", "570", "840", "1330"]


def fcase(case_id: str = "x", *, pkopC: int = 0, victory: int = 0, start: date = date(1995, 1, 1),
          end: date | None = None, **kw) -> FC.FortnaCase:
    return FC.fortna_case(case_id, case_id, start, end, pkopC=pkopC, victory=victory, **kw)


def levers(c: FC.FortnaCase) -> tuple[dict[str, str], dict[tuple[str, str], object]]:
    roles, lv = FC.fortna_levers(c)
    return roles, {k: v.value for k, v in lv.items()}


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def write_fortna(path: Path, ids: list[str] = SMALL_IDS, mutate=None) -> Path:
    frame = SHIPPED[SHIPPED["id"].isin(ids)].reset_index(drop=True)
    if mutate:
        mutate(frame)
    frame.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------------ the mapping

@pytest.mark.parametrize("victory,undecided", [(1, 0.0), (0, 1.0)])
@pytest.mark.parametrize("pkopC", [0, 1])
def test_no_mission_sets_only_the_war_outcome(pkopC: int, victory: int, undecided: float) -> None:
    roles, lv = levers(fcase(pkopC=pkopC, victory=victory))
    assert roles == {} and lv == {("challenger", "war_undecided"): undecided}


def test_observers_are_monitors_at_full_strength() -> None:
    roles, lv = levers(fcase(pkopC=2))
    assert roles == {"line": "force_contributor"}
    assert lv[("line", "incident_control")] == M.line_incident_control(M.MONITOR_FULL_STRENGTH, False) \
        == M.MONITOR_INCIDENT_CONTROL
    # the same line as the generic monitors comparison
    generic = M.monitors_scenario(horizon_months=2, worlds=4, seed=1).base
    assert {k: v for k, v in lv.items() if k[0] == "line"} == {k: v.value for k, v in generic.items() if k[0] == "line"}
    assert lv[("line", "resolve")] == lv[("line", "power")] == 0


@pytest.mark.parametrize("pkopC,force_type,troops", [
    (3, "interposition", M.PEACEKEEPING_TROOPS),
    (4, "deterrent", FC.MULTIDIMENSIONAL_TROOPS),
    (5, "deterrent", FC.ENFORCEMENT_TROOPS),
])
def test_troop_missions_are_the_interstate_force_types(pkopC: int, force_type: str, troops: int) -> None:
    roles, lv = levers(fcase(pkopC=pkopC, victory=1))
    assert roles == {"force": "force_contributor"}
    expected = {k: v for k, (v, _) in M.FORCE_LEVERS[force_type].items()}
    assert {k: v for k, v in lv.items() if k[0] == "force" and k[1] != "troops_offered"} == expected
    assert lv[("force", "troops_offered")] == troops
    assert lv[("challenger", "war_undecided")] == 0.0


def test_traditional_mission_is_the_generic_peacekeeping_arm() -> None:
    _, with_pk = M.peacekeeping_scenarios(horizon_months=2, worlds=4, seed=1)
    scenario = FC.fortna_case_scenario(fcase(pkopC=3), horizon_months=2, worlds=4, seed=1)
    force = {k: v.value for k, v in scenario.base.items() if k[0] == "force"}
    assert force == {k: v.value for k, v in with_pk.base.items() if k[0] == "force"}
    assert FC.ENFORCEMENT_TROOPS > FC.MULTIDIMENSIONAL_TROOPS > M.PEACEKEEPING_TROOPS


def test_same_coding_same_scenario_whatever_else_differs() -> None:
    a = fcase("a", pkopC=5, victory=0, start=date(1990, 1, 1), end=date(1991, 6, 1), treaty=1.0, logcost=14.0,
              wardur=10.0)
    b = fcase("b", pkopC=5, victory=0, start=date(1998, 3, 3), treaty=0.0, logcost=7.0, wardur=0.5)
    sa, sb = (FC.fortna_case_scenario(c, horizon_months=12, worlds=8, seed=2) for c in (a, b))
    assert sa.base == sb.base  # values and sources: nothing names the case
    assert set(sa.actors) == set(sb.actors) and sa.constants == sb.constants == {}
    assert M.lever_key(a) == M.lever_key(b)
    assert FC.codings([a, b]) == 1 and FC.codings([a, fcase("c", pkopC=4)]) == 2


def test_treaty_cost_and_duration_set_nothing() -> None:
    bare = levers(fcase(pkopC=3))
    assert levers(fcase(pkopC=3, treaty=1.0, logcost=15.0, wardur=20.0)) == bare
    assert set(FC.NOT_MODELLED) == {"treaty", "logcost", "wardur"}


# ------------------------------------------------------------------------------ reading

def test_shipped_file_is_read_case_by_case() -> None:
    cases = FC.read_fortna_cases(FORTNA)
    assert len(cases) == 96 and sum(c.failed for c in cases) == 56
    by_id = {c.case_id: c for c in cases}
    algeria = by_id["40"]  # still at peace: censored at Fortna's censor date, not the interstate one
    assert not algeria.failed and algeria.observed_months == pytest.approx(
        (FORTNA_CENSOR_DATE - date(1997, 10, 15)).days / C.MONTH_DAYS)
    assert by_id["570"].pkopC == 3 and by_id["570"].pk_dum == 0  # Fortna's pk_dum read as coded
    assert by_id["570"].foreign_troops == M.PEACEKEEPING_TROOPS
    assert math.isnan(by_id["450"].logcost)
    # one scenario per (mission type, with 0 and 1 alike; victory) pair in the file
    pairs = {(int(p) if int(p) >= 2 else 0, v) for p, v in zip(SHIPPED["pkopC"], SHIPPED["victory"])}
    assert FC.codings(cases) == len(pairs) == 9


@pytest.mark.parametrize("column,value,where,what", [
    ("pkopC", "7", "pkopC", "unknown pkopC '7'"),
    ("victory", "", "victory", "victory '' is not 0 or 1"),
    ("cfdate", "1995-02-30", "cfdate", "bad date '1995-02-30'"),
    ("faildate", "1980-01-01", "faildate", "is before cfdate"),
    ("faildate", "2006-01-01", "faildate", "after the censor date 2004-12-31"),
    ("morewar", "0", "faildate", "faildate must be given exactly when morewar is 1"),
    ("treaty", "2", "treaty", "treaty '2' is not 0 or 1"),
])
def test_malformed_row_names_file_line_and_column(tmp_path: Path, column: str, value: str, where: str,
                                                  what: str) -> None:
    def mutate(frame: pd.DataFrame) -> None:
        frame.loc[3, column] = value  # the fourth row (id 60, which failed): line 5

    bad = write_fortna(tmp_path / "fortna.csv", mutate=mutate)
    with pytest.raises(GeosimError) as err:
        FC.read_fortna_cases(bad)
    assert (err.value.file, err.value.line, err.value.col) == (str(bad), 5, list(SHIPPED.columns).index(where) + 1)
    assert what in err.value.what


def test_malformed_file_is_refused_by_the_command(tmp_path: Path, capsys) -> None:
    def duplicate(frame: pd.DataFrame) -> None:
        frame.loc[6, "id"] = "15"

    bad = write_fortna(tmp_path / "fortna.csv", mutate=duplicate)
    code, _, err = run_cli(["validate", "--fortna", str(bad), "--out", str(tmp_path / "v"), "--worlds", "5"], capsys)
    assert code == 2 and err.startswith(f"{bad}:8:1: duplicate id '15' (first on line 3)")
    assert not (tmp_path / "v").exists()
    missing = tmp_path / "bare.csv"
    SHIPPED.drop(columns=["pkopC"]).to_csv(missing, index=False)
    code, _, err = run_cli(["validate", "--fortna", str(missing), "--out", str(tmp_path / "v"), "--worlds", "5"],
                           capsys)
    assert code == 2 and err.startswith(f"{missing}:1:") and "missing column 'pkopC'" in err


# ------------------------------------------------------------------------------ baselines

def test_brier_skill_sign_and_flag() -> None:
    assert B.brier_skill(0.1, 0.2) == pytest.approx(0.5) and B.skill_flag(0.5) == ""
    assert B.brier_skill(0.3, 0.2) == pytest.approx(-0.5)
    assert B.skill_flag(-0.5) == B.SKILL_FLAG == "worse than always predicting the base rate"
    assert B.skill_flag(0.0) == "" and math.isnan(B.brier_skill(0.1, 0.0))


def harrell(t: np.ndarray, risk: np.ndarray, e: np.ndarray) -> float:
    """Harrell's C counted pair by pair (higher risk should fail sooner; ties in risk count one half)."""
    num = den = 0.0
    for i in np.flatnonzero(e):
        later = t > t[i]
        den += later.sum()
        num += (risk[i] > risk[later]).sum() + 0.5 * (risk[i] == risk[later]).sum()
    return num / den


@pytest.fixture(scope="module")
def training() -> pd.DataFrame:
    return B.training_frame(FORTNA)


@pytest.mark.parametrize("name,covariates,rows,in_sample", [
    ("pk_victory", ["pk_dum", "victory"], 96, 0.630),
    ("five", ["pk_dum", "victory", "treaty", "logcost", "wardur"], 84, 0.752),
])
def test_cox_baselines_on_the_shipped_file(training, name, covariates, rows, in_sample) -> None:
    cox = B.fit_cox(training, name)
    assert cox.training_cases == rows and tuple(covariates) == cox.covariates
    # an independent fit, in years, counted pair by pair: the same ranking and the same concordance
    frame = training.assign(T=training["T"] / 12.0)[["T", "E", *covariates]].dropna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(frame, "T", "E")
    np.testing.assert_allclose(cox.hazard(frame), cph.predict_partial_hazard(frame).to_numpy(), rtol=1e-6)
    c = harrell(frame["T"].to_numpy(), cph.predict_partial_hazard(frame).to_numpy(), frame["E"].to_numpy())
    assert cox.in_sample_concordance == pytest.approx(c, abs=1e-9)
    # measured on the shipped file (docs/validation.md); the issue quoted 0.58 and 0.64
    assert round(cox.in_sample_concordance, 3) == in_sample
    # peacekeepers and a victory both make renewed war less likely, as in Fortna
    assert cox.coefficients["pk_dum"] < 0 and cox.coefficients["victory"] < 0
    # failure by a training time agrees with lifelines' survival function there
    t = float(np.sort(frame["T"].to_numpy())[40])
    s = cph.predict_survival_function(frame.iloc[:3], times=[t]).to_numpy()[0]
    np.testing.assert_allclose(cox.failure_by(frame.iloc[:3], [t * 12.0] * 3), 1.0 - s, atol=1e-9)


def test_scores_on_the_shipped_cases_without_the_model(training) -> None:
    # a stand-in for the model's predictions, to check the scoring alone: the shipped cases, scored
    # in sample, give the Cox models their in-sample concordance and the base rates p(1 - p)
    cases = FC.read_fortna_cases(FORTNA)
    table = pd.DataFrame({
        "observed_months": [c.observed_months for c in cases], "failed": [int(c.failed) for c in cases],
        "predicted_mean_months": [float(c.victory + c.pk_dum) for c in cases],
        "predicted_failure_by_end": 0.5, "predicted_failure_1y": 0.3, "predicted_failure_5y": 0.5,
        **{k: [getattr(c, k) for c in cases] for k in ("pk_dum", "victory", *FC.NOT_MODELLED)}})
    m, scored = B.fortna_scores(table, FORTNA)
    assert m["fortna_base_rate"] == pytest.approx(56 / 96)
    for suffix, rate in (("", 56 / 96), ("_1y", m["fortna_base_rate_1y"]), ("_5y", m["fortna_base_rate_5y"])):
        assert m[f"fortna_brier{suffix}_base_rate"] == pytest.approx(rate * (1 - rate))
    assert m["fortna_brier"] == pytest.approx(0.25) and m["fortna_brier_skill"] == pytest.approx(
        1 - 0.25 / (56 / 96 * 40 / 96))
    for name in B.COX_BASELINES:
        assert m[f"fortna_cox_{name}_concordance"] == pytest.approx(m[f"fortna_cox_{name}_in_sample_concordance"])
    assert m["fortna_cox_five_cases"] == m["fortna_model_on_five_cases"] == 84
    assert scored["cox_five_hazard"].isna().sum() == 12 and scored["cox_pk_victory_hazard"].notna().all()
    assert m["fortna_concordance"] == pytest.approx(concordance_index(
        table["observed_months"], table["predicted_mean_months"], table["failed"]))


def test_interstate_points_ranking() -> None:
    def case(outcome, troops):
        return C.Case("x", "x", "ceasefire", date(2000, 1, 1), None, False, "none", troops,
                      "interposition" if troops else "none", 0, False, "none", war_outcome=outcome)
    points = B.troops_outcome_points([case("decisive", 5000), case("no_war", 0), case("indecisive", 0),
                                      case("indecisive", 100), case(None, 0)])
    np.testing.assert_allclose(points, [2, 1, 0, 1, 15 / 62])


# ------------------------------------------------------------------------------ the command

SMALL_CASES = """case_id,name,kind,start,end,failed,guarantee,foreign_troops,force_type,monitors,dmz,defender_aid
a,A,ceasefire,2023-01-01,2023-04-01,1,none,0,none,0,0,none
b,B,ceasefire,2020-01-01,2024-07-01,1,mediated,0,none,100,1,low
c,C,ceasefire,2023-06-01,,0,mediated,6000,interposition,0,1,medium
"""


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[Path, str]:
    """``geosim validate --fortna`` on ten shipped rows (and three interstate cases, to be quick)."""
    tmp = tmp_path_factory.mktemp("fortna")
    fortna = write_fortna(tmp / "ten.csv")
    cases = tmp / "cases.csv"
    cases.write_text(SMALL_CASES)
    out = tmp / "val"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["validate", "--cases", str(cases), "--fortna", str(fortna), "--out", str(out),
                     "--worlds", "40", "--seed", "3"])
    assert code == 0
    return out, printed.getvalue()


def test_command_writes_the_per_case_table(small_run) -> None:
    out, text = small_run
    assert (out / "fortna_cases.csv").is_file() and (out / "validation.json").is_file()
    table = pd.read_csv(out / "fortna_cases.csv", dtype={"id": str})
    assert list(table["id"]) == SMALL_IDS
    for col in ("id", "name", "coding", "observed_months", "failed", "predicted_mean_months",
                "predicted_failure_by_end", "cox_pk_victory_failure_by_end", "cox_five_failure_by_end"):
        assert col in table.columns
    assert table.set_index("id").loc["570", "coding"] == "pkopC 3, victory 0"
    # cases with the same coding get the same prediction
    for _, group in table.groupby("coding"):
        assert group["predicted_mean_months"].nunique() == 1
    assert table["predicted_failure_by_end"].between(0, 1).all()
    section = text[text.index("Per-case prediction of 10 ceasefires"):]
    assert "Not modelled" in section and "treaty" in section and "fortna_cases.csv" in text


def test_command_scores_match_the_table(small_run) -> None:
    out, _ = small_run
    m = json.loads((out / "validation.json").read_text())
    t = pd.read_csv(out / "fortna_cases.csv", dtype={"id": str})
    assert m["fortna_cases"] == 10
    assert m["fortna_concordance"] == pytest.approx(concordance_index(
        t["observed_months"], t["predicted_mean_months"], t["failed"]), abs=1e-12)
    assert m["fortna_cox_pk_victory_concordance"] == pytest.approx(concordance_index(
        t["observed_months"], -t["cox_pk_victory_hazard"], t["failed"]), abs=1e-12)
    five = t[t["cox_five_hazard"].notna()]
    assert m["fortna_cox_five_cases"] == len(five) == 9  # Egypt has no logcost
    assert m["fortna_cox_five_concordance"] == pytest.approx(concordance_index(
        five["observed_months"], -five["cox_five_hazard"], five["failed"]), abs=1e-12)
    # the base rate is the training share (56 of the 96 shipped cases), not this file's
    rate = 56 / 96
    assert m["fortna_base_rate"] == pytest.approx(rate) and t["failed"].mean() != pytest.approx(rate)
    assert m["fortna_brier"] == pytest.approx(np.mean((t["predicted_failure_by_end"] - t["failed"]) ** 2))
    assert m["fortna_brier_base_rate"] == pytest.approx(np.mean((rate - t["failed"]) ** 2))
    assert m["fortna_brier_skill"] == pytest.approx(1 - m["fortna_brier"] / m["fortna_brier_base_rate"])
    for name in ("pk_victory", "five"):
        key = f"fortna_cox_{name}"
        assert m[f"{key}_brier_skill"] == pytest.approx(1 - m[f"{key}_brier"] / m[f"{key}_brier_base_rate"])
    # at a fixed horizon: the cases that failed within it against the rest (all followed up 5 years)
    by_1y = (t["failed"] == 1) & (t["observed_months"] <= 12)
    assert m["fortna_brier_1y"] == pytest.approx(np.mean((t["predicted_failure_1y"] - by_1y) ** 2))
    # Fortna's aggregate figures still come from the shipped file, whatever file is scored
    assert m["empirical"]["n"] == 96 and m["empirical"]["hazard_ratio"] == pytest.approx(0.5375, abs=1e-3)
    assert m["fortna_file"].endswith("fortna_civil_ceasefires.csv") and m["fortna_cases_file"].endswith("ten.csv")
    assert m["fortna_not_modelled"] == ["treaty", "logcost", "wardur"]
    # the interstate cases: skill against their base rate, and the points ranking
    assert m["brier_skill"] == pytest.approx(1 - m["brier"] / m["brier_reference"])
    assert 0 <= m["ranking_concordance"] <= 1


def test_report_flags_negative_skill_in_words(small_run) -> None:
    out, _ = small_run
    m = json.loads((out / "validation.json").read_text())
    for suffix in ("", "_1y", "_5y"):
        m[f"fortna_brier{suffix}_skill"] = 0.1
        m[f"fortna_cox_pk_victory_brier{suffix}_skill"] = 0.1 if suffix else -0.2
        m[f"fortna_cox_five_brier{suffix}_skill"] = -0.3 if suffix == "_1y" else 0.2
    lines = {line.split("  ")[0]: line for line in V.fortna_text(m).splitlines()}
    assert B.SKILL_FLAG not in lines["model"]
    assert lines[B.COX_LABELS["pk_victory"]].endswith(f"{B.SKILL_FLAG} (end)")
    assert lines[B.COX_LABELS["five"]].endswith(f"{B.SKILL_FLAG} (1 year)")


def test_help_states_what_the_fortna_file_is_for(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "always come from the shipped file" in text and "only chooses the cases to score" in text
