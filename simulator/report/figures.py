"""Figures: survival curves, outcome probabilities, paired differences, price, sweeps, one world.

All figures are readable in greyscale (line styles and markers differ, not only colours).
They are drawn from ``Results`` tables (and ``plot_world`` from a model's month-by-month
trace); outcomes are named by their declarations (``simulator.scenario.outcomes``).
"""

from __future__ import annotations

from functools import partial
from itertools import cycle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.files import atomic_write
from simulator.report.labels import percent
from simulator.scenario.outcomes import outcome_named, outcome_of_column

if TYPE_CHECKING:
    from simulator.analysis.results import Results

STYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (5, 5))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
GREYS = ["#000000", "#555555", "#1f4e99", "#8c2d04", "#2b7a3d", "#6a3d9a", "#999999", "#b15928"]
_PNG_META = {"Software": None}


def _styles(n: int) -> list[dict[str, Any]]:
    return [dict(linestyle=s, marker=m, color=c) for s, m, c, _ in zip(cycle(STYLES), cycle(MARKERS),
                                                                      cycle(GREYS), range(n))]


def _title(results: Results, text: str) -> str:
    m = results.manifest
    return f"{text}\n{m.get('scenario', '')}: {m.get('worlds', 0):,} worlds, seed {m.get('seed', '')}"


def _deal_share(results: Results, option: str, curve: pd.DataFrame) -> float:
    """The chance of a deal under ``option``: the summary's, else the overall curve at month 0 (the same)."""
    s = results.summary
    row = s[s["option"] == option] if "p_agreed" in s else s.iloc[:0]
    return float(row["p_agreed"].iloc[0]) if len(row) else float(curve["survival"].iloc[0])


def plot_survival(results: Results, ax: plt.Axes | None = None, options: list[str] | None = None) -> plt.Axes:
    """Share of agreed ceasefires still holding, by month, with 95% bands; each curve starts at 1.

    A world without a deal is not a ceasefire that collapsed at once: the curves leave those
    worlds out, and the legend gives each option's chance of a deal beside its name.
    Holding overall at month ``m`` is that chance times the curve at ``m``.
    """
    ax = ax or plt.subplots(figsize=(8, 5))[1]
    surv = results.survival
    opts = options or list(dict.fromkeys(surv["option"]))
    horizon = int(surv["month"].max())
    every = max(1, horizon // 10)
    for opt, style in zip(opts, _styles(len(opts))):
        s = surv[surv["option"] == opt]
        label = f"{opt} (deal in {percent(_deal_share(results, opt, s))} of worlds)"
        ax.fill_between(s["month"], s["lower_if_agreed"], s["upper_if_agreed"], step="post", color=style["color"],
                        alpha=0.15, linewidth=0)
        ax.step(s["month"], s["survival_if_agreed"], where="post", label=label, linestyle=style["linestyle"],
                color=style["color"], linewidth=1.8)
        ax.plot(s["month"].iloc[::every], s["survival_if_agreed"].iloc[::every], linestyle="none",
                marker=style["marker"], color=style["color"], markersize=5)
    ax.set_xlabel("months since the ceasefire")
    ax.set_ylabel("probability an agreed ceasefire still holds")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, horizon)
    ax.grid(alpha=0.3)
    ax.legend(title=f"option: chance of a deal (marker every {every} months)", fontsize=8, title_fontsize=8)
    ax.set_title(_title(results, "Survival of agreed ceasefires by option (shaded: 95% interval)"), fontsize=10)
    return ax


def plot_probabilities(results: Results, ax: plt.Axes | None = None,
                       columns: tuple[str, ...] = ("p_agreed", "p_hold_36_if_agreed", "p_hold_12", "p_hold_36",
                                                   "p_hold_horizon", "p_direct_clash")) -> plt.Axes:
    """Probabilities (summary ``columns`` with intervals), per option.

    By default the chance of a deal, holding 36 months among agreed deals, holding overall
    and a direct clash.
    """
    ax = ax or plt.subplots(figsize=(9, 5))[1]
    s = results.summary
    measures = [c for c in columns if c in s and s[c].notna().any()]
    y = np.arange(len(s))
    height = 0.8 / len(measures)
    hatches = ["", "//", "..", "xx", "\\\\", "++"]
    for k, (col, style) in enumerate(zip(measures, _styles(len(measures)))):
        pos = y + (k - (len(measures) - 1) / 2) * height
        err = np.vstack([s[col] - s[f"{col}_lo"], s[f"{col}_hi"] - s[col]])
        ax.barh(pos, s[col], height=height * 0.9, color=style["color"], alpha=0.35 + 0.1 * k,
                hatch=hatches[k % len(hatches)], edgecolor="black", linewidth=0.5,
                label=outcome_of_column(col).label)
        ax.errorbar(s[col], pos, xerr=err, fmt="none", ecolor="black", capsize=2, linewidth=1)
    ax.set_yticks(y, s["option"])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability (bars: estimate; whiskers: 95% interval)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars, never over them
    ax.set_title(_title(results, "Outcome probabilities by option"), fontsize=10)
    return ax


def plot_differences(results: Results, baseline: str | None = None, ax: plt.Axes | None = None,
                     measures: tuple[str, ...] = ("agreed", "hold_12", "hold_24", "hold_36", "hold_horizon",
                                                  "direct_clash")
                     ) -> plt.Axes:
    """Forest plot: paired difference of each option from the baseline, in percentage points.

    Measures for which higher is better (a deal, holding) and those for which lower is better
    (a direct clash; ``simulator.analysis.posterior.BETTER``) are drawn in two panels, one above
    the other, each on its own scale, labelled on the left ("higher is better") and with an
    arrow to "better" in its axis label. The panels take the place of ``ax``; the upper one is
    returned.
    """
    from simulator.analysis.posterior import BETTER

    ax = ax or plt.subplots(figsize=(9, 6))[1]
    d = results.compare(baseline)
    d = d[d["measure"].isin(measures) & (d["option"] != d["baseline"]) & d["difference"].notna()]
    base = baseline or results.baseline
    opts = list(dict.fromkeys(d["option"]))
    higher = [m for m in measures if BETTER.get(m, 1) >= 0]
    lower = [m for m in measures if BETTER.get(m, 1) < 0]
    panels = [(sign, ms) for sign, ms in ((1, higher), (-1, lower)) if ms and d["measure"].isin(ms).any()]
    if len(panels) < 2:
        axes = [ax]
        panels = panels or [(1, list(measures))]
    else:
        axes = _stacked(ax, [len(opts) * sum(d["measure"].eq(m).any() for m in ms) + 1 for _, ms in panels])
    for a, (sign, ms) in zip(axes, panels):
        _forest(a, d, opts, [m for m in measures if m in ms], sign)
        label = f"difference from {base}, percentage points (paired by world; 95% interval)"
        a.set_xlabel(f"{label}     better \u2192" if sign > 0 else f"\u2190 better     {label}", fontsize=8)
    axes[0].set_title(_title(results, f"Paired differences from the baseline ({base})"), fontsize=10)
    return axes[0]


def _stacked(ax: plt.Axes, rows: list[int]) -> list[plt.Axes]:
    """Two axes, one above the other, in the place of ``ax``, as tall as their ``rows``."""
    fig = ax.figure
    spec = ax.get_subplotspec()
    if spec is not None:
        grid = spec.subgridspec(len(rows), 1, height_ratios=rows, hspace=0.45)
        ax.remove()
        return [fig.add_subplot(grid[i]) for i in range(len(rows))]
    box = ax.get_position()  # axes placed by hand: split their box
    ax.remove()
    out, top, gap = [], box.y1, 0.08 * box.height
    for n in rows:
        height = (box.height - gap * (len(rows) - 1)) * n / sum(rows)
        out.append(fig.add_axes((box.x0, top - height, box.width, height)))
        top -= height + gap
    return out


def _forest(ax: plt.Axes, d: pd.DataFrame, opts: list[str], measures: list[str], sign: int) -> None:
    """One panel of the forest plot: ``measures`` of every option, with "better" marked by ``sign``."""
    names = {measure: outcome_named(measure).long_label for measure in measures}
    row = 0.0
    ticks, labels = [], []
    for opt in opts:
        for measure, style in zip(measures, _styles(len(measures))):
            r = d[(d["option"] == opt) & (d["measure"] == measure)]
            if r.empty:
                continue
            r = r.iloc[0]
            ax.errorbar(100 * r["difference"], row, xerr=[[100 * (r["difference"] - r["lower"])],
                                                          [100 * (r["upper"] - r["difference"])]],
                        fmt=style["marker"], color=style["color"], capsize=3,
                        label=names[measure] if opt == opts[0] else None)
            ticks.append(row)
            labels.append(f"{opt}: {names[measure]}")
            row += 1
        row += 0.6
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(ticks, labels, fontsize=7)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.set_ylabel("higher is better" if sign > 0 else "lower is better", fontsize=9, fontweight="bold")


def plot_price(results: Results, ax: plt.Axes | None = None, stability: str = "p_hold_36") -> plt.Axes:
    """Price against stability: aid and troops (marker size) and direct-clash risk against holding."""
    ax = ax or plt.subplots(figsize=(8, 5.5))[1]
    s = results.summary
    col = stability if s[stability].notna().any() else "p_hold_horizon"
    troops = s["mean_troops"].fillna(0)
    sizes = 40 + 260 * troops / max(1.0, troops.max())
    for (_, r), style, size in zip(s.iterrows(), _styles(len(s)), sizes):
        ax.errorbar(r["p_direct_clash"], r[col], xerr=[[r["p_direct_clash"] - r["p_direct_clash_lo"]],
                                                      [r["p_direct_clash_hi"] - r["p_direct_clash"]]],
                    yerr=[[r[col] - r[f"{col}_lo"]], [r[f"{col}_hi"] - r[col]]], fmt="none", ecolor="grey",
                    capsize=2, linewidth=0.8)
        ax.scatter(r["p_direct_clash"], r[col], s=size, marker=style["marker"], facecolor="white",
                   edgecolor=style["color"], linewidth=1.6, zorder=3,
                   label=f"{r['option']} (aid {r['mean_aid_bn']:.0f}bn, troops {r['mean_troops']:,.0f})")
    ax.set_xlabel("probability of a direct clash between a guarantor and the challenger")
    ax.set_ylabel(f"probability the ceasefire holds ({col.replace('p_hold_', '')} months)".replace(
        "(horizon months)", "(to the horizon)"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, title="option (mean aid per world; marker size: troops)", title_fontsize=7)
    ax.set_title(_title(results, "Price against stability"), fontsize=10)
    return ax


def save_figures(results: Results, directory: Path) -> list[Path]:
    """Write survival.png, probabilities.png, differences.png and price.png into ``directory``."""
    out = []
    for name, draw in (("survival", plot_survival), ("probabilities", plot_probabilities),
                       ("differences", plot_differences), ("price", plot_price)):
        fig = Figure(figsize=(9, 6))  # no pyplot: works with any backend, leaks no figures
        draw(results, ax=fig.subplots())
        fig.tight_layout()
        # Atomically: an interrupted redraw ('geosim plot') leaves the previous figure, never half of one.
        out.append(atomic_write(Path(directory) / f"{name}.png",
                                partial(fig.savefig, format="png", dpi=110, metadata=_PNG_META)))
    return out


def plot_sweep(table: pd.DataFrame, measure: str = "p_hold_36", ax: plt.Axes | None = None,
               xlabel: str | None = None, baseline: float | None = None) -> plt.Axes:
    """A lever's values against the probability ``measure``, with 95% intervals (from ``sweep``)."""
    ax = ax or plt.subplots(figsize=(7, 4.5))[1]
    x = pd.to_numeric(table["value"].astype(float))
    y, lo, hi = table[measure], table[f"{measure}_lo"], table[f"{measure}_hi"]
    ax.fill_between(x, lo, hi, color="#999999", alpha=0.35, linewidth=0, label="95% interval")
    ax.plot(x, y, color="black", marker="o", linewidth=1.6, label=outcome_of_column(measure).label)
    if baseline is not None:
        ax.axhline(baseline, color="black", linestyle=":", linewidth=1, label="baseline option")
    ax.set_xlabel(xlabel or str(table["parameter"].iloc[0]))
    ax.set_ylabel("probability the ceasefire holds")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"What if: {table['parameter'].iloc[0]}", fontsize=10)
    return ax


def plot_world(trace: pd.DataFrame, world: int, title: str | None = None) -> Figure:
    """Month by month in one recorded world: tension and hazard, probes, beliefs, aid and troops.

    ``trace`` is ``CeasefireModel(..., record_worlds=K).trace()``. Shading marks the months
    in which an accession was pending (``window_open``); the dashed vertical line marks the
    month the ceasefire collapsed, if it did. Lines and shading stop at the collapse.
    Thick pale lines are the guarantors' commitments (shown where not zero). Drawn with
    pyplot, so a notebook shows the figure; ``title`` replaces the first line of the title.
    """
    t = trace[trace["world"] == world].sort_values("month")
    if t.empty:
        raise ValueError(f"world {world} is not in the trace; record it with record_worlds")
    broke = t.loc[~t["holding"], "month"]
    collapse = int(broke.min()) if len(broke) else None
    live = t if collapse is None else t[t["month"] <= collapse]
    months = live["month"]
    fig, axes = plt.subplots(2, 2, figsize=(9.5, 5.6), sharex=True)
    (a_tension, a_probes), (a_belief, a_price) = axes

    a_tension.plot(months, live["tension"], color="black", label="tension (left)")
    a_tension.set_ylabel("tension")
    a_tension.set_ylim(bottom=0)
    a_hazard = a_tension.twinx()  # the hazard is small beside tension: give it its own scale
    a_hazard.plot(months, live["hazard"], color="#8c2d04", linestyle="--", label="restart hazard (right)")
    a_hazard.set_ylabel("monthly restart hazard", color="#8c2d04")
    a_hazard.set_ylim(0, max(0.01, float(live["hazard"].max()) * 1.1))

    a_probes.step(months, live["probes"], where="post", color="black", label="probes (cumulative)")
    a_probes.step(months, live["answered"], where="post", color="#1f4e99", linestyle="--",
                  label="probes answered (cumulative)")
    a_probes.step(months, live["incidents"], where="post", color="#999999", linestyle=":",
                  label="incidents (cumulative)")
    a_probes.set_ylabel("count")

    guarantors = [c.removeprefix("credibility_") for c in t.columns if c.startswith("credibility_")]
    styles = ["-", "--", "-.", ":"]
    colours = ["#000000", "#1f4e99", "#8c2d04", "#2b7a3d"]
    for k, g in enumerate(guarantors):
        style, colour = styles[k % len(styles)], colours[k % len(colours)]
        a_belief.plot(months, live[f"credibility_{g}"], linestyle=style, color=colour,
                      label=f"believed resolve: {g}")
        if f"commitment_{g}" in live and live[f"commitment_{g}"].any():
            a_belief.plot(months, live[f"commitment_{g}"], linestyle=style, color=colour, alpha=0.45,
                          linewidth=3, label=f"commitment: {g}")
    a_belief.set_ylabel("probability / commitment")
    a_belief.set_ylim(0, 1.02)

    a_price.plot(months, live["aid_bn"], color="black", label="aid this month, bn USD")
    a_price.set_ylabel("aid, bn USD per month")
    a_price.set_ylim(0, max(1.0, float(t["aid_bn"].max()) * 1.15))
    troop_cols = [c for c in t.columns if c.startswith("troops_")]
    if troop_cols:
        twin = a_price.twinx()
        for k, c in enumerate(troop_cols):
            twin.plot(months, live[c], color="#2b7a3d", linestyle=styles[(k + 1) % len(styles)],
                      label=c.replace("troops_", "troops: "))
        twin.set_ylabel("troops deployed")
        twin.set_ylim(bottom=0, top=max(1.0, float(t[troop_cols].to_numpy().max())) * 1.1)
        lines, labels = a_price.get_legend_handles_labels()
        more, more_labels = twin.get_legend_handles_labels()
        a_price.legend(lines + more, labels + more_labels, fontsize=7, loc="upper left")
    else:
        a_price.legend(fontsize=7, loc="upper left")

    # Shade each run of months with an accession pending, up to the collapse (one span per run).
    window = live["window_open"].to_numpy(bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], window, [False]]).astype(int)))
    runs = [(float(months.iloc[a]) - 0.5, float(months.iloc[b - 1]) + 0.5) for a, b in zip(edges[::2], edges[1::2])]
    for ax in axes.flat:
        for start, end in runs:
            ax.axvspan(max(0.0, start), end, color="#f2c14e", alpha=0.25, linewidth=0)
        if collapse is not None:
            ax.axvline(collapse, color="#8c2d04", linestyle="--", linewidth=1)
        ax.set_xlim(0, int(t["month"].max()))
        ax.grid(alpha=0.3)
    for ax in (a_probes, a_belief):
        ax.legend(fontsize=7, loc="best")
    lines, labels = a_tension.get_legend_handles_labels()
    more, more_labels = a_hazard.get_legend_handles_labels()
    a_tension.legend(lines + more, labels + more_labels, fontsize=7, loc="upper right")
    for ax in axes[1]:
        ax.set_xlabel("month")
    ending = f"collapsed in month {collapse}" if collapse is not None else "held to the horizon"
    heading = title or f"World {world}: {ending}"
    if runs:
        heading += "\n(shaded: months with an accession pending)"
    fig.suptitle(heading, fontsize=10)
    fig.tight_layout()
    return fig
