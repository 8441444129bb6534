"""Independent tasks on the engines of ``run``: ``Sequential()``, ``Processes(workers=K)``, ``Dask(...)``.

A run splits worlds into chunks of a plan; an exploration splits design points into batches,
each a pure function of its inputs. ``map_tasks`` runs a list of such tasks where the engine
says and returns the results in the order of the tasks, so that the outcome does not depend on
the engine, its workers or the order in which tasks finish.

``Processes``: a pool of the engine's number of workers, bounded like a run's (usable cores,
memory, tasks), started from a clean server (``forkserver``, else ``spawn``) with Ctrl-C left to
this process. ``Dask``: the engine's client (an embedded local cluster, or the one at its
scheduler address), opened for the call if it was closed.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from simulator.errors import UsageError
from simulator.runs.engines import Dask, Engine, Processes, Sequential, worker_bound

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int, int], None]  # (tasks done, tasks in all)


def ignore_ctrl_c() -> None:
    """Pool initializer: Ctrl-C is for the parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def map_tasks(func: Callable[[T], R], tasks: Sequence[T], engine: Engine | None = None,
              progress: Progress | None = None) -> list[R]:
    """``[func(t) for t in tasks]``, run where ``engine`` says (default: this process).

    ``func`` must be importable by name (a module-level function) for the process and Dask
    engines; the results come back in the order of ``tasks``.
    """
    engine = Sequential() if engine is None else engine
    if isinstance(engine, Sequential):
        out = []
        for i, task in enumerate(tasks):
            out.append(func(task))
            if progress is not None:
                progress(i + 1, len(tasks))
        return out
    if isinstance(engine, Processes):
        return _in_processes(func, tasks, engine, progress)
    if isinstance(engine, Dask):
        return _on_dask(func, tasks, engine, progress)
    raise UsageError(f"explore runs on Sequential, Processes or Dask engines, not {type(engine).__name__}")


def _in_processes(func: Callable[[T], R], tasks: Sequence[T], engine: Processes,
                  progress: Progress | None) -> list[R]:
    workers, _ = worker_bound(engine.workers, engine.blocks_per_chunk, len(tasks))
    context = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    results: list[Any] = [None] * len(tasks)
    done = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=ignore_ctrl_c) as pool:
        pending: dict[Future[R], int] = {}
        queue = list(range(len(tasks)))[::-1]
        try:
            while queue or pending:
                while queue and len(pending) < 2 * workers:
                    i = queue.pop()
                    pending[pool.submit(func, tasks[i])] = i
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    try:
                        results[pending.pop(fut)] = fut.result()
                    except BrokenProcessPool:
                        raise UsageError("worker processes died (out of memory, or, from a script, a call "
                                         "outside an `if __name__ == '__main__':` guard)") from None
                    done += 1
                    if progress is not None:
                        progress(done, len(tasks))
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
    return results


def _on_dask(func: Callable[[T], R], tasks: Sequence[T], engine: Dask, progress: Progress | None) -> list[R]:
    opened = not engine.is_open
    engine.open()
    try:
        from distributed import as_completed

        client = engine.client
        futures = client.map(func, list(tasks), pure=False)
        index = {fut.key: i for i, fut in enumerate(futures)}
        results: list[Any] = [None] * len(tasks)
        done = 0
        try:
            for fut in as_completed(futures):
                results[index[fut.key]] = fut.result()
                done += 1
                if progress is not None:
                    progress(done, len(tasks))
        except BaseException:
            client.cancel(futures, force=True)
            raise
        return results
    finally:
        if opened:
            engine.close()
