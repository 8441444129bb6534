"""A design over several levers (``simulator.sweep.factorial``, ``geosim sweep``): its printed table,
its figure and its results folder.

The table from ``factorial`` has one row for the option as it is, then one per combination:
``option``, one column per lever (the value's name), ``worlds``, the summary's columns and the
paired differences from the option as it is (``diff_MEASURE`` with ``_lo`` and ``_hi``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from simulator.analysis.results import Results
from simulator.files import atomic_directory
from simulator.report.figures import GREYS, MARKERS, STYLES
from simulator.report.labels import percent, points
from simulator.report.write import MANIFEST, file_sha256, rounded
from simulator.scenario.outcomes import outcome_of_column

DESIGN_FILE = "sweep.csv"
FIGURE_FILE = "sweep.png"


def levers(table: pd.DataFrame) -> list[str]:
    """The lever columns of a design table: those between ``option`` and ``worlds``."""
    columns = list(table.columns)
    return columns[1:columns.index("worlds")]


def holding_measure(table: pd.DataFrame, months: int = 36) -> str:
    """``p_hold_MONTHS`` if the table estimated it, else holding at the horizon."""
    column = f"p_hold_{months}"
    return column if column in table and table[column].notna().any() else "p_hold_horizon"


def design_text(table: pd.DataFrame, measure: str | None = None) -> str:
    """The design as a small text table: the levers, ``measure`` with its 95% interval, and the paired
    difference from the option as it is (percentage points, 95% interval)."""
    measure = measure or holding_measure(table)
    diff = "diff_" + measure.removeprefix("p_")
    label = outcome_of_column(measure).label
    rows = []
    for i, r in table.iterrows():
        row = {"": "as it is" if i == 0 else "", **{k: r[k] for k in levers(table)}}
        row[f"{label}, %"] = _cell(r[measure], r[f"{measure}_lo"], r[f"{measure}_hi"])
        row["difference, points"] = "" if i == 0 else (
            f"{points(r[diff])} ({points(r[diff + '_lo'])} to {points(r[diff + '_hi'])})")
        rows.append(row)
    return pd.DataFrame(rows).to_string(index=False)


def _cell(x: float, lo: float, hi: float) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "n/a"
    return f"{percent(x).removesuffix('%')} ({percent(lo).removesuffix('%')}-{percent(hi).removesuffix('%')})"


def _positions(values: list[str]) -> tuple[list[float], bool]:
    """x positions of a lever's values: the numbers themselves if all are numbers, else 0, 1, 2 ..."""
    try:
        return [float(v) for v in values], True
    except ValueError:
        return [float(i) for i in range(len(values))], False


def plot_design(table: pd.DataFrame, measure: str | None = None, title: str = "") -> Figure:
    """Holding (``measure``, default at 36 months) against the first lever, one line per value of the
    second, one panel per combination of the others; 95% intervals as bars; the option as it is as a
    dotted line."""
    measure = measure or holding_measure(table)
    keys = levers(table)
    as_is, rows = table.iloc[0], table.iloc[1:]
    first, second, rest = keys[0], (keys[1] if len(keys) > 1 else None), keys[2:]
    panels = list(dict.fromkeys(tuple(r[k] for k in rest) for _, r in rows.iterrows())) or [()]
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.9 * nrows), squeeze=False, sharey=True)
    xs = [str(v) for v in dict.fromkeys(rows[first])]
    x, numeric = _positions(xs)
    where = dict(zip(xs, x, strict=True))
    lines = list(dict.fromkeys(rows[second])) if second else [None]
    for n, (ax, panel) in enumerate(zip(axes.flat, panels)):
        part = rows[[tuple(r[k] for k in rest) == panel for _, r in rows.iterrows()]]
        for j, level in enumerate(lines):
            sub = part if level is None else part[part[second] == level]
            px = [where[str(v)] for v in sub[first]]
            y = sub[measure].to_numpy(float)
            err = [y - sub[f"{measure}_lo"].to_numpy(float), sub[f"{measure}_hi"].to_numpy(float) - y]
            ax.errorbar(px, y, yerr=err, capsize=3, linewidth=1.4, color=GREYS[j % len(GREYS)],
                        linestyle=STYLES[j % len(STYLES)], marker=MARKERS[j % len(MARKERS)],
                        label=f"{second} = {level}" if second else None)
        ax.axhline(as_is[measure], color="black", linestyle=":", linewidth=1, label="option as it is")
        if not numeric:
            ax.set_xticks(x, xs, rotation=20, ha="right", fontsize=7)
        ax.set_xlabel(first)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        if rest:
            ax.set_title(", ".join(f"{k} = {v}" for k, v in zip(rest, panel, strict=True)), fontsize=8)
        if n % ncols == 0:
            ax.set_ylabel(f"P({outcome_of_column(measure).label})")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title or f"{as_is['option']}: {outcome_of_column(measure).label}, 95% intervals", fontsize=10)
    fig.tight_layout()
    return fig


def save_design(table: pd.DataFrame, results: Results, directory: str | Path, force: bool = False,
                plots: bool = True) -> Path:
    """Write the design to ``directory``, atomically: ``sweep.csv`` (the table), ``sweep.png`` (the
    figure), the run's ``summary.csv``, ``survival.csv``, ``differences.csv`` and ``pairs.csv``, and
    ``manifest.json`` with the SHA-256 of each, so that ``load_results`` reads the folder back."""
    with atomic_directory(directory, force=force) as tmp:
        # rounded as the run's tables are, and no baseline-minus-itself rows in differences.csv
        rounded(table).to_csv(tmp / DESIGN_FILE, index=False)
        rounded(results.summary).to_csv(tmp / "summary.csv", index=False)
        rounded(results.survival).to_csv(tmp / "survival.csv", index=False)
        rounded(results.differences()).to_csv(tmp / "differences.csv", index=False)
        rounded(results.pairs).to_csv(tmp / "pairs.csv", index=False)
        if plots:
            fig = plot_design(table)
            try:
                fig.savefig(tmp / FIGURE_FILE, format="png", dpi=110, metadata={"Software": None})
            finally:
                plt.close(fig)
        hashes = {p.name: file_sha256(p) for p in sorted(tmp.iterdir())}
        manifest = dict(results.manifest, files=[*hashes, MANIFEST], sha256=hashes)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return Path(directory)
