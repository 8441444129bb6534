"""What to run: a scenario's options over numbered worlds, with a seed and a horizon.

A ``Plan`` is everything that determines the figures of a run. Worlds are numbered and grouped
into blocks of ``BLOCK`` worlds; a block is the smallest unit whose statistics are kept, so
the figures do not depend on how blocks are later grouped into chunks of work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.errors import UsageError, did_you_mean, whole_number
from simulator.scenario.load import MAX_HORIZON_MONTHS, Scenario

BLOCK = 4096
# Blocks simulated together in one unit of work. Eight keeps 10^7 worlds of six options on two
# workers under 1 GiB of resident memory (benchmarks/README.md) at no cost in speed.
DEFAULT_BLOCKS_PER_CHUNK = 8
MAX_WORLDS = 10**9


@dataclass(frozen=True)
class Plan:
    """What to run: scenario, options (baseline first), worlds, seed and horizon, all resolved."""

    scenario: Scenario
    options: tuple[str, ...]
    worlds: int
    seed: int
    horizon: int

    def blocks(self) -> int:
        """How many blocks of ``BLOCK`` worlds the plan covers (the last one may be partial)."""
        return math.ceil(self.worlds / BLOCK)

    def block_range(self, block: int) -> tuple[int, int]:
        """The first world of ``block`` and the world after its last."""
        start = block * BLOCK
        return start, min(self.worlds, start + BLOCK)

    def chunks(self, blocks_per_chunk: int) -> list[tuple[int, int]]:
        """Chunks as (first block, end block) pairs, each of whole blocks."""
        n = self.blocks()
        return [(b, min(n, b + blocks_per_chunk)) for b in range(0, n, blocks_per_chunk)]


def make_plan(scenario: Scenario, options: Sequence[str] | None = None, worlds: int | None = None,
              seed: int | None = None, horizon_months: int | None = None) -> Plan:
    """Resolve defaults from the scenario and check arguments: the baseline first, then the other options.

    Raises:
        UsageError: an unknown option, or worlds, seed or horizon out of range.
    """
    if options:
        for name in options:
            if name not in scenario.options:
                raise UsageError(f"{scenario.path}: no option named '{name}'; "
                                 f"{did_you_mean(name, scenario.options)}")
        chosen = list(dict.fromkeys(options))
    else:
        chosen = list(scenario.options)
    if scenario.baseline in chosen:
        chosen.remove(scenario.baseline)
    chosen.insert(0, scenario.baseline)  # differences are always against the baseline
    worlds = whole_number("worlds", scenario.worlds if worlds is None else worlds, high=MAX_WORLDS)
    horizon = whole_number("horizon", scenario.horizon_months if horizon_months is None else horizon_months,
                           high=MAX_HORIZON_MONTHS)
    seed = whole_number("seed", scenario.seed if seed is None else seed, low=0)
    return Plan(scenario=scenario, options=tuple(chosen), worlds=worlds, seed=seed, horizon=horizon)
