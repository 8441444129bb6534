"""Ceasefire survival: discrete-time Kaplan-Meier from merged counts, with its 95% band.

Every world starts at month 0. A world where a side refused the deal is counted in month 0
(no collapse happens in month 0: the first month of a ceasefire is month 1), so two curves
come from the same counts:

- overall (``survival``): the probability that the ceasefire was agreed and still held
  after ``m`` months, over all worlds; at month 0 it is the chance of a deal;
- among agreed deals (``survival_if_agreed``): the same counts with the month-0 no-deals
  removed from the risk set, so it starts at 1. Without censoring before the horizon,
  ``survival_if_agreed[m] = survival[m] / survival[0]``.

The band is lifelines' exponential-Greenwood interval, with exact binomial bounds where
Greenwood's is degenerate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from simulator.analysis.differences import ALPHA

SURVIVAL_COLUMNS = ["option", "month", "at_risk", "collapsed", "survival", "lower", "upper",
                    "survival_if_agreed", "lower_if_agreed", "upper_if_agreed"]
IF_AGREED = {"survival": "survival_if_agreed", "lower": "lower_if_agreed", "upper": "upper_if_agreed"}


def kaplan_meier(events: np.ndarray, censored: int, horizon: int) -> pd.DataFrame:
    """Discrete-time Kaplan-Meier from counts: ``events[m]`` collapses in month m, the rest censored at the horizon.

    Returns one row per month with ``month``, ``at_risk``, ``collapsed``, ``survival``,
    ``lower`` and ``upper``; survival and band are NaN if there are no worlds at all.
    """
    months = np.arange(horizon + 1)
    events = np.asarray(events, dtype=np.int64)
    n = int(events.sum()) + int(censored)
    at_risk = n - np.concatenate([[0], np.cumsum(events)[:-1]])
    if n == 0:
        nan = np.full(horizon + 1, np.nan)
        return pd.DataFrame({"month": months, "at_risk": at_risk, "collapsed": events,
                             "survival": nan, "lower": nan, "upper": nan.copy()})
    durations = np.concatenate([months, [horizon]])
    observed = np.concatenate([np.ones(horizon + 1, bool), [False]])
    weights = np.concatenate([events, [censored]]).astype(float)
    keep = weights > 0
    kmf = KaplanMeierFitter(alpha=ALPHA)
    kmf.fit(durations[keep], observed[keep], weights=weights[keep], timeline=months)
    surv = kmf.survival_function_.iloc[:, 0].to_numpy()
    ci = kmf.confidence_interval_survival_function_
    lower, upper = ci.iloc[:, 0].to_numpy().copy(), ci.iloc[:, 1].to_numpy().copy()
    # Greenwood's variance is zero before the first failure; use the exact binomial bound there.
    none_yet = surv >= 1.0
    lower[none_yet] = (ALPHA / 2) ** (1.0 / n)
    upper[none_yet] = 1.0
    gone = surv <= 0.0
    lower[gone], upper[gone] = 0.0, 1.0 - (ALPHA / 2) ** (1.0 / n)
    lower = np.minimum(np.nan_to_num(lower, nan=0.0), surv)
    upper = np.maximum(np.nan_to_num(upper, nan=1.0), surv)
    return pd.DataFrame({"month": months, "at_risk": at_risk, "collapsed": events,
                         "survival": surv, "lower": lower, "upper": upper})


def kaplan_meier_if_agreed(events: np.ndarray, censored: int, horizon: int) -> pd.DataFrame:
    """Kaplan-Meier among agreed deals: ``kaplan_meier`` of the same counts without the month-0 no-deals.

    Survival is 1 at month 0 (NaN throughout if no world agreed a deal).
    """
    agreed = np.asarray(events, dtype=np.int64).copy()
    agreed[0] = 0
    return kaplan_meier(agreed, censored, horizon)


def survival_table(events: np.ndarray, censored: int, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both curves of one option: the overall one, and the one among agreed deals.

    Returns the survival table (``SURVIVAL_COLUMNS`` but ``option``: the overall curve with
    its counts, then the curve among agreed deals) and the curve among agreed deals alone.
    """
    overall = kaplan_meier(events, censored, horizon)
    if_agreed = kaplan_meier_if_agreed(events, censored, horizon)
    table = overall.assign(**{IF_AGREED[c]: if_agreed[c].to_numpy() for c in IF_AGREED})
    return table, if_agreed
