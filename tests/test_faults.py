"""Faults during runs: every one ends with one clear line and exit status 2 (or the signal's
status), nothing lost, nothing left running.

Real processes, real signals, real locks and real sockets: output folders that must never be
replaced, two runs on one folder, SIGTERM, a write the system refuses, a Dask scheduler that
is silent or talks nonsense, a worker out of memory, too many workers, and bad flags.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator import cli
from simulator.errors import UsageError
from simulator.files import atomic_directory, lock_path_for, output_lock
from simulator.runs.checkpoints import checkpoint_dir_for
from simulator.runs.plan import BLOCK

UKRAINE = Path(__file__).resolve().parent.parent / "scenarios" / "ukraine_2025.yaml"
SMALL = ["--worlds", str(3 * BLOCK + 100), "--horizon", "24", "--seed", "7", "--option", "peacekeepers",
         "--quiet", "--no-plots", "--blocks-per-chunk", "1"]


def run_args(out: Path | str, *more: str) -> list[str]:
    return ["run", str(UKRAINE), "--out", str(out), *SMALL, *more]


def geosim(args: list[str], **kw) -> subprocess.Popen[str]:
    """``python -m simulator ARGS`` in a process group of its own."""
    return subprocess.Popen([sys.executable, "-m", "simulator", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


def wait_for_checkpoint(proc: subprocess.Popen[str], out: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not list(checkpoint_dir_for(out).glob("*.npz")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)


def live_group_members(pgid: int) -> list[str]:
    """Processes of a process group that still run (zombies wait only to be reaped, they hold nothing)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(entry)
    return alive


def assert_one_clear_line(err: str, *expected: str) -> None:
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    for text in expected:
        assert text in err, err


# ----------------------------------------------------------------------------- output folders


@pytest.mark.parametrize("out", [".", "..", "here", "home"])
def test_output_folders_that_hold_the_caller_are_refused_before_anything_is_written(
        out: str, tmp_path: Path, monkeypatch, capsys) -> None:
    here = tmp_path / "home" / "work"
    here.mkdir(parents=True)
    (here / "notes.txt").write_text("mine")
    monkeypatch.chdir(here)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    target = {"here": str(here), "home": str(tmp_path / "home")}.get(out, out)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert cli.main(run_args(target, "--force")) == 2
    assert_one_clear_line(capsys.readouterr().err, "geosim: output folder", "--out")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # no .partial-, .chunks, .lock


# ----------------------------------------------------------------------------- one run per folder


def test_a_second_run_on_the_same_folder_is_refused_and_the_first_completes(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    args = run_args(out)
    args[args.index("--worlds") + 1] = str(8 * BLOCK)
    first = geosim(args)
    wait_for_checkpoint(first, out)
    assert cli.main(run_args(out, "--force")) == 2  # before: deleted the first run's checkpoints
    assert_one_clear_line(capsys.readouterr().err, "in use by another run")
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run"]["chunks_computed"] == 8 and manifest["run"]["chunks_resumed"] == 0
    assert not checkpoint_dir_for(out).exists() and not lock_path_for(out).exists()


def test_the_lock_works_from_python_and_is_free_again_after_the_run(tmp_path: Path) -> None:
    from simulator.api import run_and_save

    out = tmp_path / "out"
    with output_lock(out), pytest.raises(UsageError, match="in use by another run"):
        run_and_save(UKRAINE, out, worlds=100, horizon_months=6, plots=False, progress=False)
    assert not out.exists()
    run_and_save(UKRAINE, out, worlds=100, horizon_months=6, plots=False, progress=False)
    assert (out / "manifest.json").exists() and not lock_path_for(out).exists()


def test_the_final_move_does_not_replace_a_folder_written_meanwhile(tmp_path: Path) -> None:
    target = tmp_path / "results"
    with pytest.raises(UsageError, match="appeared while"), atomic_directory(target) as tmp:
        (tmp / "summary.csv").write_text("ours")
        target.mkdir()
        (target / "summary.csv").write_text("theirs")  # another process finished first
    assert (target / "summary.csv").read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["results"]  # our temporary folder is gone


# ----------------------------------------------------------------------------- SIGTERM


def test_sigterm_stops_workers_keeps_checkpoints_and_resume_gives_identical_results(tmp_path: Path, capsys) -> None:
    out = tmp_path / "big"
    args = run_args(out, "--workers", "2")
    args[args.index("--worlds") + 1] = str(16 * BLOCK)
    proc = geosim(args)
    wait_for_checkpoint(proc, out)
    proc.send_signal(signal.SIGTERM)  # what `timeout` does: to the main process only
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert_one_clear_line(stderr, "stopped by SIGTERM", "--resume")
    deadline = time.monotonic() + 10
    while live_group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_group_members(proc.pid) == []  # no forkserver, resource tracker or worker left
    kept = len(list(checkpoint_dir_for(out).glob("*.npz")))
    assert 1 <= kept < 16 and not out.exists()

    assert cli.main([*args, "--resume"]) == 0
    whole = tmp_path / "whole"
    assert cli.main(run_args(whole, "--worlds", str(16 * BLOCK))) == 0
    capsys.readouterr()
    assert json.loads((out / "manifest.json").read_text())["run"]["chunks_resumed"] == kept
    for name in ("summary.csv", "survival.csv", "pairs.csv", "differences.csv"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name


# ----------------------------------------------------------------------------- a write refused


def _file_size_limit(limit: int):
    def apply() -> None:  # Python ignores SIGXFSZ: a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("limit, more, where, kept", [
    (3_000, [], ".npz", "0 of 4"),  # the first checkpoint
    (1_200_000, ["--save-worlds"], "worlds.parquet", "4 of 4"),  # assembling the per-world file (chunks ~0.8 MB, whole 2.3 MB)
    (20_000, ["--plots"], "/out/", "4 of 4"),  # the results folder (its figures)
])
def test_a_refused_write_is_one_line_and_keeps_old_results_and_checkpoints(
        limit: int, more: list[str], where: str, kept: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert cli.main(run_args(out, "--horizon", "12")) == 0  # old results, different from the new ones
    capsys.readouterr()
    old = {p.name: p.read_bytes() for p in out.iterdir()}
    args = run_args(out, "--force", *more)
    if "--plots" in more:
        args = [a for a in args if a not in ("--plots", "--no-plots")]
    proc = geosim(args, preexec_fn=_file_size_limit(limit), cwd=tmp_path)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    assert_one_clear_line(stderr, "cannot write", where, "File too large", f"{kept} chunks are kept in",
                          "--resume")
    assert ".partial" not in stderr  # the temporary folder is gone: name the file in the results folder
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.chunks", "out"]  # no partial folder, no lock
    assert cli.main([*args, "--resume"]) == 0  # once there is room again
    assert not checkpoint_dir_for(out).exists()


# ----------------------------------------------------------------------------- Dask scheduler


@pytest.fixture(params=["silent", "garbage"])
def bad_scheduler(request) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts and then never answers, or answers random bytes."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)
            if request.param == "garbage":
                conn.sendall(os.urandom(4096))

    threading.Thread(target=serve, daemon=True).start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in accepted:
        conn.close()


def test_a_scheduler_that_is_silent_or_talks_nonsense_is_a_clear_error_in_time(
        bad_scheduler: str, tmp_path: Path) -> None:
    t0 = time.monotonic()
    proc = geosim(run_args(tmp_path / "o", "--scheduler", bad_scheduler))
    _, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 15
    assert proc.returncode == 2, stderr
    assert_one_clear_line(stderr, "cannot reach the Dask scheduler")
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------- memory and workers


def test_a_worker_out_of_memory_is_the_friendly_message(tmp_path: Path) -> None:
    def small_address_space() -> None:  # enough for the parent, not for a worker's chunk of 128 blocks
        resource.setrlimit(resource.RLIMIT_AS, (750 * 2**20, 750 * 2**20))

    out = tmp_path / "m"
    args = run_args(out, "--workers", "2")
    args[args.index("--worlds") + 1] = str(256 * BLOCK)  # two chunks, one per worker (one alone runs in-process)
    args[args.index("--horizon") + 1] = "120"
    args[args.index("--blocks-per-chunk") + 1] = "128"
    proc = geosim(args, preexec_fn=small_address_space)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    assert_one_clear_line(stderr, "out of memory while simulating blocks ", "fewer blocks per chunk")
    assert re.search(r"blocks (0-127|128-255) ", stderr), stderr
    assert not out.exists()


def test_too_many_workers_are_bounded_and_the_manifest_says_how_many_ran(tmp_path: Path, capsys) -> None:
    out = tmp_path / "o"
    assert cli.main(run_args(out, "--workers", "1000")) == 0  # 4 chunks
    err = capsys.readouterr().err
    how = json.loads((out / "manifest.json").read_text())["run"]
    assert how["workers_requested"] == 1000
    assert how["workers"] <= min(4, len(os.sched_getaffinity(0)))
    assert f"ran {how['workers']} worker processes, not 1000" in err


# ----------------------------------------------------------------------------- flags


@pytest.mark.parametrize("more, expected", [
    (["--horizon", "1201"], "limit of 1,200"),
    (["--horizon", "65535"], "limit of 1,200"),
    (["--option", ""], "empty name"),
    (["--option", "peacekeepers,"], "empty name"),
])
def test_flags_beyond_what_files_allow_are_refused(more: list[str], expected: str, tmp_path: Path, capsys) -> None:
    args = run_args(tmp_path / "o")
    if more[0] == "--option":
        i = args.index("--option")
        del args[i:i + 2]
    assert cli.main([*args, *more]) == 2
    assert_one_clear_line(capsys.readouterr().err, expected)
    assert not list(tmp_path.iterdir())
