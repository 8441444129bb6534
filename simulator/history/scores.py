"""Scores of the model against history, and the model's predicted survival that they score.

The model's survival curve for a case is computed by *conditional Monte Carlo*
(``expected_survival``): the model runs as usual, but with ``absorbing=False`` a world is
not stopped when the challenger or the defender restarts the war; instead the month's
restart probabilities are multiplied into the world's survival. Because every random
number belongs to a (channel, world, month) and the restart draws have channels of their
own, this is an unbiased estimate of the same survival curve that
``CeasefireModel.run().outcomes()`` samples, with much less noise and smooth in the model
constants (which calibration needs). ``tests/test_validation.py`` checks the two agree.

Scores: Harrell's concordance between each case's predicted mean survival (restricted to
the longest observed span) and its observed duration with censoring; the Brier score of the
predicted probability that the case had failed by its observed end; a calibration table;
Cox hazard ratios, fitted on sampled durations or on the expected outcomes of two curves;
and the first-year share of failures.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulator.history.cases import Case
from simulator.history.mapping import case_scenario, lever_key
from simulator.model.model import CeasefireModel
from simulator.scenario.load import Scenario

# ------------------------------------------------------------ the model's predicted survival

def expected_survival(scenario: Scenario, horizon: int, worlds: int, seed: int) -> np.ndarray:
    """Survival S(0..horizon) of a scenario's baseline by conditional Monte Carlo.

    In each world the chance of surviving month m is (1 - challenger's hazard)(1 - defender's
    own restart chance), both as the model computes them; S(m) is the mean of the product up
    to m over the worlds where both sides signed. A historical case is a ceasefire that was
    agreed, so its curve is conditional on the deal (all zeros if no world signs).
    """
    # Restarts do not end a world here (absorbing=False): their monthly chances are kept instead.
    model = CeasefireModel(scenario, None, worlds, seed, horizon_months=horizon, collect=False, absorbing=False)
    agreed = model.agreed.astype(float)
    log_s = np.zeros(worlds)
    out = np.empty(horizon + 1)
    signed = max(float(agreed.sum()), 1.0)
    out[0] = agreed.sum() / signed
    with np.errstate(divide="ignore"):
        for m in range(1, horizon + 1):
            model.step()
            own = np.minimum(model.defender.last_restart_chance, 1.0)
            log_s += np.log1p(-np.minimum(model.challenger.last_hazard, 1.0)) + np.log1p(-own)
            out[m] = float(np.sum(agreed * np.exp(log_s)) / signed)
    return out


def median_months(survival: np.ndarray) -> float:
    """First month at which survival is at most one half (NaN if it never falls that far)."""
    below = np.flatnonzero(survival <= 0.5)
    return float(below[0]) if below.size else float("nan")


def restricted_mean(survival: np.ndarray) -> float:
    """Expected months held within the curve's horizon (the area under the monthly survival curve)."""
    return float(np.sum(survival[1:]))


def sampled_durations(scenario: Scenario, horizon: int, worlds: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-world months to collapse (or the horizon) and whether it collapsed, from the plain model.

    Only the worlds where both sides signed: like ``expected_survival``, conditional on the deal.
    """
    out = CeasefireModel(scenario, None, worlds, seed, horizon_months=horizon, collect=False).run().outcomes()
    out = out[out["agreed"].to_numpy(bool)]
    collapsed = out["collapsed"].to_numpy(bool)
    months = np.where(collapsed, out["collapse_month"].fillna(horizon).to_numpy(float), float(horizon))
    return months, collapsed


@dataclass
class CasePredictions:
    """The model's survival curves for a set of cases, on one common horizon."""

    cases: list[Case]
    curves: dict[str, np.ndarray]

    def frame(self) -> pd.DataFrame:
        """One row per case: what was observed beside what the model predicts for it."""
        rows = []
        for c in self.cases:
            s = self.curves[c.case_id]
            rows.append({
                "case_id": c.case_id,
                "observed_months": round(c.observed_months, 1),
                "failed": int(c.failed),
                "predicted_survival_at_observed": float(s[min(c.months, len(s) - 1)]),
                "predicted_median_months": median_months(s),
                "predicted_failure_by_end": 1.0 - float(s[min(c.months, len(s) - 1)]),
                "predicted_mean_months": restricted_mean(s),
                "war_outcome": c.war_outcome or "not coded",
                "name": c.name,
            })
        return pd.DataFrame(rows)


def predict_cases(cases: list[Case], *, worlds: int, seed: int, constants: dict[str, float] | None = None,
                  horizon: int | None = None, scenario_of: Callable[..., Scenario] = case_scenario) -> CasePredictions:
    """Survival curves of each case (identical codings are simulated once), to ``horizon`` or the longest span.

    ``scenario_of`` builds a case's scenario (``case_scenario``'s arguments); it must depend on
    the case only through its levers (``lever_key``), as ``case_scenario`` does.
    """
    h = horizon or max(c.months for c in cases)
    curves: dict[str, np.ndarray] = {}
    done: dict[tuple[Any, ...], np.ndarray] = {}
    for c in cases:
        key = lever_key(c)
        if key not in done:
            done[key] = expected_survival(scenario_of(c, horizon_months=h, worlds=worlds, seed=seed,
                                                      constants=constants), h, worlds, seed)
        curves[c.case_id] = done[key]
    return CasePredictions(cases, curves)


# ----------------------------------------------------------------------------- the scores

def concordance(observed_months: Any, predicted: Any, failed: Any) -> float:
    """Harrell's C: share of comparable pairs whose predicted ranking (higher = holds longer) is right."""
    from lifelines.utils import concordance_index

    return float(concordance_index(np.asarray(observed_months, float), np.asarray(predicted, float),
                                   np.asarray(failed, bool)))


def brier(predicted_failure: Any, failed: Any) -> float:
    """Mean squared difference between the predicted chance of failure by the end and what happened."""
    p = np.asarray(predicted_failure, float)
    y = np.asarray(failed, float)
    return float(np.mean((p - y) ** 2))


CALIBRATION_BINS = (0.0, 0.25, 0.5, 0.75, 1.0)


def calibration_table(predicted_failure: Any, failed: Any, bins: tuple[float, ...] = CALIBRATION_BINS) -> pd.DataFrame:
    """Cases grouped by predicted chance of failure: mean prediction beside the observed failure share."""
    p = np.asarray(predicted_failure, float)
    y = np.asarray(failed, float)
    idx = np.clip(np.searchsorted(bins, p, side="right") - 1, 0, len(bins) - 2)
    rows = []
    for k in range(len(bins) - 1):
        sel = idx == k
        rows.append({"bin": f"{bins[k]:.2f}-{bins[k + 1]:.2f}", "cases": int(sel.sum()),
                     "mean_predicted_failure": float(p[sel].mean()) if sel.any() else float("nan"),
                     "observed_failure_share": float(y[sel].mean()) if sel.any() else float("nan")})
    return pd.DataFrame(rows)


def first_year_share(survival: np.ndarray, follow_up_months: Any) -> float:
    """Expected share of failures in the first year when each ceasefire is followed up as long as Fortna's were."""
    h = len(survival) - 1
    c = np.minimum(np.floor(np.asarray(follow_up_months, float)).astype(int), h)
    first = np.sum(1.0 - survival[np.minimum(c, 12)])
    total = np.sum(1.0 - survival[c])
    return float(first / total) if total > 0 else float("nan")


def weighted_cox_hazard_ratio(s_without: np.ndarray, s_with: np.ndarray, follow_up_months: Any) -> float:
    """Hazard ratio fitted by Cox to the *expected* outcomes of two survival curves (smooth in the model's constants).

    Each arm is a cohort of ceasefires followed up as long as Fortna's; its expected failures in
    month m and expected censorings at each follow-up are the Cox weights.
    """
    c = np.floor(np.asarray(follow_up_months, float)).astype(int)
    h = min(len(s_without), len(s_with)) - 1
    c = np.minimum(c, h)
    counts = np.bincount(c, minlength=h + 1).astype(float)
    at_least = counts[::-1].cumsum()[::-1]  # cohorts followed up at least m months
    frames = []
    for pk, s in ((0, s_without[:h + 1]), (1, s_with[:h + 1])):
        months = np.arange(1, h + 1)
        events = (s[:-1] - s[1:]) * at_least[1:]
        cens = counts * s
        frames.append(pd.DataFrame({"T": np.concatenate([months, np.arange(h + 1)]).astype(float),
                                    "E": np.concatenate([np.ones(h), np.zeros(h + 1)]),
                                    "pk": pk, "w": np.concatenate([events, cens])}))
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[(frame["w"] > 1e-12) & (frame["T"] > 0)]
    return cox_hazard_ratio(frame, "pk", weights="w")[0]


def cox_hazard_ratio(frame: pd.DataFrame, covariate: str,
                     weights: str | None = None) -> tuple[float, float, float, float]:
    """Hazard ratio of ``covariate`` (exp(coef)), its 95% interval and the coefficient's standard error."""
    from lifelines import CoxPHFitter

    cph = CoxPHFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph.fit(frame, duration_col="T", event_col="E", weights_col=weights)
    s = cph.summary.loc[covariate]
    return (float(s["exp(coef)"]), float(s["exp(coef) lower 95%"]), float(s["exp(coef) upper 95%"]),
            float(s["se(coef)"]))
