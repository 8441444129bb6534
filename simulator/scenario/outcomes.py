"""Every outcome a run reports, declared once: name, label, unit, per-world measure, how it adds up.

``params.py`` declares what a scenario may set (uncertainties and levers); this file
declares what a run measures. Each later step reads this one list:

1. The model records every world in a table, ``CeasefireModel.outcomes()`` (one row per
   world, the columns of ``worlds.parquet``). An outcome that needs something the table
   does not hold brings it with ``record``, a function of the finished model: the table
   gains a column named after the outcome.
2. ``measure`` reads one number per world from that table (``hold_36``: 1 if the ceasefire
   was agreed and still held after 36 months). Every outcome with a measure is compared
   between options world by world (paired differences). Holding among agreed deals
   (``hold_36_if_agreed``) has no measure: it is a share of the worlds where that option's
   deal was agreed, a different set of worlds under each option, so a difference world by
   world means nothing. Options are compared on it through its two parts, the chance of a
   deal (``agreed``) and holding overall (``hold_36``), which are paired.
3. The ``tally`` says how the outcome adds up: ``count`` reduces a block of worlds to sums
   that add up exactly across blocks and chunks; ``estimate`` turns the totals into the
   summary's columns (``p_hold_36``, ``p_hold_36_lo``, ``p_hold_36_hi``) with the
   estimators analysis hands it (Kaplan-Meier, the Wilson interval).
4. Tables, figures and readings take names, labels, units and groups from here.

A world has one of three fates: no deal (a side refused; the world table says who in
``refused_by``), a deal that ended before the horizon, or a deal still holding. No deal
is its own outcome, not a collapse: holding among agreed deals leaves those worlds out,
and so do the shares of ended ceasefires each side broke. Holding overall (``hold_36``)
counts every world, a world without a deal as not holding, so it is the chance of a deal
times holding among agreed deals.

Adding an outcome is one change: append an ``Outcome`` to ``OUTCOMES``.

The declarations import neither Mesa nor the model (numpy and pandas only). They sit with
the scenario's parameters, below every layer that reads them: the model and the runs
produce outcomes, and analysis and report read them without ever reaching back into the
model (the EMA Workbench keeps its outcomes next to its parameters in the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from simulator.errors import UsageError, did_you_mean

# Block statistics every run keeps, whatever its outcomes; no outcome may take these names.
WORLDS = "worlds"  # worlds simulated, per option
COLLAPSES = "collapses_by_month"  # per option and month: ceasefires that ended in that month (0: no deal)
# (month 0 holds only the worlds without a deal: a ceasefire's first month is month 1)
HOLDING = "holding_at_horizon"  # per option: ceasefires still holding at the horizon (censored)
PAIR_SUM = "pair_sum"  # per (option, other option, paired outcome): sum over worlds of the difference
PAIR_SQUARES = "pair_squares"  # the same for the squared difference
SHARED_STATISTICS = (WORLDS, COLLAPSES, HOLDING, PAIR_SUM, PAIR_SQUARES)

Measure = Callable[[pd.DataFrame, int], np.ndarray]  # (world table, horizon) -> one float per world


def collapse_months(worlds: pd.DataFrame) -> np.ndarray:
    """Month in which each world's ceasefire ended (0: no deal), infinite where it still holds."""
    return worlds["collapse_month"].to_numpy(dtype=float, na_value=np.inf)


@dataclass(frozen=True)
class Column:
    """A measure that is a column of the world table, as floats (True is 1)."""

    name: str

    def __call__(self, worlds: pd.DataFrame, horizon: int) -> np.ndarray:
        return worlds[self.name].to_numpy(dtype=float)


@dataclass(frozen=True)
class HeldAfter:
    """1 where the ceasefire was agreed and still held after ``month`` months (``None``: the horizon).

    A world without a deal never holds. NaN in every world if the run stops before ``month``.
    """

    month: int | None = None

    def __call__(self, worlds: pd.DataFrame, horizon: int) -> np.ndarray:
        ended = collapse_months(worlds)
        if self.month is not None and self.month > horizon:
            return np.full(len(ended), np.nan)
        return (ended > (horizon if self.month is None else self.month)).astype(float)


@dataclass(frozen=True)
class RefusedBy:
    """1 where ``side`` refused the deal (alone or with the other side), from ``refused_by``."""

    side: str

    def __call__(self, worlds: pd.DataFrame, horizon: int) -> np.ndarray:
        refused = worlds["refused_by"].astype(str).to_numpy()
        return ((refused == self.side) | (refused == "both")).astype(float)


def months_held(worlds: pd.DataFrame, horizon: int) -> np.ndarray:
    """Months each ceasefire held: to its collapse (0 without a deal), or the horizon if it still holds."""
    return np.where(worlds["collapsed"].to_numpy(), collapse_months(worlds), horizon).astype(float)


@dataclass(frozen=True)
class OptionTotals:
    """One option's statistics summed over every block, with the estimators analysis supplies."""

    worlds: int
    horizon: int
    sums: Mapping[str, Any]  # statistic name -> this option's total
    survival: pd.DataFrame  # Kaplan-Meier by month over all worlds: month, survival, lower, upper
    survival_if_agreed: pd.DataFrame  # the same among agreed deals (no-deals left out; 1 at month 0)
    share_interval: Callable[[int, int], tuple[float, float]]  # 95% interval of k worlds out of n

    @property
    def no_deal(self) -> int:
        """Worlds without a deal (a side refused): the month-0 count of ``collapses_by_month``."""
        return int(self.sums[COLLAPSES][0])

    @property
    def ended(self) -> int:
        """Agreed ceasefires that ended before the horizon (worlds without a deal left out)."""
        return self.worlds - int(self.sums[HOLDING]) - self.no_deal


class Tally:
    """How an outcome adds up; the kinds below share this shape.

    ``count`` gives one option's sums over a block of worlds (integers add exactly, floats
    are added exactly rounded), ``estimate`` one option's values of ``columns`` from the
    totals of all blocks.
    """

    prefix: ClassVar[str] = ""  # of the summary column: "p_" + name, "mean_" + name ...
    interval: ClassVar[bool] = False  # a 95% interval in two more columns, ``_lo`` and ``_hi``
    share: ClassVar[bool] = False  # values are shares between 0 and 1 (shown as percentages)

    def columns(self, name: str) -> list[str]:
        """The summary's columns for an outcome called ``name``."""
        column = self.prefix + name
        return [column, f"{column}_lo", f"{column}_hi"] if self.interval else [column]

    def default_measure(self) -> Measure | None:
        """The per-world measure of an outcome of this kind that declares none."""
        return None

    def count(self, name: str, worlds: pd.DataFrame, measure: np.ndarray | None) -> dict[str, int | float]:
        """Sums over one block of one option's worlds (beyond ``SHARED_STATISTICS``)."""
        return {}

    def estimate(self, name: str, totals: OptionTotals) -> tuple[float, ...]:
        """One value per column, from one option's totals."""
        raise NotImplementedError


@dataclass(frozen=True)
class Share(Tally):
    """The share of all worlds in which the measure is 1, with its Wilson 95% interval."""

    prefix = "p_"
    interval = True
    share = True

    def count(self, name: str, worlds: pd.DataFrame, measure: np.ndarray | None) -> dict[str, int | float]:
        assert measure is not None, f"outcome '{name}' counts a share of worlds and needs a measure"
        return {name: int(measure.sum())}

    def estimate(self, name: str, totals: OptionTotals) -> tuple[float, ...]:
        k = int(totals.sums[name])
        return (k / totals.worlds, *totals.share_interval(k, totals.worlds))


@dataclass(frozen=True)
class HoldingAt(Tally):
    """Kaplan-Meier probability that the ceasefire still holds after ``month`` months (``None``: the horizon).

    Over all worlds (a world without a deal never holds): the probability that the
    ceasefire was agreed and still holds. With ``among_agreed``: among the worlds where it
    was agreed, with no per-world measure (see the module's notes). With its 95% band; NaN
    if the run stops before ``month`` or (among agreed) no world agreed a deal.
    """

    month: int | None = None
    among_agreed: bool = False
    prefix = "p_"
    interval = True
    share = True

    def default_measure(self) -> Measure | None:
        return None if self.among_agreed else HeldAfter(self.month)

    def estimate(self, name: str, totals: OptionTotals) -> tuple[float, ...]:
        month = totals.horizon if self.month is None else self.month
        if month > totals.horizon:
            return (np.nan, np.nan, np.nan)
        at = (totals.survival_if_agreed if self.among_agreed else totals.survival).iloc[month]
        return (at["survival"], at["lower"], at["upper"])


@dataclass(frozen=True)
class MedianMonths(Tally):
    """The first month at which Kaplan-Meier survival among agreed deals is 0.5 or less.

    NaN if it stays above to the horizon, or no world agreed a deal. Among agreed deals, so
    that a world without a deal does not read as a ceasefire that collapsed at once.
    """

    prefix = "median_"

    def estimate(self, name: str, totals: OptionTotals) -> tuple[float, ...]:
        km = totals.survival_if_agreed
        below = km.index[km["survival"] <= 0.5]
        return (float(km["month"].iloc[below[0]]) if len(below) else np.nan,)


@dataclass(frozen=True)
class Mean(Tally):
    """The mean of the measure over all worlds."""

    prefix = "mean_"

    def count(self, name: str, worlds: pd.DataFrame, measure: np.ndarray | None) -> dict[str, int | float]:
        assert measure is not None, f"outcome '{name}' is a mean over worlds and needs a measure"
        return {name: float(measure.sum())}

    def estimate(self, name: str, totals: OptionTotals) -> tuple[float, ...]:
        return (totals.sums[name] / totals.worlds,)


@dataclass(frozen=True)
class ShareOfEnded(Tally):
    """Among the agreed ceasefires that ended before the horizon, the share ``initiator`` broke.

    Worlds without a deal are in neither the count nor the total (NaN if no deal ended).
    """

    initiator: str
    prefix = "share_"
    share = True

    def count(self, name: str, worlds: pd.DataFrame, measure: np.ndarray | None) -> dict[str, int | float]:
        return {name: int((worlds["initiator"] == self.initiator).sum())}

    def estimate(self, name: str, totals: OptionTotals) -> tuple[float, ...]:
        ended = totals.ended
        return (int(totals.sums[name]) / ended if ended else np.nan,)


@dataclass(frozen=True)
class Outcome:
    """One outcome of a run.

    Attributes:
        name: the ``measure`` of paired differences and the stem of the summary's columns.
        label: a few words for a column header or a legend ("holds 36 months").
        long_label: how a sentence or a figure names it ("holding at 36 months").
        unit: what a value is given in ("probability", "months", "bn USD"); shown after a
            value unless the label already names it.
        tally: how it adds up across worlds, blocks and chunks.
        measure: one number per world from the world table and the horizon. Default: the
            ``record`` column, else the tally's own (``HoldingAt``). Every outcome with a
            measure is compared between options world by world.
        record: one value per world read from the finished model, kept in the world table
            as the column ``name`` (for what ``CeasefireModel.outcomes()`` does not hold yet).
        price: part of an option's price (a cost or a risk): readings give it for each option.
        group: the part of the printed summary it is shown in (``GROUPS``; "" for the last part).
    """

    name: str
    label: str
    long_label: str
    unit: str
    tally: Tally
    measure: Measure | None = None
    record: Callable[[Any], np.ndarray] | None = None
    price: bool = False
    group: str = ""

    def __post_init__(self) -> None:
        if self.measure is None:
            default = Column(self.name) if self.record is not None else self.tally.default_measure()
            object.__setattr__(self, "measure", default)

    @property
    def columns(self) -> list[str]:
        """This outcome's columns of the summary."""
        return self.tally.columns(self.name)

    @property
    def paired(self) -> bool:
        """Whether options are compared on it world by world (it has a per-world measure)."""
        return self.measure is not None


# The parts of the printed summary, in order: an outcome names its part in ``group``.
DEAL = "Chance of a deal (% of worlds; a refusal by both sides counts for each)"
IF_AGREED = "Holding among agreed deals (% of agreed ceasefires)"
OVERALL = "Holding overall (% of all worlds: a deal agreed and still holding)"
ENDED = "Agreed ceasefires that ended: who broke them"
PRICE = "Price: risk and cost"
GROUPS = (DEAL, IF_AGREED, OVERALL, ENDED, PRICE)

# In the order of the summary's columns. Each entry: name, label (headers, legends), long label
# (sentences, the paired-differences figure), unit, tally; then, where needed, measure and record,
# and the part of the printed summary.
OUTCOMES: tuple[Outcome, ...] = (
    Outcome("agreed", "deal", "deal agreed by both sides", "probability", Share(),
            measure=Column("agreed"), group=DEAL),
    Outcome("hold_12", "holds 12 months", "holding at 12 months", "probability", HoldingAt(12), group=OVERALL),
    Outcome("hold_24", "holds 24 months", "holding at 24 months", "probability", HoldingAt(24), group=OVERALL),
    Outcome("hold_36", "holds 36 months", "holding at 36 months", "probability", HoldingAt(36), group=OVERALL),
    Outcome("hold_horizon", "holds to horizon", "holding at the horizon", "probability", HoldingAt(),
            group=OVERALL),
    Outcome("months_to_collapse", "median months", "median months to collapse of an agreed ceasefire", "months",
            MedianMonths(), group=IF_AGREED),
    Outcome("months_held", "months held", "months the ceasefire held (0 without a deal, the horizon where it "
            "still holds)", "months", Mean(), measure=months_held, group=OVERALL),
    Outcome("direct_clash", "direct clash", "direct clash with a guarantor", "probability", Share(),
            measure=Column("direct_clash"), price=True, group=PRICE),
    Outcome("broken_by_challenger", "broken by challenger", "agreed ceasefires that ended, the challenger broke",
            "share of agreed ceasefires that ended", ShareOfEnded("challenger"), group=ENDED),
    Outcome("broken_by_defender", "broken by defender", "agreed ceasefires that ended, the defender broke",
            "share of agreed ceasefires that ended", ShareOfEnded("defender"), group=ENDED),
    Outcome("aid_bn", "aid", "aid delivered in total over the horizon", "bn USD", Mean(),
            measure=Column("aid_bn"), price=True, group=PRICE),
    Outcome("troops", "troops", "peak troops deployed", "troops", Mean(), measure=Column("troops_deployed"),
            price=True, group=PRICE),
    Outcome("refused_by_challenger", "refused by challenger", "deal refused by the challenger", "probability",
            Share(), measure=RefusedBy("challenger"), group=DEAL),
    Outcome("refused_by_defender", "refused by defender", "deal refused by the defender", "probability",
            Share(), measure=RefusedBy("defender"), group=DEAL),
    Outcome("hold_12_if_agreed", "holds 12 months if agreed", "holding at 12 months among agreed deals",
            "probability", HoldingAt(12, among_agreed=True), group=IF_AGREED),
    Outcome("hold_36_if_agreed", "holds 36 months if agreed", "holding at 36 months among agreed deals",
            "probability", HoldingAt(36, among_agreed=True), group=IF_AGREED),
    Outcome("hold_horizon_if_agreed", "holds to horizon if agreed", "holding at the horizon among agreed deals",
            "probability", HoldingAt(among_agreed=True), group=IF_AGREED),
)


def check(outcomes: Sequence[Outcome]) -> None:
    """Refuse a list in which two outcomes share a name or a column, one takes a shared statistic's name,
    or one names a part of the printed summary that ``GROUPS`` does not hold."""
    names = [o.name for o in outcomes]
    columns = [c for o in outcomes for c in o.columns]
    for what, values in (("name", names), ("summary column", columns)):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise ValueError(f"outcomes: {what} {', '.join(twice)} declared twice")
    taken = sorted(set(names) & set(SHARED_STATISTICS) | set(columns) & {"option", "worlds"})
    if taken:
        raise ValueError(f"outcomes: {', '.join(taken)} is taken by what every run keeps")
    unknown = sorted({o.group for o in outcomes} - {"", *GROUPS})
    if unknown:
        raise ValueError(f"outcomes: no part of the summary called {', '.join(unknown)}; choose from GROUPS")


check(OUTCOMES)


# The functions below read OUTCOMES when called, so every step sees the same list.
def all_outcomes() -> tuple[Outcome, ...]:
    """Every declared outcome, in the order of the summary's columns."""
    return OUTCOMES


def paired_outcomes() -> list[Outcome]:
    """Outcomes compared between options world by world, in the order of the paired differences."""
    return [o for o in OUTCOMES if o.paired]


def outcome_named(name: str) -> Outcome:
    """The outcome called ``name``.

    Raises:
        UsageError: no outcome has that name.
    """
    for o in OUTCOMES:
        if o.name == name:
            return o
    raise UsageError(f"no outcome '{name}'; {did_you_mean(name, [o.name for o in OUTCOMES])}")


def outcome_of_column(column: str) -> Outcome:
    """The outcome whose summary columns include ``column`` (``p_hold_36_lo`` -> ``hold_36``).

    Raises:
        UsageError: no outcome has that column.
    """
    for o in OUTCOMES:
        if column in o.columns:
            return o
    raise UsageError(f"no summary column '{column}'; "
                     f"{did_you_mean(column, [c for o in OUTCOMES for c in o.columns])}")
