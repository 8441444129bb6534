"""A plain install works: the built wheel, installed in a fresh environment, runs the built-in
scenario and the validation from an empty folder, with nothing from the checkout.

Offline: the wheel is built without build isolation (setuptools comes with the test extra), and
the fresh environment borrows this one's dependencies through a ``.pth`` file. Folders named in a
``.pth`` file are put on ``sys.path`` but not scanned for ``.pth`` files of their own, so this
environment's editable install of geosim stays invisible there (the test checks it).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import simulator
from simulator.data import scenario_names

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DATA = ROOT / "simulator" / "data"


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_a_built_wheel_runs_the_builtin_scenario_and_validation_from_an_empty_folder(tmp_path: Path) -> None:
    # Build from a copy of what goes into the wheel, so that the checkout gets no build/ folder and
    # the wheel cannot lean on the checkout's top-level scenarios/, seeds/ or data/.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "simulator", src / "simulator", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", wheels, src], cwd=tmp_path)
    (wheel,) = wheels.glob("geosim-*.whl")

    venv = tmp_path / "fresh"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    # The wheel goes in before the borrowed dependencies are visible, so that pip sees an empty
    # environment rather than this one's geosim.
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel],
         cwd=tmp_path)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp_path).strip())
    borrowed = dict.fromkeys(sysconfig.get_path(k) for k in ("purelib", "platlib"))
    (site / "geosim-test-dependencies.pth").write_text("".join(f"{p}\n" for p in borrowed), encoding="utf-8")

    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    imported = _run([python, "-c", "import simulator; print(simulator.__file__)"], cwd=empty, env=env).strip()
    assert Path(imported).is_relative_to(site), imported
    # every shipped file is in the wheel, byte for byte
    installed = site / "simulator" / "data"
    shipped = [p.relative_to(PACKAGE_DATA) for p in PACKAGE_DATA.rglob("*")
               if p.is_file() and p.suffix != ".pyc"]
    assert len(shipped) >= 7
    for rel in shipped:
        assert (installed / rel).read_bytes() == (PACKAGE_DATA / rel).read_bytes(), rel

    geosim = venv / "bin" / "geosim"
    listing = _run([geosim, "scenarios"], cwd=empty, env=env).splitlines()
    for name in scenario_names():
        assert f"  file:    {installed / 'scenarios' / name}.yaml" in listing

    _run([geosim, "run", "ukraine_2025", "--worlds", "2000", "--out", "X", "--quiet"], cwd=empty, env=env)
    with open(empty / "X" / "summary.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["option"] for r in rows] == list(simulator.load_scenario("ukraine_2025").options)
    assert {r["worlds"] for r in rows} == {"2000"}
    manifest = json.loads((empty / "X" / "manifest.json").read_text())
    assert manifest["scenario_file"] == "ukraine_2025.yaml"
    assert (empty / "X" / "survival.png").stat().st_size > 0

    _run([geosim, "validate", "--worlds", "200", "--out", "Y"], cwd=empty, env=env)
    metrics = json.loads((empty / "Y" / "validation.json").read_text())
    assert {"concordance", "brier", "peacekeeping_hazard_ratio", "cases_file", "empirical"} <= set(metrics)
    assert (metrics["cases"], metrics["worlds"]) == (13, 200)
    # the shipped table, named the same way on every machine and install
    assert metrics["cases_file"] == "data/historical_ceasefires.csv"
    assert (empty / "Y" / "validation.csv").is_file()
