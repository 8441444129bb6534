"""Calibration's shared model runs, its worker processes, and the constants file it writes."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from simulator.cli.main import build_parser, main
from simulator.errors import GeosimError, UsageError
from simulator.history import settings
from simulator.history.calibrate import CALIBRATED, Objective, Trials, calibrate, case_log_likelihood
from simulator.history.cases import read_cases
from simulator.history.fortna import fortna_targets
from simulator.history.mapping import lever_key
from simulator.scenario.constants_file import constants_block, load_constants, write_constants
from simulator.scenario.params import CONSTANTS

HISTORY = Path(__file__).resolve().parent.parent / "simulator" / "history"
SMALL = """case_id,name,kind,start,end,failed,guarantee,foreign_troops,force_type,monitors,dmz,defender_aid
a,A,ceasefire,2023-01-01,2023-04-01,1,none,0,none,0,0,none
b,B,ceasefire,2023-01-01,2024-07-01,1,mediated,0,none,100,1,low
c,C,ceasefire,2023-06-01,,0,mediated,6000,interposition,0,1,medium
d,D,ceasefire,2022-06-01,,0,none,0,none,0,0,none
"""


@pytest.fixture(scope="module")
def fortna():
    return fortna_targets(settings.DEFAULT_FORTNA)


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    path.write_text(SMALL)
    return path


def defaults() -> dict[str, float]:
    return {n: float(CONSTANTS[n].default) for n in CALIBRATED}


# ------------------------------------------------------------------- shared model runs

def test_objectives_sharing_trials_give_the_same_loss_with_fewer_runs(small: Path, fortna) -> None:
    cases = read_cases(small, None)
    rest = cases[1:]
    point = defaults()
    alone = [Objective(cs, fortna, worlds=20, seed=3).components(point) for cs in (cases, rest)]
    trials = Trials(cases, fortna, 20, 3)
    shared = [Objective(cs, fortna, worlds=20, seed=3, trials=trials).components(point) for cs in (cases, rest)]
    assert shared == alone
    # cases a and d have the same coding: one run for both; the second objective adds no run
    assert trials.runs == 3 + 1  # three codings and the Fortna terms, once
    # leaving out case a changes the likelihood only by a's term
    curves, _ = trials.at(point, [lever_key(cases[0])])
    a_term = -case_log_likelihood(curves[lever_key(cases[0])], cases[0])
    assert a_term > 0 and shared[0]["nll_cases"] - shared[1]["nll_cases"] == pytest.approx(a_term, rel=1e-12)
    assert trials.runs == 4  # ... and that was remembered too


def test_trials_with_other_worlds_are_refused(small: Path, fortna) -> None:
    cases = read_cases(small, None)
    with pytest.raises(UsageError, match="20 worlds"):
        Objective(cases, fortna, worlds=30, seed=3, trials=Trials(cases, fortna, 20, 3))


def test_workers_do_not_change_the_fit_or_leave_one_out(small: Path) -> None:
    # Fortna's figures rather than its cases, to keep this quick (tests/test_crossval.py fits the cases)
    kw = dict(worlds=8, seed=5, max_evals=4, loo_max_evals=3, war_outcomes=None, fortna_cases_fitted=False)
    one, two = (calibrate(small, settings.DEFAULT_FORTNA, workers=w, **kw) for w in (1, 2))
    assert one.fitted == two.fitted and one.fit_components == two.fit_components
    assert one.loo_scores == two.loo_scores and one.loo_fits == two.loo_fits
    assert set(one.loo_scores) == {"a", "b", "c", "d"}
    assert math.isfinite(one.loo_concordance)


def test_jobs_is_another_name_for_workers() -> None:
    parser = build_parser()
    for flag in ("--jobs", "--workers"):
        assert parser.parse_args(["calibrate", flag, "2"]).workers == 2
    assert parser.parse_args(["calibrate"]).workers == 1


# ------------------------------------------------------------------------- constants file

def test_constants_file_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "deeper" / "constants.yaml"
    values = {"hazard_intercept": -6.6712345, "tension_decay_per_month": 0.11774}
    write_constants(out, values, 'calibrated: a "quoted" source', comments=["first line"])
    text = out.read_text()
    assert text.startswith("# first line\nconstants:\n")
    assert load_constants(out) == {"hazard_intercept": -6.671, "tension_decay_per_month": 0.1177}
    assert [p.name for p in out.parent.iterdir()] == ["constants.yaml"]  # no temporary file left behind
    assert text == constants_block(values, 'calibrated: a "quoted" source', comments=["first line"])


def test_constants_file_refuses_a_directory_and_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        write_constants(tmp_path, {"hazard_intercept": -6.0}, "calibrated: x")
    with pytest.raises(UsageError, match="unknown model constant"):
        constants_block({"hazard_intercep": -6.0}, "calibrated: x")
    bad = tmp_path / "bad.yaml"
    bad.write_text("constants:\n  hazard_intercep:\n    value: -6\n")
    with pytest.raises(GeosimError) as err:
        load_constants(bad)
    assert (err.value.line, err.value.col) == (2, 3) and "did you mean 'hazard_intercept'" in err.value.fix


def test_constants_file_refuses_values_out_of_range(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("constants:\n  tension_decay_per_month: 1.5\n")
    with pytest.raises(GeosimError, match=r"outside 0\.\.1"):
        load_constants(bad)


# ------------------------------------------------------------------------- house rules

def test_history_imports_no_private_names_and_never_subclasses_the_model() -> None:
    for path in sorted(HISTORY.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simulator"):
                assert not [a.name for a in node.names if a.name.startswith("_")], (path.name, node.module)
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                assert "CeasefireModel" not in bases, (path.name, node.name)


def test_validate_reads_a_constants_file_and_names_its_mistakes(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "constants.yaml"
    bad.write_text("constants:\n  hazard_intercept:\n    value: high\n")
    code = main(["validate", "--constants", str(bad), "--out", str(tmp_path / "v"), "--worlds", "5"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"{bad}:3:") and "needs a plain number" in err
    assert not (tmp_path / "v").exists()
