"""Engines as objects: reused across runs in a ``with`` block, or opened and closed by one run; resume
from Python; the same numbers, bit for bit, whatever the engine.

Every run simulates a small plan (3 blocks of worlds, the last one partial, two options,
24 months) and is compared exactly with the same run on ``Sequential()``.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from simulator import Dask, Processes, Sequential, UsageError, run
from simulator.analysis.results import Results
from simulator.api import RunInterrupted, checkpoint_dir_for, run_and_save
from simulator.runs import engines
from simulator.runs.execute import ChunkEvent
from simulator.runs.plan import BLOCK
from simulator.report.write import rounded

WORLDS = 2 * BLOCK + 50  # 3 blocks, the last one partial
HORIZON = 24
OPTIONS = ["peacekeepers"]  # with the baseline: two options
SEEDS = (11, 12)  # two runs through one engine


def _run(ukraine, seed: int, **kw) -> Results:
    return run(ukraine, OPTIONS, worlds=WORLDS, seed=seed, horizon_months=HORIZON, progress=kw.pop("progress", False),
               worlds_to=kw.pop("worlds_to", "memory"), **kw)


@pytest.fixture(scope="module")
def sequential(ukraine) -> dict[int, Results]:
    """The reference: each seed's run on the default engine, one block per chunk."""
    return {seed: _run(ukraine, seed, engine=Sequential(blocks_per_chunk=1)) for seed in SEEDS}


def assert_identical(got: Results, want: Results) -> None:
    for name in ("summary", "survival", "pairs", "worlds"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), check_exact=True)


def _pool_pids() -> set[int]:
    return {p.pid for p in multiprocessing.active_children()
            if type(p).__name__ in ("ForkServerProcess", "SpawnProcess") and not p.name.startswith("Dask")}


def test_the_default_engine_is_sequential_with_the_default_chunk(ukraine, sequential) -> None:
    res = _run(ukraine, SEEDS[0])
    assert_identical(res, sequential[SEEDS[0]])
    assert res.manifest["run"]["engine"] == "sequential" and res.manifest["run"]["blocks_per_chunk"] == 8


def test_a_process_pool_serves_several_runs_in_a_with_block_even_after_an_interruption(
        ukraine, sequential, tmp_path: Path) -> None:
    ck = tmp_path / "checkpoints"

    def stop_after_two(event: ChunkEvent) -> None:
        if event.done == 2:
            raise KeyboardInterrupt

    before = _pool_pids()
    with Processes(2, blocks_per_chunk=1) as engine:
        first = _run(ukraine, SEEDS[0], engine=engine)
        workers = _pool_pids() - before
        second = _run(ukraine, SEEDS[1], engine=engine)
        assert _pool_pids() - before == workers and len(workers) == 2  # the same two processes did both runs
        with pytest.raises(RunInterrupted):
            _run(ukraine, SEEDS[1], engine=engine, checkpoints=ck, progress=stop_after_two)
        assert engine.is_open and not (_pool_pids() & workers)  # the busy workers were stopped ...
        events: list[ChunkEvent] = []
        resumed = _run(ukraine, SEEDS[1], engine=engine, checkpoints=ck, resume=True, progress=events.append)
        workers |= _pool_pids() - before  # ... and fresh ones finished the run
    assert not engine.is_open and not (_pool_pids() & workers)  # all gone after the block
    assert sorted(e.source for e in events) == ["checkpoint", "checkpoint", "computed"]
    assert_identical(first, sequential[SEEDS[0]])
    assert_identical(second, sequential[SEEDS[1]])
    assert_identical(resumed, sequential[SEEDS[1]])
    assert first.manifest["run"]["engine"] == "processes" and first.manifest["run"]["workers"] == 2


def test_an_embedded_dask_cluster_serves_two_runs_in_a_with_block(ukraine, sequential) -> None:
    with Dask(2, blocks_per_chunk=1) as engine:
        client = engine.client
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        first = _run(ukraine, SEEDS[0], engine=engine)
        second = _run(ukraine, SEEDS[1], engine=engine)
        assert engine.client is client and client.status == "running"  # one cluster for both runs
        assert len(client.scheduler_info()["workers"]) == 2
    assert engine.client is None and client.status == "closed"
    assert_identical(first, sequential[SEEDS[0]])
    assert_identical(second, sequential[SEEDS[1]])
    assert first.manifest["run"]["engine"] == "dask" and first.manifest["run"]["workers"] == 2


class CountedChunks:
    """``compute_chunk`` that counts the chunks it simulates in this process."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.real = engines.compute_chunk

    def __call__(self, plan, first, end, worlds_as=None):
        self.calls.append((first, end))
        return self.real(plan, first, end, worlds_as)


def test_an_interrupted_run_resumes_from_python_and_computes_only_the_missing_chunks(
        ukraine, sequential, tmp_path: Path, monkeypatch) -> None:
    counted = CountedChunks()
    monkeypatch.setattr(engines, "compute_chunk", counted)
    ck = tmp_path / "checkpoints"
    engine = Sequential(blocks_per_chunk=1)

    def stop_after_the_first_chunk(event: ChunkEvent) -> None:
        raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as stopped:
        _run(ukraine, SEEDS[0], engine=engine, checkpoints=ck, progress=stop_after_the_first_chunk)
    assert (stopped.value.done, stopped.value.total) == (1, 3)
    assert "resume=True" in str(stopped.value) and str(ck) in str(stopped.value)
    assert len(counted.calls) == 1 and len(list(ck.glob("*.npz"))) == 1

    counted.calls.clear()
    events: list[ChunkEvent] = []
    res = _run(ukraine, SEEDS[0], engine=engine, checkpoints=ck, resume=True, progress=events.append)
    assert sorted(counted.calls) == [(1, 2), (2, 3)]  # the two missing chunks, nothing else
    assert [e.source for e in events].count("checkpoint") == 1
    assert (res.manifest["run"]["chunks_resumed"], res.manifest["run"]["chunks_computed"]) == (1, 2)
    assert_identical(res, sequential[SEEDS[0]])
    assert not ck.exists()  # removed once the run succeeded


def test_run_and_save_resumes_like_the_command(ukraine, sequential, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    counted = CountedChunks()
    monkeypatch.setattr(engines, "compute_chunk", counted)
    kwargs = dict(worlds=WORLDS, seed=SEEDS[0], horizon_months=HORIZON, engine=Sequential(blocks_per_chunk=1),
                  save_worlds=True, plots=False)

    def stop_after_two(event: ChunkEvent) -> None:
        if event.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted):
        run_and_save(ukraine, out, OPTIONS, **kwargs, progress=stop_after_two)
    assert not out.exists() and len(list(checkpoint_dir_for(out).glob("*.npz"))) == 2
    counted.calls.clear()
    res = run_and_save(ukraine, out, OPTIONS, **kwargs, resume=True, progress=False)
    assert counted.calls == [(2, 3)]
    assert res.worlds is None and not checkpoint_dir_for(out).exists()
    want = sequential[SEEDS[0]]
    assert (out / "summary.csv").read_text() == rounded(want.summary).to_csv(index=False)  # as written
    pd.testing.assert_frame_equal(pd.read_parquet(out / "worlds.parquet"), want.worlds, check_exact=True)
    with pytest.raises(UsageError, match="already exists"):  # checked before anything runs
        run_and_save(ukraine, out, OPTIONS, **kwargs)
    assert counted.calls == [(2, 3)]


@pytest.mark.parametrize("make, expected", [
    (lambda: Processes(0), "workers must be a positive whole number"),
    (lambda: Processes(2.5), "workers must be a positive whole number"),
    (lambda: Sequential(blocks_per_chunk=5000), "at most 1,024"),
    (lambda: Dask(2, scheduler="tcp://127.0.0.1:8786"), "drop one of them"),
    (lambda: Dask(scheduler="nowhere"), "tcp://HOST:PORT"),
])
def test_bad_engine_settings_are_usage_errors(make, expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        make()


@pytest.mark.parametrize("kwargs, expected", [
    (dict(resume=True), "resume needs a checkpoint folder"),
    (dict(worlds_to=3), "worlds_to must be"),
])
def test_bad_run_settings_are_usage_errors(ukraine, kwargs, expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        run(ukraine, worlds=10, horizon_months=2, progress=False, **kwargs)
