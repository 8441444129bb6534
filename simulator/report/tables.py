"""Tables for people: the summary as printed by ``geosim run``, probabilities and paired differences.

Headers come from the outcome declarations (``simulator.scenario.outcomes``), except where
the printed price says more (``PRINTED_HEADERS``: aid in total and per year, peak troops);
shares read as percentages with their 95% intervals, like ``52.7 (51.6-53.8)``. The printed
summary has one part per group of outcomes: the chance of a deal and who refuses it,
holding among agreed deals, holding overall, who broke the deals that ended, and the price.
Every printed table fits ``WIDTH`` columns (``render_table``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.report.labels import digits, header
from simulator.scenario.outcomes import (GROUPS, MedianMonths, Outcome, all_outcomes, outcome_named,
                                         outcome_of_column)

if TYPE_CHECKING:
    from simulator.analysis.results import Results


WIDTH = 100  # every printed table fits this many columns (wider ones are split into parts)
MAX_OPTION = 40  # longer option names are shortened in the middle in printed tables
# Printed headers that say more than an outcome's own short label: what a mean of the price is.
PRINTED_HEADERS = {"aid_bn": "aid in total, bn USD", "troops": "peak troops"}
AID_PER_YEAR = "aid per year, bn USD"
# Paired differences printed by 'geosim compare', in this order
DIFFERENCE_MEASURES = ("agreed", "hold_12", "hold_24", "hold_36", "hold_horizon", "direct_clash")


def _cell(outcome: Outcome, row: pd.Series, horizon: Any) -> str:
    """One outcome of one option, as the summary table shows it."""
    column = outcome.columns[0]
    value = row[column]
    if isinstance(outcome.tally, MedianMonths):
        return f"> {horizon}" if pd.isna(value) else f"{value:.0f}"
    if pd.isna(value):
        return "n/a"
    if outcome.tally.interval:
        return f"{100 * value:4.1f} ({100 * row[column + '_lo']:.1f}-{100 * row[column + '_hi']:.1f})"
    if outcome.tally.share:
        return f"{100 * value:.1f}"
    return f"{value:,.0f}"


def summary_table(results: Results, width: int = WIDTH) -> str:
    """Every outcome of every option as text, one row per option, in small tables that fit ``width`` columns.

    One titled table per group of outcomes (``simulator.scenario.outcomes.GROUPS``, then any
    outcome without a group): the chance of a deal and who refuses, holding among agreed
    deals, holding overall, who broke the ceasefires that ended, the price. In each, the
    probabilities (in % with their 95% intervals) come first. The price gives aid in total over
    the horizon and per year of it, and peak troops, with a note on what they are. Outcomes
    missing from the summary (results saved before they were declared) are left out.
    Headers wrap onto several lines, and a table still too wide is split into parts.
    """
    s = results.summary
    horizon = results.manifest.get("horizon_months", "")
    shown = [o for o in all_outcomes() if o.columns[0] in s]
    tables = []
    for title in (*GROUPS, ""):
        group = sorted((o for o in shown if o.group == title), key=lambda o: not o.tally.interval)
        if not group:
            continue
        columns: list[tuple[str, list[str]]] = []
        for o in group:
            columns.append((PRINTED_HEADERS.get(o.name, header(o)), [_cell(o, r, horizon) for _, r in s.iterrows()]))
            if o.name == "aid_bn" and isinstance(horizon, int) and horizon > 0:
                columns.append((AID_PER_YEAR, ["n/a" if pd.isna(v) else f"{12 * v / horizon:,.1f}"
                                               for v in s[o.columns[0]]]))
        text = render_table(title or "Other outcomes", list(s["option"]), columns, width)
        if any(o.name in PRINTED_HEADERS for o in group):
            note = (f"aid: delivered by the patrons, mean over all worlds, in total over the {horizon}-month horizon "
                    "and per year of it; peak troops: the most troops on the line at once, mean over all worlds")
            text += "\n" + textwrap.fill(note, width)
        tables.append(text)
    return "\n\n".join(tables)


def difference_text(results: Results, measures: Sequence[str] = DIFFERENCE_MEASURES, baseline: str | None = None,
                    width: int = WIDTH) -> str:
    """Paired differences of every other option from ``baseline``, in percentage points with 95% intervals.

    One row per option, one column per measure, headed by the measure's label (empty text
    if there is no other option).
    """
    from simulator.analysis.posterior import BETTER

    base = results.baseline if baseline is None else baseline
    d = results.compare(base)
    d = d[(d["option"] != d["baseline"]) & d["measure"].isin(measures)]
    if d.empty:
        return ""
    options = list(dict.fromkeys(d["option"]))
    present = [m for m in measures if m in set(d["measure"])]
    columns = []
    for m in present:
        rows = d[d["measure"] == m].set_index("option")
        cells = []
        for opt in options:
            r = rows.loc[opt]
            cells.append("n/a" if pd.isna(r["difference"]) else
                         f"{100 * r['difference']:+.1f} ({100 * r['lower']:+.1f} to {100 * r['upper']:+.1f})")
        columns.append((f"{outcome_named(m).label}, pp", cells))
    worse = [outcome_named(m).label for m in present if BETTER.get(m, 0) < 0]
    title = (f"Paired differences from {base}, percentage points (95% interval), world by world"
             + (f"; for {' and '.join(worse)} lower is better" if worse else ""))
    return render_table(title, options, columns, width)


def render_table(title: str, options: Sequence[str], columns: Sequence[tuple[str, Sequence[str]]],
                 width: int = WIDTH) -> str:
    """A titled text table: options down the left, ``columns`` (header, one cell per option) to the right.

    Every line fits ``width``: headers wrap onto several lines (at spaces), two spaces between
    columns become one if that is what it takes, and a table still too wide is split into parts
    that repeat the option column (``title, continued``). Option names longer than
    ``MAX_OPTION`` are shortened in the middle.
    """
    names = [_shorten(str(o), MAX_OPTION) for o in options]
    first = max(len("option"), *(len(n) for n in names))
    lines: list[str] = []
    for k, part in enumerate(_parts(first, columns, width)):
        sep, widths, cols = part
        if k:
            lines.append("")
        shown = title.split(";")[0].split(" (")[0] + ", continued" if k else title
        lines += textwrap.wrap(f"{shown}:", width, break_on_hyphens=False)
        heads = [_wrap(h, w) for w, (h, _) in zip(widths, cols)]
        height = max(len(h) for h in heads)
        heads = [[""] * (height - len(h)) + h for h in heads]
        gap = " " * sep
        for i in range(height):
            left = "option" if i == height - 1 else ""
            lines.append((left.ljust(first) + "".join(gap + h[i].rjust(w) for h, w in zip(heads, widths))).rstrip())
        for j, name in enumerate(names):
            lines.append(name.ljust(first) + "".join(gap + c[j].rjust(w) for (_, c), w in zip(cols, widths)))
    return "\n".join(lines)


def _wrap(text: str, width: int) -> list[str]:
    """``text`` on as few lines of at most ``width`` as it takes, the lines as even as they can be
    ("holds 12" / "months, %", not "holds 12 months," / "%")."""
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]
    for narrower in range(max(len(w) for w in text.split() or [""]), width):
        even = textwrap.wrap(text, narrower, break_long_words=False, break_on_hyphens=False)
        if len(even) == len(lines):
            return even
    return lines


def _shorten(name: str, most: int) -> str:
    if len(name) <= most:
        return name
    keep = most - 3
    return name[: keep - keep // 2] + "..." + name[len(name) - keep // 2:]


def _parts(first: int, columns: Sequence[tuple[str, Sequence[str]]], width: int
           ) -> list[tuple[int, list[int], list[tuple[str, Sequence[str]]]]]:
    """The columns in parts that fit ``width`` beside the option column: (separator, widths, columns) each."""
    room = width - first
    for sep in (2, 1):
        widths = _fit(columns, room, sep)
        if widths is not None:
            return [(sep, widths, list(columns))]
    parts: list[list[tuple[str, Sequence[str]]]] = [[]]
    for col in columns:  # as many columns to a part as fit at their narrowest, two spaces apart
        if parts[-1] and _fit([*parts[-1], col], room, 2) is None:
            parts.append([])
        parts[-1].append(col)
    out = []
    for cols in parts:
        widths = _fit(cols, room, 2) or _fit(cols, room, 1) or [_narrowest(c) for c in cols]
        out.append((2 if _fit(cols, room, 2) is not None else 1, widths, cols))
    return out


def _narrowest(column: tuple[str, Sequence[str]]) -> int:
    header_, cells = column
    return max([len(c) for c in cells] + [len(w) for w in header_.split()] + [1])


def _fit(columns: Sequence[tuple[str, Sequence[str]]], room: int, sep: int) -> list[int] | None:
    """Column widths that fit ``room`` with ``sep`` spaces before each: each as wide as its header
    allows, the widest narrowed first (headers then wrap); None if even the narrowest do not fit."""
    widths = [max(len(h), _narrowest((h, c))) for h, c in columns]
    least = [_narrowest(c) for c in columns]
    if sum(least) + sep * len(columns) > room:
        return None
    while sum(widths) + sep * len(widths) > room:
        i = max((i for i in range(len(widths)) if widths[i] > least[i]), key=lambda i: widths[i])
        widths[i] -= 1
    return widths


def probability_table(results: Results,
                      columns: Sequence[str] = ("p_agreed", "p_hold_12_if_agreed", "p_hold_36_if_agreed",
                                                "p_hold_12", "p_hold_36", "p_direct_clash")
                      ) -> pd.DataFrame:
    """Probabilities per option as percentages with their 95% intervals, one column per summary column.

    Each cell reads like ``52.7 (51.6-53.8)`` (two decimals near 0% or 100%); columns that were
    not estimated (a horizon shorter than the month asked for) read ``n/a``.
    """
    s = results.summary
    table = pd.DataFrame(index=pd.Index(s["option"], name="option"))
    for col in columns:
        cells = []
        for _, r in s.iterrows():
            if pd.isna(r[col]):
                cells.append("n/a")
            else:
                k = digits(r[col], r[col + "_lo"], r[col + "_hi"])
                cells.append(f"{100 * r[col]:.{k}f} ({100 * r[col + '_lo']:.{k}f}-{100 * r[col + '_hi']:.{k}f})")
        table[header(outcome_of_column(col))] = cells
    return table


def difference_table(results: Results,
                     measures: Sequence[str] = ("agreed", "hold_12", "hold_24", "hold_36", "direct_clash"),
                     baseline: str | None = None) -> pd.DataFrame:
    """Paired differences from the baseline in percentage points, with intervals and a zero check.

    One row per option other than the baseline and measure, with columns ``difference_pp``,
    ``lower_pp``, ``upper_pp`` and ``excludes_zero`` (the 95% interval lies wholly above or
    below zero).
    """
    labels = {m: outcome_named(m).label for m in measures}
    d = results.compare(baseline)
    d = d[d["measure"].isin(measures) & (d["option"] != d["baseline"])].copy()
    d["measure"] = pd.Categorical(d["measure"], categories=list(measures), ordered=True)
    d = d.sort_values(["option", "measure"], key=lambda c: c if c.name == "measure" else
                      c.map({o: i for i, o in enumerate(results.summary["option"])}))
    return pd.DataFrame({
        "option": d["option"].to_numpy(),
        "measure": [labels[str(m)] for m in d["measure"]],
        "difference_pp": (100 * d["difference"]).round(1).to_numpy(),
        "lower_pp": (100 * d["lower"]).round(1).to_numpy(),
        "upper_pp": (100 * d["upper"]).round(1).to_numpy(),
        "excludes_zero": ((d["lower"] > 0) | (d["upper"] < 0)).to_numpy(),
    }).set_index(["option", "measure"])
