"""The figures of an exploration: total-order indices with their intervals, and PRIM's trade-off.

Drawn on ``matplotlib.figure.Figure`` objects (no pyplot: any backend, no figure left open),
readable in greyscale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simulator.explore.factors import DICE

if TYPE_CHECKING:
    from simulator.explore.discovery import Box
    from simulator.explore.study import Exploration


def factor_order(table: pd.DataFrame) -> list[str]:
    """Factors by their largest index over all measures, the largest first; the dice last."""
    top = table[table["factor"] != DICE].groupby("factor", sort=False)["ST"].max().fillna(0)
    order = list(top.sort_values(ascending=False, kind="stable").index)
    return order + ([DICE] if (table["factor"] == DICE).any() else [])


def sensitivity_figure(e: Exploration) -> Figure:
    """One panel per measure: each factor's total-order index (Morris: mu*) with its 95% interval,
    and the first-order index (Morris: |mu|) as a mark."""
    table = e.sensitivity
    measures = list(dict.fromkeys(table["measure"]))
    order = factor_order(table)
    cols = 3
    rows = int(np.ceil(len(measures) / cols))
    fig = Figure(figsize=(5.2 * cols, 0.24 * len(order) * rows + 1.6 * rows + 1))
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False)
    y = np.arange(len(order))
    sobol = e.method == "sobol"
    for k, measure in enumerate(measures):
        ax = axes[k // cols][k % cols]
        part = table[table["measure"] == measure].set_index("factor").reindex(order)
        st = part["ST"].to_numpy(dtype=float)
        colours = ["#999999" if f == DICE else "#1f4e99" for f in order]
        ax.barh(y, np.nan_to_num(st), xerr=np.nan_to_num(part["ST_conf"].to_numpy(dtype=float)), color=colours,
                edgecolor="black", linewidth=0.4, error_kw={"elinewidth": 0.8, "capsize": 2})
        first = part["S1"].to_numpy(dtype=float)
        ax.plot(first if sobol else np.abs(first), y, "k|", markersize=8, label="first order" if sobol else "|mu|")
        ax.set_title(measure, fontsize=9)
        ax.axvline(0, color="black", linewidth=0.6)
        if np.isnan(st).all():
            ax.text(0.5, 0.5, "does not vary", transform=ax.transAxes, ha="center", va="center")
        ax.tick_params(labelsize=7)
        ax.set_xlabel("total-order index (bar: 95% interval)" if sobol else "mu* (bar: 95% interval)", fontsize=8)
    for k in range(len(measures), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    axes[0][0].set_yticks(y, order)
    axes[0][0].invert_yaxis()
    axes[0][0].legend(fontsize=7, loc="lower right")
    a, b = e.options
    fig.suptitle(f"What decides the outcomes of {a} and {b} ({e.scenario.name}): {e.method}, {len(e.design):,} "
                 f"design points x {e.replicates:,} worlds, seed {e.seed}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    return fig


def tradeoff_figure(boxes: list[Box]) -> Figure:
    """PRIM's peeling trajectory of each box: coverage against density, shaded by the number of
    restricted factors; the step taken (circle) and the box as reported (star)."""
    fig = Figure(figsize=(6 * len(boxes), 5))
    axes = fig.subplots(1, len(boxes), squeeze=False)[0]
    for ax, box in zip(axes, boxes, strict=True):
        t = box.trajectory
        most = max(int(t["res_dim"].max()), 1)
        points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="Greys", vmin=-1, vmax=most,
                            edgecolors="black", linewidths=0.3, s=22)
        if box.cases == 0:
            ax.text(0.5, 0.5, "no case: nothing to find", transform=ax.transAxes, ha="center", va="center")
        elif len(t) > 1:
            bar = fig.colorbar(points, ax=ax, label="restricted factors")
            bar.set_ticks([k for k in MaxNLocator(integer=True).tick_values(0, most) if 0 <= k <= most])
            ax.plot(t["coverage"].iloc[box.chosen], t["density"].iloc[box.chosen], "o", markersize=12,
                    markerfacecolor="none", markeredgecolor="black", label="step taken")
            ax.plot(box.coverage, box.density, "*", markersize=14, color="#8c2d04",
                    label=f"reported ({len(box.restrictions)} restrictions)")
            ax.legend(fontsize=8, loc="lower left")
        ax.set_xlabel("coverage (share of all cases inside the box)")
        ax.set_ylabel("density (share of the box that are cases)")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{box.label}\n{box.cases:,} cases in {box.points:,} design points", fontsize=9)
    fig.tight_layout()
    return fig
