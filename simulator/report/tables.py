"""Tables for people: the summary as printed by ``geosim run``, probabilities and paired differences.

Headers come from the outcome declarations (``simulator.scenario.outcomes``); shares read
as percentages with their 95% intervals, like ``52.7 (51.6-53.8)``. The printed summary
has one part per group of outcomes: the chance of a deal and who refuses it, holding among
agreed deals, holding overall, who broke the deals that ended, and the price.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.report.labels import digits, header
from simulator.scenario.outcomes import (GROUPS, MedianMonths, Outcome, all_outcomes, outcome_named,
                                         outcome_of_column)

if TYPE_CHECKING:
    from simulator.analysis.results import Results


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


def summary_table(results: Results) -> str:
    """Every outcome of every option as text, one row per option, in small tables that fit a terminal.

    One titled table per group of outcomes (``simulator.scenario.outcomes.GROUPS``, then any
    outcome without a group): the chance of a deal and who refuses, holding among agreed
    deals, holding overall, who broke the ceasefires that ended, the price. In each, the
    probabilities (in % with their 95% intervals) come first. Outcomes missing from the
    summary (results saved before they were declared) are left out.
    """
    s = results.summary
    horizon = results.manifest.get("horizon_months", "")
    shown = [o for o in all_outcomes() if o.columns[0] in s]
    tables = []
    for title in (*GROUPS, ""):
        group = sorted((o for o in shown if o.group == title), key=lambda o: not o.tally.interval)
        if group:
            rows = [{"option": r["option"], **{header(o): _cell(o, r, horizon) for o in group}}
                    for _, r in s.iterrows()]
            tables.append(f"{title or 'Other outcomes'}:\n{pd.DataFrame(rows).to_string(index=False)}")
    return "\n\n".join(tables)


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
