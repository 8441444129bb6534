"""Ceasefire survival: discrete-time Kaplan-Meier from merged counts, with its 95% band.

Every world starts at month 0: a world where the defender refused the deal counts as a
ceasefire that failed at month 0, so survival at month ``m`` is the probability that a
ceasefire was agreed and still held after ``m`` months. The band is lifelines'
exponential-Greenwood interval, with exact binomial bounds where Greenwood's is degenerate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from simulator.analysis.differences import ALPHA

SURVIVAL_COLUMNS = ["option", "month", "at_risk", "collapsed", "survival", "lower", "upper"]


def kaplan_meier(events: np.ndarray, censored: int, horizon: int) -> pd.DataFrame:
    """Discrete-time Kaplan-Meier from counts: ``events[m]`` collapses in month m, the rest censored at the horizon."""
    months = np.arange(horizon + 1)
    durations = np.concatenate([months, [horizon]])
    observed = np.concatenate([np.ones(horizon + 1, bool), [False]])
    weights = np.concatenate([events, [censored]]).astype(float)
    keep = weights > 0
    kmf = KaplanMeierFitter(alpha=ALPHA)
    kmf.fit(durations[keep], observed[keep], weights=weights[keep], timeline=months)
    surv = kmf.survival_function_.iloc[:, 0].to_numpy()
    ci = kmf.confidence_interval_survival_function_
    lower, upper = ci.iloc[:, 0].to_numpy().copy(), ci.iloc[:, 1].to_numpy().copy()
    n = int(weights.sum())
    at_risk = n - np.concatenate([[0], np.cumsum(events)[:-1]])
    # Greenwood's variance is zero before the first failure; use the exact binomial bound there.
    none_yet = surv >= 1.0
    lower[none_yet] = (ALPHA / 2) ** (1.0 / n)
    upper[none_yet] = 1.0
    gone = surv <= 0.0
    lower[gone], upper[gone] = 0.0, 1.0 - (ALPHA / 2) ** (1.0 / n)
    lower = np.minimum(np.nan_to_num(lower, nan=0.0), surv)
    upper = np.maximum(np.nan_to_num(upper, nan=1.0), surv)
    return pd.DataFrame({"month": months, "at_risk": at_risk, "collapsed": events.astype(np.int64),
                         "survival": surv, "lower": lower, "upper": upper})
