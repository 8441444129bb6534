"""The validation figure: the model's predictions for historical ceasefires against what happened.

Left, each case's predicted mean months held against its observed months (log scales),
failed cases filled, cases still holding open. Right, each case's predicted chance of
failure by its observed end against whether it failed, with the calibration table's bins.
Markers and line styles carry the meaning, so the figure reads in greyscale.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def plot_validation(cases: pd.DataFrame, calibration: pd.DataFrame, metrics: Mapping[str, Any],
                    path: str | Path) -> Path:
    """Predicted against observed: months held per case, and predicted chance of failure against outcome.

    ``cases``, ``calibration`` and ``metrics`` are those of a validation report (``validation.csv``,
    ``calibration_table.csv`` and ``validation.json``); the figure is written to ``path`` as PNG.
    """
    from matplotlib.figure import Figure

    df = cases
    horizon = metrics["horizon_months"]
    fig = Figure(figsize=(12, 5.5))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
    failed = df["failed"] == 1
    for sel, marker, face, label in ((failed, "o", "black", "war resumed (observed end = failure)"),
                                     (~failed, "s", "white", "still holding (observed end = censor date)")):
        ax1.scatter(df.loc[sel, "observed_months"], df.loc[sel, "predicted_mean_months"], marker=marker,
                    facecolors=face, edgecolors="black", s=45, label=label, zorder=3)
    offsets = [(5, 4), (5, -10), (5, 12), (5, -18)]  # alternate so that neighbours' labels do not collide
    for k, (_, r) in enumerate(df.sort_values("observed_months").iterrows()):
        ax1.annotate(r["case_id"], (r["observed_months"], r["predicted_mean_months"]), fontsize=7,
                     xytext=offsets[k % len(offsets)], textcoords="offset points", color="#333333")
    lim = [1, horizon * 1.1]
    ax1.plot(lim, lim, linestyle="--", color="#777777", linewidth=1, label="predicted = observed")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlim(*lim)
    low = float(np.nanmin(df["predicted_mean_months"])) if len(df) else 1.0
    ax1.set_ylim(max(1.0, low / 1.5), lim[1])  # the predictions' range, so that the cases spread out
    ax1.set_xlabel("observed months from ceasefire to renewed war or censor date (log scale)")
    ax1.set_ylabel(f"predicted mean months held within {horizon} months (log scale)")
    ax1.set_title(f"Historical cases: concordance {metrics['concordance']:.2f}")
    ax1.legend(fontsize=8, loc="upper left")
    ax1.grid(True, which="major", color="#dddddd", linewidth=0.6)

    jitter = np.linspace(-0.04, 0.04, len(df))
    ax2.scatter(df["predicted_failure_by_end"], df["failed"] + jitter, marker="o", facecolors="white",
                edgecolors="black", s=35, label="cases (jittered)")
    cal = calibration.dropna()
    ax2.plot(cal["mean_predicted_failure"], cal["observed_failure_share"], marker="s", color="black",
             linestyle="-", label="observed share by bin of prediction")
    ax2.plot([0, 1], [0, 1], linestyle="--", color="#777777", linewidth=1, label="perfect calibration")
    ax2.set_xlim(-0.02, 1.02)
    ax2.set_ylim(-0.1, 1.1)
    ax2.set_xlabel("predicted probability of failure by the observed end (0-1)")
    ax2.set_ylabel("failed by the observed end (0 = no, 1 = yes; share)")
    ax2.set_title(f"Calibration: Brier score {metrics['brier']:.3f}")
    ax2.legend(fontsize=8, loc="center left")
    ax2.grid(True, color="#dddddd", linewidth=0.6)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    return Path(path)
