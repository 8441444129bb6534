"""Validation against history: replay coded ceasefires through the model and score the predictions.

``validate`` reads the cases (``cases.py``) and Fortna's figures (``fortna.py``), turns every
case into a scenario through the documented lever mapping (``mapping.py``), predicts each
case's survival and scores the predictions (``scores.py``): Harrell's concordance, the Brier
score and a calibration table on the cases; and, for the generic no-guarantee case, survival
at 1 and 5 years, the first-year share of failures and the hazard ratios of peacekeeping, of
a decisive victory and of monitors, beside Fortna's civil-war figures. ``ValidationReport``
holds the result and writes it (docs/validation.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.data import shown_path
from simulator.errors import whole_number
from simulator.files import atomic_directory
from simulator.history.cases import read_cases
from simulator.history.fortna import FortnaTargets, fortna_targets
from simulator.history.mapping import PEACEKEEPING_TROOPS, generic_scenarios
from simulator.history.scores import (brier, calibration_table, concordance, cox_hazard_ratio, expected_survival,
                                      first_year_share, predict_cases, sampled_durations, weighted_cox_hazard_ratio)
from simulator.history.settings import (DEFAULT_CASES, DEFAULT_FORTNA, DEFAULT_SEED, DEFAULT_WAR_OUTCOMES,
                                        DEFAULT_WORLDS)
from simulator.scenario.params import CONSTANTS

# Targets the shipped defaults must meet (issue 6); the empirical values are recomputed
# from the Fortna file, these are the tolerances around them.
TARGETS = {
    "concordance_min": 0.75,
    "loo_concordance_min": 0.70,
    "survival_1y_tolerance": 0.10,
    "peacekeeping_hazard_ratio_interval": "Fortna's 95% interval",
}


@dataclass
class ValidationReport:
    """What ``validate`` found: one row per case, the scores beside their targets, the calibration table."""

    cases: pd.DataFrame
    metrics: dict[str, Any]
    calibration: pd.DataFrame
    generic_survival: np.ndarray = field(repr=False)
    peacekeeping_survival: np.ndarray = field(repr=False)

    def save(self, directory: str | Path, force: bool = False) -> Path:
        """Write validation.csv, validation.json, calibration_table.csv and validation.png atomically."""
        from simulator.report.validation_figure import plot_validation

        with atomic_directory(directory, force=force) as tmp:
            self.cases.to_csv(tmp / "validation.csv", index=False)
            self.calibration.to_csv(tmp / "calibration_table.csv", index=False)
            (tmp / "validation.json").write_text(json.dumps(_jsonable(self.metrics), indent=2) + "\n")
            plot_validation(self.cases, self.calibration, self.metrics, tmp / "validation.png")
        return Path(directory)

    def text(self) -> str:
        """The figures beside the empirical targets, as a readable table."""
        m, t = self.metrics, self.metrics["empirical"]
        rows = [
            ("concordance (historical cases)", f"{m['concordance']:.3f}", f">= {TARGETS['concordance_min']:.2f}"),
            ("Brier score (failed by observed end)", f"{m['brier']:.3f}",
             f"{m['brier_reference']:.3f} (always predict the base rate)"),
            ("peacekeeping hazard ratio", f"{m['peacekeeping_hazard_ratio']:.2f} "
             f"({m['peacekeeping_hazard_ratio_lower']:.2f}-{m['peacekeeping_hazard_ratio_upper']:.2f})",
             f"{t['hazard_ratio']:.2f} ({t['hazard_ratio_lower']:.2f}-{t['hazard_ratio_upper']:.2f}); "
             f"{t['hazard_ratio_controls']:.2f} with controls"),
            ("decisive-victory hazard ratio", f"{m['victory_hazard_ratio']:.2f} "
             f"({m['victory_hazard_ratio_lower']:.2f}-{m['victory_hazard_ratio_upper']:.2f})",
             f"{t['victory_hazard_ratio']:.2f} ({t['victory_hazard_ratio_lower']:.2f}-"
             f"{t['victory_hazard_ratio_upper']:.2f})"),
            ("monitors-only hazard ratio (expected)", f"{m['monitors_hazard_ratio_expected']:.2f}",
             f"{t['observer_hazard_ratio']:.2f} ({t['observer_hazard_ratio_lower']:.2f}-"
             f"{t['observer_hazard_ratio_upper']:.2f}) observer missions"),
            ("survival at 1 year, no guarantee", f"{m['survival_1y_no_guarantee']:.2f}",
             f"{t['survival_1y_no_pk']:.2f} (+/- {TARGETS['survival_1y_tolerance']:.1f})"),
            ("survival at 5 years, no guarantee", f"{m['survival_5y_no_guarantee']:.2f}",
             f"{t['survival_5y_no_pk']:.2f}"),
            ("share of failures in the first year", f"{m['first_year_failure_share']:.2f}",
             f"{t['first_year_failure_share']:.2f}"),
        ]
        w = max(len(r[0]) for r in rows)
        lines = [f"{'measure':<{w}}  {'model':<18} empirical target", "-" * (w + 50)]
        lines += [f"{a:<{w}}  {b:<18} {c}" for a, b, c in rows]
        table = self.cases.copy()
        table["predicted_median_months"] = table["predicted_median_months"].map(
            lambda x: f">{m['horizon_months']}" if pd.isna(x) else f"{x:.0f}")
        cols = ["case_id", "observed_months", "failed", "war_outcome", "predicted_survival_at_observed",
                "predicted_median_months", "predicted_mean_months"]
        uncoded = m.get("cases_without_war_outcome") or []
        note = ("" if not uncoded else
                "\n\nNot coded for how their war ended (given the generic mix of decisive and undecided wars): "
                + ", ".join(uncoded))
        return ("\n".join(lines) + "\n\n" + table[cols].to_string(index=False, float_format=lambda x: f"{x:.2f}")
                + "\n\nCalibration (cases by predicted chance of failure by their observed end):\n"
                + self.calibration.to_string(index=False, float_format=lambda x: f"{x:.2f}") + note)


def _jsonable(x: Any) -> Any:
    """``x`` with numpy numbers as plain ones and non-finite numbers as null, for JSON."""
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


def generic_metrics(fortna: FortnaTargets, *, worlds: int, seed: int, constants: dict[str, float] | None = None,
                    sampled_hr: bool = True) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The generic comparisons' figures (survival at 1 to 10 years, first-year share, hazard ratios of
    peacekeeping, a decisive victory and monitors) and their survival curves by arm."""
    h = fortna.horizon_months
    arms = generic_scenarios(h, worlds=worlds, seed=seed, constants=constants, monitors=True)
    curves = {name: expected_survival(sc, h, worlds, seed) for name, sc in arms.items()}
    s0, s1, s_und, s_dec, s_mon = (curves[k] for k in ("none", "peacekeepers", "undecided", "decisive", "monitors"))
    out: dict[str, Any] = {
        "survival_1y_no_guarantee": float(s0[12]),
        "survival_2y_no_guarantee": float(s0[24]),
        "survival_5y_no_guarantee": float(s0[60]),
        "survival_10y_no_guarantee": float(s0[min(120, h)]),
        "first_year_failure_share": first_year_share(s0, fortna.follow_up_months),
        "peacekeeping_hazard_ratio_expected": weighted_cox_hazard_ratio(s0, s1, fortna.follow_up_months),
        "victory_hazard_ratio_expected": weighted_cox_hazard_ratio(s_und, s_dec, fortna.follow_up_months),
        "monitors_hazard_ratio_expected": weighted_cox_hazard_ratio(s0, s_mon, fortna.follow_up_months),
        "survival_1y_undecided": float(s_und[12]),
        "survival_1y_decisive": float(s_dec[12]),
    }
    if sampled_hr:
        # As Fortna did: Cox on individual ceasefires, here the worlds of both arms (common random
        # numbers: same seed, same worlds), each followed up as long as one of Fortna's cases.
        for label, pair in (("peacekeeping", ("none", "peacekeepers")), ("victory", ("undecided", "decisive"))):
            frames = []
            for arm, name in enumerate(pair):
                months, collapsed = sampled_durations(arms[name], h, worlds, seed)  # signed deals only
                follow = np.floor(np.resize(np.asarray(fortna.follow_up_months), months.size)).astype(float)
                event = collapsed & (months <= follow) & (months > 0)
                frames.append(pd.DataFrame({"T": np.where(event, months, follow), "E": event.astype(int), "arm": arm}))
            frame = pd.concat(frames, ignore_index=True)
            frame = frame[frame["T"] > 0]
            hr, lo, hi, _ = cox_hazard_ratio(frame, "arm")
            out.update({f"{label}_hazard_ratio": hr, f"{label}_hazard_ratio_lower": lo,
                        f"{label}_hazard_ratio_upper": hi})
    return out, curves


def validate(cases_path: str | Path = DEFAULT_CASES, fortna_path: str | Path = DEFAULT_FORTNA, *,
             worlds: int = DEFAULT_WORLDS, seed: int = DEFAULT_SEED,
             constants: dict[str, float] | None = None,
             war_outcomes: str | Path | None = DEFAULT_WAR_OUTCOMES) -> ValidationReport:
    """Replay the historical cases and the generic comparisons; score them against the data."""
    whole_number("worlds", worlds)
    cases = read_cases(cases_path, war_outcomes)
    fortna = fortna_targets(fortna_path)
    preds = predict_cases(cases, worlds=worlds, seed=seed, constants=constants)
    frame = preds.frame()
    horizon = max(c.months for c in cases)
    base_rate = float(frame["failed"].mean())
    generic, curves = generic_metrics(fortna, worlds=worlds, seed=seed, constants=constants)
    used = {name: float((constants or {}).get(name, d.default)) for name, d in CONSTANTS.items()}
    metrics: dict[str, Any] = {
        "concordance": concordance(frame["observed_months"], frame["predicted_mean_months"], frame["failed"]),
        "concordance_score": f"predicted mean months held within {horizon} months (the longest observed span)",
        "brier": brier(frame["predicted_failure_by_end"], frame["failed"]),
        "brier_reference": brier(np.full(len(frame), base_rate), frame["failed"]),
        **generic,
        "horizon_months": horizon,
        "cases": len(cases),
        "worlds": worlds,
        "seed": seed,
        "peacekeeping_troops": PEACEKEEPING_TROOPS,
        "constants": used,
        "cases_file": shown_path(cases_path),
        "fortna_file": shown_path(fortna_path),
        "war_outcomes_file": None if war_outcomes is None else shown_path(war_outcomes),
        "cases_without_war_outcome": [c.case_id for c in cases if c.war_outcome is None],
        "empirical": {**fortna.as_dict(), "concordance_min": TARGETS["concordance_min"],
                      "loo_concordance_min": TARGETS["loo_concordance_min"],
                      "survival_1y_tolerance": TARGETS["survival_1y_tolerance"]},
    }
    calib = calibration_table(frame["predicted_failure_by_end"], frame["failed"])
    return ValidationReport(frame, metrics, calib, curves["none"], curves["peacekeepers"])
