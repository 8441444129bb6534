"""``explore``: which inputs decide two options' outcomes, and where each one wins.

1. The factors: every uncertain parameter of the two options and the calibrated constants
   (``factors.py``), plus ``DICE``, the model's own dice.
2. A design over their quantiles (SALib: Sobol' or Morris, ``sensitivity.py``), each point run on
   ``replicates`` worlds of both options (``evaluate.py``) through an engine (``tasks.py``).
3. Indices of each measure (``sensitivity.csv``), then PRIM on the design points for two
   questions (``discovery.py``): does A hold 36 months more often than B, and is A's ceasefire
   more likely than not to hold 36 months?

Everything is determined by the seed: the design, the dice of every point, SALib's bootstrap
and PRIM (which draws nothing), whatever the engine and its workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import UsageError, whole_number
from simulator.explore.discovery import Box, Question, discover, discovery_table, ema_prim
from simulator.explore.evaluate import PAIRED, DesignRunner, measure_names, point_seed
from simulator.explore.factors import DICE, Factor, uncertain_factors
from simulator.explore.sensitivity import DEFAULT_SAMPLES, indices, salib
from simulator.runs.engines import Engine
from simulator.scenario.load import Scenario, load_scenario

# Worlds per design point by default: the model's dice then carry a few percent of a measure's
# variance (the DICE factor's index says how much), at little more cost than 128 worlds, since
# a model's time goes mostly into its months, not its worlds.
DEFAULT_REPLICATES = 512
HOLD_THRESHOLD = 0.5  # "holds 36 months": more likely than not
MAX_REPLICATES = 1_000_000
SHOWN = 3  # factors a reading names


@dataclass
class Exploration:
    """What ``explore`` found. ``design`` has one row per design point: ``point``, the seed of its
    worlds, each factor's value (``actor.parameter``, ``constants.NAME``) and each measure."""

    scenario: Scenario
    options: tuple[str, str]
    method: str
    samples: int
    replicates: int
    seed: int
    horizon: int
    factors: tuple[Factor, ...]
    design: pd.DataFrame
    sensitivity: pd.DataFrame
    boxes: list[Box]
    discovery: pd.DataFrame
    readings: list[str]
    hold_threshold: float
    seconds: dict[str, float] = field(default_factory=dict)
    engine: dict[str, Any] = field(default_factory=dict)

    @property
    def measures(self) -> list[str]:
        return measure_names(self.options)


def two_options(scenario: Scenario, options: Sequence[str] | str) -> tuple[str, str]:
    """The two options to compare, checked against the scenario."""
    names = [o.strip() for o in options.split(",")] if isinstance(options, str) else list(options)
    if len(names) != 2 or not all(names) or names[0] == names[1]:
        raise UsageError(f"explore compares two different options, e.g. --options nato_membership,peacekeepers; "
                         f"got {','.join(names) or 'none'}")
    for name in names:
        scenario.option(name)  # unknown: a ScenarioError naming the closest option
    return names[0], names[1]


def explore(scenario: Scenario | str | Path, options: Sequence[str] | str, *, method: str = "sobol",
            samples: int | None = None, replicates: int | None = None, seed: int | None = None,
            engine: Engine | None = None, progress: Callable[[int, int], None] | None = None,
            posterior_file: str | Path | None = None, hold_threshold: float = HOLD_THRESHOLD) -> Exploration:
    """Sensitivity indices and discovery boxes for two options of a scenario (docs/explore.md).

    Args:
        scenario: a loaded scenario, a scenario file or a built-in scenario's name.
        options: the two options, A and B (a list, or ``"A,B"``).
        method: ``"sobol"`` (default) or ``"morris"``.
        samples: Sobol' base rows (a power of two) or Morris trajectories (default: 128 or 64).
        replicates: worlds per design point (default 512).
        seed: the seed of the design, the dice and the bootstrap (default: the scenario's).
        engine: ``Sequential()`` (default), ``Processes(workers=K)`` or ``Dask(...)``.
        progress: called with (batches done, batches) as design points finish.
        posterior_file: the draws that set the constants' ranges (default: those geosim ships, if any).
        hold_threshold: the chance of holding 36 months above which A's ceasefire "holds".
    """
    t0 = time.perf_counter()
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    pair = two_options(sc, options)
    samples = DEFAULT_SAMPLES.get(method, 0) if samples is None else samples
    replicates = whole_number("replicates", DEFAULT_REPLICATES if replicates is None else replicates,
                              high=MAX_REPLICATES)
    seed = whole_number("seed", sc.seed if seed is None else seed, low=0)
    if not 0 < hold_threshold < 1:
        raise UsageError(f"hold_threshold must be a probability strictly between 0 and 1, got {hold_threshold!r}")
    salib(), ema_prim()  # a missing extra is said now, not after minutes of simulation
    factors = tuple(uncertain_factors(sc, pair, posterior_file))
    names = [f.name for f in factors] + [DICE]
    runner = DesignRunner(sc, pair, factors, replicates, seed, sc.horizon_months)
    seconds: dict[str, float] = {}
    measures = measure_names(pair)
    quantile_rows: list[np.ndarray] = []

    def evaluate(u: np.ndarray) -> dict[str, np.ndarray]:
        quantile_rows.append(u)
        t = time.perf_counter()
        values = runner.run(u, engine, progress)
        seconds["simulate"] = time.perf_counter() - t
        return {m: values[:, j] for j, m in enumerate(measures)}

    table, _, results = indices(names, evaluate, method, samples, seed)
    u = quantile_rows[0]
    design = pd.DataFrame({"point": np.arange(len(u)), "seed": [point_seed(seed, d) for d in u[:, -1]]})
    for j, f in enumerate(factors):
        design[f.name] = f.shown(u[:, j])
    for m in measures:
        design[m] = results[m]

    t = time.perf_counter()
    a, b = pair
    x = design[[f.name for f in factors]]
    beats, beats_text = discover(x, design[f"{PAIRED}:{a}-{b}"].to_numpy() > 0, Question(
        f"{a} beats {b}", f"{a} holds 36 months more often than {b}",
        f"{a} does not beat {b}", f"{b} holds 36 months at least as often as {a}"))
    holds, holds_text = discover(x, design[f"{PAIRED}:{a}"].to_numpy() > hold_threshold, Question(
        f"{a} holds 36 months", f"Under {a} the ceasefire is more likely than not to hold 36 months (a chance "
        f"above {hold_threshold:.0%})", f"{a} does not hold 36 months",
        f"The chance of holding 36 months under {a} is {hold_threshold:.0%} or less"))
    seconds["discovery"] = time.perf_counter() - t
    boxes = beats + holds
    readings = sensitivity_readings(table, pair, method, replicates) + [beats_text, holds_text]
    seconds["total"] = time.perf_counter() - t0
    described = engine.describe() if engine is not None else {"engine": "sequential", "workers": 1}
    return Exploration(sc, pair, method, samples, replicates, seed, sc.horizon_months, factors, design, table,
                       boxes, discovery_table(boxes), readings, hold_threshold, seconds, described)


def sensitivity_readings(table: pd.DataFrame, options: tuple[str, str], method: str, replicates: int) -> list[str]:
    """What decides each option's chance of holding 36 months, and their difference, in words."""
    a, b = options
    out = []
    for measure, what in ((f"{PAIRED}:{a}-{b}", f"the difference in holding at 36 months, {a} minus {b}"),
                          (f"{PAIRED}:{a}", f"the chance of holding 36 months under {a}"),
                          (f"{PAIRED}:{b}", f"the chance of holding 36 months under {b}")):
        rows = table[table["measure"] == measure]
        real = rows[rows["factor"] != DICE].sort_values("ST", ascending=False)
        if real["ST"].isna().all():
            out.append(f"{what[0].upper()}{what[1:]} does not vary across the inputs sampled.")
            continue
        if method == "sobol":
            # an index lies in [0, 1]; its estimate may stray outside by sampling error, its interval is cut there
            named = "; ".join(f"{r.factor} {r.ST:.2f} ({min(max(r.ST - r.ST_conf, 0), 1):.2f} to "
                              f"{min(max(r.ST + r.ST_conf, 0), 1):.2f})" for r in real.head(SHOWN).itertuples())
            dice = rows[rows["factor"] == DICE]["ST"].iloc[0]
            out.append(f"What decides {what}: {named} (total-order Sobol' indices, 95% intervals). The model's own "
                       f"dice over {replicates:,} worlds per point carry {dice:.1%} of its variance.")
        else:
            named = "; ".join(f"{r.factor} {r.ST:.3f}" for r in real.head(SHOWN).itertuples())
            dice = rows[rows["factor"] == DICE]["ST"].iloc[0]
            out.append(f"What moves {what} most: {named} (Morris mu*: the mean change when the factor moves by half "
                       f"its quantile range). The model's own dice over {replicates:,} worlds move it by {dice:.3f}.")
    return out
