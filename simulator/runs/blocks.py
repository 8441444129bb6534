"""Run the options of a scenario over blocks of worlds and reduce them to mergeable counts.

The unit of work is a *chunk*: a run of whole blocks of ``BLOCK`` worlds, simulated under
every requested option (common random numbers: the same worlds under each option). A
chunk is reduced to per-block statistics (integer counts and float sums). Blocks are
disjoint, so chunks merge by putting their blocks together, and the final figures add
block sums in block order with ``math.fsum`` (exactly rounded): the answer is the same,
bit for bit, however the worlds were split into chunks, processes or machines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulator.model.model import CeasefireModel
from simulator.scenario.load import Scenario

BLOCK = 4096
# Blocks simulated together in one unit of work. Eight keeps 10^7 worlds of six options on two
# workers under 1 GiB of resident memory (benchmarks/README.md) at no cost in speed.
DEFAULT_BLOCKS_PER_CHUNK = 8
HOLD_MONTHS = (12, 24, 36)
# Per-world measures whose paired differences between options are reported.
MEASURES = ("agreed", "hold_12", "hold_24", "hold_36", "hold_horizon", "months_held",
            "direct_clash", "aid_bn", "troops")


@dataclass(frozen=True)
class Plan:
    """What to run: scenario, options, worlds, seed and horizon (all resolved)."""

    scenario: Scenario
    options: tuple[str, ...]
    worlds: int
    seed: int
    horizon: int

    def blocks(self) -> int:
        return math.ceil(self.worlds / BLOCK)

    def block_range(self, block: int) -> tuple[int, int]:
        start = block * BLOCK
        return start, min(self.worlds, start + BLOCK)

    def chunks(self, blocks_per_chunk: int) -> list[tuple[int, int]]:
        """Chunks as (first block, end block) pairs, each of whole blocks."""
        n = self.blocks()
        return [(b, min(n, b + blocks_per_chunk)) for b in range(0, n, blocks_per_chunk)]


@dataclass
class ChunkResult:
    """Statistics of some blocks: ``stats[block][name]`` arrays, plus optional per-world rows."""

    stats: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    worlds: pd.DataFrame | None = None

    def merge(self, other: "ChunkResult") -> "ChunkResult":
        overlap = set(self.stats) & set(other.stats)
        if overlap:
            raise ValueError(f"blocks {sorted(overlap)[:5]} were counted twice")
        self.stats.update(other.stats)
        if other.worlds is not None:
            self.worlds = other.worlds if self.worlds is None else pd.concat([self.worlds, other.worlds])
        return self


def world_measures(outcomes: pd.DataFrame, horizon: int) -> dict[str, np.ndarray]:
    """Per-world measures from a model's outcomes (a world that never agreed never holds)."""
    collapsed = outcomes["collapsed"].to_numpy()
    month = outcomes["collapse_month"].to_numpy(dtype=float, na_value=np.inf)
    out: dict[str, np.ndarray] = {
        "agreed": outcomes["agreed"].to_numpy(dtype=float),
        "months_held": np.where(collapsed, month, horizon).astype(float),
        "direct_clash": outcomes["direct_clash"].to_numpy(dtype=float),
        "aid_bn": outcomes["aid_bn"].to_numpy(dtype=float),
        "troops": outcomes["troops_deployed"].to_numpy(dtype=float),
    }
    for m in HOLD_MONTHS:
        out[f"hold_{m}"] = (month > m).astype(float) if m <= horizon else np.full(len(month), np.nan)
    out["hold_horizon"] = (month > horizon).astype(float)
    return out


def _block_stats(per_option: dict[str, dict[str, np.ndarray]], frames: dict[str, pd.DataFrame],
                 options: Sequence[str], horizon: int) -> dict[str, np.ndarray]:
    k = len(options)
    events = np.zeros((k, horizon + 1), dtype=np.int64)
    ints = np.zeros((k, 6), dtype=np.int64)  # n, agreed, clash, censored, challenger, defender
    floats = np.zeros((k, 3))  # aid, troops, months held
    for i, opt in enumerate(options):
        o, meas = frames[opt], per_option[opt]
        month = o["collapse_month"].to_numpy(dtype=np.int64, na_value=-1)
        events[i] = np.bincount(month[month >= 0], minlength=horizon + 1)[: horizon + 1]
        init = o["initiator"].astype(str).to_numpy()
        ints[i] = (len(o), int(o["agreed"].sum()), int(o["direct_clash"].sum()), int((month < 0).sum()),
                   int((init == "challenger").sum()), int((init == "defender").sum()))
        floats[i] = (meas["aid_bn"].sum(), meas["troops"].sum(), meas["months_held"].sum())
    # Paired differences, world by world, between every ordered pair of options.
    m = np.stack([np.stack([per_option[opt][name] for name in MEASURES]) for opt in options])  # (k, Q, n)
    d = m[:, None] - m[None, :]
    pair_sum = d.sum(axis=-1)
    pair_sq = (d * d).sum(axis=-1)
    return {"events": events, "ints": ints, "floats": floats, "pair_sum": pair_sum, "pair_sq": pair_sq}


def simulate_blocks(plan: Plan, first_block: int, end_block: int, keep_worlds: bool = False) -> ChunkResult:
    """Simulate blocks ``[first_block, end_block)`` under every option of the plan."""
    result = ChunkResult()
    start, _ = plan.block_range(first_block)
    _, stop = plan.block_range(end_block - 1)
    frames: dict[str, pd.DataFrame] = {}
    for opt in plan.options:
        model = CeasefireModel(plan.scenario, opt, worlds=stop - start, rng=plan.seed, first_world=start,
                               horizon_months=plan.horizon, collect=False)
        model.run()
        frames[opt] = model.outcomes()
        del model
    for block in range(first_block, end_block):
        b0, b1 = plan.block_range(block)
        sl = slice(b0 - start, b1 - start)
        sub = {opt: frames[opt].iloc[sl] for opt in plan.options}
        meas = {opt: world_measures(sub[opt], plan.horizon) for opt in plan.options}
        result.stats[block] = _block_stats(meas, sub, plan.options, plan.horizon)
    if keep_worlds:
        result.worlds = pd.concat(
            [frames[opt].assign(option=opt) for opt in plan.options], ignore_index=True)
    return result


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


def run_sequential(plan: Plan, blocks_per_chunk: int = DEFAULT_BLOCKS_PER_CHUNK, keep_worlds: bool = False,
                   progress: Iterable[int] | None = None) -> ChunkResult:
    """Simulate the whole plan in this process, chunk after chunk."""
    merged = ChunkResult()
    for first, end in plan.chunks(blocks_per_chunk):
        merged.merge(simulate_blocks(plan, first, end, keep_worlds))
        if progress is not None:
            progress.update(end - first)  # type: ignore[attr-defined]
    return merged
