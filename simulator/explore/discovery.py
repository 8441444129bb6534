"""Scenario discovery with PRIM (the EMA Workbench's implementation): where does a case happen?

Given inputs ``x`` (one row per design point, one column per factor) and a yes/no case ``y``
per row, PRIM peels the input space, a few percent at a time, towards a box that holds mostly
cases. Each step of that peeling trajectory trades *coverage* (the share of all cases that lie in
the box) for *density* (the share of the box's points that are cases).

Which step is the answer is a judgement; here it is made the same way every time: the step with
the best balance of the two, their harmonic mean 2cd / (c + d) (the F1 score of the box as a
classifier of the cases). A restriction of that box is kept only where PRIM's quasi-p value
(Bryant and Lempert 2010, a one-sided binomial test) is below 0.05, side by side, and coverage and
density are then counted again on the data, for the box as reported.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import UsageError

COLUMNS = ["box", "coverage", "density", "factor", "low", "high"]
SIGNIFICANCE = 0.05  # quasi-p value below which a restriction is kept
MASS_MIN = 0.05  # the smallest box PRIM peels to, as a share of the points
PEEL_ALPHA = 0.05  # the share of points one peeling step removes
SHOWN = 3  # restrictions a reading names


@dataclass(frozen=True)
class Restriction:
    """One factor's limits in a box; ``lower``/``upper``: whether that side is restricted."""

    factor: str
    low: float
    high: float
    lower: bool
    upper: bool
    p_value: float  # the smaller quasi-p value of the restricted sides

    def words(self) -> str:
        if self.lower and self.upper:
            return f"{self.factor} is between {self.low:.3g} and {self.high:.3g}"
        if self.lower:
            return f"{self.factor} is above {self.low:.3g}"
        return f"{self.factor} is below {self.high:.3g}"


@dataclass(frozen=True)
class Box:
    """A box found by PRIM, as reported: its statistics on the data and its kept restrictions."""

    label: str
    cases: int  # cases among all points
    points: int
    coverage: float
    density: float
    restrictions: tuple[Restriction, ...]
    trajectory: pd.DataFrame  # PRIM's peeling trajectory: coverage, density, res_dim per step
    chosen: int  # the step of the trajectory the box was taken from

    @property
    def share(self) -> float:
        """The share of all points that are cases."""
        return self.cases / self.points if self.points else float("nan")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The EMA Workbench without its import warnings and log lines."""
    logger = logging.getLogger("EMA")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def ema_prim() -> Any:
    """The EMA Workbench's prim module, or a ``UsageError`` naming the extra."""
    try:
        with quiet():
            from ema_workbench.analysis import prim
    except ImportError:
        raise UsageError("scenario discovery needs the EMA Workbench: pip install 'geosim[explore]'") from None
    return prim


def f1(coverage: np.ndarray, density: np.ndarray) -> np.ndarray:
    """The harmonic mean of coverage and density (0 where both are 0)."""
    total = coverage + density
    return np.divide(2 * coverage * density, total, out=np.zeros_like(total, dtype=float), where=total > 0)


def inside(x: pd.DataFrame, restrictions: tuple[Restriction, ...]) -> np.ndarray:
    """Rows of ``x`` inside the box the restrictions describe."""
    mask = np.ones(len(x), bool)
    for r in restrictions:
        v = x[r.factor].to_numpy(dtype=float)
        if r.lower:
            mask &= v >= r.low
        if r.upper:
            mask &= v <= r.high
    return mask


def find_boxes(x: pd.DataFrame, y: np.ndarray, label: str, boxes: int = 1) -> list[Box]:
    """Up to ``boxes`` boxes for the cases ``y`` (true/false per row of ``x``), each labelled
    ``"{label}, box K"``. With no case (or nothing but cases) there is nothing to find: one box
    without restrictions is returned, that of the whole space."""
    x = x.astype(float).reset_index(drop=True)
    y = np.asarray(y, dtype=bool)
    n, cases = len(y), int(y.sum())
    empty = pd.DataFrame({"coverage": [1.0], "density": [cases / n if n else np.nan], "res_dim": [0]})
    if cases == 0 or cases == n:
        return [Box(f"{label}, box 1", cases, n, 1.0 if cases else 0.0, cases / n if n else np.nan, (), empty, 0)]
    prim = ema_prim()
    out: list[Box] = []
    with quiet():
        finder = prim.Prim(x, y.copy(), mass_min=MASS_MIN, peel_alpha=PEEL_ALPHA)
        for k in range(boxes):
            box = finder.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory[["coverage", "density", "res_dim"]].reset_index(drop=True)
            step = int(np.argmax(f1(trajectory["coverage"].to_numpy(), trajectory["density"].to_numpy())))
            restrictions = _kept(box.box_lims[step], finder.box_init, box.p_values[step])
            mask = inside(x, restrictions)
            out.append(Box(f"{label}, box {k + 1}", cases, n, float(y[mask].sum() / cases),
                           float(y[mask].mean()) if mask.any() else float("nan"), restrictions, trajectory, step))
            box.select(step)
    return out


def _kept(limits: pd.DataFrame, initial: pd.DataFrame, p_values: dict[str, list[float]]) -> tuple[Restriction, ...]:
    """The restrictions of a step whose quasi-p values are below ``SIGNIFICANCE``, strongest first."""
    kept = []
    for factor, (p_low, p_high) in p_values.items():
        low, high = float(limits[factor].iloc[0]), float(limits[factor].iloc[1])
        lower = low > float(initial[factor].iloc[0]) and 0 <= p_low < SIGNIFICANCE
        upper = high < float(initial[factor].iloc[1]) and 0 <= p_high < SIGNIFICANCE
        if lower or upper:
            p = min(q for q, side in ((p_low, lower), (p_high, upper)) if side)
            kept.append(Restriction(factor, low if lower else float(initial[factor].iloc[0]),
                                    high if upper else float(initial[factor].iloc[1]), lower, upper, float(p)))
    return tuple(sorted(kept, key=lambda r: (r.p_value, r.factor)))


def discovery_table(boxes: list[Box]) -> pd.DataFrame:
    """``COLUMNS``: one row per restricted factor of each box (a box without one: one row, no factor)."""
    rows = []
    for b in boxes:
        for r in b.restrictions or (None,):
            rows.append({"box": b.label, "coverage": b.coverage, "density": b.density,
                         "factor": r.factor if r else "", "low": r.low if r else np.nan,
                         "high": r.high if r else np.nan})
    return pd.DataFrame(rows, columns=COLUMNS)


def where(box: Box) -> str:
    """The box's region in words: its strongest restrictions."""
    parts = [r.words() for r in box.restrictions[:SHOWN]]
    more = len(box.restrictions) - SHOWN
    text = " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 2 else parts)
    return text + (f" (and {more} more restriction{'s' if more > 1 else ''})" if more > 0 else "")


@dataclass(frozen=True)
class Question:
    """A yes/no question about design points, named both ways: ``label`` for boxes (``"A beats B"``),
    ``phrase`` to complete "... in x% of the combinations" (a sentence's start, as it is to be
    printed: names of options are not capitalised), and the same for the opposite answer."""

    label: str
    phrase: str
    opposite_label: str
    opposite_phrase: str


def discover(x: pd.DataFrame, y: np.ndarray, question: Question, boxes: int = 1) -> tuple[list[Box], str]:
    """PRIM's boxes for the rarer answer to ``question`` (the yes-cases ``y``, or, where they are the
    majority, the no-cases: where the other answer holds is then the news), with a reading."""
    y = np.asarray(y, dtype=bool)
    n = len(y)
    if n and y.mean() > 0.5:
        found = find_boxes(x, ~y, question.opposite_label, boxes)
        head = f"{question.phrase} in {y.mean():.0%} of the {n:,} combinations of inputs"
        return found, head + " sampled. " + _where(found[0], question.opposite_phrase, "the other")
    found = find_boxes(x, y, question.label, boxes)
    return found, _where(found[0], question.phrase, "")


def _where(box: Box, phrase: str, other: str) -> str:
    """``phrase`` in x% of the points, mostly where ...: the box in words."""
    if box.cases == 0:
        return f"{phrase} in none of the {box.points:,} combinations of inputs sampled."
    share = f"{box.share:.0%}" if not other else f"{other} {box.share:.0%}"
    head = f"{phrase} in {share} of the {box.points:,} combinations of inputs sampled"
    if not box.restrictions:
        return head + "; no region stands out (no restriction passes PRIM's quasi-p test at 5%)."
    return (f"{head}, mostly where {where(box)}: {box.coverage:.0%} of those combinations lie in that region "
            f"(coverage), and within it the share is {box.density:.0%} (density).")
