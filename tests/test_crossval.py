"""Cross-validation of the calibration (simulator.history.crossval) and the joint fit with Fortna's cases."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from simulator.history import settings
from simulator.history.calibrate import calibrate
from simulator.history.crossval import FOLDS, HeldOut, folds, training_rates
from simulator.history.fortna_cases import HORIZONS

SMALL = """case_id,name,kind,start,end,failed,guarantee,foreign_troops,force_type,monitors,dmz,defender_aid
a,A,ceasefire,2023-01-01,2023-04-01,1,none,0,none,0,0,none
b,B,ceasefire,2023-01-01,2024-07-01,1,mediated,0,none,100,1,low
c,C,ceasefire,2023-06-01,,0,mediated,6000,interposition,0,1,medium
d,D,ceasefire,2022-06-01,,0,none,0,none,0,0,none
"""


def case(case_id: str, months: float, failed: bool) -> SimpleNamespace:
    return SimpleNamespace(case_id=case_id, observed_months=months, failed=failed)


def test_folds_deal_cases_in_order_of_their_ids_into_a_partition() -> None:
    cases = [case(str(i), 10, False) for i in (105, 3, 27, 14, 2, 66, 8)]
    out = folds(cases, 3)  # numeric order: 2 3 8 14 27 66 105
    assert [[c.case_id for c in f] for f in out] == [["2", "14", "105"], ["3", "27"], ["8", "66"]]
    assert folds(cases, 3) == out  # the same every time
    assert len(folds(cases[:2], FOLDS)) == 2  # no empty folds


def test_training_rates_count_only_cases_followed_up_to_each_horizon() -> None:
    train = [case("1", 6, True), case("2", 30, True), case("3", 80, False), case("4", 20, False)]
    rates = training_rates(train)
    assert set(rates) == set(HORIZONS)
    assert rates["1y"] == pytest.approx(1 / 4)  # all four are known at 12 months; one failed by then
    assert rates["5y"] == pytest.approx(2 / 3)  # case 4 left before 60 months without failing: unknown


def test_held_out_scores_are_the_proper_brier_scores_at_each_horizon() -> None:
    cases = [case("1", 6, True), case("2", 30, True), case("3", 80, False), case("4", 20, False)]
    held = HeldOut(cases)
    p1 = {"1": 0.6, "2": 0.3, "3": 0.1, "4": 0.2}
    p5 = {"1": 0.8, "2": 0.7, "3": 0.3, "4": 0.5}
    for c, mean in zip(cases, (5.0, 20.0, 50.0, 40.0)):
        held.predicted[c.case_id] = (mean, {"1y": p1[c.case_id], "5y": p5[c.case_id]})
        held.base_rates[c.case_id] = {"1y": 0.25, "5y": 0.5}
    s = held.scores()
    # within a year only case 1 failed; all four are known
    b1 = np.mean([(0.6 - 1) ** 2, 0.3 ** 2, 0.1 ** 2, 0.2 ** 2])
    r1 = np.mean([(0.25 - 1) ** 2, 0.25 ** 2, 0.25 ** 2, 0.25 ** 2])
    assert s["brier_1y"] == pytest.approx(b1) and s["brier_1y_base_rate"] == pytest.approx(r1)
    assert s["brier_1y_skill"] == pytest.approx(1 - b1 / r1)
    # within five years cases 1 and 2 failed, case 3 held, case 4 is unknown
    b5 = np.mean([(0.8 - 1) ** 2, (0.7 - 1) ** 2, 0.3 ** 2])
    assert s["brier_5y"] == pytest.approx(b5) and s["cases_5y"] == 3
    assert s["concordance"] == pytest.approx(1.0)  # predicted means rank the cases as they happened


def test_joint_fit_cross_validates_both_kinds_and_workers_change_nothing(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text(SMALL)
    rows = settings.DEFAULT_FORTNA.read_text().splitlines()
    fortna = tmp_path / "fortna.csv"
    fortna.write_text("\n".join(rows[:1] + rows[1::8]) + "\n")  # 12 of Fortna's cases
    kw = dict(worlds=8, seed=5, max_evals=4, loo_max_evals=2, war_outcomes=None)
    one, two = (calibrate(small, fortna, workers=w, **kw) for w in (1, 2))
    assert one.fitted == two.fitted
    cv1, cv2 = one.cross_validation, two.cross_validation
    assert cv1 is not None and cv2 is not None and cv1.fortna is not None and cv2.fortna is not None
    assert cv1.interstate.predicted == cv2.interstate.predicted and cv1.fortna.predicted == cv2.fortna.predicted
    assert one.n_fortna_cases == 12 and set(cv1.fortna.predicted) == {r.split(",")[0] for r in rows[1::8]}
    assert set(cv1.interstate.predicted) == {"a", "b", "c", "d"}
    # Fortna's figures are reported but not fitted: no penalty in the loss
    assert "penalty" not in one.fit_components and math.isfinite(one.fit_components["survival_1y"])
    assert "Fortna's 12 civil-war ceasefires one by one" in one.source()
    assert "held out (Fortna, by folds)" in one.text()
    figures = calibrate(small, fortna, fortna_cases_fitted=False, loo=False, **kw)
    assert figures.n_fortna_cases == 0 and "Gaussian penalties" in figures.source()


def test_interstate_briers_at_fixed_horizons_score_only_cases_followed_that_long() -> None:
    from simulator.history.validate import interstate_horizon_briers

    cases = [case("x", 6, True), case("y", 30, False), case("z", 80, False)]
    flat = {c.case_id: np.full(100, 0.7) for c in cases}  # survival 0.7 from month 0: P(failed) 0.3 everywhere
    out = interstate_horizon_briers(cases, flat)
    # at 1 year all three are known, one failed (base rate 1/3); at 5 years y is unknown, x failed, z held
    assert out["brier_1y"] == pytest.approx(np.mean([(0.3 - 1) ** 2, 0.3 ** 2, 0.3 ** 2]))
    assert out["brier_1y_base_rate"] == pytest.approx(np.mean([(1 / 3 - 1) ** 2, (1 / 3) ** 2, (1 / 3) ** 2]))
    assert out["brier_5y_cases"] == 2 and out["brier_5y"] == pytest.approx(np.mean([(0.3 - 1) ** 2, 0.3 ** 2]))
    assert out["brier_5y_skill"] == pytest.approx(1 - out["brier_5y"] / 0.25)


def test_a_refit_never_sees_the_cases_it_predicts_and_base_rates_come_from_training(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    import simulator.history.calibrate as C
    from simulator.history.cases import read_cases
    from simulator.history.crossval import folds as deal

    small = tmp_path / "small.csv"
    small.write_text(SMALL)
    rows = settings.DEFAULT_FORTNA.read_text().splitlines()
    fortna = tmp_path / "fortna.csv"
    fortna.write_text("\n".join(rows[:1] + rows[1::12]) + "\n")  # 8 of Fortna's cases
    seen: list[set[str]] = []

    class Recording(C.Objective):
        def __post_init__(self) -> None:
            seen.append({c.case_id for c in self.cases})
            super().__post_init__()

    monkeypatch.setattr(C, "Objective", Recording)
    report = calibrate(small, fortna, worlds=6, seed=5, max_evals=2, loo_max_evals=1, war_outcomes=None)
    everything = seen[0]  # the full fit sees every case
    fortna_ids = {r.split(",")[0] for r in rows[1::12]}
    assert everything == {"a", "b", "c", "d"} | fortna_ids
    left_out = sorted((everything - s for s in seen[1:]), key=sorted)
    cv = report.cross_validation
    assert cv is not None and cv.fortna is not None
    expected = [{i} for i in "abcd"] + [{c.case_id for c in f} for f in deal(cv.fortna.cases)]
    assert sorted(left_out, key=sorted) == sorted(expected, key=sorted)  # each refit lacks exactly its held-out set
    interstate = read_cases(small, None)
    for c in interstate:
        assert cv.interstate.base_rates[c.case_id] == training_rates([x for x in interstate if x is not c])
