"""Reading results in plain words, generated from the numbers, plus small notebook helpers.

``describe`` turns a ``Results`` into a short Markdown text: options ranked by the
probability that the ceasefire still holds at 36 months, the paired difference of each
option from the baseline with its 95% interval and whether that interval excludes zero,
and the price of each option (aid, troops, risk of a direct clash). Every sentence is
computed from the tables, so the text cannot drift from the figures: where an interval
includes zero it says so instead of claiming a difference. ``describe_sweep`` does the
same for one lever of ``simulator.sweep.sweep``. Both return a ``Reading``, a ``str``
that Jupyter displays as rendered Markdown.

``probability_table`` and ``difference_table`` give the figures as readable frames, and
``plot_world`` draws the month-by-month trace of one world (``CeasefireModel(...,
record_worlds=K).trace()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

    from simulator.analysis.results import Results

HOLD_LABELS = {"p_agreed": "agreed", "p_hold_12": "holds 12 months", "p_hold_24": "holds 24 months",
               "p_hold_36": "holds 36 months", "p_hold_horizon": "holds to the horizon",
               "p_direct_clash": "direct clash"}
MEASURE_LABELS = {"agreed": "ceasefire agreed", "hold_12": "holds 12 months", "hold_24": "holds 24 months",
                  "hold_36": "holds 36 months", "hold_horizon": "holds to the horizon",
                  "direct_clash": "direct clash", "months_held": "months held", "aid_bn": "aid, bn USD",
                  "troops": "troops"}


class Reading(str):
    """Text that is Markdown: a plain ``str`` that Jupyter displays rendered (``_repr_markdown_``)."""

    def _repr_markdown_(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def _digits(*xs: float) -> int:
    """One decimal; two if a value is near but not at 0 or 1 (so 0.04% does not read as 0.0%)."""
    return 2 if any(0 < abs(100 * x) < 0.1 or 0 < abs(100 * (1 - x)) < 0.1 for x in xs) else 1


def _pct(x: float, digits: int | None = None) -> str:
    return f"{100 * x:.{_digits(x) if digits is None else digits}f}%"


def _pp(x: float, digits: int | None = None) -> str:
    return f"{100 * x:+.{_digits(x) if digits is None else digits}f}"


def _interval(r: Any, col: str) -> str:
    lo, hi = r[col + "_lo"], r[col + "_hi"]
    k = _digits(r[col], lo, hi)
    return f"{_pct(r[col], k)} (95% interval {_pct(lo, k)} to {_pct(hi, k)})"


def _stability_column(summary: pd.DataFrame, measure: str) -> str:
    """``measure`` if it was estimated (the horizon reaches it), else ``p_hold_horizon``."""
    if measure in summary and summary[measure].notna().any():
        return measure
    return "p_hold_horizon"


def _months_text(col: str, horizon: Any) -> str:
    if col == "p_hold_horizon":
        return f"to the end of the horizon ({horizon} months)"
    return f"at {col.removeprefix('p_hold_')} months"


def _pair(results: "Results", option: str, other: str, measure: str) -> pd.Series | None:
    """Paired difference ``option - other`` for ``measure`` (None if the pairs table lacks it)."""
    pairs = getattr(results, "pairs", None)
    if pairs is None or pairs.empty:
        return None
    hit = pairs[(pairs["option"] == option) & (pairs["baseline"] == other) & (pairs["measure"] == measure)]
    if hit.empty or pd.isna(hit["difference"].iloc[0]):
        return None
    return hit.iloc[0]


def _verdict(row: pd.Series) -> str:
    """How a paired difference reads: identical, interval excludes zero (and sign), or includes zero."""
    d, lo, hi = float(row["difference"]), float(row["lower"]), float(row["upper"])
    if d == 0 and lo == 0 and hi == 0:
        return "identical"
    if lo > 0:
        return "higher"
    if hi < 0:
        return "lower"
    return "unclear"


def _difference_text(row: pd.Series) -> str:
    k = _digits(row["difference"], row["lower"], row["upper"])
    return (f"{_pp(row['difference'], k)} percentage points "
            f"(95% interval {_pp(row['lower'], k)} to {_pp(row['upper'], k)})")


def describe(results: "Results", measure: str = "p_hold_36", baseline: str | None = None) -> Reading:
    """A short Markdown reading of ``results``, every statement computed from its tables.

    It ranks the options by ``measure`` (default ``p_hold_36``; ``p_hold_horizon`` if the
    horizon is shorter), says for each pair of neighbours in the ranking whether their
    paired difference is distinguishable from zero, states each option's paired difference
    from the baseline with its 95% interval and whether the interval excludes zero, and
    lists each option's price: mean aid, mean troops deployed and the probability of a
    direct clash between a guarantor and the challenger.

    ``results`` needs ``summary`` (the columns of ``Results.summary``), ``pairs`` (the
    paired-difference table) and ``manifest``; a ``Results`` has all three. The text is a
    ``Reading``: a ``str`` that a notebook displays as rendered Markdown.
    """
    s = results.summary.reset_index(drop=True)
    manifest = getattr(results, "manifest", {}) or {}
    col = _stability_column(s, measure)
    key = col.removeprefix("p_")
    horizon = manifest.get("horizon_months", "?")
    base = baseline or manifest.get("baseline") or str(s["option"].iloc[0])
    when = _months_text(col, horizon)
    out: list[str] = []

    worlds = manifest.get("worlds", int(s["worlds"].iloc[0]) if "worlds" in s else None)
    facts = []
    if worlds is not None:
        facts.append(f"{int(worlds):,} simulated worlds per option")
    if "seed" in manifest:
        facts.append(f"seed {manifest['seed']}")
    facts.append(f"{horizon}-month horizon")
    out.append(f"*Generated from the results ({', '.join(facts)}). Intervals are 95%. These are "
               "outcomes of the model under the scenario's assumptions, not forecasts.*")

    # Ranking by stability, with neighbours compared world by world.
    order = s.sort_values(col, ascending=False, kind="stable").reset_index(drop=True)
    out.append(f"**Options ranked by the probability that the ceasefire still holds {when}:**")
    items = []
    for i, r in order.iterrows():
        line = f"{i + 1}. `{r['option']}`: {_interval(r, col)}"
        if "p_agreed" in r and pd.notna(r["p_agreed"]):
            line += f"; ceasefire agreed in {_pct(r['p_agreed'])} of worlds"
        if i + 1 < len(order):
            nxt = order.loc[i + 1, "option"]
            pair = _pair(results, r["option"], nxt, key)
            if pair is not None:
                v = _verdict(pair)
                if v == "identical":
                    line += f". The same as `{nxt}` in every world"
                elif v == "higher":
                    line += f". Above `{nxt}` by {_difference_text(pair)}"
                elif v == "lower":  # only possible on an exact tie in the point estimates
                    line += f". Below `{nxt}` by {_difference_text(pair)}"
                else:
                    line += (f". Not distinguishable from `{nxt}` in these worlds: difference "
                             f"{_difference_text(pair)}, an interval that includes zero")
        items.append(line + ".")
    out.append("\n".join(items))

    # Paired differences from the baseline.
    others = [o for o in order["option"] if o != base]
    diffs = [(o, _pair(results, o, base, key)) for o in others]
    diffs = [(o, p) for o, p in diffs if p is not None]
    if diffs:
        out.append(f"**Compared with the baseline (`{base}`)**, world by world (the same worlds under each "
                   f"option), on the probability of holding {when}:")
        items = []
        for o, p in diffs:
            v = _verdict(p)
            if v == "identical":
                items.append(f"- `{o}`: the same outcome as the baseline in every world.")
            elif v == "unclear":
                items.append(f"- `{o}`: {_difference_text(p)}; the interval includes zero, so these worlds "
                             "do not show a difference from the baseline.")
            else:
                items.append(f"- `{o}`: {_difference_text(p)}; the interval excludes zero: {v} than the baseline.")
        out.append("\n".join(items))

    # Price: aid, troops, direct clash.
    out.append("**Price of each option** (means over all worlds: aid delivered in total over the horizon, "
               "peak troops deployed, probability that a guarantor fought the challenger directly):")
    items = []
    for _, r in order.iterrows():
        parts = [f"aid {r['mean_aid_bn']:,.0f} bn USD", f"troops {r['mean_troops']:,.0f}"]
        if r["p_direct_clash"] == 0:
            parts.append(f"no direct clash in any world (upper bound {_pct(r['p_direct_clash_hi'])})")
        else:
            parts.append(f"direct clash {_interval(r, 'p_direct_clash')}")
        items.append(f"- `{r['option']}`: " + ", ".join(parts) + ".")
    out.append("\n".join(items))

    clash = order["p_direct_clash"]
    top = order.iloc[0]
    if (clash == 0).all():
        out.append("No option led to a direct clash between a guarantor and the challenger in any simulated world.")
    else:
        worst = order.loc[clash == clash.max(), "option"].tolist()
        lead = f"The option ranked first on stability, `{top['option']}`,"
        if worst == [top["option"]]:
            sentence = (f"{lead} also has the highest estimated risk of a direct clash: "
                        f"{_interval(top, 'p_direct_clash')}.")
        else:
            names = " and ".join(f"`{w}`" for w in worst)
            sentence = f"Highest estimated risk of a direct clash: {names} ({_pct(clash.max())})."
            if top["p_direct_clash"] == 0:
                sentence += f" {lead} led to no direct clash in any world."
            else:
                sentence += f" {lead} has a direct-clash risk of {_pct(top['p_direct_clash'])}."
        out.append(sentence)
    return Reading("\n\n".join(out) + "\n")


def describe_sweep(table: pd.DataFrame, results: "Results", measure: str = "p_hold_36") -> Reading:
    """A short Markdown reading of one sweep (``simulator.sweep.sweep``), computed from its numbers.

    It gives the range of ``measure`` across the lever's values, the paired difference
    between the last and the first value (the same worlds under both), and which values
    differ from the baseline option with a 95% interval that excludes zero.
    """
    col = _stability_column(table, measure)
    key = col.removeprefix("p_")
    when = _months_text(col, getattr(results, "manifest", {}).get("horizon_months", "?"))
    lever = str(table["parameter"].iloc[0])
    values = [str(v) for v in table["value"]]
    lo_i, hi_i = int(table[col].to_numpy().argmin()), int(table[col].to_numpy().argmax())
    out = [f"`{lever}` from {values[0]} to {values[-1]}: the probability of holding {when} ranges from "
           f"{_interval(table.iloc[lo_i], col)} at {values[lo_i]} to {_interval(table.iloc[hi_i], col)} "
           f"at {values[hi_i]}."]
    first, last = str(table["option"].iloc[0]), str(table["option"].iloc[-1])
    pair = _pair(results, last, first, key) if first != last else None
    if pair is not None:
        v = _verdict(pair)
        if v == "identical":
            out.append(f"At {values[-1]} the outcome is the same as at {values[0]} in every world.")
        elif v == "unclear":
            out.append(f"From {values[0]} to {values[-1]}, world by world: {_difference_text(pair)}; "
                       "the interval includes zero, so these worlds do not show a difference.")
        else:
            out.append(f"From {values[0]} to {values[-1]}, world by world: {_difference_text(pair)}; "
                       "the interval excludes zero.")
    base = getattr(results, "baseline", None)
    if base is not None and base not in set(table["option"]):
        groups: dict[str, list[str]] = {"higher": [], "lower": [], "unclear": [], "identical": []}
        for option, value in zip(table["option"], values):
            p = _pair(results, str(option), base, key)
            if p is not None:
                groups[_verdict(p)].append(value)
        said = {"higher": "above it (interval excluding zero) at", "lower": "below it (interval excluding zero) at",
                "unclear": "not distinguishable from it at", "identical": "the same as it in every world at"}
        parts = [f"{said[k]} {', '.join(groups[k])}" for k in said if groups[k]]
        if parts:
            out.append(f"Against the baseline option (`{base}`), world by world: " + "; ".join(parts) + ".")
    return Reading(" ".join(out) + "\n")


def probability_table(results: "Results",
                      columns: Sequence[str] = ("p_hold_12", "p_hold_24", "p_hold_36", "p_direct_clash")
                      ) -> pd.DataFrame:
    """Probabilities per option as percentages with their 95% intervals, one column per measure.

    Each cell reads like ``52.7 (51.6-53.8)`` (two decimals near 0% or 100%); columns that were not estimated (a horizon
    shorter than the month asked for) read ``n/a``.
    """
    s = results.summary
    table = pd.DataFrame(index=pd.Index(s["option"], name="option"))
    for col in columns:
        cells = []
        for _, r in s.iterrows():
            if pd.isna(r[col]):
                cells.append("n/a")
            else:
                k = _digits(r[col], r[col + "_lo"], r[col + "_hi"])
                cells.append(f"{100 * r[col]:.{k}f} ({100 * r[col + '_lo']:.{k}f}-{100 * r[col + '_hi']:.{k}f})")
        table[HOLD_LABELS.get(col, col) + ", %"] = cells
    return table


def difference_table(results: "Results",
                     measures: Sequence[str] = ("hold_12", "hold_24", "hold_36", "direct_clash"),
                     baseline: str | None = None) -> pd.DataFrame:
    """Paired differences from the baseline in percentage points, with intervals and a zero check.

    One row per option other than the baseline and measure, with columns ``difference_pp``,
    ``lower_pp``, ``upper_pp`` and ``excludes_zero`` (the 95% interval lies wholly above or
    below zero).
    """
    d = results.compare(baseline)
    d = d[d["measure"].isin(measures) & (d["option"] != d["baseline"])].copy()
    d["measure"] = pd.Categorical(d["measure"], categories=list(measures), ordered=True)
    d = d.sort_values(["option", "measure"], key=lambda c: c if c.name == "measure" else
                      c.map({o: i for i, o in enumerate(results.summary["option"])}))
    return pd.DataFrame({
        "option": d["option"].to_numpy(),
        "measure": [MEASURE_LABELS.get(str(m), str(m)) for m in d["measure"]],
        "difference_pp": (100 * d["difference"]).round(1).to_numpy(),
        "lower_pp": (100 * d["lower"]).round(1).to_numpy(),
        "upper_pp": (100 * d["upper"]).round(1).to_numpy(),
        "excludes_zero": ((d["lower"] > 0) | (d["upper"] < 0)).to_numpy(),
    }).set_index(["option", "measure"])


def plot_world(trace: pd.DataFrame, world: int, title: str | None = None) -> "plt.Figure":
    """Month by month in one recorded world: tension and hazard, probes, beliefs, aid and troops.

    ``trace`` is ``CeasefireModel(..., record_worlds=K).trace()``. Shading marks the months
    in which an accession was pending (``window_open``); the dashed vertical line marks the
    month the ceasefire collapsed, if it did. Lines and shading stop at the collapse.
    Thick pale lines are the guarantors' commitments (shown where not zero). Drawn with
    pyplot, so a notebook shows the figure; ``title`` replaces the first line of the title.
    """
    import matplotlib.pyplot as plt

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
