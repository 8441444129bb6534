"""The constants' uncertainty carried into every answer: one run per posterior draw, summarised.

A run with ``posterior=K`` (``simulator.run``, ``geosim run --posterior K``) runs every option
once at the calibrated constants (the main run) and once for each of K draws of the
constants, on the same seed and so the same worlds. ``summarise`` turns these runs into one
table, ``posterior.csv``, with a row for every option and every outcome (``kind`` "value")
and for every option but the baseline and every outcome compared world by world (``kind``
"difference", the option minus the baseline). Its columns:

- ``value``, ``mc_lo``, ``mc_hi``: the main run's estimate and its 95% Monte Carlo interval
  (the summary's or the paired difference's; none for a mean, which has no interval there);
- ``median``, ``q05``, ``q95``: the median and the 5% and 95% quantiles of the estimate
  across the draws (``numpy.quantile``, linear between order statistics), over the draws
  where it is defined (``draws``; a horizon shorter than 36 months leaves holding at 36
  months undefined, and a median month to collapse is undefined where survival stays above
  one half);
- ``better``: "higher" or "lower" where one direction is better (``BETTER``);
- ``share_better``: for a difference, the share of draws in which the option beats the
  baseline, strictly (a tie does not count).

Two intervals, two questions. The Monte Carlo interval says how far the main run's estimate
may be from what infinitely many worlds would give, at the calibrated constants. The spread
across draws says how much the answer moves with the constants themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from simulator.analysis.results import Results
from simulator.scenario.outcomes import all_outcomes

# Which way is better, by outcome: +1 higher, -1 lower. Holding, a deal and months held are
# better higher; a clash, a refusal, aid spent and troops exposed better lower (the price).
# Who broke an ended ceasefire and the median month to collapse have no better direction.
BETTER: dict[str, int] = {
    "agreed": 1, "hold_12": 1, "hold_24": 1, "hold_36": 1, "hold_horizon": 1, "months_held": 1,
    "hold_12_if_agreed": 1, "hold_36_if_agreed": 1, "hold_horizon_if_agreed": 1,
    "direct_clash": -1, "refused_by_challenger": -1, "refused_by_defender": -1, "aid_bn": -1, "troops": -1,
}
QUANTILES = (0.05, 0.95)  # a 90% interval across draws
POSTERIOR_COLUMNS = ["option", "baseline", "measure", "kind", "value", "mc_lo", "mc_hi", "median", "q05", "q95",
                     "draws", "better", "share_better"]
BY_DRAW_COLUMNS = ["draw", "option", "baseline", "measure", "kind", "value"]


@dataclass
class PosteriorResults(Results):
    """``Results`` of the main run, with the constants' uncertainty.

    ``posterior`` is the table of ``posterior.csv`` (see the module's notes); ``by_draw`` the
    estimate of every draw, one row per draw, option, outcome and kind.
    """

    posterior: pd.DataFrame | None = None
    by_draw: pd.DataFrame | None = None


def estimates(results: Results, draw: int | None = None) -> pd.DataFrame:
    """One run's estimates in long form (``BY_DRAW_COLUMNS``): each outcome's value per option, and
    each paired difference of an option other than the baseline from the baseline."""
    base = results.baseline
    rows: list[dict[str, Any]] = []
    for _, r in results.summary.iterrows():
        for o in all_outcomes():
            if o.columns[0] in r:
                rows.append({"draw": draw, "option": r["option"], "baseline": base, "measure": o.name,
                             "kind": "value", "value": float(r[o.columns[0]])})
    d = results.compare()
    for _, r in d[d["option"] != d["baseline"]].iterrows():
        rows.append({"draw": draw, "option": r["option"], "baseline": base, "measure": r["measure"],
                     "kind": "difference", "value": float(r["difference"])})
    return pd.DataFrame(rows, columns=BY_DRAW_COLUMNS)


def across_draws(values: np.ndarray, better: int) -> dict[str, float]:
    """Median, 5% and 95% quantiles, count and (if ``better`` is +1 or -1) share of draws above zero
    in that direction, over the finite ``values``."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"median": np.nan, "q05": np.nan, "q95": np.nan, "draws": 0, "share_better": np.nan}
    lo, hi = np.quantile(v, QUANTILES)
    share = float(np.mean(better * v > 0)) if better else np.nan
    return {"median": float(np.median(v)), "q05": float(lo), "q95": float(hi), "draws": len(v),
            "share_better": share}


def summarise(main: Results, draws: Sequence[tuple[int, Results]], manifest: dict[str, Any] | None = None
              ) -> PosteriorResults:
    """The main run's results with the posterior table from the runs of ``draws`` (draw number, results)."""
    at_main = estimates(main)
    by_draw = pd.concat([estimates(r, draw) for draw, r in draws], ignore_index=True)
    intervals = mc_intervals(main)
    grouped = {key: g["value"].to_numpy() for key, g in by_draw.groupby(["option", "measure", "kind"], sort=False)}
    rows = []
    for kind in ("value", "difference"):
        for _, r in at_main[at_main["kind"] == kind].iterrows():
            key = (r["option"], r["measure"], kind)
            better = BETTER.get(r["measure"], 0)
            stats = across_draws(grouped.get(key, np.array([])), better)
            if kind == "value":
                stats["share_better"] = np.nan
            lo, hi = intervals.get(key, (np.nan, np.nan))
            rows.append({"option": r["option"], "baseline": r["baseline"], "measure": r["measure"], "kind": kind,
                         "value": r["value"], "mc_lo": lo, "mc_hi": hi, **stats,
                         "better": {1: "higher", -1: "lower"}.get(better, "")})
    table = pd.DataFrame(rows, columns=POSTERIOR_COLUMNS)
    table["draws"] = table["draws"].astype(int)
    base = {f.name: getattr(main, f.name) for f in fields(Results)}
    if manifest is not None:
        base["manifest"] = manifest
    return PosteriorResults(**base, posterior=table, by_draw=by_draw)


def mc_intervals(results: Results) -> dict[tuple[str, str, str], tuple[float, float]]:
    """The 95% Monte Carlo interval of every estimate that has one, by (option, measure, kind)."""
    out: dict[tuple[str, str, str], tuple[float, float]] = {}
    for _, r in results.summary.iterrows():
        for o in all_outcomes():
            if o.tally.interval and o.columns[1] in r:
                out[(r["option"], o.name, "value")] = (float(r[o.columns[1]]), float(r[o.columns[2]]))
    for _, r in results.compare().iterrows():
        out[(r["option"], r["measure"], "difference")] = (float(r["lower"]), float(r["upper"]))
    return out
