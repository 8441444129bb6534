"""The Python API for ensembles: ``run`` a scenario's options and get ``Results``.

``run`` takes what to run (scenario, options, worlds, seed, horizon) and, separately, how:
an engine object (``Sequential()``, ``Processes(workers=K)``, ``Dask(...)``), a checkpoint
folder to resume from, where per-world outcomes go, and how to report progress.
``run_and_save`` is what ``geosim run`` does: run, then write tables and figures to a folder,
checkpointing next to it so that an interrupted call resumes with ``resume=True``.

With ``posterior=K`` both also run every option once for each of K posterior draws of the
model constants (``simulator.scenario.posterior_draws``), on the same seed and so the same
worlds, and return ``PosteriorResults``: the main run's results, at the calibrated
constants, with the spread of every estimate across the draws (``posterior.csv``).
"""

from __future__ import annotations

import contextlib
import math
import platform
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from simulator.analysis.posterior import PosteriorResults, summarise
from simulator.analysis.results import Results, finalize
from simulator.errors import UsageError, whole_number
from simulator.files import check_output_folder, output_lock
from simulator.report.write import save_results
from simulator.runs.checkpoints import checkpoint_dir_for, remove_checkpoints
from simulator.runs.engines import Dask, Engine, Processes, Sequential
from simulator.runs.execute import (
    ChunkEvent,
    RunFailed,
    RunInterrupted,
    WorldsTo,
    execute,
    sigterm_interrupts,
)
from simulator.runs.parquet import StagedParquet
from simulator.runs.plan import BLOCK, Plan, make_plan
from simulator.scenario.load import Scenario, load_scenario
from simulator.scenario.posterior_draws import CALIBRATED, PosteriorDraws, load_draws, set_by_scenario, with_constants

__all__ = ["ChunkEvent", "Dask", "Engine", "PosteriorResults", "Processes", "RunFailed", "RunInterrupted",
           "Sequential", "checkpoint_dir_for", "make_plan", "manifest_for", "posterior_worlds_default", "run",
           "run_and_save"]

PACKAGES = ("geosim", "mesa", "numpy", "pandas", "scipy", "lifelines", "pydantic", "matplotlib")
KEEP_IN_MEMORY = 200_000  # worlds up to which per-world outcomes are kept by default
Progress = bool | Callable[[ChunkEvent], None]


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[name] = "not installed"
    return out


def run(scenario: Scenario | str | Path, options: Sequence[str] | None = None, *, worlds: int | None = None,
        seed: int | None = None, horizon_months: int | None = None, engine: Engine | None = None,
        checkpoints: str | Path | None = None, resume: bool = False,
        worlds_to: Literal["auto", "memory"] | str | Path | None = "auto", progress: Progress = True,
        posterior: int | None = None, posterior_file: str | Path | None = None,
        posterior_worlds: int | None = None) -> Results:
    """Run options of a scenario on common random numbers and summarise them.

    The figures are identical, bit for bit, whatever the engine, its number of workers or its
    chunk size.

    Args:
        scenario: a loaded scenario or a path to a scenario file.
        options: option names (default: all); the baseline is always included, first.
        worlds, seed, horizon_months: override the scenario's values.
        engine: where the worlds are simulated: ``Sequential()`` (the default: in this process),
            ``Processes(workers=K)`` or ``Dask(workers=K)`` / ``Dask(scheduler="tcp://HOST:PORT")``;
            each takes ``blocks_per_chunk`` (blocks of 4,096 worlds per unit of work). An engine
            opened with ``with`` serves several runs; otherwise the run opens and closes it.
            Worker processes import the calling script's main module, so a script must call
            ``run`` under ``if __name__ == "__main__":`` (notebooks need nothing).
        checkpoints: a folder where each finished chunk is saved as it finishes, so that an
            interrupted run can resume; it is removed when the run succeeds.
        resume: reuse the valid checkpoints in ``checkpoints`` (the same scenario file, options,
            worlds, seed, horizon and chunk size) and compute only the missing chunks.
        worlds_to: where per-world outcomes go: ``"memory"`` (``Results.worlds``, ordered by
            option then world), a Parquet file path (written chunk by chunk, never held in
            memory), ``None`` (not kept) or ``"auto"`` (memory up to 200,000 worlds, else not kept).
        progress: ``True`` for a progress bar on a terminal (for runs longer than a second),
            ``False`` for none, or a function called with a ``ChunkEvent`` in this process
            whenever a chunk of the main run is done.
        posterior: also run every option for this many posterior draws of the model constants
            (evenly spaced through the draws file), and return ``PosteriorResults``. Each draw
            replaces the calibrated defaults of the constants it gives; a constant the scenario
            sets itself under ``constants:`` keeps the scenario's value. The draws run on the
            same seed as the main run, so on the same worlds: the spread across draws is the
            constants' effect, not Monte Carlo noise. Draws are not checkpointed.
        posterior_file: the draws file (default: the one shipped with geosim).
        posterior_worlds: worlds per draw, at most ``worlds`` (default:
            ``posterior_worlds_default``: the draws together cost about one more main run).

    Raises:
        RunInterrupted: Ctrl-C, SIGTERM (or ``KeyboardInterrupt`` from ``progress``) stopped the
            run; the finished chunks are in ``checkpoints``, if given: call again with ``resume=True``.
        RunFailed: a write was refused (full disk, quota, read-only folder) or workers ran out of
            memory; the finished chunks are in ``checkpoints``, as above.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    draws = _posterior_draws(sc, options, worlds, seed, horizon_months, posterior, posterior_file, posterior_worlds)
    engine = Sequential() if engine is None else engine
    with _open_for_all(engine, draws is not None):
        results = _run(sc, options, worlds, seed, horizon_months, engine, checkpoints, resume, worlds_to, progress)
        if draws is not None:
            results = _with_posterior(results, sc, *draws, engine, progress)
    if checkpoints is not None:
        remove_checkpoints(checkpoints)
    return results


def run_and_save(scenario: Scenario | str | Path, out: str | Path, options: Sequence[str] | None = None, *,
                 worlds: int | None = None, seed: int | None = None, horizon_months: int | None = None,
                 engine: Engine | None = None, resume: bool = False, force: bool = False,
                 save_worlds: bool = False, plots: bool = True, progress: Progress = True,
                 posterior: int | None = None, posterior_file: str | Path | None = None,
                 posterior_worlds: int | None = None) -> Results:
    """Run like ``run`` and write tables, figures and the manifest to the folder ``out``: ``geosim run``.

    ``out`` is checked before anything runs (an existing folder is replaced only with ``force``;
    the current folder, one above it, a filesystem root or the home folder never) and written
    atomically once the run succeeded. The run holds a lock on ``out`` (``.NAME.lock`` next to
    it) throughout: a second run on the same folder is refused at once. Meanwhile finished
    chunks are checkpointed in ``checkpoint_dir_for(out)`` (``.NAME.chunks`` next to ``out``),
    which is removed once the results are saved: after an interruption (``RunInterrupted``,
    Ctrl-C or SIGTERM) or a failure (``RunFailed``, e.g. a full disk), the same call with
    ``resume=True`` computes only the missing chunks. With ``save_worlds``, per-world outcomes
    are streamed to ``worlds.parquet`` in ``out``, never held in memory. With ``posterior``,
    ``out`` also gets ``posterior.csv`` and ``posterior.png``; an interruption while the draws
    run keeps the main run's chunks, and a resumed run computes the draws again.

    Returns the results, without per-world outcomes.

    Raises:
        UsageError: ``out`` may not be written, or another run is using it.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    draws = _posterior_draws(sc, options, worlds, seed, horizon_months, posterior, posterior_file, posterior_worlds)
    out = Path(out)
    check_output_folder(out, force)  # before the lock file is made next to it
    folder = checkpoint_dir_for(out)
    engine = Sequential() if engine is None else engine
    with output_lock(out), sigterm_interrupts(), _open_for_all(engine, draws is not None):
        check_output_folder(out, force)  # again: a run that held the lock may have just written it
        staged = folder / "worlds.parquet" if save_worlds else None
        results = _run(sc, options, worlds, seed, horizon_months, engine, folder, resume, staged, progress)
        chunks = results.manifest["run"]["chunks"]
        if draws is not None:
            try:
                results = _with_posterior(results, sc, *draws, engine, progress)
            except RunInterrupted as stop:  # the main run's chunks are checkpointed; the draws run again
                raise RunInterrupted(chunks, chunks, folder, stop.signal) from None
            except RunFailed as fault:
                raise RunFailed(fault.reason, chunks, chunks, folder) from None
        try:
            if staged is not None:
                results.worlds = StagedParquet(staged)  # type: ignore[assignment]  # linked into the output
            save_results(results, out, force=force, save_worlds=save_worlds, plots=plots)
        except KeyboardInterrupt as stop:
            raise RunInterrupted(chunks, chunks, folder, getattr(stop, "signal", signal.SIGINT)) from None
        except UsageError as exc:  # a full disk, or the folder written by someone else meanwhile
            raise RunFailed(str(exc), chunks, chunks, folder) from None
        finally:
            results.worlds = None
        remove_checkpoints(folder)
    return results


def _run(scenario: Scenario | str | Path, options: Sequence[str] | None, worlds: int | None, seed: int | None,
         horizon_months: int | None, engine: Engine | None, checkpoints: str | Path | None, resume: bool,
         worlds_to: Literal["auto", "memory"] | str | Path | None, progress: Progress) -> Results:
    """``run`` without removing the checkpoints, which ``run_and_save`` keeps until the results are saved."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    plan = make_plan(sc, options, worlds, seed, horizon_months)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    on_chunk, finish = _progress(plan, progress)
    try:
        out = execute(plan, engine, worlds_to=_worlds_to(plan, worlds_to), checkpoints=checkpoints, resume=resume,
                      on_chunk=on_chunk)
    finally:
        finish()
    manifest = manifest_for(plan, started, time.perf_counter() - t0, run=out.info)
    return finalize(plan, out.totals, manifest, worlds=out.worlds)


def _worlds_to(plan: Plan, worlds_to: Literal["auto", "memory"] | str | Path | None) -> WorldsTo:
    if worlds_to is None or isinstance(worlds_to, Path):
        return worlds_to
    if not isinstance(worlds_to, str):
        raise UsageError(f"worlds_to must be 'memory', 'auto', a Parquet file path or None, not {worlds_to!r}")
    if worlds_to == "auto":
        return "memory" if plan.worlds <= KEEP_IN_MEMORY else None
    return "memory" if worlds_to == "memory" else Path(worlds_to)


def _progress(plan: Plan, progress: Progress) -> tuple[Callable[[ChunkEvent], None] | None, Callable[[], None]]:
    """The chunk callback for ``progress``, and what to call when the run ends."""
    if callable(progress):
        return progress, lambda: None
    if not progress or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=plan.blocks(), unit="block", desc=f"{plan.scenario.name}: {len(plan.options)} options",
               delay=1.0, file=sys.stderr)
    return (lambda event: bar.update(event.end - event.first)), bar.close


def manifest_for(plan: Plan, started: datetime, wall_seconds: float, **extra: Any) -> dict[str, Any]:
    """What a run was (scenario, its SHA-256, seed, worlds, options, versions) and when it ran."""
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
        **({"set": list(sc.settings)} if sc.settings else {}),  # --set: on top of every option
        "versions": _versions(),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(wall_seconds, 3),
        **extra,
    }


def posterior_worlds_default(worlds: int, draws: int) -> int:
    """Worlds per posterior draw: the run's worlds shared among the draws, so that all draws together cost
    about one more main run, but at least one block of 4,096 worlds and never more than the run's worlds."""
    return min(worlds, max(BLOCK, math.ceil(worlds / draws)))


def _posterior_draws(sc: Scenario, options: Sequence[str] | None, worlds: int | None, seed: int | None,
                     horizon_months: int | None, posterior: int | None, posterior_file: str | Path | None,
                     posterior_worlds: int | None) -> tuple[PosteriorDraws, PosteriorDraws, int] | None:
    """The draws file, the draws picked from it and the worlds per draw; checked before anything runs."""
    if posterior is None:
        if posterior_file is not None or posterior_worlds is not None:
            raise UsageError("a posterior draws file or worlds per draw needs the number of draws: "
                             "give posterior=K (--posterior K)")
        return None
    whole_number("posterior", posterior)
    plan = make_plan(sc, options, worlds, seed, horizon_months)  # the main run's checks come first
    if posterior_worlds is None:
        per_draw = posterior_worlds_default(plan.worlds, posterior)
    else:
        per_draw = whole_number("posterior_worlds (--posterior-worlds)", posterior_worlds)
        if per_draw > plan.worlds:
            raise UsageError(f"posterior_worlds (--posterior-worlds) must be at most the run's {plan.worlds:,} "
                             f"worlds, got {per_draw:,}")
    every = load_draws(posterior_file)
    return every, every.pick(posterior), per_draw


@contextlib.contextmanager
def _open_for_all(engine: Engine, needed: bool) -> Iterator[None]:
    """Keep ``engine`` open across the main run and the draws (a pool started once), if ``needed``."""
    if not needed or engine.is_open:
        yield
        return
    with engine:
        yield


def _with_posterior(main: Results, sc: Scenario, every: PosteriorDraws, draws: PosteriorDraws, per_draw: int,
                    engine: Engine, progress: Progress) -> PosteriorResults:
    """Run the main run's options, seed and horizon once per draw, on its first ``per_draw`` worlds."""
    m = main.manifest
    t0 = time.perf_counter()
    runs = []
    step, finish = _draw_progress(len(draws), progress)
    try:
        for draw, values in draws:
            drawn = with_constants(sc, values, f"posterior draw {draw} of {draws.path}")
            plan = make_plan(drawn, m["options"], per_draw, m["seed"], m["horizon_months"])
            out = execute(plan, engine)
            runs.append((draw, finalize(plan, out.totals, {"baseline": sc.baseline})))
            step()
    finally:
        finish()
    record = {
        "draws_file": draws.path, "draws_file_sha256": draws.sha256, "draws_file_comments": list(draws.comments),
        "draws_in_file": len(every), "draws": len(draws), "picked": list(draws.ids),
        "how_picked": "evenly spaced: rows floor(i * n / K), i = 0 .. K-1, of the file's n rows",
        "worlds_per_draw": per_draw, "constants": list(draws.names),
        "constants_set_by_scenario": set_by_scenario(sc, draws.names),
        "calibrated_not_drawn": [n for n in CALIBRATED if n not in draws.names],
        "wall_seconds": round(time.perf_counter() - t0, 3),
    }
    return summarise(main, runs, dict(m, posterior=record))


def _draw_progress(total: int, progress: Progress) -> tuple[Callable[[], None], Callable[[], None]]:
    """A progress bar over the draws (on a terminal, with ``progress=True``), and what to call at the end."""
    if progress is not True or not sys.stderr.isatty():
        return (lambda: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, unit="draw", desc="posterior draws", delay=1.0, file=sys.stderr)
    return (lambda: bar.update(1)), bar.close
