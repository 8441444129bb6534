"""Reading results in plain words, generated from the numbers.

``describe`` turns a ``Results`` into a short Markdown text: options ranked by the
probability that the ceasefire was agreed and still holds at 36 months; for each option the
chance of a deal, which side refuses it, holding among agreed deals and holding overall;
the paired difference of each option from the baseline with its 95% interval and whether
that interval excludes zero; and the price of each option (every outcome declared as part
of the price: aid, troops, risk of a direct clash). Every sentence is computed from the tables, so the text cannot
drift from the figures: where an interval includes zero it says so instead of claiming a
difference. ``describe_sweep`` does the same for one lever of ``simulator.sweep.sweep``.
Both return a ``Reading``, a ``str`` that Jupyter displays as rendered Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.errors import UsageError
from simulator.report.labels import digits, percent, points, quantity
from simulator.scenario.outcomes import HoldingAt, Outcome, all_outcomes, outcome_of_column

if TYPE_CHECKING:
    from simulator.analysis.results import Results

# The sides that sign or refuse a deal, in the order a reading names them, and how it names
# them unless told the actors' labels.
SIDES = {"challenger": "the challenger", "defender": "the defender"}


class Reading(str):
    """Text that is Markdown: a plain ``str`` that Jupyter displays rendered (``_repr_markdown_``)."""

    def _repr_markdown_(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def interval_text(r: Any, col: str) -> str:
    lo, hi = r[col + "_lo"], r[col + "_hi"]
    k = digits(r[col], lo, hi)
    return f"{percent(r[col], k)} (95% interval {percent(lo, k)} to {percent(hi, k)})"


def _stability(summary: pd.DataFrame, column: str) -> Outcome:
    """The probability of holding named by ``column`` if it was estimated, else the one at the horizon."""
    outcome = outcome_of_column(column)
    if not isinstance(outcome.tally, HoldingAt):
        holding = [o.columns[0] for o in all_outcomes() if isinstance(o.tally, HoldingAt)]
        raise UsageError(f"'{column}' is not a probability of holding; choose one of: {', '.join(holding)}")
    if column in summary and summary[column].notna().any():
        return outcome
    return _holding(None, outcome.tally.among_agreed) or outcome


def _holding(month: int | None, among_agreed: bool) -> Outcome | None:
    """The declared probability of holding at ``month`` (None: the horizon), overall or among agreed deals."""
    return next((o for o in all_outcomes() if isinstance(o.tally, HoldingAt) and o.tally.month == month
                 and o.tally.among_agreed == among_agreed), None)


def _value(r: pd.Series, column: str) -> float | None:
    """``r[column]`` if the summary has it and it was estimated, else None."""
    value = r.get(column)
    return None if value is None or pd.isna(value) else float(value)


def _deal_text(r: pd.Series, overall: Outcome, names: Mapping[str, str], horizon: Any) -> str:
    """One option's deal in words: how often it is agreed, who refuses, and how often it holds.

    Like: ```nato` is agreed in 64.9% of worlds (the challenger refuses in 32.6%, the defender
    in 3.9%); where agreed it holds 36 months in 34.6% (95% interval ...), so overall in 22.4%.``
    """
    deal = _value(r, "p_agreed")
    month = overall.tally.month if isinstance(overall.tally, HoldingAt) else None
    overall = _holding(month, among_agreed=False) or overall
    holds = f"to the end of the horizon ({horizon} months)" if month is None else f"{month} months"
    text = f"`{r['option']}` is agreed in " + (
        "every world" if deal == 1 else "no world" if deal == 0 else f"{percent(deal)} of worlds")
    refusals = [(names.get(side, default), _value(r, f"p_refused_by_{side}")) for side, default in SIDES.items()]
    refusals = [(who, share) for who, share in refusals if share is not None]
    if deal != 1 and refusals:
        words = [f"{who} {'refuses in ' if i == 0 else 'in '}{percent(share)}" if share else f"{who} never"
                 for i, (who, share) in enumerate(refusals)]
        text += f" ({', '.join(words)})"
    if deal == 0:
        return text + ", so it never holds."
    held = _value(r, overall.columns[0])
    if_agreed = _holding(month, among_agreed=True)
    if if_agreed is not None and _value(r, if_agreed.columns[0]) is not None:
        text += f"; where agreed it holds {holds} in {interval_text(r, if_agreed.columns[0])}"
        return text + (f", so overall in {percent(held)}." if held is not None else ".")
    return text + (f"; overall it holds {holds} in {percent(held)}." if held is not None else ".")


def months_text(outcome: Outcome, horizon: Any) -> str:
    month = outcome.tally.month if isinstance(outcome.tally, HoldingAt) else None
    return f"to the end of the horizon ({horizon} months)" if month is None else f"at {month} months"


def _price_text(outcome: Outcome, r: pd.Series) -> str:
    """One part of an option's price: ``aid 60 bn USD``, ``direct clash 3.0% (95% interval ...)``."""
    column = outcome.columns[0]
    if not outcome.tally.share:
        return quantity(outcome, r[column])
    if not outcome.tally.interval:
        return f"{outcome.label} {percent(r[column])}"
    if r[column] == 0:
        return f"no {outcome.label} in any world (upper bound {percent(r[column + '_hi'])})"
    return f"{outcome.label} {interval_text(r, column)}"


def paired(results: Results, option: str, other: str, measure: str) -> pd.Series | None:
    """Paired difference ``option - other`` for ``measure`` (None if the pairs table lacks it)."""
    pairs = getattr(results, "pairs", None)
    if pairs is None or pairs.empty:
        return None
    hit = pairs[(pairs["option"] == option) & (pairs["baseline"] == other) & (pairs["measure"] == measure)]
    if hit.empty or pd.isna(hit["difference"].iloc[0]):
        return None
    return hit.iloc[0]


def verdict(row: pd.Series) -> str:
    """How a paired difference reads: identical, interval excludes zero (and sign), or includes zero."""
    d, lo, hi = float(row["difference"]), float(row["lower"]), float(row["upper"])
    if d == 0 and lo == 0 and hi == 0:
        return "identical"
    if lo > 0:
        return "higher"
    if hi < 0:
        return "lower"
    return "unclear"


def difference_text(row: pd.Series) -> str:
    k = digits(row["difference"], row["lower"], row["upper"])
    return (f"{points(row['difference'], k)} percentage points "
            f"(95% interval {points(row['lower'], k)} to {points(row['upper'], k)})")


def difference_line(option: str, row: pd.Series) -> str:
    """How a paired difference from the baseline reads: ``\`peacekeepers\`: +13.1 percentage points (...)``."""
    v = verdict(row)
    if v == "identical":
        return f"`{option}`: the same outcome as the baseline in every world."
    if v == "unclear":
        return (f"`{option}`: {difference_text(row)}; the interval includes zero, so these worlds "
                "do not show a difference from the baseline.")
    return f"`{option}`: {difference_text(row)}; the interval excludes zero: {v} than the baseline."


def describe(results: Results, measure: str = "p_hold_36", baseline: str | None = None,
             actors: Mapping[str, str] | None = None) -> Reading:
    """A short Markdown reading of ``results``, every statement computed from its tables.

    It ranks the options by ``measure`` (default ``p_hold_36``; ``p_hold_horizon`` if the
    horizon is shorter), says for each pair of neighbours in the ranking whether their
    paired difference is distinguishable from zero, gives for each option the chance of a
    deal, how often each side refuses it, how often an agreed deal holds and how often the
    ceasefire holds overall (the two multiplied), states each option's paired difference
    from the baseline with its 95% interval and whether the interval excludes zero, and
    lists each option's price: every outcome declared part of it (mean aid, mean troops
    deployed, the probability of a direct clash between a guarantor and the challenger).

    ``results`` needs ``summary`` (the columns of ``Results.summary``), ``pairs`` (the
    paired-difference table) and ``manifest``; a ``Results`` has all three. ``actors`` names
    the sides by role (``{"challenger": "Russia", "defender": "Ukraine"}``); by default
    "the challenger" and "the defender". The text is a ``Reading``: a ``str`` that a
    notebook displays as rendered Markdown.
    """
    s = results.summary.reset_index(drop=True)
    manifest = getattr(results, "manifest", {}) or {}
    stability = _stability(s, measure)
    col, key = stability.columns[0], stability.name
    horizon = manifest.get("horizon_months", "?")
    base = baseline or manifest.get("baseline") or str(s["option"].iloc[0])
    when = months_text(stability, horizon)
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
    among_agreed = isinstance(stability.tally, HoldingAt) and stability.tally.among_agreed
    which = "an agreed ceasefire still holds" if among_agreed else "the ceasefire was agreed and still holds"
    out.append(f"**Options ranked by the probability that {which} {when}:**")
    items = []
    for i, r in order.iterrows():
        line = f"{i + 1}. `{r['option']}`: {interval_text(r, col)}"
        if i + 1 < len(order):
            nxt = order.loc[i + 1, "option"]
            pair = paired(results, r["option"], nxt, key)
            if pair is not None:
                v = verdict(pair)
                if v == "identical":
                    line += f". The same as `{nxt}` in every world"
                elif v == "higher":
                    line += f". Above `{nxt}` by {difference_text(pair)}"
                elif v == "lower":  # only possible on an exact tie in the point estimates
                    line += f". Below `{nxt}` by {difference_text(pair)}"
                else:
                    line += (f". Not distinguishable from `{nxt}` in these worlds: difference "
                             f"{difference_text(pair)}, an interval that includes zero")
        items.append(line + ".")
    out.append("\n".join(items))

    # The deal, and holding among agreed deals: the two parts of holding overall.
    if "p_agreed" in order and order["p_agreed"].notna().any():
        names = {**SIDES, **(actors or {})}
        out.append("**Deal and holding, per option** (holding overall is the chance of a deal times holding "
                   "among agreed deals; a world where both sides refuse counts as a refusal by each). Holding "
                   "among agreed deals is measured on different worlds for each option (those where it was "
                   "signed), so it mixes what the option does with who signs it; compare options on holding "
                   "overall, world by world:")
        out.append("\n".join(f"- {_deal_text(r, stability, names, horizon)}" for _, r in order.iterrows()
                             if pd.notna(r["p_agreed"])))

    # Paired differences from the baseline.
    others = [o for o in order["option"] if o != base]
    diffs = [(o, paired(results, o, base, key)) for o in others]
    diffs = [(o, p) for o, p in diffs if p is not None]
    if diffs:
        out.append(f"**Compared with the baseline (`{base}`)**, world by world (the same worlds under each "
                   f"option), on the probability of holding {when}:")
        out.append("\n".join(f"- {difference_line(o, p)}" for o, p in diffs))

    # Price: every outcome declared part of it, costs (means) before risks (shares).
    price = sorted((o for o in all_outcomes() if o.price and o.columns[0] in s), key=lambda o: o.tally.share)
    if price:
        out.append("**Price of each option** (means over all worlds, a probability for a risk: "
                   f"{', '.join(o.long_label for o in price)}):")
        out.append("\n".join(f"- `{r['option']}`: " + ", ".join(_price_text(o, r) for o in price) + "."
                             for _, r in order.iterrows()))

    clash = order["p_direct_clash"]
    top = order.iloc[0]
    if (clash == 0).all():
        out.append("No option led to a direct clash between a guarantor and the challenger in any simulated world.")
    else:
        worst = order.loc[clash == clash.max(), "option"].tolist()
        lead = f"The option ranked first on stability, `{top['option']}`,"
        if worst == [top["option"]]:
            sentence = (f"{lead} also has the highest estimated risk of a direct clash: "
                        f"{interval_text(top, 'p_direct_clash')}.")
        else:
            names = " and ".join(f"`{w}`" for w in worst)
            sentence = f"Highest estimated risk of a direct clash: {names} ({percent(clash.max())})."
            if top["p_direct_clash"] == 0:
                sentence += f" {lead} led to no direct clash in any world."
            else:
                sentence += f" {lead} has a direct-clash risk of {percent(top['p_direct_clash'])}."
        out.append(sentence)
    return Reading("\n\n".join(out) + "\n")


def describe_sweep(table: pd.DataFrame, results: Results, measure: str = "p_hold_36") -> Reading:
    """A short Markdown reading of one sweep (``simulator.sweep.sweep``), computed from its numbers.

    It gives the range of ``measure`` across the lever's values, the paired difference
    between the last and the first value (the same worlds under both), and which values
    differ from the baseline option with a 95% interval that excludes zero.
    """
    stability = _stability(table, measure)
    col, key = stability.columns[0], stability.name
    when = months_text(stability, getattr(results, "manifest", {}).get("horizon_months", "?"))
    lever = str(table["parameter"].iloc[0])
    values = [str(v) for v in table["value"]]
    lo_i, hi_i = int(table[col].to_numpy().argmin()), int(table[col].to_numpy().argmax())
    out = [f"`{lever}` from {values[0]} to {values[-1]}: the probability of holding {when} ranges from "
           f"{interval_text(table.iloc[lo_i], col)} at {values[lo_i]} to {interval_text(table.iloc[hi_i], col)} "
           f"at {values[hi_i]}."]
    first, last = str(table["option"].iloc[0]), str(table["option"].iloc[-1])
    pair = paired(results, last, first, key) if first != last else None
    if pair is not None:
        v = verdict(pair)
        if v == "identical":
            out.append(f"At {values[-1]} the outcome is the same as at {values[0]} in every world.")
        elif v == "unclear":
            out.append(f"From {values[0]} to {values[-1]}, world by world: {difference_text(pair)}; "
                       "the interval includes zero, so these worlds do not show a difference.")
        else:
            out.append(f"From {values[0]} to {values[-1]}, world by world: {difference_text(pair)}; "
                       "the interval excludes zero.")
    base = getattr(results, "baseline", None)
    if base is not None and base not in set(table["option"]):
        groups: dict[str, list[str]] = {"higher": [], "lower": [], "unclear": [], "identical": []}
        for option, value in zip(table["option"], values):
            p = paired(results, str(option), base, key)
            if p is not None:
                groups[verdict(p)].append(value)
        said = {"higher": "above it (interval excluding zero) at", "lower": "below it (interval excluding zero) at",
                "unclear": "not distinguishable from it at", "identical": "the same as it in every world at"}
        parts = [f"{said[k]} {', '.join(groups[k])}" for k in said if groups[k]]
        if parts:
            out.append(f"Against the baseline option (`{base}`), world by world: " + "; ".join(parts) + ".")
    return Reading(" ".join(out) + "\n")
