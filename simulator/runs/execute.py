"""Run a plan chunk by chunk: in this process, in local worker processes, or on a Dask cluster.

A *chunk* is a run of whole blocks of ``BLOCK`` worlds (``ensemble.simulate_blocks``). Every
engine hands finished chunks back to this process, which folds their block statistics into
``ExactTotals`` as they arrive, in whatever order. The random streams of a world depend only
on the seed and the world's index (``streams.py``), and ``ExactTotals`` adds floats exactly,
so the figures are the same, bit for bit, whatever the chunk size, the number of workers or
the engine, and equal to ``ensemble.totals`` of a single sequential run.

Memory stays bounded by the chunk size: the parent keeps running totals, not per-block or
per-world data. Per-world outcomes, when asked for, are written chunk by chunk as Parquet
part files and assembled at the end, one part at a time, into a single file in canonical
order (option by option, world by world), so the file does not depend on the chunking.

Engines:

* ``sequential``: chunk after chunk in this process.
* ``processes``: a ``ProcessPoolExecutor`` (``forkserver`` context where available, else
  ``spawn``). If a worker process dies, the pool is rebuilt and the unfinished chunks run
  again (each chunk at most ``MAX_ATTEMPTS`` times).
* ``dask``: ``distributed.Client.submit`` / ``as_completed`` on a scheduler given by address,
  or on an embedded ``LocalCluster``. Tasks of a lost worker are rescheduled by the scheduler;
  ``retries`` covers tasks that fail. ``dask`` is imported only here, only when used. The
  workers of a remote cluster need the same version of geosim installed; the scenario travels
  with each task, so they need no scenario files.

In every engine the workers leave Ctrl-C to this process, which stops them (an embedded Dask
cluster's workers are started with SIGINT ignored, so Ctrl-C is ignored while it starts).

Faults: every finished chunk can be checkpointed (``Checkpoints``: an ``.npz`` of its block
statistics plus its Parquet parts, each written to a temporary name and moved into place with
``os.replace``) under a key that hashes the scenario's SHA-256, the options, worlds, seed,
horizon and the chunk's bounds, so a stale checkpoint is never reused (resuming with another
chunk size therefore starts again). An interrupted run (Ctrl-C, a crash) resumes from them;
nothing that looks like finished output is left behind.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing as mp
import os
import re
import shutil
import signal
import sys
import tempfile
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.runs.blocks import BLOCK, DEFAULT_BLOCKS_PER_CHUNK, Plan, simulate_blocks
from simulator.errors import UsageError
from simulator.files import atomic_write

ENGINES = ("sequential", "processes", "dask")
MAX_ATTEMPTS = 3  # a chunk whose worker dies this many times stops the run
MAX_BLOCKS_PER_CHUNK = 1024  # 4.2 million worlds per chunk, already gigabytes of working memory
MAX_WORKERS = 1024
CONNECT_TIMEOUT = 5.0  # seconds to reach a Dask scheduler
FORMAT = 1  # checkpoint format; part of every checkpoint key

# --------------------------------------------------------------------------- exact totals

_SHIFT = 1021  # x = m * 2**e with 0.5 <= |m| < 1: x * 2**1074 = (m * 2**53) * 2**(e + 1021), an integer
_DENOMINATOR = 1 << 1074


class ExactTotals:
    """Block statistics added as they arrive, in any order, to exactly ``ensemble.totals``.

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

    def add_chunk(self, stats: dict[int, dict[str, np.ndarray]]) -> None:
        for block in sorted(stats):
            self.add(block, stats[block])

    def missing(self) -> list[int]:
        return np.flatnonzero(~self.seen).tolist()

    def totals(self) -> dict[str, np.ndarray]:
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


# --------------------------------------------------------------------------- one chunk


@dataclass
class ChunkOutput:
    """What a worker sends back: block statistics and, if asked for, per-world rows by option."""

    first: int
    end: int
    stats: dict[int, dict[str, np.ndarray]]
    worlds: list[Any] | None = None  # per option: a DataFrame ("frame") or Parquet bytes ("parquet")


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


def _release_memory() -> None:
    """Give memory freed by the previous chunk back to the system (glibc keeps it otherwise)."""
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        _MALLOC_TRIM = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                _MALLOC_TRIM = ctypes.CDLL("libc.so.6").malloc_trim
            except (OSError, AttributeError):
                pass
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM: Any = None


def compute_chunk(plan: Plan, first: int, end: int, worlds_as: str | None = None) -> ChunkOutput:
    """Simulate blocks ``[first, end)``; per-world rows as frames or Parquet bytes, one per option."""
    _release_memory()  # a worker's peak is then the libraries plus one chunk, however many chunks it ran
    result = simulate_blocks(plan, first, end, keep_worlds=worlds_as is not None)
    parts: list[Any] | None = None
    if worlds_as is not None:
        assert result.worlds is not None
        start, _ = plan.block_range(first)
        _, stop = plan.block_range(end - 1)
        n = stop - start
        frames = [result.worlds.iloc[i * n:(i + 1) * n].reset_index(drop=True) for i in range(len(plan.options))]
        parts = [parquet_bytes(f) for f in frames] if worlds_as == "parquet" else frames
    return ChunkOutput(first, end, result.stats, parts)


_WORKER_PLAN: Plan | None = None


def _init_worker(plan: Plan) -> None:
    """Pool initializer: keep the plan, and leave Ctrl-C to the parent (which stops the pool)."""
    global _WORKER_PLAN
    _WORKER_PLAN = plan
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool_chunk(first: int, end: int, worlds_as: str | None) -> ChunkOutput:
    assert _WORKER_PLAN is not None, "worker not initialised"
    return compute_chunk(_WORKER_PLAN, first, end, worlds_as)


# --------------------------------------------------------------------------- checkpoints

_CHECKPOINT_FILE = re.compile(r"^\d{7}-\d{7}-[0-9a-f]{20}(\.npz|\.o\d{2}\.parquet)$")


def plan_key(plan: Plan) -> dict[str, Any]:
    """Everything that determines a chunk's figures, apart from its bounds."""
    from simulator import __version__

    return {"format": FORMAT, "geosim": __version__, "scenario_sha256": plan.scenario.sha256,
            "options": list(plan.options), "worlds": plan.worlds, "seed": plan.seed,
            "horizon": plan.horizon, "block_worlds": BLOCK}


class Checkpoints:
    """Finished chunks of one plan in a directory: ``FIRST-END-HASH.npz`` plus Parquet parts.

    The hash covers the plan key and the chunk bounds; a file is used only if its name *and*
    the key stored inside it match. Without ``resume`` the directory starts empty.
    """

    def __init__(self, directory: str | Path, plan: Plan, resume: bool = False) -> None:
        self.dir = Path(directory)
        self.plan = plan
        self.key = plan_key(plan)
        if self.dir.exists() and not self.dir.is_dir():
            raise UsageError(f"checkpoint path '{self.dir}' exists and is not a directory")
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot write to '{self.dir.parent}' ({exc.strerror}); choose another --out") from None
        if not resume:
            self._clear()
        atomic_write(self.dir / "run.json", (json.dumps(self.key, indent=2, sort_keys=True) + "\n").encode())

    def _chunk_key(self, first: int, end: int) -> str:
        return json.dumps(dict(self.key, first_block=first, end_block=end), sort_keys=True)

    def stem(self, first: int, end: int) -> str:
        digest = hashlib.sha256(self._chunk_key(first, end).encode()).hexdigest()[:20]
        return f"{first:07d}-{end:07d}-{digest}"

    def part_path(self, first: int, end: int, option_index: int) -> Path:
        return self.dir / f"{self.stem(first, end)}.o{option_index:02d}.parquet"

    def prune(self, chunks: Iterable[tuple[int, int]]) -> None:
        """Remove checkpoint files that belong to no chunk of this plan (stale ones)."""
        wanted = {self.stem(f, e) for f, e in chunks}
        for p in self.dir.iterdir():
            if (_CHECKPOINT_FILE.match(p.name) and p.name.split(".")[0] not in wanted) or p.name.startswith(".tmp-"):
                p.unlink(missing_ok=True)

    def load(self, first: int, end: int, need_parts: bool) -> dict[int, dict[str, np.ndarray]] | None:
        """The chunk's block statistics if a valid checkpoint exists (with its parts, if needed)."""
        path = self.dir / f"{self.stem(first, end)}.npz"
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["key"]) != self._chunk_key(first, end):
                    return None
                stats: dict[int, dict[str, np.ndarray]] = {}
                for name in z.files:
                    if name == "key":
                        continue
                    block, _, stat = name.partition(".")
                    stats.setdefault(int(block[1:]), {})[stat] = z[name]
        except (OSError, ValueError, KeyError):
            return None  # unreadable: compute it again
        if sorted(stats) != list(range(first, end)):
            return None
        if need_parts and not all(self.part_path(first, end, i).exists() for i in range(len(self.plan.options))):
            return None
        return stats

    def save(self, out: ChunkOutput, parquet_parts: Sequence[bytes] | None) -> None:
        """Parts first, then the statistics: a chunk counts as done once its ``.npz`` exists."""
        if parquet_parts is not None:
            for i, data in enumerate(parquet_parts):
                atomic_write(self.part_path(out.first, out.end, i), data)
        arrays = {f"b{block}.{name}": arr for block, stats in out.stats.items() for name, arr in stats.items()}
        arrays["key"] = np.array(self._chunk_key(out.first, out.end))
        atomic_write(self.dir / f"{self.stem(out.first, out.end)}.npz", lambda fh: np.savez(fh, **arrays))

    def _clear(self) -> None:
        for p in self.dir.iterdir():
            if _CHECKPOINT_FILE.match(p.name) or p.name.startswith(".tmp-") or p.name in ("run.json", "worlds.parquet"):
                p.unlink(missing_ok=True)

    def remove(self) -> None:
        """Delete the checkpoints (after the results were saved)."""
        remove_checkpoints(self.dir)


def remove_checkpoints(directory: str | Path) -> None:
    """Delete a checkpoint directory's files, and the directory if nothing else is in it."""
    d = Path(directory)
    if not d.is_dir():
        return
    for p in d.iterdir():
        if _CHECKPOINT_FILE.match(p.name) or p.name.startswith(".tmp-") or p.name in ("run.json", "worlds.parquet"):
            p.unlink(missing_ok=True)
    try:
        d.rmdir()
    except OSError:
        pass  # someone else's files are in there: leave them


def checkpoint_dir_for(out: str | Path) -> Path:
    """The hidden checkpoint directory next to an output directory: ``.NAME.chunks``."""
    out = Path(out)
    return out.parent / f".{out.name}.chunks"


# --------------------------------------------------------------------------- engines


@dataclass(frozen=True)
class ChunkEvent:
    """Passed to ``on_chunk`` in this process whenever a chunk is done."""

    first: int
    end: int
    source: str  # "computed" or "checkpoint"
    done: int  # chunks done so far, this one included
    total: int


@dataclass
class RunOutput:
    totals: dict[str, np.ndarray]
    worlds: pd.DataFrame | None
    info: dict[str, Any] = field(default_factory=dict)


Accept = Callable[[ChunkOutput], None]


def _run_sequential(plan: Plan, todo: Sequence[tuple[int, int]], accept: Accept, worlds_as: str | None) -> None:
    for first, end in todo:
        accept(compute_chunk(plan, first, end, worlds_as))


def _mp_context() -> Any:
    # Workers start from a small, clean server (forkserver) or a fresh interpreter (spawn), never as a
    # fork of this process and its threads. The server does not preload the simulator: pages it
    # shared with the workers would be copied as they run and count twice.
    return mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")


def _stop_pool(pool: ProcessPoolExecutor, kill: bool) -> None:
    if kill:
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            if proc.is_alive():
                proc.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _run_processes(plan: Plan, todo: Sequence[tuple[int, int]], accept: Accept, worlds_as: str | None,
                   workers: int) -> dict[str, Any]:
    ctx = _mp_context()
    restarts = -1
    pending = deque(sorted(todo, key=lambda c: c[0] - c[1]))  # largest first: the short last chunk ends the run
    attempts: Counter[tuple[int, int]] = Counter()
    while pending:
        restarts += 1
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=ctx,
                                   initializer=_init_worker, initargs=(plan,))
        inflight: dict[Future[ChunkOutput], tuple[int, int]] = {}
        clean = False
        try:
            broken = False
            while (pending or inflight) and not broken:
                while pending and len(inflight) < 2 * workers:
                    chunk = pending.popleft()
                    attempts[chunk] += 1
                    inflight[pool.submit(_pool_chunk, chunk[0], chunk[1], worlds_as)] = chunk
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: inflight[f]):
                    chunk = inflight.pop(fut)
                    try:
                        out = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        pending.appendleft(chunk)
                    else:
                        accept(out)
            if broken:
                # A worker died: keep what finished, run the rest again in a fresh pool.
                wait(inflight)
                for fut, chunk in sorted(inflight.items(), key=lambda kv: kv[1]):
                    if fut.exception() is None:
                        accept(fut.result())
                    else:
                        pending.appendleft(chunk)
                inflight.clear()
                failed = [c for c in pending if attempts[c] >= MAX_ATTEMPTS]
                if failed:
                    raise RuntimeError(
                        f"worker processes died {MAX_ATTEMPTS} times while simulating blocks "
                        f"{failed[0][0]}-{failed[0][1] - 1}: out of memory (try fewer blocks per chunk)? "
                        "Or, from a script, is the run under an `if __name__ == '__main__':` guard?")
            clean = True
        finally:
            _stop_pool(pool, kill=not clean)
    return {"pool_restarts": max(restarts, 0)}


def _connect(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("the Dask engine needs the 'scale' extra: pip install 'geosim[scale]'") from None
    import logging

    if scheduler is None:
        # Worker processes inherit an ignored SIGINT: Ctrl-C is for this process, which stops the cluster.
        import threading

        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.ERROR)
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler} ({reason}); start one with "
                         f"'dask scheduler' and 'dask worker {scheduler}', or check the address") from None


def _dask_chunk(plan: Plan, first: int, end: int, worlds_as: str | None) -> ChunkOutput:
    return compute_chunk(plan, first, end, worlds_as)


def _run_dask(client: Any, plan: Plan, todo: Sequence[tuple[int, int]], accept: Accept, worlds_as: str | None,
              workers: int, local: bool) -> dict[str, Any]:
    from distributed import as_completed

    pending = deque(sorted(todo, key=lambda c: c[0] - c[1]))
    tag = uuid.uuid4().hex[:12]
    futures: dict[Any, tuple[int, int]] = {}
    queue = as_completed()
    try:
        known = client.scheduler_info().get("workers", {})
        threads = sum(w.get("nthreads", 1) for w in known.values())
        limit = 2 * max(threads, workers if local else 1, 1)

        def submit() -> None:
            first, end = pending.popleft()
            fut = client.submit(_dask_chunk, plan, first, end, worlds_as, key=f"geosim-chunk-{tag}-{first}-{end}",
                                pure=False, retries=MAX_ATTEMPTS - 1)
            futures[fut] = (first, end)
            queue.add(fut)

        while pending and len(futures) < limit:
            submit()
        for fut in queue:
            chunk = futures.pop(fut)
            try:
                out = fut.result()
            except Exception as exc:
                if type(exc).__name__ == "KilledWorker":
                    raise RuntimeError(f"Dask workers died while simulating blocks {chunk[0]}-{chunk[1] - 1} "
                                       f"({exc}); out of memory? try --blocks-per-chunk smaller") from None
                raise
            finally:
                fut.release()
            accept(out)
            if pending:
                submit()
    except BaseException:
        try:
            client.cancel(list(futures), force=True)
        except Exception:  # pragma: no cover - best effort while stopping
            pass
        raise
    return {"workers": len(known)}


# --------------------------------------------------------------------------- a whole run


def check_settings(engine: str, workers: Any, blocks_per_chunk: Any, scheduler: str | None) -> str | None:
    """Validate engine settings; return the scheduler address in ``PROTOCOL://HOST:PORT`` form."""
    if engine not in ENGINES:
        raise UsageError(f"unknown engine '{engine}'; choose one of: {', '.join(ENGINES)}")
    for name, value, limit in (("workers", workers, MAX_WORKERS),
                               ("blocks_per_chunk", blocks_per_chunk, MAX_BLOCKS_PER_CHUNK)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise UsageError(f"{name} must be a positive whole number, got {value!r}")
        if value > limit:
            raise UsageError(f"{name} must be at most {limit:,}, got {value:,}")
    if scheduler is None:
        return None
    if engine != "dask":
        raise UsageError("a scheduler address needs the Dask engine")
    address = scheduler.strip()
    if "://" not in address:
        address = "tcp://" + address
    if not re.fullmatch(r"(tcp|tls|ws|wss|ucx)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}", address):
        raise UsageError(f"'{scheduler}' is not a scheduler address; write it as tcp://HOST:PORT")
    return address


def execute(plan: Plan, *, engine: str = "sequential", workers: int = 1, scheduler: str | None = None,
            blocks_per_chunk: int = DEFAULT_BLOCKS_PER_CHUNK, keep_worlds: bool = False,
            worlds_path: str | Path | None = None, checkpoint_dir: str | Path | None = None, resume: bool = False,
            on_chunk: Callable[[ChunkEvent], None] | None = None) -> RunOutput:
    """Run ``plan`` with an engine and return its exact totals (and per-world rows if kept).

    Args:
        engine: ``sequential``, ``processes`` or ``dask``.
        workers: worker processes (``processes``; ``dask`` without a scheduler).
        scheduler: a Dask scheduler address (``dask``); default: an embedded local cluster.
        blocks_per_chunk: blocks of ``BLOCK`` worlds per unit of work.
        keep_worlds: return per-world rows in memory (canonical order: option, then world).
        worlds_path: write per-world rows to this Parquet file instead, chunk by chunk.
        checkpoint_dir: checkpoint finished chunks here (kept afterwards: remove it once saved).
        resume: reuse valid checkpoints in ``checkpoint_dir``.
        on_chunk: called in this process after each chunk is done (and checkpointed).
    """
    address = check_settings(engine, workers, blocks_per_chunk, scheduler)
    if keep_worlds and worlds_path is not None:
        raise UsageError("per-world rows go either to memory (keep_worlds) or to a file (worlds_path), not both")
    if resume and checkpoint_dir is None:
        raise UsageError("resume needs a checkpoint directory")
    chunks = plan.chunks(blocks_per_chunk)
    client = cluster = None
    if engine == "dask":  # connect first: an unreachable scheduler leaves nothing behind
        client, cluster = _connect(address, workers)
    try:
        return _execute(plan, chunks, engine, workers, address, keep_worlds, worlds_path, checkpoint_dir, resume,
                        on_chunk, client, blocks_per_chunk)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _execute(plan: Plan, chunks: list[tuple[int, int]], engine: str, workers: int, address: str | None,
             keep_worlds: bool, worlds_path: str | Path | None, checkpoint_dir: str | Path | None, resume: bool,
             on_chunk: Callable[[ChunkEvent], None] | None, client: Any, blocks_per_chunk: int) -> RunOutput:
    k = len(plan.options)
    want_worlds = keep_worlds or worlds_path is not None
    store = Checkpoints(checkpoint_dir, plan, resume=resume) if checkpoint_dir is not None else None
    parts_dir: Path | None = None  # where Parquet parts go when there is no checkpoint directory
    if worlds_path is not None:
        worlds_path = Path(worlds_path)
        if store is None:
            worlds_path.parent.mkdir(parents=True, exist_ok=True)
            parts_dir = Path(tempfile.mkdtemp(prefix=f".{worlds_path.name}.parts-", dir=worlds_path.parent))
    worlds_as = None if not want_worlds else ("parquet" if store is not None or parts_dir is not None else "frame")
    acc = ExactTotals(plan.blocks())
    frames: dict[tuple[int, int], pd.DataFrame] = {}
    counts = Counter[str]()

    def part_path(first: int, end: int, i: int) -> Path:
        if store is not None:
            return store.part_path(first, end, i)
        assert parts_dir is not None
        return parts_dir / f"{first:07d}-{end:07d}.o{i:02d}.parquet"

    def done(first: int, end: int, source: str) -> None:
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
            store.save(out, out.worlds if worlds_as == "parquet" else None)
        done(out.first, out.end, "computed")

    try:
        todo: list[tuple[int, int]] = []
        if store is not None and resume:
            store.prune(chunks)
            for first, end in chunks:
                stats = store.load(first, end, need_parts=want_worlds)
                if stats is None:
                    todo.append((first, end))
                else:
                    acc.add_chunk(stats)
                    done(first, end, "checkpoint")
        else:
            todo = list(chunks)
        extra: dict[str, Any] = {}
        if todo:
            if engine == "sequential":
                _run_sequential(plan, todo, accept, worlds_as)
            elif engine == "processes":
                extra = _run_processes(plan, todo, accept, worlds_as, workers)
            else:
                extra = _run_dask(client, plan, todo, accept, worlds_as, workers, local=address is None)
        totals = acc.totals()
        worlds: pd.DataFrame | None = None
        if keep_worlds:
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
    info = {"engine": engine, "workers": workers if engine != "sequential" else 1,
            "blocks_per_chunk": blocks_per_chunk, "chunks": len(chunks),
            "chunks_computed": counts["computed"], "chunks_resumed": counts["checkpoint"], **extra}
    if address is not None:
        info["scheduler"] = address
    return RunOutput(totals=totals, worlds=worlds, info=info)


ROW_GROUP = 65536  # rows per row group of an assembled file


def assemble_parquet(parts: Sequence[Path], path: Path, row_group: int = ROW_GROUP) -> Path:
    """Concatenate Parquet parts, in the order given, into one file, holding little in memory.

    Rows are regrouped into row groups of exactly ``row_group`` rows (the last one shorter), so
    the file is the same, byte for byte, however the rows were split into parts.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    def write(fh: Any) -> None:
        writer = None
        buffered: list[pa.Table] = []
        rows = 0

        def flush(n: int) -> None:
            nonlocal buffered, rows
            table = pa.concat_tables(buffered)
            writer.write_table(table.slice(0, n).combine_chunks(), row_group_size=n)  # type: ignore[union-attr]
            rest = table.slice(n)
            buffered, rows = ([rest] if rest.num_rows else []), rest.num_rows

        try:
            for part in parts:
                table = pq.read_table(part)
                if writer is None:
                    writer = pq.ParquetWriter(fh, table.schema)
                elif not table.schema.equals(writer.schema, check_metadata=False):
                    table = table.cast(writer.schema)
                buffered.append(table.replace_schema_metadata(writer.schema.metadata))
                rows += table.num_rows
                while rows >= row_group:
                    flush(row_group)
            if rows:
                flush(rows)
        finally:
            if writer is not None:
                writer.close()

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write)
    return path


class StagedParquet:
    """A Parquet file standing in for ``Results.worlds`` when saving: ``to_parquet`` links or copies it.

    ``Results.save`` calls ``worlds.to_parquet(path, index=False)``; this puts the streamed
    file there without loading it into memory.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def to_parquet(self, path: str | Path, index: bool = False) -> None:
        try:
            os.link(self.path, path)
        except OSError:
            shutil.copyfile(self.path, path)
