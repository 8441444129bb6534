"""Simulate blocks of worlds under every option of a plan and reduce each block to statistics.

The unit of work is a *chunk*: a run of whole blocks of ``BLOCK`` worlds, simulated under
every requested option (common random numbers: the same worlds under each option). A
chunk is reduced to per-block statistics (integer counts and float sums) that merge
exactly (``totals.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulator.model.model import CeasefireModel
from simulator.runs.plan import DEFAULT_BLOCKS_PER_CHUNK, Plan
from simulator.runs.totals import ChunkResult
from simulator.scenario.outcomes import (COLLAPSES, HOLDING, PAIR_SQUARES, PAIR_SUM, WORLDS, all_outcomes,
                                         paired_outcomes)


def world_measures(outcomes: pd.DataFrame, horizon: int) -> dict[str, np.ndarray]:
    """One number per world for every outcome compared world by world, from a model's world table."""
    return {o.name: o.measure(outcomes, horizon) for o in all_outcomes() if o.measure is not None}


def block_statistics(per_option: dict[str, dict[str, np.ndarray]], frames: dict[str, pd.DataFrame],
                     options: Sequence[str], horizon: int) -> dict[str, np.ndarray]:
    """Sums over one block of worlds, one row per option, that add up across blocks and chunks.

    ``per_option`` holds each option's ``world_measures`` and ``frames`` its world table. The
    statistics are named: those every run keeps (``simulator.scenario.outcomes.SHARED_STATISTICS``:
    worlds, collapses by month, ceasefires still holding, paired differences) and each
    outcome's own counts, by the outcome's name.
    """
    k = len(options)
    stats: dict[str, np.ndarray] = {WORLDS: np.zeros(k, dtype=np.int64),
                                    COLLAPSES: np.zeros((k, horizon + 1), dtype=np.int64),
                                    HOLDING: np.zeros(k, dtype=np.int64)}
    counts: dict[str, list[int | float]] = {}
    for i, opt in enumerate(options):
        worlds, measures = frames[opt], per_option[opt]
        month = worlds["collapse_month"].to_numpy(dtype=np.int64, na_value=-1)
        stats[WORLDS][i] = len(worlds)
        stats[COLLAPSES][i] = np.bincount(month[month >= 0], minlength=horizon + 1)[: horizon + 1]
        stats[HOLDING][i] = int((month < 0).sum())
        for o in all_outcomes():
            for name, value in o.tally.count(o.name, worlds, measures.get(o.name)).items():
                counts.setdefault(name, []).append(value)
    stats.update({name: np.array(values) for name, values in counts.items()})
    # Paired differences, world by world, between every ordered pair of options.
    names = [o.name for o in paired_outcomes()]
    m = np.stack([np.stack([per_option[opt][name] for name in names]) for opt in options])  # (k, Q, n)
    d = m[:, None] - m[None, :]
    stats[PAIR_SUM] = d.sum(axis=-1)
    stats[PAIR_SQUARES] = (d * d).sum(axis=-1)
    return stats


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
        result.stats[block] = block_statistics(meas, sub, plan.options, plan.horizon)
    if keep_worlds:
        result.worlds = pd.concat(
            [frames[opt].assign(option=opt) for opt in plan.options], ignore_index=True)
    return result


def run_sequential(plan: Plan, blocks_per_chunk: int = DEFAULT_BLOCKS_PER_CHUNK,
                   keep_worlds: bool = False) -> ChunkResult:
    """Simulate the whole plan in this process, chunk after chunk, keeping every block's statistics.

    The plain reference path: ``totals`` of its result is what every engine must reproduce.
    """
    merged = ChunkResult()
    for first, end in plan.chunks(blocks_per_chunk):
        merged.merge(simulate_blocks(plan, first, end, keep_worlds))
    return merged
