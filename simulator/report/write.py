"""A results folder: tables, figures and the manifest, written atomically, and read back.

``save_results`` writes ``summary.csv``, ``survival.csv``, ``differences.csv`` (every option
minus the baseline), ``pairs.csv`` (every option minus every other), optionally
``worlds.parquet`` and the figures, and last ``manifest.json`` listing them all. The folder
appears complete or not at all (``simulator.files.atomic_directory``). ``load_results``
reads such a folder back into ``Results``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from simulator.analysis.results import Results
from simulator.errors import UsageError
from simulator.files import atomic_directory


def save_results(results: Results, directory: str | Path, force: bool = False, save_worlds: bool = False,
                 plots: bool = True) -> Path:
    """Write the tables, figures and manifest of ``results`` to ``directory``, atomically.

    Args:
        results: what ``simulator.run`` (or ``compare_files``, ``sweep``) returned.
        directory: the folder to write; it must not hold anything yet unless ``force``.
        force: replace an existing folder.
        save_worlds: also write the per-world outcomes (``worlds.parquet``).
        plots: also draw the figures (PNG).

    Raises:
        UsageError: the folder exists (without ``force``) or cannot be written, or
            ``save_worlds`` without per-world outcomes in ``results``.
    """
    worlds = results.worlds if save_worlds else None
    if save_worlds and worlds is None:
        raise UsageError("per-world outcomes were not kept; run with worlds_to='memory' (--save-worlds)")
    with atomic_directory(directory, force=force) as tmp:
        results.summary.to_csv(tmp / "summary.csv", index=False)
        results.survival.to_csv(tmp / "survival.csv", index=False)
        results.compare().to_csv(tmp / "differences.csv", index=False)
        results.pairs.to_csv(tmp / "pairs.csv", index=False)
        if worlds is not None:
            worlds.to_parquet(tmp / "worlds.parquet", index=False)
        if plots:
            from simulator.report.figures import save_figures  # matplotlib loads only when figures are drawn

            save_figures(results, tmp)
        manifest = dict(results.manifest, files=sorted(p.name for p in tmp.iterdir()) + ["manifest.json"])
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return Path(directory)


def load_results(directory: str | Path) -> Results:
    """Read results saved by ``save_results`` (or ``geosim run``) back.

    Raises:
        UsageError: the folder holds no complete results.
    """
    d = Path(directory)
    manifest_path = d / "manifest.json"
    if not manifest_path.exists():
        raise UsageError(f"'{d}' holds no complete results (no manifest.json); run 'geosim run' first")
    manifest = json.loads(manifest_path.read_text())
    worlds = pd.read_parquet(d / "worlds.parquet") if (d / "worlds.parquet").exists() else None
    pairs_path = d / "pairs.csv" if (d / "pairs.csv").exists() else d / "differences.csv"
    return Results(
        summary=pd.read_csv(d / "summary.csv"),
        survival=pd.read_csv(d / "survival.csv"),
        pairs=pd.read_csv(pairs_path),
        manifest=manifest,
        worlds=worlds,
    )
