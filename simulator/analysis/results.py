"""Ensemble results: summary, survival curves with intervals, paired differences; saving and loading.

Survival is Kaplan-Meier in discrete months (lifelines, with frequency weights from the
merged counts) with its exponential-Greenwood 95% band. Every world starts at month 0: a
world where the defender refused the deal counts as a ceasefire that failed at month 0,
so ``survival`` at month ``m`` is the probability that a ceasefire was agreed and still
held after ``m`` months. Paired differences compare options world by world (common
random numbers) with a normal interval for the mean difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from scipy import stats

from simulator.runs.blocks import HOLD_MONTHS, MEASURES, Plan
from simulator.errors import UsageError
from simulator.files import atomic_directory

Z95 = float(stats.norm.ppf(0.975))
ALPHA = 0.05

SUMMARY_COLUMNS = [
    "option", "worlds", "p_agreed", "p_agreed_lo", "p_agreed_hi",
    "p_hold_12", "p_hold_12_lo", "p_hold_12_hi", "p_hold_24", "p_hold_24_lo", "p_hold_24_hi",
    "p_hold_36", "p_hold_36_lo", "p_hold_36_hi", "p_hold_horizon", "p_hold_horizon_lo", "p_hold_horizon_hi",
    "median_months_to_collapse", "mean_months_held", "p_direct_clash", "p_direct_clash_lo", "p_direct_clash_hi",
    "share_broken_by_challenger", "share_broken_by_defender", "mean_aid_bn", "mean_troops",
]
SURVIVAL_COLUMNS = ["option", "month", "at_risk", "collapsed", "survival", "lower", "upper"]
DIFFERENCE_COLUMNS = ["option", "baseline", "measure", "difference", "lower", "upper", "worlds"]


def _wilson(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=1 - ALPHA, method="wilson")
    return float(ci.low), float(ci.high)


def kaplan_meier(events: np.ndarray, censored: int, horizon: int) -> pd.DataFrame:
    """Discrete-time Kaplan-Meier from counts: ``events[m]`` collapses in month m, the rest censored at the horizon."""
    months = np.arange(horizon + 1)
    durations = np.concatenate([months, [horizon]])
    observed = np.concatenate([np.ones(horizon + 1, bool), [False]])
    weights = np.concatenate([events, [censored]]).astype(float)
    keep = weights > 0
    kmf = KaplanMeierFitter()
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


def _pairs_frame(options: list[str], pair_sum: np.ndarray, pair_sq: np.ndarray, n: int) -> pd.DataFrame:
    rows = []
    for i, opt in enumerate(options):
        for j, base in enumerate(options):
            for q, measure in enumerate(MEASURES):
                mean = pair_sum[i, j, q] / n
                if i == j:
                    half = 0.0
                elif n > 1 and np.isfinite(mean):
                    var = max(0.0, (pair_sq[i, j, q] - n * mean * mean) / (n - 1))
                    half = Z95 * np.sqrt(var / n)
                else:
                    half = np.nan
                rows.append({"option": opt, "baseline": base, "measure": measure, "difference": mean,
                             "lower": mean - half, "upper": mean + half, "worlds": n})
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


@dataclass
class Results:
    """What a run produced. ``summary``, ``survival`` and ``compare()`` are pandas frames."""

    summary: pd.DataFrame
    survival: pd.DataFrame
    pairs: pd.DataFrame
    manifest: dict[str, Any]
    worlds: pd.DataFrame | None = None
    monthly: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def options(self) -> list[str]:
        return list(self.summary["option"])

    @property
    def baseline(self) -> str:
        return str(self.manifest.get("baseline", self.options[0]))

    def compare(self, baseline: str | None = None) -> pd.DataFrame:
        """Paired differences of every option from ``baseline`` (default: the scenario's baseline)."""
        base = self.baseline if baseline is None else baseline
        if base not in set(self.pairs["baseline"]):
            raise UsageError(f"no option '{base}' in these results; choose one of: {', '.join(self.options)}")
        out = self.pairs[self.pairs["baseline"] == base]
        return out.reset_index(drop=True)

    def save(self, directory: str | Path, force: bool = False, save_worlds: bool = False,
             plots: bool = True) -> Path:
        """Write tables, figures and the manifest to ``directory`` atomically (see ``atomic_directory``)."""
        from simulator.report import figures as plotting

        with atomic_directory(directory, force=force) as tmp:
            self.summary.to_csv(tmp / "summary.csv", index=False)
            self.survival.to_csv(tmp / "survival.csv", index=False)
            self.compare().to_csv(tmp / "differences.csv", index=False)
            self.pairs.to_csv(tmp / "pairs.csv", index=False)
            if save_worlds:
                if self.worlds is None:
                    raise UsageError("per-world outcomes were not kept; run with keep_worlds=True (--save-worlds)")
                self.worlds.to_parquet(tmp / "worlds.parquet", index=False)
            if plots:
                plotting.save_figures(self, tmp)
            manifest = dict(self.manifest, files=sorted(p.name for p in tmp.iterdir()) + ["manifest.json"])
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return Path(directory)


def finalize(plan: Plan, totals: dict[str, np.ndarray], manifest: dict[str, Any],
             worlds: pd.DataFrame | None = None) -> Results:
    """Turn merged counts into the summary, survival and paired-difference tables."""
    options = list(plan.options)
    h = plan.horizon
    summary_rows, survival_frames = [], []
    for i, opt in enumerate(options):
        n, agreed, clash, censored, by_challenger, by_defender = (int(x) for x in totals["ints"][i])
        aid, troops, months_held = totals["floats"][i]
        km = kaplan_meier(totals["events"][i], censored, h)
        survival_frames.append(km.assign(option=opt)[SURVIVAL_COLUMNS])
        row: dict[str, Any] = {"option": opt, "worlds": n}
        row["p_agreed"] = agreed / n
        row["p_agreed_lo"], row["p_agreed_hi"] = _wilson(agreed, n)
        for m in list(HOLD_MONTHS) + ["horizon"]:
            month = h if m == "horizon" else m
            key = f"p_hold_{m}"
            if month <= h:
                at = km.iloc[month]
                row[key], row[f"{key}_lo"], row[f"{key}_hi"] = at["survival"], at["lower"], at["upper"]
            else:
                row[key] = row[f"{key}_lo"] = row[f"{key}_hi"] = np.nan
        below = km.index[km["survival"] <= 0.5]
        row["median_months_to_collapse"] = float(km["month"].iloc[below[0]]) if len(below) else np.nan
        row["mean_months_held"] = months_held / n
        row["p_direct_clash"] = clash / n
        row["p_direct_clash_lo"], row["p_direct_clash_hi"] = _wilson(clash, n)
        failed = n - censored
        row["share_broken_by_challenger"] = by_challenger / failed if failed else np.nan
        row["share_broken_by_defender"] = by_defender / failed if failed else np.nan
        row["mean_aid_bn"] = aid / n
        row["mean_troops"] = troops / n
        summary_rows.append(row)
    summary = pd.DataFrame(summary_rows, columns=SUMMARY_COLUMNS)
    survival = pd.concat(survival_frames, ignore_index=True)
    pairs = _pairs_frame(options, totals["pair_sum"], totals["pair_sq"], plan.worlds)
    return Results(summary=summary, survival=survival, pairs=pairs, manifest=manifest, worlds=worlds)


def load_results(directory: str | Path) -> Results:
    """Read results saved by ``Results.save`` (or ``geosim run``) back."""
    d = Path(directory)
    manifest_path = d / "manifest.json"
    if not manifest_path.exists():
        raise UsageError(f"'{d}' holds no complete results (no manifest.json); run 'geosim run' first")
    manifest = json.loads(manifest_path.read_text())
    worlds = pd.read_parquet(d / "worlds.parquet") if (d / "worlds.parquet").exists() else None
    pairs_path = d / "pairs.csv" if (d / "pairs.csv").exists() else d / "differences.csv"
    return Results(
        summary=pd.read_csv(d / "summary.csv"),
        survival=pd.read_csv(d / "survival.csv"),
        pairs=pd.read_csv(pairs_path),
        manifest=manifest,
        worlds=worlds,
    )
