"""Block statistics merged into exact totals, whatever the order in which blocks arrive.

A chunk of worlds is reduced to per-block statistics (integer counts and float sums).
Blocks are disjoint, so chunks merge by putting their blocks together. The totals add
integers in int64 and floats exactly rounded (``math.fsum`` in block order, or the
equivalent fixed-point sum of ``ExactTotals``), so they are the same, bit for bit, however
the worlds were split into chunks, processes or machines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulator.runs.plan import Plan

Stats = dict[int, dict[str, np.ndarray]]  # stats[block][name]

# x = m * 2**e with 0.5 <= |m| < 1: x * 2**1074 = (m * 2**53) * 2**(e + 1021), an integer
_SHIFT = 1021
_DENOMINATOR = 1 << 1074


@dataclass
class ChunkResult:
    """Statistics of some blocks: ``stats[block][name]`` arrays, plus optional per-world rows."""

    stats: Stats = field(default_factory=dict)
    worlds: pd.DataFrame | None = None

    def merge(self, other: ChunkResult) -> ChunkResult:
        """Add another chunk's blocks to this one (each block may be counted only once)."""
        overlap = set(self.stats) & set(other.stats)
        if overlap:
            raise ValueError(f"blocks {sorted(overlap)[:5]} were counted twice")
        self.stats.update(other.stats)
        if other.worlds is not None:
            self.worlds = other.worlds if self.worlds is None else pd.concat([self.worlds, other.worlds])
        return self


def totals(plan: Plan, merged: ChunkResult) -> dict[str, np.ndarray]:
    """Add block statistics in block order: integers exactly, floats with ``math.fsum``."""
    missing = [b for b in range(plan.blocks()) if b not in merged.stats]
    if missing:
        raise RuntimeError(f"{len(missing)} blocks of worlds were not simulated (first: {missing[0]})")
    blocks = [merged.stats[b] for b in range(plan.blocks())]
    out: dict[str, np.ndarray] = {}
    for key in blocks[0]:
        stacked = np.stack([blk[key] for blk in blocks])
        if np.issubdtype(stacked.dtype, np.integer):
            out[key] = stacked.sum(axis=0)
        else:
            flat = stacked.reshape(len(blocks), -1)
            out[key] = np.array([math.fsum(flat[:, c]) for c in range(flat.shape[1])]).reshape(stacked.shape[1:])
    return out


class ExactTotals:
    """Block statistics added as they arrive, in any order, to exactly ``totals``.

    Integers are added in int64, as ``totals`` does. Every finite float is an integer
    multiple of 2**-1074, so float sums are kept exactly as Python integers in those units and
    rounded once at the end (Python's int division rounds correctly, half to even): the same
    number as ``math.fsum`` over the blocks in block order, which is exactly rounded too.
    Non-finite values (NaN for a hold month beyond the horizon) propagate as in ``fsum``.
    Memory: a few kilobytes plus a byte per block, however many blocks are added.
    """

    def __init__(self, n_blocks: int) -> None:
        self.n_blocks = int(n_blocks)
        self.seen = np.zeros(self.n_blocks, bool)
        self._shape: dict[str, tuple[int, ...]] = {}
        self._ints: dict[str, np.ndarray] = {}
        self._fixed: dict[str, list[int]] = {}
        self._special: dict[str, np.ndarray] = {}

    def add(self, block: int, stats: dict[str, np.ndarray]) -> None:
        """Count one block's statistics (each block once)."""
        if not 0 <= block < self.n_blocks:
            raise ValueError(f"block {block} is outside the plan's {self.n_blocks} blocks")
        if self.seen[block]:
            raise ValueError(f"block {block} was counted twice")
        for key, value in stats.items():
            arr = np.asarray(value)
            if key not in self._shape:
                self._shape[key] = arr.shape
                if np.issubdtype(arr.dtype, np.integer):
                    self._ints[key] = np.zeros(arr.shape, dtype=np.int64)
                else:
                    self._fixed[key] = [0] * arr.size
                    self._special[key] = np.zeros(arr.size)
            elif arr.shape != self._shape[key]:
                raise ValueError(f"block {block}: '{key}' has shape {arr.shape}, expected {self._shape[key]}")
            if key in self._ints:
                self._ints[key] += arr.astype(np.int64, copy=False)
                continue
            flat = arr.astype(np.float64, copy=False).ravel()
            finite = np.isfinite(flat)
            if not finite.all():
                self._special[key] += np.where(finite, 0.0, flat)
                flat = np.where(finite, flat, 0.0)
            mantissa, exponent = np.frexp(flat)
            units = (mantissa * 2.0**53).astype(np.int64).tolist()
            shifts = (exponent.astype(np.int64) + _SHIFT).tolist()
            acc = self._fixed[key]
            for c, (m, s) in enumerate(zip(units, shifts)):
                if m:
                    acc[c] += m << s if s >= 0 else m >> -s  # exact: subnormals have the trailing zeros
        self.seen[block] = True

    def add_chunk(self, stats: Stats) -> None:
        """Count every block of a chunk."""
        for block in sorted(stats):
            self.add(block, stats[block])

    def missing(self) -> list[int]:
        """Blocks not counted yet."""
        return np.flatnonzero(~self.seen).tolist()

    def totals(self) -> dict[str, np.ndarray]:
        """The exact totals of all blocks (every block must have been counted)."""
        missing = self.missing()
        if missing:
            raise RuntimeError(f"{len(missing)} blocks of worlds were not simulated (first: {missing[0]})")
        out: dict[str, np.ndarray] = {}
        for key, shape in self._shape.items():
            if key in self._ints:
                out[key] = self._ints[key].copy()
                continue
            special = self._special[key]
            values = [float(sp) if sp != 0.0 or math.isnan(sp) else exact / _DENOMINATOR
                      for exact, sp in zip(self._fixed[key], special.tolist())]
            out[key] = np.array(values, dtype=np.float64).reshape(shape)
        return out
