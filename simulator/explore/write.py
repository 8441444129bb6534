"""An exploration's folder, written whole or not at all (``atomic_directory``).

``sensitivity.csv``
    ``measure, factor, S1, S1_conf, ST, ST_conf``: the indices of every measure.
``discovery.csv``
    ``box, coverage, density, factor, low, high``: one row per restricted factor of each box.
``design.csv``
    One row per design point: ``point``, the ``seed`` of its worlds, every factor's value and
    every measure: the saved inputs and outcomes, to analyse again.
``factors.csv``
    Each factor's distribution under the two options and where its range comes from.
``reading.txt``
    The readings, generated from the numbers.
``explore.json``
    The settings, the engine, the times and the versions.
``sensitivity.png``, ``discovery.png``
    The indices with their intervals; PRIM's peeling trade-off.
"""

from __future__ import annotations

import json
import platform
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.files import atomic_directory, atomic_write

if TYPE_CHECKING:
    from simulator.explore.study import Exploration

PACKAGES = ("geosim", "numpy", "pandas", "SALib", "ema_workbench", "mesa")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def factors_table(e: Exploration) -> pd.DataFrame:
    a, b = e.options
    return pd.DataFrame({
        "factor": [f.name for f in e.factors],
        "kind": [f.kind for f in e.factors],
        a: [s.describe() if s is not None else "plain" for s in (f.specs[0] for f in e.factors)],
        b: [s.describe() if s is not None else "plain" for s in (f.specs[1] for f in e.factors)],
        "range_from": [f.origin for f in e.factors],
    })


def manifest(e: Exploration) -> dict[str, Any]:
    return {
        "scenario": e.scenario.name, "scenario_file": Path(e.scenario.path).name, "scenario_sha256": e.scenario.sha256,
        "options": list(e.options), "method": e.method, "samples": e.samples, "design_points": len(e.design),
        "replicates": e.replicates, "seed": e.seed, "horizon_months": e.horizon, "hold_threshold": e.hold_threshold,
        "factors": len(e.factors), "engine": e.engine,
        "seconds": {k: round(v, 2) for k, v in e.seconds.items()}, "versions": versions(),
    }


def csv_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def save_exploration(e: Exploration, directory: str | Path, force: bool = False, plots: bool = True) -> Path:
    """Write the folder ``directory`` (replacing an existing one only with ``force``)."""
    with atomic_directory(directory, force=force) as tmp:
        atomic_write(tmp / "sensitivity.csv", csv_text(e.sensitivity))
        atomic_write(tmp / "discovery.csv", csv_text(e.discovery))
        atomic_write(tmp / "design.csv", csv_text(e.design))
        atomic_write(tmp / "factors.csv", csv_text(factors_table(e)))
        atomic_write(tmp / "reading.txt", "\n\n".join(e.readings) + "\n")
        atomic_write(tmp / "explore.json", json.dumps(manifest(e), indent=2) + "\n")
        if plots:
            from simulator.explore.figures import sensitivity_figure, tradeoff_figure

            for name, fig in (("sensitivity", sensitivity_figure(e)), ("discovery", tradeoff_figure(e.boxes))):
                atomic_write(tmp / f"{name}.png", partial(fig.savefig, format="png", dpi=110,
                                                          metadata={"Software": None}))
    return Path(directory)
