"""How outcomes and numbers read: headers and quantities from the outcome declarations, percentages, points.

Every label comes from ``simulator.scenario.outcomes``; nothing here words an outcome itself.
"""

from __future__ import annotations

from simulator.scenario.outcomes import Outcome


def header(outcome: Outcome) -> str:
    """A column header: the label, then ``%`` for a share, else the unit unless the label names it."""
    if outcome.tally.share:
        return f"{outcome.label}, %"
    return outcome.label if outcome.unit in outcome.label else f"{outcome.label}, {outcome.unit}"


def quantity(outcome: Outcome, value: float) -> str:
    """A mean in words: ``aid 60 bn USD``, ``troops 15,000`` (the unit unless the label names it)."""
    unit = "" if outcome.unit in outcome.label else f" {outcome.unit}"
    return f"{outcome.label} {value:,.0f}{unit}"


def digits(*values: float) -> int:
    """One decimal; two if a value is near but not at 0 or 1 (so 0.04% does not read as 0.0%)."""
    return 2 if any(0 < abs(100 * x) < 0.1 or 0 < abs(100 * (1 - x)) < 0.1 for x in values) else 1


def percent(x: float, places: int | None = None) -> str:
    """A share as a percentage: ``52.7%``."""
    return f"{100 * x:.{digits(x) if places is None else places}f}%"


def points(x: float, places: int | None = None) -> str:
    """A difference of shares in percentage points, with its sign: ``+1.0``."""
    return f"{100 * x:+.{digits(x) if places is None else places}f}"
