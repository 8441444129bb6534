"""Design points on replicated worlds: the probabilities of two options at fixed inputs.

A design point fixes every factor (``overrides``) and runs ``worlds`` worlds of each option, which
then differ only in the model's own dice (probes, answers, incidents, restarts, vetoes ...). Its
measures are shares of those worlds: the chance of a deal, of holding 12 and 36 months, of a
direct clash, under each option, and the paired difference of holding at 36 months (world by
world, on common random numbers).

The dice of a design point come from its seed, and its seed from the ``DICE`` factor: design
points that share that quantile share their dice. In a Saltelli design the points that change
one real factor keep the dice of the point they change, so a factor that cannot act gives the
same numbers exactly and scores 0, and the dice do not leak into any factor's index; the
``DICE`` factor's own index is the share of the variance that the dice of ``worlds`` worlds
still carry.

Every point is a pure function of its inputs, its seed and the scenario, so the numbers are the
same whatever the engine, its workers or how the points are batched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.errors import UsageError
from simulator.explore.factors import Factor, overrides
from simulator.model.model import CeasefireModel
from simulator.scenario.load import Scenario
from simulator.scenario.outcomes import outcome_named

OUTCOMES = ("agreed", "hold_12", "hold_36", "direct_clash")  # measured under each option
PAIRED = "hold_36"  # and compared world by world: A - B
BATCH = 16  # design points per task (the numbers do not depend on it)
SEED_LEVELS = 2**32  # distinct dice a design can hold


def measure_names(options: Sequence[str]) -> list[str]:
    """The measures of two options: ``outcome:option`` for each, then ``hold_36:A-B``."""
    return [f"{o}:{opt}" for opt in options for o in OUTCOMES] + [f"{PAIRED}:{options[0]}-{options[1]}"]


def point_seed(seed: int, dice: float) -> int:
    """The seed of a design point's worlds: from the run's seed and the point's ``DICE`` quantile."""
    level = min(int(float(dice) * SEED_LEVELS), SEED_LEVELS - 1)
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32, level]).generate_state(
        1, dtype=np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True)
class Batch:
    """Design points to run in one task: the seed and each option's overrides, point by point."""

    scenario: Scenario
    options: tuple[str, ...]
    worlds: int
    horizon: int
    seeds: tuple[int, ...]
    overrides: tuple[tuple[dict[str, Any], ...], ...]  # [point][option]


def option_worlds(scenario: Scenario, option: str, worlds: int, horizon: int, seed: int,
                  settings: dict[str, Any]) -> dict[str, np.ndarray]:
    """One option at fixed inputs: each of ``OUTCOMES`` world by world (1 or 0; NaN past the horizon)."""
    model = CeasefireModel(scenario, option, worlds=worlds, rng=seed, horizon_months=horizon, collect=False,
                           overrides=settings)
    frame = model.run().outcomes()
    return {name: outcome_named(name).measure(frame, horizon) for name in OUTCOMES}


def run_point(scenario: Scenario, options: Sequence[str], worlds: int, horizon: int, seed: int,
              settings: Sequence[dict[str, Any]]) -> np.ndarray:
    """The measures (``measure_names``) of one design point."""
    per_world = [option_worlds(scenario, option, worlds, horizon, seed, values)
                 for option, values in zip(options, settings, strict=True)]
    out = [float(np.mean(m[name])) for m in per_world for name in OUTCOMES]
    out.append(float(np.mean(per_world[0][PAIRED] - per_world[1][PAIRED])))
    return np.array(out)


def run_batch(batch: Batch) -> np.ndarray:
    """Every point of a batch: one row of measures per point."""
    return np.stack([run_point(batch.scenario, batch.options, batch.worlds, batch.horizon, seed, settings)
                     for seed, settings in zip(batch.seeds, batch.overrides, strict=True)])


@dataclass(frozen=True)
class DesignRunner:
    """Runs rows of quantiles (one column per factor, then ``DICE``) as design points of two options."""

    scenario: Scenario
    options: tuple[str, str]
    factors: tuple[Factor, ...]
    worlds: int
    seed: int
    horizon: int

    def __post_init__(self) -> None:
        if self.horizon < 36:
            raise UsageError(f"explore measures holding at 36 months; the horizon is {self.horizon} months: "
                             "give a horizon of at least 36 months")

    def batches(self, u: np.ndarray) -> list[Batch]:
        """The tasks for rows ``u``, ``BATCH`` points each."""
        k = len(self.factors)
        if u.ndim != 2 or u.shape[1] != k + 1:
            raise ValueError(f"expected rows of {k + 1} quantiles (factors and dice), got shape {u.shape}")
        settings = [overrides(self.factors, i, u[:, :k]) for i in range(len(self.options))]
        seeds = [point_seed(self.seed, d) for d in u[:, k]]
        out = []
        for start in range(0, u.shape[0], BATCH):
            rows = range(start, min(u.shape[0], start + BATCH))
            out.append(Batch(self.scenario, self.options, self.worlds, self.horizon,
                             tuple(seeds[r] for r in rows),
                             tuple(tuple(s[r] for s in settings) for r in rows)))
        return out

    def run(self, u: np.ndarray, engine: Any = None, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """The measures of every row of ``u``: an array of rows by ``measure_names``."""
        from simulator.explore.tasks import map_tasks

        batches = self.batches(u)
        if not batches:
            return np.zeros((0, len(measure_names(self.options))))
        return np.concatenate(map_tasks(run_batch, batches, engine, progress))
