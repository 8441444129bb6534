"""Scale: chunked runs in processes and on Dask give the same figures, bit for bit; faults and resume.

Every run here simulates the same small plan (4 blocks of worlds, the last one partial, three
options, 24 months) and is compared with the plain sequential run of ``runs/blocks.py``, exactly.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import Dask, Processes, Sequential, cli, run
from simulator.analysis.results import Results, finalize
from simulator.report.write import rounded
from simulator.runs import engines
from simulator.runs.blocks import run_sequential
from simulator.runs.checkpoints import checkpoint_dir_for
from simulator.runs.execute import ChunkEvent, RunInterrupted, RunOutput, execute
from simulator.runs.plan import BLOCK, make_plan
from simulator.runs.totals import ChunkResult, ExactTotals, totals

WORLDS = 3 * BLOCK + 100  # 4 blocks, the last one partial
HORIZON = 24  # hold_36 is NaN: the non-finite path of the exact sums is exercised too
OPTIONS = ["peacekeepers", "nato_membership"]  # with the baseline: three options
SEED = 7


@pytest.fixture(scope="module")
def plan(ukraine):
    return make_plan(ukraine, OPTIONS, WORLDS, SEED, HORIZON)


@pytest.fixture(scope="module")
def reference(plan):
    """The plain sequential path: one chunk, ``totals`` with ``math.fsum`` in block order."""
    merged = run_sequential(plan, blocks_per_chunk=16, keep_worlds=True)
    assert merged.worlds is not None
    tot = totals(plan, merged)
    res = finalize(plan, tot, {"baseline": plan.scenario.baseline}, worlds=merged.worlds.reset_index(drop=True))
    return res, tot


def assert_same_totals(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert list(got) == list(want)
    for key in want:
        assert got[key].dtype == want[key].dtype and got[key].shape == want[key].shape, key
        if want[key].dtype.kind == "f":  # compare bit patterns: NaN == NaN, -0.0 != 0.0
            assert np.array_equal(got[key].view(np.uint64), want[key].view(np.uint64)), key
        else:
            assert np.array_equal(got[key], want[key]), key


def assert_same_results(got: Results, want: Results, worlds: bool = False) -> None:
    for name in ("summary", "survival", "pairs"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), check_exact=True)
    if worlds:
        assert got.worlds is not None and want.worlds is not None
        pd.testing.assert_frame_equal(got.worlds, want.worlds, check_exact=True)


def check(plan, reference, out: RunOutput, worlds: bool = False) -> None:
    want, want_totals = reference
    assert_same_totals(out.totals, want_totals)
    got = finalize(plan, out.totals, {"baseline": plan.scenario.baseline}, worlds=out.worlds)
    assert_same_results(got, want, worlds=worlds)


# ----------------------------------------------------------------------------- exact merging


def test_exact_totals_equal_fsum_in_block_order_whatever_the_arrival_order() -> None:
    rng = np.random.default_rng(1)
    n = 40
    stats = {}
    for b in range(n):
        f = rng.standard_normal((2, 3, 4)) * 10.0 ** rng.integers(-300, 290, (2, 3, 4))
        f[0, 0, 0] = 5e-324 * int(rng.integers(-3, 4))  # subnormals
        f[0, 0, 1] = [1e300, -1e300, 1.0, 1e-16][b % 4]  # cancellation
        f[1, 1, 1] = np.nan if b == 7 else 0.1
        f[1, 2, 3] = np.inf if b in (3, 9) else -0.0
        stats[b] = {"ints": rng.integers(0, 10**6, (3, 2)), "f": f}

    class TinyPlan:
        def blocks(self) -> int:
            return n

    want = totals(TinyPlan(), ChunkResult(stats=stats))  # type: ignore[arg-type]
    for order in (range(n), rng.permutation(n)):
        acc = ExactTotals(n)
        for b in order:
            acc.add(int(b), stats[int(b)])
        assert_same_totals(acc.totals(), want)
    assert math.isnan(want["f"][1, 1, 1]) and want["f"][1, 2, 3] == np.inf
    with pytest.raises(ValueError, match="counted twice"):
        acc.add(0, stats[0])
    with pytest.raises(RuntimeError, match="not simulated"):
        ExactTotals(n).totals()


def test_the_default_run_is_unchanged(ukraine, plan, reference) -> None:
    res = run(ukraine, options=OPTIONS, worlds=WORLDS, seed=SEED, horizon_months=HORIZON, progress=False,
              worlds_to="memory")
    assert_same_results(res, reference[0], worlds=True)
    assert res.manifest["run"]["engine"] == "sequential"


@pytest.mark.parametrize("blocks_per_chunk", [1, 2, 5])
def test_chunk_size_does_not_change_a_bit(plan, reference, blocks_per_chunk: int) -> None:
    out = execute(plan, Sequential(blocks_per_chunk=blocks_per_chunk), worlds_to="memory")
    assert out.info["chunks"] == len(plan.chunks(blocks_per_chunk))
    check(plan, reference, out, worlds=True)


# ----------------------------------------------------------------------------- local processes


@pytest.mark.parametrize("workers", [1, 2])
def test_local_processes_give_identical_results(plan, reference, workers: int) -> None:
    before = {p.pid for p in _pool_workers()}
    engine = Processes(workers, blocks_per_chunk=1)
    out = execute(plan, engine, worlds_to="memory")
    assert out.info["engine"] == "processes" and out.info["chunks_computed"] == 4
    assert not engine.is_open and {p.pid for p in _pool_workers()} == before  # the run opened the engine and closed it
    check(plan, reference, out, worlds=True)


def _pool_workers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children()
            if type(p).__name__ in ("ForkServerProcess", "SpawnProcess") and not p.name.startswith("Dask")]


def test_a_worker_process_that_dies_has_its_chunks_rerun(plan, reference) -> None:
    killed: list[int] = []

    def kill_a_worker(event: ChunkEvent) -> None:
        if not killed:
            victim = _pool_workers()[0]
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    out = execute(plan, Processes(2, blocks_per_chunk=1), on_chunk=kill_a_worker)
    assert killed
    assert out.info["pool_restarts"] >= 1  # the pool broke and was rebuilt
    assert out.info["chunks_computed"] == 4  # each chunk counted once
    check(plan, reference, out)


# ----------------------------------------------------------------------------- checkpoints and Ctrl-C


def test_resume_reuses_checkpoints_and_gives_identical_results(ukraine, plan, reference, tmp_path: Path) -> None:
    ck = tmp_path / ".out.chunks"
    kwargs = dict(options=OPTIONS, worlds=WORLDS, seed=SEED, horizon_months=HORIZON,
                  engine=Sequential(blocks_per_chunk=1), checkpoints=ck)

    def stop_after_two(event: ChunkEvent) -> None:
        if event.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as stopped:
        run(ukraine, **kwargs, progress=stop_after_two)
    assert (stopped.value.done, stopped.value.total, stopped.value.checkpoints) == (2, 4, ck)
    assert len(list(ck.glob("*.npz"))) == 2
    assert not list(ck.glob(".tmp-*"))

    # A checkpoint of another plan (here: another seed) is never reused ...
    other = execute(make_plan(ukraine, OPTIONS, WORLDS, SEED + 1, HORIZON), Sequential(blocks_per_chunk=1),
                    checkpoints=tmp_path / ".other.chunks", resume=True)
    assert other.info["chunks_resumed"] == 0
    # ... and the same plan picks up where it stopped.
    events: list[ChunkEvent] = []
    res = run(ukraine, **kwargs, resume=True, worlds_to="memory", progress=events.append)
    assert sorted(e.source for e in events) == ["checkpoint", "checkpoint", "computed", "computed"]
    assert res.manifest["run"]["chunks_resumed"] == 2 and res.manifest["run"]["chunks_computed"] == 2
    assert_same_results(res, reference[0], worlds=True)
    assert not ck.exists()  # removed after a successful run


def test_a_stale_or_damaged_checkpoint_is_not_used(plan, reference, tmp_path: Path) -> None:
    ck = tmp_path / "ck"
    execute(plan, Sequential(blocks_per_chunk=2), checkpoints=ck)
    first, second = sorted(ck.glob("*.npz"))
    first.write_bytes(b"not a checkpoint")
    out = execute(plan, Sequential(blocks_per_chunk=2), checkpoints=ck, resume=True)
    assert (out.info["chunks_resumed"], out.info["chunks_computed"]) == (1, 1)
    check(plan, reference, out)
    # Other chunk bounds: other keys, nothing reused, old files pruned.
    out = execute(plan, Sequential(blocks_per_chunk=1), checkpoints=ck, resume=True)
    assert out.info["chunks_resumed"] == 0
    assert len(list(ck.glob("*.npz"))) == 4
    check(plan, reference, out)


UKRAINE = Path(__file__).resolve().parent.parent / "scenarios" / "ukraine_2025.yaml"


def _cli_args(out: Path, *more: str) -> list[str]:
    return ["run", str(UKRAINE), "--worlds", str(WORLDS), "--horizon", str(HORIZON), "--seed", str(SEED),
            "--option", ",".join(OPTIONS), "--out", str(out), "--quiet", "--no-plots", *more]


def test_ctrl_c_or_an_error_leaves_nothing_that_looks_complete_and_resume_finishes(
        plan, reference, tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "out"
    ck = checkpoint_dir_for(out)
    real = engines.compute_chunk
    calls: list[int] = []

    def interrupted(plan, first, end, worlds_as=None):
        calls.append(first)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(plan, first, end, worlds_as)

    monkeypatch.setattr(engines, "compute_chunk", interrupted)
    args = _cli_args(out, "--blocks-per-chunk", "1", "--save-worlds")
    assert cli.main(args) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.rglob("manifest.json"))
    assert len(list(ck.glob("*.npz"))) == 2

    def failing(plan, first, end, worlds_as=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engines, "compute_chunk", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        cli.main(args + ["--resume"])
    assert not out.exists() and not list(tmp_path.rglob("manifest.json"))

    calls.clear()
    monkeypatch.setattr(engines, "compute_chunk", interrupted)
    assert cli.main(args + ["--resume"]) == 0, capsys.readouterr().err
    assert len(calls) == 2  # only the two chunks that were not checkpointed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run"]["chunks_resumed"] == 2 and "worlds.parquet" in manifest["files"]
    want = reference[0]
    assert (out / "summary.csv").read_text() == rounded(want.summary).to_csv(index=False)  # as written
    assert (out / "pairs.csv").read_text() == rounded(want.pairs).to_csv(index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "worlds.parquet"), want.worlds, check_exact=True)
    assert not ck.exists()


def test_sigint_stops_worker_processes_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "big"
    ck = checkpoint_dir_for(out)
    args = _cli_args(out, "--workers", "2", "--blocks-per-chunk", "1")
    args[args.index("--worlds") + 1] = str(16 * BLOCK)  # 16 chunks: time to interrupt
    proc = subprocess.Popen([sys.executable, "-m", "simulator", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(ck.glob("*.npz")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not out.exists() and not list(tmp_path.rglob("manifest.json"))
    assert 1 <= len(list(ck.glob("*.npz"))) < 16


def test_save_worlds_streams_parquet_equal_to_the_in_memory_rows(ukraine, reference, tmp_path: Path) -> None:
    path = tmp_path / "w" / "worlds.parquet"
    res = run(ukraine, options=OPTIONS, worlds=WORLDS, seed=SEED, horizon_months=HORIZON, progress=False,
              engine=Sequential(blocks_per_chunk=1), worlds_to=path)
    assert res.worlds is None  # not kept in memory
    assert_same_results(res, reference[0])
    pd.testing.assert_frame_equal(pd.read_parquet(path), reference[0].worlds, check_exact=True)
    assert [p.name for p in path.parent.iterdir()] == ["worlds.parquet"]  # no parts left behind
    # Byte for byte the same file whatever the chunking.
    again = tmp_path / "again.parquet"
    run(ukraine, options=OPTIONS, worlds=WORLDS, seed=SEED, horizon_months=HORIZON, progress=False,
        engine=Sequential(blocks_per_chunk=5), worlds_to=str(again))
    assert again.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("args, expected", [
    (["--workers", "0"], "not positive"),
    (["--blocks-per-chunk", "0"], "not positive"),
    (["--blocks-per-chunk", "lots"], "not a whole number"),
    (["--blocks-per-chunk", "5000"], "at most 1,024"),
    (["--scheduler", "not an address"], "tcp://HOST:PORT"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], "drop one of them"),
])
def test_bad_scale_arguments_exit_2_without_traceback(args, expected, tmp_path: Path, capsys) -> None:
    assert cli.main(_cli_args(tmp_path / "o", *args)) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- Dask


def test_dask_is_imported_only_by_the_dask_engine() -> None:
    code = ("import sys, simulator.runs.execute, simulator.api, simulator.cli.run; "
            "from simulator import cli, Dask; cli.build_parser(); Dask(2); Dask(scheduler='127.0.0.1:8786'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as c:
        yield c


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path, capsys, monkeypatch) -> None:
    import socket

    monkeypatch.setattr(engines, "CONNECT_TIMEOUT", 1.0)

    with socket.socket() as s:  # a port on which nobody listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    assert cli.main(_cli_args(tmp_path / "o", "--scheduler", f"127.0.0.1:{port}")) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err and "Traceback" not in err
    assert time.monotonic() - t0 < 20
    assert not list(tmp_path.iterdir())  # no checkpoint directory either


def test_a_dask_cluster_gives_identical_results(plan, reference, cluster) -> None:
    out = execute(plan, Dask(scheduler=cluster.scheduler_address, blocks_per_chunk=1), worlds_to="memory")
    assert out.info["engine"] == "dask" and out.info["chunks_computed"] == 4
    check(plan, reference, out, worlds=True)


def test_a_dask_worker_killed_mid_run_changes_nothing(plan, reference, cluster) -> None:
    from distributed import Client

    killed: list[int] = []
    with Client(cluster.scheduler_address) as client:

        def kill_the_first_busy_worker() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                busy = [w for w, keys in client.processing().items() if keys]
                if busy:
                    pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
                time.sleep(0.01)

        killer = threading.Thread(target=kill_the_first_busy_worker, daemon=True)
        killer.start()
        out = execute(plan, Dask(scheduler=cluster.scheduler_address, blocks_per_chunk=1))
        killer.join()
    assert killed  # a worker died while it was simulating a chunk; the nanny restarts it
    assert out.info["chunks_computed"] == 4
    check(plan, reference, out)


def test_command_line_default_chunk_is_the_library_default():
    from simulator.cli.main import build_parser
    from simulator.runs.plan import DEFAULT_BLOCKS_PER_CHUNK

    args = build_parser().parse_args(["run", "scenarios/ukraine_2025.yaml"])
    assert args.blocks_per_chunk == DEFAULT_BLOCKS_PER_CHUNK
