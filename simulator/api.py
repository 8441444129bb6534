"""The Python API for ensembles: ``run`` a scenario's options and get ``Results``."""

from __future__ import annotations

import difflib
import platform
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from simulator.runs.blocks import BLOCK, DEFAULT_BLOCKS_PER_CHUNK, Plan
from simulator.errors import UsageError
from simulator.analysis.results import Results, finalize
from simulator.scenario.load import Scenario, load_scenario
from simulator.model.streams import MAX_MONTHS

PACKAGES = ("geosim", "mesa", "numpy", "pandas", "scipy", "lifelines", "pydantic", "matplotlib")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[name] = "not installed"
    return out


def _check_positive(name: str, value: Any, limit: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UsageError(f"{name} must be a positive whole number, got {value!r}")
    if limit is not None and value > limit:
        raise UsageError(f"{name} must be at most {limit:,}, got {value:,}")
    return value


def make_plan(scenario: Scenario, options: Sequence[str] | None = None, worlds: int | None = None,
              seed: int | None = None, horizon_months: int | None = None) -> Plan:
    """Resolve defaults and check arguments: the baseline first, then the other options."""
    if options:
        for name in options:
            if name not in scenario.options:
                hint = difflib.get_close_matches(name, list(scenario.options), n=1)
                fix = f"did you mean '{hint[0]}'?" if hint else "choose from: " + ", ".join(scenario.options)
                raise UsageError(f"{scenario.path}: no option named '{name}'; {fix}")
        chosen = list(dict.fromkeys(options))
    else:
        chosen = list(scenario.options)
    if scenario.baseline in chosen:
        chosen.remove(scenario.baseline)
    chosen.insert(0, scenario.baseline)  # differences are always against the baseline
    worlds = _check_positive("worlds", scenario.worlds if worlds is None else worlds, 10**9)
    horizon = _check_positive("horizon", scenario.horizon_months if horizon_months is None else horizon_months,
                              MAX_MONTHS)
    seed = scenario.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"seed must be a whole number of at least 0, got {seed!r}")
    return Plan(scenario=scenario, options=tuple(chosen), worlds=worlds, seed=seed, horizon=horizon)


def run(scenario: Scenario | str | Path, options: Sequence[str] | None = None, worlds: int | None = None,
        seed: int | None = None, horizon_months: int | None = None, progress: bool = True,
        keep_worlds: bool | None = None, blocks_per_chunk: int = DEFAULT_BLOCKS_PER_CHUNK, *, workers: int = 1,
        dask: bool = False, scheduler: str | None = None, checkpoint_dir: str | Path | None = None,
        resume: bool = False, keep_checkpoints: bool = False, worlds_path: str | Path | None = None,
        on_chunk: Callable[[Any], None] | None = None) -> Results:
    """Run options of a scenario on common random numbers and summarise them.

    The figures are identical, bit for bit, whatever ``blocks_per_chunk``, ``workers`` or engine.

    Args:
        scenario: a loaded scenario or a path to a scenario file.
        options: option names (default: all); the baseline is always included, first.
        worlds, seed, horizon_months: override the scenario's values.
        progress: show a progress bar on a terminal for runs longer than a second.
        keep_worlds: keep per-world outcomes in ``Results.worlds``, ordered by option then world
            (default: up to 200,000 worlds, unless ``worlds_path`` is given).
        blocks_per_chunk: blocks of 4,096 worlds simulated together (memory vs overhead).
        workers: local worker processes (1: run in this process). Worker processes import the
            calling script's main module, so a script must call ``run`` under
            ``if __name__ == "__main__":`` (notebooks and the ``geosim`` command need nothing).
        dask: run on Dask: an embedded local cluster of ``workers`` processes, or ``scheduler``.
        scheduler: address of a running Dask scheduler (``tcp://HOST:PORT``); implies ``dask``.
        checkpoint_dir: save each finished chunk here, so that an interrupted run can resume.
        resume: reuse the valid checkpoints in ``checkpoint_dir``.
        keep_checkpoints: leave ``checkpoint_dir`` in place after the run (default: remove it).
        worlds_path: stream per-world outcomes, chunk by chunk, to this Parquet file (not kept in memory).
        on_chunk: called with a ``parallel.ChunkEvent`` in this process whenever a chunk is done.
    """
    from simulator.runs.execute import execute, remove_checkpoints

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    plan = make_plan(sc, options, worlds, seed, horizon_months)
    if keep_worlds and worlds_path is not None:
        raise UsageError("per-world outcomes go either to memory (keep_worlds) or to a file (worlds_path)")
    keep = (plan.worlds <= 200_000 and worlds_path is None) if keep_worlds is None else keep_worlds
    engine = "dask" if dask or scheduler is not None else ("processes" if workers != 1 else "sequential")
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=plan.blocks(), unit="block", desc=f"{sc.name}: {len(plan.options)} options",
                   delay=1.0, file=sys.stderr)

    def chunk_done(event: Any) -> None:
        if bar is not None:
            bar.update(event.end - event.first)
        if on_chunk is not None:
            on_chunk(event)

    try:
        out = execute(plan, engine=engine, workers=workers, scheduler=scheduler, blocks_per_chunk=blocks_per_chunk,
                      keep_worlds=keep, worlds_path=worlds_path, checkpoint_dir=checkpoint_dir, resume=resume,
                      on_chunk=chunk_done)
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    if checkpoint_dir is not None and not keep_checkpoints:
        remove_checkpoints(checkpoint_dir)
    manifest = manifest_for(plan, started, wall, run=out.info)
    return finalize(plan, out.totals, manifest, worlds=out.worlds)


def manifest_for(plan: Plan, started: datetime, wall_seconds: float, **extra: Any) -> dict[str, Any]:
    sc = plan.scenario
    return {
        "scenario": sc.name,
        "scenario_file": Path(sc.path).name,
        "scenario_sha256": sc.sha256,
        "seed": plan.seed,
        "worlds": plan.worlds,
        "horizon_months": plan.horizon,
        "options": list(plan.options),
        "baseline": sc.baseline,
        "block_worlds": BLOCK,
        "versions": _versions(),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(wall_seconds, 3),
        **extra,
    }
