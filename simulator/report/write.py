"""A results folder: tables, figures and the manifest, written atomically, and read back.

``save_results`` writes ``summary.csv``, ``survival.csv``, ``differences.csv`` (every other
option minus the baseline), ``pairs.csv`` (every option minus every other), optionally
``worlds.parquet`` and the figures, ``posterior.csv`` and ``posterior.png`` after a run with
posterior draws of the constants (``simulator.report.posterior``), and last ``manifest.json``
listing them all with the SHA-256 of each. The folder appears complete or not at all
(``simulator.files.atomic_directory``). Numbers in the tables are rounded to
``SIGNIFICANT_DIGITS`` significant digits (``rounded``), so that they read ``0.4432``, not
``0.44319999999999976``: far finer than the Monte Carlo error of any run.

``load_results`` reads such a folder back into ``Results`` and trusts nothing in it: every
file it reads must be a regular file of bounded size (a named pipe in place of a table must
not hang it), the manifest a JSON mapping with what the figures need, every table must hold
the columns this version writes, and every file must still have the hash the manifest
recorded, so that numbers edited after the run are never plotted as if the run made them.
Each problem is one ``UsageError`` naming the file and the fix.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow

from simulator.analysis.differences import DIFFERENCE_COLUMNS
from simulator.analysis.posterior import PosteriorResults
from simulator.analysis.results import Results, summary_columns
from simulator.analysis.survival import SURVIVAL_COLUMNS
from simulator.errors import UsageError, printable
from simulator.files import NotRegularFile, atomic_directory, open_regular, read_bounded

MANIFEST = "manifest.json"
WORLDS_FILE = "worlds.parquet"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # a manifest is about a kilobyte
# A table has a row per option and month (survival) or per pair of options and measure
# (pairs): megabytes for hundreds of options and the longest horizon.
MAX_TABLE_BYTES = 256 * 1024 * 1024
TEXT_COLUMNS = ("option", "baseline", "measure")  # every other column of a table holds numbers
# What the figures and readings take from the manifest, and the type each must have.
MANIFEST_KEYS: dict[str, tuple[type, str]] = {
    "scenario": (str, "a name"),
    "seed": (int, "a whole number"),
    "worlds": (int, "a whole number"),
    "horizon_months": (int, "a whole number"),
    "options": (list, "a list of option names"),
    "baseline": (str, "an option name"),
}
REMAKE = "make the folder again ('geosim run ... --out DIR')"
# Digits kept in the tables: a share estimated from a billion worlds (the most a run allows) has a
# standard error above 1e-5, so six significant digits keep every figure a run can resolve.
SIGNIFICANT_DIGITS = 6


def rounded(frame: pd.DataFrame, digits: int = SIGNIFICANT_DIGITS) -> pd.DataFrame:
    """``frame`` with every float column rounded to ``digits`` significant digits (NaN and whole
    numbers unchanged), as the tables are written: ``load_results`` reads back exactly this."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            values = out[column].to_numpy(dtype=float)
            out[column] = [float(f"{v:.{digits}g}") for v in values]
    return out


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in pieces (``worlds.parquet`` may be large)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def save_results(results: Results, directory: str | Path, force: bool = False, save_worlds: bool = False,
                 plots: bool = True) -> Path:
    """Write the tables, figures and manifest of ``results`` to ``directory``, atomically.

    The manifest lists every file (``files``) and records the SHA-256 of each but itself
    (``sha256``), which ``load_results`` checks.

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
        rounded(results.summary).to_csv(tmp / "summary.csv", index=False)
        rounded(results.survival).to_csv(tmp / "survival.csv", index=False)
        rounded(results.differences()).to_csv(tmp / "differences.csv", index=False)
        rounded(results.pairs).to_csv(tmp / "pairs.csv", index=False)
        if worlds is not None:
            worlds.to_parquet(tmp / WORLDS_FILE, index=False)
        if plots:
            from simulator.report.figures import save_figures  # matplotlib loads only when figures are drawn

            save_figures(results, tmp)
        if isinstance(results, PosteriorResults):  # run with posterior draws: posterior.csv (and .png)
            from simulator.report.posterior import save_posterior

            save_posterior(results, tmp, plots=plots)
        hashes = {p.name: file_sha256(p) for p in sorted(tmp.iterdir())}
        manifest = dict(results.manifest, files=[*hashes, MANIFEST], sha256=hashes)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return Path(directory)


def load_results(directory: str | Path, check_hashes: bool = True) -> Results:
    """Read results saved by ``save_results`` (or ``geosim run``) back, refusing a damaged folder.

    Args:
        directory: the results folder.
        check_hashes: refuse a file whose SHA-256 differs from the one the manifest recorded
            (it was changed after the run). Pass False only to read tables you edited on
            purpose; everything else is still checked. Folders saved before manifests
            recorded hashes load without this check (their manifest has no ``sha256``).

    Raises:
        UsageError: the folder holds no complete, intact results (one line naming the file
            and the fix).
    """
    folder = ResultsFolder(Path(directory), check_hashes)
    summary = folder.table("summary.csv", summary_columns())
    if summary.empty:
        raise UsageError(f"'{folder.name('summary.csv')}' has no rows; {REMAKE}")
    baseline = folder.manifest["baseline"]
    if baseline not in set(summary["option"]):
        raise UsageError(f"'{folder.name(MANIFEST)}' names the baseline '{printable(baseline, 80)}', which "
                         f"summary.csv does not hold; {REMAKE}")
    # Folders from before pairs.csv hold only the differences from the baseline.
    pairs_file = "pairs.csv" if folder.holds("pairs.csv") else "differences.csv"
    return Results(
        summary=summary,
        survival=folder.table("survival.csv", SURVIVAL_COLUMNS),
        pairs=folder.table(pairs_file, DIFFERENCE_COLUMNS),
        manifest=folder.manifest,
        worlds=folder.worlds() if folder.holds(WORLDS_FILE) else None,
    )


class ResultsFolder:
    """A results folder being read: its checked manifest, and checked reads of the files it lists.

    Raises:
        UsageError: (on creation) ``directory`` is not a folder, or its manifest is missing,
            not a regular file, too large, not JSON, or not a mapping with the keys it needs.
    """

    def __init__(self, directory: Path, check_hashes: bool = True) -> None:
        self.directory = directory
        where = printable(str(directory))
        if not directory.exists():
            raise UsageError(f"no folder '{where}'; give the folder 'geosim run' wrote (its --out)")
        if not directory.is_dir():
            raise UsageError(f"'{where}' is not a folder; give the folder 'geosim run' wrote (its --out)")
        if not os.path.lexists(directory / MANIFEST):
            raise UsageError(f"'{where}' holds no complete results (no {MANIFEST}); run 'geosim run' first")
        self.manifest = self._read_manifest()
        files = self.manifest.get("files")
        self.listed: set[str] | None = None if files is None else set(files)
        self.hashes: dict[str, str] | None = self.manifest.get("sha256") if check_hashes else None

    def name(self, file: str) -> str:
        """The path of ``file`` in the folder, as messages show it."""
        return printable(str(self.directory / file))

    def holds(self, file: str) -> bool:
        """Whether the results include ``file``: the manifest lists it (or, in folders without a list, it exists).

        Raises:
            UsageError: ``file`` is there although the manifest does not list it (it is not from this run).
        """
        there = os.path.lexists(self.directory / file)
        if self.listed is None:
            return there
        if there and file not in self.listed:
            raise UsageError(f"'{self.name(file)}' is not part of these results ({MANIFEST} does not list it); "
                             f"remove it, or {REMAKE}")
        return file in self.listed

    def table(self, file: str, columns: list[str]) -> pd.DataFrame:
        """Read the CSV table ``file``, checked: its hash, then that it holds exactly ``columns``."""
        raw = self._read(file, MAX_TABLE_BYTES)
        self._check_hash(file, hashlib.sha256(raw).hexdigest())
        where = self.name(file)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"'{where}' is not a CSV table (it is not text); {REMAKE}") from None
        try:
            # round_trip: the numbers read back are exactly the ones the run wrote
            frame = pd.read_csv(io.BytesIO(raw), float_precision="round_trip",
                                dtype={c: str for c in TEXT_COLUMNS if c in columns})
        except ValueError as exc:  # pandas' ParserError and EmptyDataError are ValueErrors
            reason = printable(" ".join(str(exc).split()), 200)
            raise UsageError(f"'{where}' cannot be read as a CSV table ({reason}); {REMAKE}") from None
        found = [str(c) for c in frame.columns]
        if found != columns:
            missing = [c for c in columns if c not in found]
            extra = [c for c in found if c not in columns]
            what = "; ".join(f"{label}: {printable(', '.join(names), 300)}"
                             for label, names in (("missing", missing), ("unexpected", extra)) if names)
            raise UsageError(f"'{where}' does not have the columns this version of geosim writes "
                             f"({what or 'in another order'}); {REMAKE}")
        for c in columns:
            if c not in TEXT_COLUMNS and not pd.api.types.is_numeric_dtype(frame[c]):
                raise UsageError(f"'{where}' holds text in the column '{c}', where numbers belong; {REMAKE}")
        return frame

    def worlds(self) -> pd.DataFrame:
        """Read ``worlds.parquet``, checked: its hash, then that it is a Parquet table."""
        where = self.name(WORLDS_FILE)
        fd = self._open(WORLDS_FILE)
        with os.fdopen(fd, "rb") as fh:
            self._check_hash(WORLDS_FILE, hashlib.file_digest(fh, "sha256").hexdigest())
            fh.seek(0)  # parse the very bytes just hashed, from the same open file
            try:
                return pd.read_parquet(fh)
            except (ValueError, OSError, pyarrow.ArrowException) as exc:
                reason = printable(" ".join(str(exc).split()), 200)
                raise UsageError(f"'{where}' is not a Parquet table ({reason}); {REMAKE} with --save-worlds") \
                    from None

    def _read_manifest(self) -> dict[str, Any]:
        where = self.name(MANIFEST)
        raw = self._read(MANIFEST, MAX_MANIFEST_BYTES)
        try:
            manifest = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise UsageError(f"'{where}' is not JSON (it is not text); {REMAKE}") from None
        except json.JSONDecodeError as exc:
            raise UsageError(f"'{where}' is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                             f"{REMAKE}") from None
        if not isinstance(manifest, dict):
            raise UsageError(f"'{where}' holds a JSON {_json_kind(manifest)}, not the mapping geosim writes; {REMAKE}")
        for key, (kind, described) in MANIFEST_KEYS.items():
            value = manifest.get(key)
            if value is None:
                raise UsageError(f"'{where}' lacks '{key}'; {REMAKE}")
            if not isinstance(value, kind) or isinstance(value, bool):
                raise UsageError(f"'{where}': '{key}' must be {described}, not a JSON {_json_kind(value)}; {REMAKE}")
        files, hashes = manifest.get("files"), manifest.get("sha256")
        if files is not None and not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
            raise UsageError(f"'{where}': 'files' must be a list of file names; {REMAKE}")
        if hashes is not None and not (isinstance(hashes, dict) and all(
                isinstance(h, str) and len(h) == 64 and all(c in "0123456789abcdef" for c in h)
                for h in hashes.values())):
            raise UsageError(f"'{where}': 'sha256' must map file names to SHA-256 digests (64 hex digits); {REMAKE}")
        return manifest

    def _check_hash(self, file: str, digest: str) -> None:
        if self.hashes is None:
            return
        recorded = self.hashes.get(file)
        if recorded is None:
            raise UsageError(f"'{self.name(file)}' has no SHA-256 in {MANIFEST}, so it is not from this run; "
                             f"{REMAKE}")
        if recorded != digest:
            raise UsageError(f"'{self.name(file)}' was changed after the run (its SHA-256 differs from the one in "
                             f"{MANIFEST}); {REMAKE}, or read it as edited with load_results(DIR, check_hashes=False)")

    def _open(self, file: str) -> int:
        """Open ``file`` for reading if it is a regular file; its descriptor, blocking again."""
        path, where = self.directory / file, self.name(file)
        try:
            return open_regular(path)
        except FileNotFoundError:
            raise UsageError(f"'{where}' is missing, so the folder is incomplete; {REMAKE}") from None
        except NotRegularFile as exc:
            raise UsageError(f"'{where}' is a {exc.kind}, not a regular file; {REMAKE}") from None
        except OSError as exc:
            raise UsageError(f"cannot open '{where}' ({exc.strerror}); check its permissions") from None

    def _read(self, file: str, max_bytes: int) -> bytes:
        """The bytes of ``file``: a regular file, not empty, of at most ``max_bytes`` (checked on the read)."""
        where = self.name(file)
        fd = self._open(file)
        try:
            raw = read_bounded(fd, max_bytes)
        except OSError as exc:
            raise UsageError(f"cannot read '{where}' ({exc.strerror}); check its permissions") from None
        finally:
            os.close(fd)
        if not raw:
            raise UsageError(f"'{where}' is empty; {REMAKE}")
        if len(raw) > max_bytes:
            raise UsageError(f"'{where}' is over {max_bytes:,} bytes, larger than geosim writes; {REMAKE}")
        return raw


def _json_kind(value: Any) -> str:
    kinds: list[tuple[type | tuple[type, ...], str]] = [
        (bool, "true/false"), ((int, float), "number"), (str, "string"), (list, "list"), (dict, "mapping")]
    return next((name for kind, name in kinds if isinstance(value, kind)), "null")
