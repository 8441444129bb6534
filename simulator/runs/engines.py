"""Engines: where the chunks of a run are simulated. Pass one to ``run(..., engine=...)``.

* ``Sequential()``: chunk after chunk in this process.
* ``Processes(workers=K)``: a pool of K local worker processes (``forkserver`` where available,
  else ``spawn``). If a worker process dies, the pool is rebuilt and the unfinished chunks run
  again (each chunk at most ``MAX_ATTEMPTS`` times).
* ``Dask(workers=K)``: an embedded local Dask cluster of K worker processes, or
  ``Dask(scheduler="tcp://HOST:PORT")``: a running cluster. Tasks of a lost worker are
  rescheduled by the scheduler; ``retries`` covers tasks that fail. ``dask`` is imported only
  when a Dask engine opens. The workers of a remote cluster need the same version of geosim;
  the scenario travels with each task, so they need no scenario files.

Every engine hands finished chunks back to this process in whatever order they finish; the
figures are the same, bit for bit, whatever the engine (``totals.py``). An engine is a context
manager: inside a ``with`` block its process pool or Dask client stays open and serves
several runs; without one, each run opens and closes it. ``blocks_per_chunk`` (blocks of
``BLOCK`` worlds simulated together) trades memory for overhead.

In every engine the workers leave Ctrl-C to this process, which stops them (an embedded Dask
cluster's workers are started with SIGINT ignored, so Ctrl-C is ignored while it starts).
Local worker processes are bounded by the usable cores and the available memory (and, in a
run, by its chunks): a larger request is lowered, and the manifest records the real number.
A worker that runs out of memory stops the run with ``OutOfMemory``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import signal
import sys
import uuid
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

from simulator.errors import UsageError, printable, whole_number
from simulator.runs.blocks import simulate_blocks
from simulator.runs.parquet import parquet_bytes
from simulator.runs.plan import DEFAULT_BLOCKS_PER_CHUNK, Plan
from simulator.runs.totals import Stats

MAX_ATTEMPTS = 3  # a chunk whose worker dies this many times stops the run
MAX_BLOCKS_PER_CHUNK = 1024  # 4.2 million worlds per chunk, already gigabytes of working memory
MAX_WORKERS = 1024
CONNECT_TIMEOUT = 5.0  # seconds to reach a Dask scheduler and complete its handshake
# Resident memory of one worker process: the libraries, plus working memory per block of a chunk
# (10^7 worlds of six options stay under 1 GiB on two workers of 8 blocks, benchmarks/README.md).
WORKER_BYTES = 180 * 2**20
BLOCK_BYTES = 40 * 2**20

WorldsAs = Literal["frame", "parquet"] | None  # how a chunk returns per-world rows, if at all


# --------------------------------------------------------------------------- one chunk, in a worker


@dataclass
class ChunkOutput:
    """What a worker sends back: block statistics and, if asked for, per-world rows by option."""

    first: int
    end: int
    stats: Stats
    worlds: list[Any] | None = None  # per option: a DataFrame ("frame") or Parquet bytes ("parquet")


def compute_chunk(plan: Plan, first: int, end: int, worlds_as: WorldsAs = None) -> ChunkOutput:
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


def _chunk_in_worker(plan: Plan, first: int, end: int, worlds_as: WorldsAs) -> ChunkOutput:
    # A task names this wrapper, not compute_chunk, so a worker always runs the real function.
    return compute_chunk(plan, first, end, worlds_as)


def _ignore_ctrl_c() -> None:
    """Pool initializer: leave Ctrl-C to the parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


Accept = Callable[[ChunkOutput], None]


class OutOfMemory(UsageError):
    """Workers ran out of memory (a ``MemoryError``, or processes killed as the system ran short)."""

    def __init__(self, first: int, end: int, how: str) -> None:
        super().__init__(f"out of memory while simulating blocks {first}-{end - 1} ({how}); "
                         "try fewer blocks per chunk (--blocks-per-chunk) or fewer workers")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes of memory available to new processes without swapping, if the system says."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def worker_bound(requested: int, blocks_per_chunk: int, chunks: int | None = None) -> tuple[int, str | None]:
    """How many worker processes to start for ``requested``: at most one per usable core, per chunk
    (if known) and per share of the available memory; with the reason when that is fewer."""
    bounds = [(usable_cores(), "usable cores")]
    if chunks is not None:
        bounds.append((chunks, "chunks to run"))
    memory = available_memory()
    if memory is not None:
        bounds.append((memory // (WORKER_BYTES + blocks_per_chunk * BLOCK_BYTES), "workers' share of free memory"))
    limit, reason = min(bounds, key=lambda b: b[0])
    if limit >= requested:
        return requested, None
    limit = max(1, limit)
    return limit, f"{limit} {reason}" if reason != "workers' share of free memory" else f"memory for {limit}"


# --------------------------------------------------------------------------- engines


class Engine:
    """Where chunks run. Subclasses open and close their resources and run a list of chunks."""

    name: ClassVar[str]

    def __init__(self, *, blocks_per_chunk: int = DEFAULT_BLOCKS_PER_CHUNK) -> None:
        self.blocks_per_chunk = whole_number("blocks_per_chunk", blocks_per_chunk, high=MAX_BLOCKS_PER_CHUNK)
        self._is_open = False

    @property
    def is_open(self) -> bool:
        """Whether the engine's resources (pool, client) are ready; a run opens a closed engine for itself."""
        return self._is_open

    def open(self) -> Self:
        """Start the engine's resources (a no-op if already open)."""
        self._is_open = True
        return self

    def close(self) -> None:
        """Release the engine's resources; it can be opened again."""
        self._is_open = False

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run_chunks(self, plan: Plan, chunks: Sequence[tuple[int, int]], accept: Accept,
                   worlds_as: WorldsAs) -> dict[str, Any]:
        """Simulate ``chunks`` of ``plan``, calling ``accept`` in this process as each one finishes.

        Returns what the run's manifest should record about the engine beyond ``describe()``.
        """
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The engine's settings as recorded in a run's manifest."""
        return {"engine": self.name, "workers": 1}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(blocks_per_chunk={self.blocks_per_chunk})"


class Sequential(Engine):
    """Chunk after chunk in this process."""

    name = "sequential"

    def run_chunks(self, plan: Plan, chunks: Sequence[tuple[int, int]], accept: Accept,
                   worlds_as: WorldsAs) -> dict[str, Any]:
        for first, end in chunks:
            try:
                out = compute_chunk(plan, first, end, worlds_as)
            except MemoryError:
                raise OutOfMemory(first, end, "MemoryError") from None
            accept(out)
        return {}


def _mp_context() -> Any:
    # Workers start from a small, clean server (forkserver) or a fresh interpreter (spawn), never as a
    # fork of this process and its threads. The server does not preload the simulator: pages it
    # shared with the workers would be copied as they run and count twice.
    return mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")


class Processes(Engine):
    """A pool of ``workers`` local processes (default: one per core).

    Worker processes import the calling script's main module, so a script must run under
    ``if __name__ == "__main__":`` (notebooks and the ``geosim`` command need nothing). The
    pool starts workers as chunks arrive and, inside a ``with`` block, keeps them for the next run.
    It starts no more workers than there are usable cores, chunks to run, or shares of the
    available memory (``worker_bound``); a run's manifest records how many ran.
    """

    name = "processes"

    def __init__(self, workers: int | None = None, *, blocks_per_chunk: int = DEFAULT_BLOCKS_PER_CHUNK) -> None:
        super().__init__(blocks_per_chunk=blocks_per_chunk)
        self.workers = whole_number("workers", (os.cpu_count() or 1) if workers is None else workers,
                                    high=MAX_WORKERS)
        self._pool: ProcessPoolExecutor | None = None
        self._pool_size = self.workers

    def open(self) -> Self:
        if self._pool is None:
            self._pool_size, _ = worker_bound(self.workers, self.blocks_per_chunk)
            self._pool = ProcessPoolExecutor(max_workers=self._pool_size, mp_context=_mp_context(),
                                             initializer=_ignore_ctrl_c)
        return super().open()

    def close(self) -> None:
        self._stop_pool(kill=False)
        super().close()

    def _stop_pool(self, kill: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                if proc.is_alive():
                    proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)

    def _fresh_pool(self) -> ProcessPoolExecutor:
        """Stop the current pool's workers and start an empty pool (its workers start on demand)."""
        self._stop_pool(kill=True)
        self.open()
        assert self._pool is not None
        return self._pool

    def run_chunks(self, plan: Plan, chunks: Sequence[tuple[int, int]], accept: Accept,
                   worlds_as: WorldsAs) -> dict[str, Any]:
        pending = deque(sorted(chunks, key=lambda c: c[0] - c[1]))  # largest first: a short last chunk ends the run
        attempts: Counter[tuple[int, int]] = Counter()
        restarts = 0
        pool = self._pool if self._pool is not None else self._fresh_pool()
        # The pool starts a process per task submitted while none is idle, up to its size: with
        # fewer chunks than that, no more processes start than there are chunks.
        used, lowered = worker_bound(self.workers, self.blocks_per_chunk, len(chunks))
        used = min(used, self._pool_size)
        while True:
            inflight: dict[Future[ChunkOutput], tuple[int, int]] = {}
            broken = False
            try:
                while (pending or inflight) and not broken:
                    while pending and len(inflight) < 2 * used:
                        chunk = pending.popleft()
                        attempts[chunk] += 1
                        inflight[pool.submit(_chunk_in_worker, plan, chunk[0], chunk[1], worlds_as)] = chunk
                    done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                    for fut in sorted(done, key=lambda f: inflight[f]):
                        chunk = inflight.pop(fut)
                        try:
                            out = fut.result()
                        except BrokenProcessPool:
                            broken = True
                            pending.appendleft(chunk)
                        except MemoryError:
                            raise OutOfMemory(chunk[0], chunk[1], "MemoryError in a worker process") from None
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
                    failed = [c for c in pending if attempts[c] >= MAX_ATTEMPTS]
                    if failed:
                        # Killed by the system (the OOM killer), most likely; from a script, a missing
                        # main guard makes every worker fail to start.
                        raise OutOfMemory(failed[0][0], failed[0][1],
                                          f"worker processes died {MAX_ATTEMPTS} times; from a script, is the run "
                                          "under an `if __name__ == '__main__':` guard?")
            except BaseException:
                # Stop the workers still busy with this run; a fresh pool serves the next one.
                self._fresh_pool()
                raise
            if not broken:
                info: dict[str, Any] = {"pool_restarts": restarts, "workers": used}
                if used < self.workers:
                    info["workers_requested"] = self.workers
                    info["workers_limited_by"] = lowered or f"{used} usable cores or memory when the pool opened"
                return info
            restarts += 1
            pool = self._fresh_pool()

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "workers": self.workers}

    def __repr__(self) -> str:
        return f"Processes(workers={self.workers}, blocks_per_chunk={self.blocks_per_chunk})"


def scheduler_address(scheduler: str) -> str:
    """A Dask scheduler address in ``PROTOCOL://HOST:PORT`` form (``tcp://`` if none is given)."""
    address = scheduler.strip()
    if "://" not in address:
        address = "tcp://" + address
    if not re.fullmatch(r"(tcp|tls|ws|wss|ucx)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}", address):
        raise UsageError(f"'{scheduler}' is not a scheduler address; write it as tcp://HOST:PORT")
    return address


class Dask(Engine):
    """A Dask cluster: an embedded local one of ``workers`` processes (default: one per core), or the
    running cluster at ``scheduler`` (``tcp://HOST:PORT``). Needs the ``scale`` extra (``geosim[scale]``).
    """

    name = "dask"

    def __init__(self, workers: int | None = None, *, scheduler: str | None = None,
                 blocks_per_chunk: int = DEFAULT_BLOCKS_PER_CHUNK) -> None:
        super().__init__(blocks_per_chunk=blocks_per_chunk)
        if scheduler is not None and workers is not None:
            raise UsageError("workers sets the size of a local Dask cluster; the cluster at a scheduler address "
                             "runs the chunks on its own workers: drop one of them")
        self.scheduler = None if scheduler is None else scheduler_address(scheduler)
        self.workers = None if scheduler is not None else whole_number(
            "workers", (os.cpu_count() or 1) if workers is None else workers, high=MAX_WORKERS)
        self._client: Any = None
        self._cluster: Any = None

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` while the engine is open (``None`` when closed)."""
        return self._client

    def open(self) -> Self:
        if self._client is None:
            self._client, self._cluster = _connect(self.scheduler, self.workers, self.blocks_per_chunk)
        return super().open()

    def close(self) -> None:
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        try:
            if client is not None:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()
            super().close()

    def run_chunks(self, plan: Plan, chunks: Sequence[tuple[int, int]], accept: Accept,
                   worlds_as: WorldsAs) -> dict[str, Any]:
        from distributed import as_completed

        if self._client is None:
            self.open()
        client = self._client
        pending = deque(sorted(chunks, key=lambda c: c[0] - c[1]))
        tag = uuid.uuid4().hex[:12]
        futures: dict[Any, tuple[int, int]] = {}
        queue = as_completed()
        try:
            known = client.scheduler_info().get("workers", {})
            threads = sum(w.get("nthreads", 1) for w in known.values())
            limit = 2 * max(threads, self.workers or 1, 1)

            def submit() -> None:
                first, end = pending.popleft()
                fut = client.submit(_chunk_in_worker, plan, first, end, worlds_as,
                                    key=f"geosim-chunk-{tag}-{first}-{end}", pure=False, retries=MAX_ATTEMPTS - 1)
                futures[fut] = (first, end)
                queue.add(fut)

            while pending and len(futures) < limit:
                submit()
            for fut in queue:
                chunk = futures.pop(fut)
                try:
                    out = fut.result()
                except Exception as exc:
                    if isinstance(exc, MemoryError):
                        raise OutOfMemory(chunk[0], chunk[1], "MemoryError in a Dask worker") from None
                    if type(exc).__name__ == "KilledWorker":
                        raise OutOfMemory(chunk[0], chunk[1], f"Dask workers died: {exc}") from None
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

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"engine": self.name, "workers": self.workers}
        if self.scheduler is not None:
            out["scheduler"] = self.scheduler
        return out

    def __repr__(self) -> str:
        where = f"scheduler={self.scheduler!r}" if self.scheduler is not None else f"workers={self.workers}"
        return f"Dask({where}, blocks_per_chunk={self.blocks_per_chunk})"


def _connect(scheduler: str | None, workers: int | None, blocks_per_chunk: int) -> tuple[Any, Any]:
    """A Dask client, and the embedded cluster it talks to when no scheduler is given."""
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
            # No dashboard; the scheduler's HTTP server takes a free port instead of warning when 8787 is taken.
            cluster = LocalCluster(n_workers=worker_bound(workers or 1, blocks_per_chunk)[0], threads_per_worker=1,
                                   processes=True, host="127.0.0.1",
                                   dashboard_address=":0", scheduler_kwargs={"dashboard": False},
                                   silence_logs=logging.ERROR)
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        return Client(cluster), cluster
    import dask

    try:
        _handshake(scheduler, CONNECT_TIMEOUT)
        with dask.config.set({"distributed.comm.timeouts.connect": f"{CONNECT_TIMEOUT}s"}):
            return Client(scheduler, timeout=CONNECT_TIMEOUT), None
    except Exception as exc:  # whatever the other end does (refuses, stays silent, sends garbage) is not a bug here
        if isinstance(exc, TimeoutError):
            reason = f"no answer within {CONNECT_TIMEOUT:g} s"
        else:
            reason = printable(str(exc).splitlines()[0], 200) if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler} ({reason}); start one with "
                         f"'dask scheduler' and 'dask worker {scheduler}', or check the address") from None


def _handshake(address: str, timeout: float) -> None:
    """Connect to ``address`` and complete Dask's handshake within ``timeout`` seconds, then hang up.

    ``distributed`` bounds only the TCP connect: a server that accepts and never answers would
    keep a ``Client`` waiting for ever. The handshake runs on its own event loop, in a thread (the
    caller may be inside one, as in a notebook), so that it can be abandoned cleanly.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect

    async def shake_hands() -> None:
        comm = await connect(address, timeout=timeout)
        await comm.close()

    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, asyncio.wait_for(shake_hands(), timeout)).result()
