"""Argument types of the command line: whole numbers with limits, refused with argparse's one-line error."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(low: int = 1, high: int | None = None, unit: str = "") -> Callable[[str], int]:
    """An argparse ``type`` for a whole number from ``low`` to ``high`` (``unit`` names it in messages)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is not positive" if low == 1 else
                                             f"{value} is negative" if low == 0 else f"{value} is below {low:,}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{value:,}{' ' + unit if unit else ''} is more than the limit of "
                                             f"{high:,}")
        return value

    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0)
