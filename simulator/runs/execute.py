"""Run a plan's chunks through an engine: exact totals, per-world rows, checkpoints, resume, events.

A *chunk* is a run of whole blocks of ``BLOCK`` worlds. The engine (``engines.py``) hands
finished chunks back to this process, which folds their block statistics into
``ExactTotals`` as they arrive, in whatever order. The random streams of a world depend only
on the seed and the world's index (``model/streams.py``), and ``ExactTotals`` adds floats
exactly, so the figures are the same, bit for bit, whatever the chunk size, the number of
workers or the engine.

Memory stays bounded by the chunk size: this process keeps running totals, not per-block or
per-world data. Per-world outcomes, when asked for, are kept in memory or written chunk by
chunk as Parquet parts and assembled at the end into one file in canonical order
(``parquet.py``).

Faults: every finished chunk can be checkpointed (``checkpoints.py``); an interrupted run
(Ctrl-C, a crash) resumes from them with ``resume=True`` and computes only the missing chunks.
An interruption raises ``RunInterrupted``, which says how far the run got. SIGTERM (what
``timeout``, systemd and Slurm send) is handled like Ctrl-C while a run is going, unless the
program installed its own handler. A write the system refuses (a full disk) or workers out
of memory raise ``RunFailed``, which says where the finished chunks are kept.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from simulator.errors import UsageError
from simulator.files import WriteFailed, atomic_write
from simulator.runs.checkpoints import Checkpoints
from simulator.runs.engines import (
    ChunkOutput,
    Engine,
    OutOfMemory,
    Sequential,
    WorldsAs,
)
from simulator.runs.parquet import assemble_parquet
from simulator.runs.plan import Plan
from simulator.runs.totals import ExactTotals

WorldsTo = Literal["memory"] | Path | None  # where per-world rows go: memory, a Parquet file, nowhere


@dataclass(frozen=True)
class ChunkEvent:
    """Passed to ``on_chunk`` in this process whenever a chunk is done."""

    first: int  # first block of the chunk
    end: int  # the block after its last
    source: Literal["computed", "checkpoint"]
    done: int  # chunks done so far, this one included
    total: int  # chunks in the run


@dataclass
class RunOutput:
    """Exact totals of a run, its per-world rows if kept in memory, and how it ran (for the manifest)."""

    totals: dict[str, np.ndarray]
    worlds: pd.DataFrame | None
    info: dict[str, Any] = field(default_factory=dict)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived while a run was going: stopped like Ctrl-C."""

    signal = signal.SIGTERM


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM (or a ``KeyboardInterrupt`` from a callback) stopped a run after ``done`` of ``total`` chunks.

    With a checkpoint folder, the finished chunks are kept in it: the same run with
    ``resume=True`` computes only the others. ``signal`` is the signal that stopped it
    (``SIGINT`` for Ctrl-C or a callback).
    """

    def __init__(self, done: int, total: int, checkpoints: Path | None,
                 signal_number: int = signal.SIGINT) -> None:
        self.done = done
        self.total = total
        self.checkpoints = checkpoints
        self.signal = signal.Signals(signal_number)
        super().__init__(done, total, checkpoints)

    def __str__(self) -> str:
        if self.checkpoints is None:
            return (f"interrupted after {self.done} of {self.total} chunks; nothing was kept "
                    "(give a checkpoint folder to make a run resumable)")
        return (f"interrupted after {self.done} of {self.total} chunks; the finished ones are checkpointed in "
                f"'{self.checkpoints}': run the same again with resume=True to continue")


class RunFailed(UsageError):
    """A fault the run cannot work around (a refused write, workers out of memory) stopped it after
    ``done`` of ``total`` chunks; those are kept in ``checkpoints`` (if given) for ``resume=True``."""

    def __init__(self, reason: str, done: int, total: int, checkpoints: Path | None) -> None:
        self.reason = reason
        self.done = done
        self.total = total
        self.checkpoints = checkpoints
        kept = ("no chunks were kept" if checkpoints is None else
                f"{done} of {total} chunks are kept in '{checkpoints}': once fixed, run the same again with "
                "resume=True (geosim run --resume) to continue")
        super().__init__(f"{reason}; {kept}")


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While inside, SIGTERM raises ``Terminated`` (a ``KeyboardInterrupt``) in the main thread, once.

    Only where SIGTERM still has its default action (a program's own handler is left alone) and
    only in the main thread, where Python runs signal handlers. Later SIGTERMs are ignored
    while the run stops its workers and keeps its checkpoints.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def stop(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated()

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def execute(plan: Plan, engine: Engine | None = None, *, worlds_to: WorldsTo = None,
            checkpoints: str | Path | None = None, resume: bool = False,
            on_chunk: Callable[[ChunkEvent], None] | None = None) -> RunOutput:
    """Run ``plan`` with an engine and return its exact totals (and per-world rows if kept).

    Args:
        engine: where chunks run (default: ``Sequential()``). A closed engine is opened for
            this run and closed after it; an open one (``with engine:``) is left open.
        worlds_to: ``"memory"`` (rows returned in canonical order: option, then world), a Parquet
            file path (written chunk by chunk, assembled at the end) or ``None`` (not kept).
        checkpoints: save finished chunks in this folder (kept afterwards: remove it once the
            results are safe, ``remove_checkpoints``).
        resume: reuse the valid checkpoints in ``checkpoints``.
        on_chunk: called in this process after each chunk is done (and checkpointed).

    Raises:
        RunInterrupted: on Ctrl-C or SIGTERM; finished chunks stay checkpointed.
        RunFailed: a write was refused (full disk, quota, read-only folder) or workers ran out
            of memory; finished chunks stay checkpointed.
    """
    engine = Sequential() if engine is None else engine
    if resume and checkpoints is None:
        raise UsageError("resume needs a checkpoint folder: give checkpoints=FOLDER")
    if not (worlds_to is None or worlds_to == "memory" or isinstance(worlds_to, Path)):
        raise UsageError(f"per-world rows go to 'memory', a Parquet file path or nowhere (None), not {worlds_to!r}")
    chunks = plan.chunks(engine.blocks_per_chunk)
    counts = Counter[str]()
    opened_here = not engine.is_open
    kept = None if checkpoints is None else Path(checkpoints)
    try:
        with sigterm_interrupts():
            if opened_here:  # connect first: an unreachable scheduler leaves nothing behind
                engine.open()
            try:
                return _execute(plan, engine, chunks, worlds_to, checkpoints, resume, on_chunk, counts)
            finally:
                if opened_here:
                    engine.close()
    except KeyboardInterrupt as stop:
        raise RunInterrupted(counts.total(), len(chunks), kept, getattr(stop, "signal", signal.SIGINT)) from None
    except (WriteFailed, OutOfMemory) as fault:
        raise RunFailed(str(fault), counts.total(), len(chunks), kept) from None


def _execute(plan: Plan, engine: Engine, chunks: list[tuple[int, int]], worlds_to: WorldsTo,
             checkpoint_dir: str | Path | None, resume: bool, on_chunk: Callable[[ChunkEvent], None] | None,
             counts: Counter[str]) -> RunOutput:
    k = len(plan.options)
    store = Checkpoints(checkpoint_dir, plan, resume=resume) if checkpoint_dir is not None else None
    worlds_path = worlds_to if isinstance(worlds_to, Path) else None
    parts_dir: Path | None = None  # where Parquet parts go when there is no checkpoint folder
    if worlds_path is not None and store is None:
        try:
            worlds_path.parent.mkdir(parents=True, exist_ok=True)
            parts_dir = Path(tempfile.mkdtemp(prefix=f".{worlds_path.name}.parts-", dir=worlds_path.parent))
        except OSError as exc:
            raise WriteFailed(worlds_path.parent, exc) from None
    # Rows travel as Parquet bytes whenever they are written to disk, as frames when only kept in memory.
    worlds_as: WorldsAs = None if worlds_to is None else (
        "parquet" if store is not None or parts_dir is not None else "frame")
    acc = ExactTotals(plan.blocks())
    frames: dict[tuple[int, int], pd.DataFrame] = {}

    def part_path(first: int, end: int, i: int) -> Path:
        if store is not None:
            return store.part_path(first, end, i)
        assert parts_dir is not None
        return parts_dir / f"{first:07d}-{end:07d}.o{i:02d}.parquet"

    def done(first: int, end: int, source: Literal["computed", "checkpoint"]) -> None:
        counts[source] += 1
        if on_chunk is not None:
            on_chunk(ChunkEvent(first, end, source, counts.total(), len(chunks)))

    def accept(out: ChunkOutput) -> None:
        acc.add_chunk(out.stats)  # checks for blocks counted twice
        if out.worlds is not None:
            if worlds_as == "frame":
                for i, frame in enumerate(out.worlds):
                    frames[(i, out.first)] = frame
            elif store is None:
                for i, data in enumerate(out.worlds):
                    atomic_write(part_path(out.first, out.end, i), data)
        if store is not None:
            store.save(out.first, out.end, out.stats, out.worlds if worlds_as == "parquet" else None)
        done(out.first, out.end, "computed")

    try:
        todo: list[tuple[int, int]] = []
        if store is not None and resume:
            store.prune(chunks)
            for first, end in chunks:
                stats = store.load(first, end, need_parts=worlds_to is not None)
                if stats is None:
                    todo.append((first, end))
                else:
                    acc.add_chunk(stats)
                    done(first, end, "checkpoint")
        else:
            todo = list(chunks)
        extra = engine.run_chunks(plan, todo, accept, worlds_as) if todo else {}
        totals = acc.totals()
        worlds: pd.DataFrame | None = None
        if worlds_to == "memory":
            if worlds_as == "frame":
                worlds = pd.concat([frames[(i, first)] for i in range(k) for first, _ in chunks], ignore_index=True)
            else:
                worlds = pd.concat([pd.read_parquet(part_path(f, e, i)) for i in range(k) for f, e in chunks],
                                   ignore_index=True)
        elif worlds_path is not None:
            assemble_parquet([part_path(f, e, i) for i in range(k) for f, e in chunks], worlds_path)
    finally:
        if parts_dir is not None:
            shutil.rmtree(parts_dir, ignore_errors=True)
    info = {**engine.describe(), "blocks_per_chunk": engine.blocks_per_chunk, "chunks": len(chunks),
            "chunks_computed": counts["computed"], "chunks_resumed": counts["checkpoint"], **extra}
    return RunOutput(totals=totals, worlds=worlds, info=info)
