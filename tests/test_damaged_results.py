"""A damaged results folder: 'geosim plot' and load_results refuse it in one line, never hang or plot edits."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

from simulator import cli, load_results, run, save_results
from simulator.report.write import rounded

WORLDS = 2000
HORIZON = 24
HANG = 20  # seconds: far more than plotting a small folder takes


@pytest.fixture(scope="module")
def saved(ukraine, tmp_path_factory) -> tuple[object, Path]:
    """A small run (with worlds.parquet, without figures) and the folder it was saved to."""
    results = run(ukraine, worlds=WORLDS, horizon_months=HORIZON, progress=False, worlds_to="memory")
    folder = tmp_path_factory.mktemp("saved") / "results"
    save_results(results, folder, save_worlds=True, plots=False)
    return results, folder


@pytest.fixture
def folder(saved, tmp_path: Path) -> Path:
    """A fresh copy of the saved folder, for one test to damage."""
    return Path(shutil.copytree(saved[1], tmp_path / "results"))


def _rehash(folder: Path, file: str) -> None:
    """Record ``file``'s present hash in the manifest, as if the run had written it so.

    Damage that the hash alone would catch (a binary table, a wrong header) then has to be
    caught by the check meant for it.
    """
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    if "sha256" in manifest:  # (folders saved before manifests recorded hashes have none to update)
        manifest["sha256"][file] = hashlib.sha256((folder / file).read_bytes()).hexdigest()
        path.write_text(json.dumps(manifest))


def _plot(folder: Path, capsys) -> tuple[int, str]:
    """``geosim plot FOLDER`` in a thread that may not outlive ``HANG`` seconds: exit status and stderr."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["code"] = cli.main(["plot", str(folder)])
        except BaseException as exc:  # handed to the test, which fails on it
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG)
    if thread.is_alive():
        for fifo in (p for p in folder.iterdir() if p.is_fifo()):
            # Release a reader stuck on a named pipe: opening it for writing and closing gives end of file.
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        pytest.fail(f"'geosim plot' still running after {HANG} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["code"], capsys.readouterr().err  # type: ignore[return-value]


def _assert_refused(folder: Path, capsys, file: str, *words: str) -> str:
    code, err = _plot(folder, capsys)
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert file in err, err
    for word in words:
        assert word in err, err
    assert not list(folder.glob("*.png")), "figures drawn from a damaged folder"
    return err


def _replace_with_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def test_missing_table(folder: Path, capsys) -> None:
    (folder / "survival.csv").unlink()
    _assert_refused(folder, capsys, "survival.csv", "missing", "geosim run")


def test_empty_table(folder: Path, capsys) -> None:
    (folder / "summary.csv").write_bytes(b"")
    _assert_refused(folder, capsys, "summary.csv", "empty")


def test_manifest_not_json(folder: Path, capsys) -> None:
    (folder / "manifest.json").write_text('{"worlds": 2000,')
    _assert_refused(folder, capsys, "manifest.json", "not valid JSON", "line 1")


def test_manifest_a_list(folder: Path, capsys) -> None:
    (folder / "manifest.json").write_text('["summary.csv", "survival.csv"]')
    _assert_refused(folder, capsys, "manifest.json", "list", "mapping")


def test_manifest_without_a_key_it_needs(folder: Path, capsys) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["worlds"] = "two thousand"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    _assert_refused(folder, capsys, "manifest.json", "'worlds' must be a whole number")


def test_binary_table(folder: Path, capsys) -> None:
    (folder / "pairs.csv").write_bytes(bytes(range(256)) * 8)
    _rehash(folder, "pairs.csv")
    _assert_refused(folder, capsys, "pairs.csv", "not a CSV table")


def test_table_with_wrong_columns(folder: Path, capsys) -> None:
    path = folder / "survival.csv"
    path.write_text(path.read_text().replace("at_risk", "risk", 1))
    _rehash(folder, "survival.csv")
    _assert_refused(folder, capsys, "survival.csv", "columns", "missing: at_risk", "unexpected: risk")


def test_edited_number_is_not_plotted(folder: Path, capsys) -> None:
    path = folder / "summary.csv"
    table = pd.read_csv(path)
    table.loc[0, "p_hold_12"] = 0.99
    table.to_csv(path, index=False)
    _assert_refused(folder, capsys, "summary.csv", "changed after the run", "check_hashes=False")
    # The escape hatch reads the edit as it is, and only the hash check is skipped.
    assert load_results(folder, check_hashes=False).summary.loc[0, "p_hold_12"] == 0.99


def test_fake_parquet(folder: Path, capsys) -> None:
    (folder / "worlds.parquet").write_text("option,world\nceasefire_only,0\n")
    _rehash(folder, "worlds.parquet")
    _assert_refused(folder, capsys, "worlds.parquet", "not a Parquet table")


def test_fifo_in_place_of_a_table(folder: Path, capsys) -> None:
    _replace_with_fifo(folder / "summary.csv")
    _assert_refused(folder, capsys, "summary.csv", "named pipe")


def test_fifo_in_place_of_the_manifest(folder: Path, capsys) -> None:
    _replace_with_fifo(folder / "manifest.json")
    _assert_refused(folder, capsys, "manifest.json", "named pipe")


def test_a_good_folder_round_trips_exactly(saved) -> None:
    results, folder = saved
    manifest = json.loads((folder / "manifest.json").read_text())
    on_disk = sorted(p.name for p in folder.iterdir() if p.name != "manifest.json")
    assert sorted(manifest["sha256"]) == on_disk and manifest["files"] == [*on_disk, "manifest.json"]
    loaded = load_results(folder)
    # the tables are written rounded to six significant digits, and read back exactly as written
    pd.testing.assert_frame_equal(loaded.summary, rounded(results.summary), check_exact=True)
    pd.testing.assert_frame_equal(loaded.survival, rounded(results.survival), check_exact=True)
    pd.testing.assert_frame_equal(loaded.pairs, rounded(results.pairs), check_exact=True)
    pd.testing.assert_frame_equal(loaded.summary, results.summary, check_exact=False, rtol=1e-5, atol=0)
    pd.testing.assert_frame_equal(loaded.worlds, results.worlds, check_exact=True)
    assert {k: v for k, v in loaded.manifest.items() if k not in ("files", "sha256")} == results.manifest


def test_a_folder_without_hashes_still_plots_with_a_note(folder: Path, capsys) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["sha256"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    code, err = _plot(folder, capsys)
    assert code == 0, err
    assert "without file hashes" in err and "Traceback" not in err
    assert len(list(folder.glob("*.png"))) == 4


def test_an_interrupted_plot_keeps_the_previous_figures(folder: Path, capsys, monkeypatch) -> None:
    assert cli.main(["plot", str(folder)]) == 0
    before = {p.name: p.read_bytes() for p in folder.glob("*.png")}
    from matplotlib.figure import Figure

    def interrupted(self, fh, **kwargs) -> None:
        fh.write(b"\x89PNG half a figure")
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", interrupted)
    assert cli.main(["plot", str(folder)]) == 130
    assert {p.name: p.read_bytes() for p in folder.glob("*.png")} == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left
