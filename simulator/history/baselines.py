"""Statistical baselines beside the model: the base rate, Cox models on Fortna's file, a simple ranking.

A model earns its keep only if it predicts better than simple statistics would. Three kinds
of baseline are scored on the same cases as the model:

- the **base rate**: predict for every case the share of ceasefires that failed in the
  training data. For a file in Fortna's format this is the share failed among the shipped
  Fortna cases; for the interstate cases it is the share of those cases that failed (as
  ``brier_reference`` always was). The Brier skill of a prediction is
  1 - Brier / Brier of the base rate: below 0 it is worse than always predicting the base rate.
- **Cox models** fitted on the shipped Fortna file (``COX_BASELINES``): peacekeepers and
  victory; and those two with Fortna's controls (treaty, log deaths, war length), on the rows
  that have all five. A case is ranked by its hazard, and its chance of failure by its
  observed end is 1 - S(t), from Breslow's baseline as a step function.
- for the interstate cases, a **points ranking**: one point for a war that was decided (or
  no war), one for foreign troops; scored by concordance only.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.history.cases import Case
from simulator.history.fortna import read_fortna
from simulator.history.fortna_cases import HORIZONS
from simulator.history.mapping import UNDECIDED_SHARE
from simulator.history.scores import brier, concordance
from simulator.history.settings import DEFAULT_FORTNA

COX_BASELINES: dict[str, tuple[str, ...]] = {
    "pk_victory": ("pk_dum", "victory"),
    "five": ("pk_dum", "victory", "treaty", "logcost", "wardur"),
}
COX_LABELS = {"pk_victory": "Cox: peacekeepers + victory",
              "five": "Cox: + treaty, log deaths, war length"}
SKILL_FLAG = "worse than always predicting the base rate"


def brier_skill(score: float, reference: float) -> float:
    """1 - score / reference: above 0 better than the reference, below 0 worse (NaN if the reference is 0)."""
    return 1.0 - score / reference if reference > 0 else math.nan


def skill_flag(skill: float) -> str:
    """The plain warning for a negative Brier skill, or nothing."""
    return SKILL_FLAG if skill < 0 else ""


def safe_concordance(observed_months: Any, predicted: Any, failed: Any) -> float:
    """Harrell's C (``scores.concordance``), NaN when no pair can be compared (no failure, say)."""
    try:
        return concordance(observed_months, predicted, failed)
    except ZeroDivisionError:
        return math.nan


@dataclass(frozen=True)
class CoxBaseline:
    """A Cox model fitted on the training file, in months: it ranks cases and predicts failure by a time."""

    name: str
    covariates: tuple[str, ...]
    coefficients: dict[str, float]
    means: dict[str, float]  # the training means lifelines centres the covariates on
    times: np.ndarray  # Breslow's baseline cumulative hazard (at the means), a step function of months
    cumulative_hazard: np.ndarray
    training_cases: int
    in_sample_concordance: float

    def complete(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of ``frame`` have every covariate (the others cannot be predicted)."""
        return frame[list(self.covariates)].notna().all(axis=1).to_numpy()

    def hazard(self, frame: pd.DataFrame) -> np.ndarray:
        """Relative hazard of each row, exp(beta . (x - training means)): higher fails sooner."""
        x = frame[list(self.covariates)].to_numpy(float) - np.array([self.means[c] for c in self.covariates])
        return np.exp(x @ np.array([self.coefficients[c] for c in self.covariates]))

    def failure_by(self, frame: pd.DataFrame, months: Any) -> np.ndarray:
        """Predicted chance that each row had failed by its ``months``: 1 - exp(-H0(t) hazard)."""
        at = np.searchsorted(self.times, np.asarray(months, float), side="right") - 1
        h0 = np.where(at >= 0, self.cumulative_hazard[np.maximum(at, 0)], 0.0)
        return 1.0 - np.exp(-h0 * self.hazard(frame))


def training_frame(path: str | Path = DEFAULT_FORTNA) -> pd.DataFrame:
    """Fortna's file with time in months (``T``), whether war resumed (``E``) and the covariates."""
    df = read_fortna(path)
    return df.assign(T=df["T"] * 12.0)  # years of 365.25 days -> months of 365.25/12 days


def fit_cox(training: pd.DataFrame, name: str) -> CoxBaseline:
    """Fit ``COX_BASELINES[name]`` (Efron ties) on the training rows that have all its covariates."""
    from lifelines import CoxPHFitter

    covs = COX_BASELINES[name]
    rows = training[["T", "E", *covs]].dropna()
    cph = CoxPHFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph.fit(rows, duration_col="T", event_col="E")
    base = cph.baseline_cumulative_hazard_
    means = rows[list(covs)].mean()
    return CoxBaseline(name, covs, {c: float(cph.params_[c]) for c in covs}, {c: float(means[c]) for c in covs},
                       base.index.to_numpy(float), base.iloc[:, 0].to_numpy(float), len(rows),
                       float(cph.concordance_index_))


def base_rate(training: pd.DataFrame) -> tuple[float, int, int]:
    """Share of the training ceasefires that failed, with the failures and the cases it comes from."""
    failed, n = int(training["E"].sum()), len(training)
    return failed / n, failed, n


def failed_by(observed: np.ndarray, failed: np.ndarray, months: float) -> tuple[np.ndarray, np.ndarray]:
    """Which cases can be scored at a horizon (failed by it, or followed up that long) and which failed by it."""
    by = failed.astype(bool) & (observed <= months)
    return by | (observed >= months), by


def horizon_base_rates(training: pd.DataFrame) -> dict[str, float]:
    """Share of the training ceasefires followed up to each horizon that had failed by it."""
    t, e = training["T"].to_numpy(float), training["E"].to_numpy(int)
    out = {}
    for label, months in HORIZONS.items():
        known, by = failed_by(t, e, months)
        out[label] = float(by[known].mean())
    return out


def _scores(prefix: str, observed: np.ndarray, ranking: np.ndarray, failure: np.ndarray, failed: np.ndarray,
            rate: float, at: dict[str, tuple[np.ndarray, float]]) -> dict[str, Any]:
    """Concordance (``ranking``: higher holds longer), Brier, the base rate's Brier and the skill; and
    the same Brier scores at fixed horizons (``at``: label -> predicted failure by it, base rate)."""
    b, ref = brier(failure, failed), brier(np.full(failed.size, rate), failed)
    out = {f"{prefix}_concordance": safe_concordance(observed, ranking, failed), f"{prefix}_brier": b,
           f"{prefix}_brier_base_rate": ref, f"{prefix}_brier_skill": brier_skill(b, ref),
           f"{prefix}_cases": int(failed.size)}
    for label, (predicted, base) in at.items():
        known, by = failed_by(observed, failed, HORIZONS[label])
        b, ref = ((brier(predicted[known], by[known]), brier(np.full(int(known.sum()), base), by[known]))
                  if known.any() else (math.nan, math.nan))
        out.update({f"{prefix}_brier_{label}": b, f"{prefix}_brier_{label}_base_rate": ref,
                    f"{prefix}_brier_{label}_skill": brier_skill(b, ref),
                    f"{prefix}_brier_{label}_cases": int(known.sum())})
    return out


def fortna_scores(table: pd.DataFrame, training_path: str | Path = DEFAULT_FORTNA) -> tuple[dict[str, Any],
                                                                                              pd.DataFrame]:
    """Score the model's per-case predictions (``fortna_cases.predict_fortna_cases``) beside the baselines.

    The base rates and the Cox models come from the training file (the shipped Fortna file);
    ``table`` is the per-case table of the cases to score. Returns the metrics and the table with
    each Cox model's hazard and predicted failures (NaN where a covariate is missing).
    """
    training = training_frame(training_path)
    rate, n_failed, n = base_rate(training)
    rates = horizon_base_rates(training)
    observed = table["observed_months"].to_numpy(float)
    failed = table["failed"].to_numpy(int)
    mean, by_end = table["predicted_mean_months"].to_numpy(float), table["predicted_failure_by_end"].to_numpy(float)
    model_at = {k: (table[f"predicted_failure_{k}"].to_numpy(float), rates[k]) for k in HORIZONS}
    out: dict[str, Any] = {
        "fortna_base_rate": rate,
        "fortna_base_rate_source": f"share failed among the shipped Fortna cases (training): {n_failed} of {n}",
        **{f"fortna_base_rate_{k}": v for k, v in rates.items()},
        **_scores("fortna", observed, mean, by_end, failed, rate, model_at),
    }
    table = table.copy()
    for name in COX_BASELINES:
        cox = fit_cox(training, name)
        ok = cox.complete(table)
        rows = table[ok]
        cols = {"hazard": cox.hazard(rows), "failure_by_end": cox.failure_by(rows, observed[ok]),
                **{f"failure_{k}": cox.failure_by(rows, np.full(len(rows), float(m))) for k, m in HORIZONS.items()}}
        for col, values in cols.items():
            full = np.full(len(table), np.nan)
            full[ok] = values
            table[f"cox_{name}_{col}"] = full
        prefix = f"fortna_cox_{name}"
        out.update(_scores(prefix, observed[ok], -cols["hazard"], cols["failure_by_end"], failed[ok], rate,
                           {k: (cols[f"failure_{k}"], rates[k]) for k in HORIZONS}))
        out[f"{prefix}_coefficients"] = cox.coefficients
        out[f"{prefix}_training_cases"] = cox.training_cases
        out[f"{prefix}_in_sample_concordance"] = cox.in_sample_concordance
        # the model on the same cases as this baseline (all of them, unless a covariate is missing)
        out.update(_scores(f"fortna_model_on_{name}", observed[ok], mean[ok], by_end[ok], failed[ok], rate,
                           {k: (v[ok], r) for k, (v, r) in model_at.items()}))
    return out, table


def troops_outcome_points(cases: list[Case]) -> np.ndarray:
    """The interstate points ranking: 1 for a decided war or none, 1 for foreign troops (higher holds longer).

    A case not coded for how its war ended gets the share of decided wars in the generic mix.
    """
    decided_share = 1.0 - UNDECIDED_SHARE[0] / UNDECIDED_SHARE[1]
    war = [decided_share if c.war_outcome is None else float(c.war_outcome in ("decisive", "no_war")) for c in cases]
    return np.array(war) + np.array([float(c.foreign_troops > 0) for c in cases])
