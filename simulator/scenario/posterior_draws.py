"""Posterior draws of the model constants: the file ``geosim calibrate`` ships, read, checked and picked.

The file is plain CSV (no quoting), shipped in the package as ``history/posterior_constants.csv``
of ``simulator/data`` (``data/posterior_constants.csv`` in a checkout)::

    # how the draws were made (lines that start with '#' are comments)
    draw,hazard_intercept,hazard_exponent,tension_weight,undecided_optimism,tension_decay_per_month
    0,VALUE,VALUE,VALUE,VALUE,VALUE
    1,VALUE,VALUE,VALUE,VALUE,VALUE

One row per draw: ``draw`` (a whole number, each once), then values of model constants
(``params.CONSTANTS``), each column at most once. Every value must be a plain finite number
inside its constant's range. Every mistake names ``FILE:LINE:COL`` and the fix.

``PosteriorDraws.pick(k)`` chooses ``k`` draws **evenly spaced** through the file: the rows
``floor(i * n / k)`` for ``i = 0 .. k-1`` of ``n`` rows. The first row is always chosen,
``k = n`` chooses every row in order, and the rows chosen for ``k`` are among those chosen
for ``2k``. The choice depends only on the file and ``k``.

``with_constants`` gives a scenario whose constants take a draw's values, except those the
scenario sets itself under ``constants:``: a scenario's own value wins over every draw.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from simulator.data import data_path, shown_path
from simulator.errors import GeosimError, UsageError, did_you_mean, printable
from simulator.files import NotRegularFile, open_regular, read_bounded
from simulator.scenario.distributions import Fixed
from simulator.scenario.load import Scenario
from simulator.scenario.params import CONSTANTS

DRAWS_FILE = "posterior_constants.csv"
MAX_DRAWS_BYTES = 16 * 1024 * 1024  # 10,000 draws of every constant take about 2 MB
MAX_DRAWS = 100_000
ID = "draw"
# The constants `geosim calibrate` fits: a draws file that leaves one out does not vary it.
CALIBRATED = tuple(name for name, d in CONSTANTS.items() if d.source.startswith("calibrated"))


@dataclass(frozen=True)
class PosteriorDraws:
    """Draws of model constants, in file order.

    Attributes:
        path: the file as messages and manifests name it (``data/posterior_constants.csv`` if shipped).
        sha256: SHA-256 of the file's bytes.
        comments: the ``#`` lines before the header, without the ``#``.
        names: the constants drawn, in the file's column order.
        ids: the ``draw`` number of each row.
        rows: the values of each row, in the order of ``names``.
    """

    path: str
    sha256: str
    comments: tuple[str, ...]
    names: tuple[str, ...]
    ids: tuple[int, ...]
    rows: tuple[tuple[float, ...], ...]

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[tuple[int, dict[str, float]]]:
        """Each draw as ``(draw number, {constant: value})``."""
        for draw, row in zip(self.ids, self.rows, strict=True):
            yield draw, dict(zip(self.names, row, strict=True))

    def pick(self, k: int) -> PosteriorDraws:
        """``k`` draws evenly spaced through the file (rows ``floor(i * n / k)``, ``i = 0 .. k-1``).

        Raises:
            UsageError: ``k`` is not a whole number from 1 to the number of draws in the file.
        """
        n = len(self)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
            raise UsageError(f"posterior must be a whole number of draws from 1 to {n:,} (the draws in "
                             f"'{printable(self.path)}'), got {k!r}")
        chosen = [i * n // k for i in range(k)]
        return dataclasses.replace(self, ids=tuple(self.ids[i] for i in chosen),
                                   rows=tuple(self.rows[i] for i in chosen))


def shipped_draws_path() -> Path:
    """The draws file shipped with geosim.

    Raises:
        UsageError: this installation has none yet (``geosim calibrate`` makes it).
    """
    try:
        return data_path(DRAWS_FILE)
    except UsageError:
        raise UsageError(f"this geosim ships no posterior draws of the constants (data/{DRAWS_FILE}); "
                         "run 'geosim calibrate' to make them, or give a draws file with --posterior-file FILE "
                         "(posterior_file= from Python)") from None


def load_draws(path: str | Path | None = None) -> PosteriorDraws:
    """Read and check a draws file (``None``: the one shipped with geosim); errors name FILE:LINE:COL.

    Raises:
        UsageError: the file is missing, not a regular file, unreadable or too large.
        GeosimError: a mistake in the file, at its line and column.
    """
    p = shipped_draws_path() if path is None else Path(path)
    name = shown_path(p)
    try:
        fd = open_regular(p)
    except FileNotFoundError:
        raise UsageError(f"draws file '{printable(name)}' not found; give the CSV file of posterior draws "
                         "that 'geosim calibrate' writes") from None
    except NotRegularFile as exc:
        raise UsageError(f"draws file '{printable(name)}' is a {exc.kind}, not a regular file") from None
    except OSError as exc:
        raise UsageError(f"cannot open draws file '{printable(name)}' ({exc.strerror})") from None
    try:
        raw = read_bounded(fd, MAX_DRAWS_BYTES)
    except OSError as exc:
        raise UsageError(f"cannot read draws file '{printable(name)}' ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_DRAWS_BYTES:
        raise UsageError(f"draws file '{printable(name)}' is over {MAX_DRAWS_BYTES:,} bytes; "
                         "keep at most a few thousand draws")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GeosimError(name, text_line(raw, exc.start), 1, "the file is not UTF-8 text",
                          "save it as UTF-8 CSV") from None
    return parse_draws(text, name, hashlib.sha256(raw).hexdigest())


def text_line(raw: bytes, offset: int) -> int:
    """The 1-based line of byte ``offset`` in ``raw``."""
    return raw.count(b"\n", 0, offset) + 1


def parse_draws(text: str, name: str, sha256: str = "") -> PosteriorDraws:
    """The draws in ``text``, the content of the file ``name`` (for messages)."""
    comments: list[str] = []
    names: list[str] | None = None
    ids: list[int] = []
    rows: list[tuple[float, ...]] = []
    seen: dict[int, int] = {}  # draw number -> line
    lines = text.splitlines()
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            if names is None:
                comments.append(line.lstrip()[1:].strip())
            continue
        cells = [c.strip() for c in line.split(",")]
        if names is None:
            names = header(cells, name, line_no)
            continue
        if len(cells) != len(names) + 1:
            raise GeosimError(name, line_no, min(len(cells), len(names) + 1) + 1,
                              f"row has {len(cells)} fields but the header has {len(names) + 1}",
                              "give every row a draw number and one value per constant, separated by commas")
        draw = draw_number(cells[0], name, line_no)
        if draw in seen:
            raise GeosimError(name, line_no, 1, f"draw {draw} is given twice (first on line {seen[draw]})",
                              "number each draw once")
        if len(ids) >= MAX_DRAWS:
            raise GeosimError(name, line_no, 1, f"more than {MAX_DRAWS:,} draws", "keep at most a few thousand")
        seen[draw] = line_no
        ids.append(draw)
        rows.append(tuple(value(cell, constant, name, line_no, col)
                          for col, (cell, constant) in enumerate(zip(cells[1:], names, strict=True), start=2)))
    if names is None:
        raise GeosimError(name, len(lines) + 1, 1, "the file has no header",
                          f"start with a header line: {ID}," + ",".join(CALIBRATED))
    if not rows:
        raise GeosimError(name, len(lines) + 1, 1, "the file holds no draws", "add one row per draw below the header")
    return PosteriorDraws(path=name, sha256=sha256, comments=tuple(comments), names=tuple(names),
                          ids=tuple(ids), rows=tuple(rows))


def header(cells: list[str], name: str, line: int) -> list[str]:
    """The constants named by a header line (after ``draw``)."""
    if cells[0] != ID:
        raise GeosimError(name, line, 1, f"the first column is '{printable(cells[0], 60)}', not '{ID}'",
                          f"start the header with '{ID},' then the names of constants")
    if len(cells) < 2:
        raise GeosimError(name, line, 2, "the header names no constant",
                          "name the constants after 'draw', e.g. " + ",".join(CALIBRATED))
    out: list[str] = []
    for col, cell in enumerate(cells[1:], start=2):
        if cell not in CONSTANTS:
            raise GeosimError(name, line, col, f"unknown constant '{printable(cell, 60)}'",
                              did_you_mean(cell, CONSTANTS, what="known constants are"))
        if cell in out:
            raise GeosimError(name, line, col, f"constant '{cell}' is named twice", "give each constant one column")
        out.append(cell)
    return out


def draw_number(cell: str, name: str, line: int) -> int:
    """A draw's number: a whole number of at least 0."""
    try:
        number = int(cell)
    except ValueError:
        number = -1
    if number < 0:
        raise GeosimError(name, line, 1, f"draw number '{printable(cell, 60)}' is not a whole number of at least 0",
                          "number the draws 0, 1, 2, ...")
    return number


def value(cell: str, constant: str, name: str, line: int, col: int) -> float:
    """A constant's value: a finite number inside the constant's range."""
    try:
        number = float(cell)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise GeosimError(name, line, col, f"{constant} '{printable(cell, 60)}' is not a finite number",
                          "write a plain number such as 1.5")
    lo, hi = CONSTANTS[constant].bounds()
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        low = "-inf" if lo is None else f"{lo:g}"
        high = "inf" if hi is None else f"{hi:g}"
        raise GeosimError(name, line, col, f"{constant} = {number:g} is outside {low}..{high}",
                          "use a value inside the constant's range (geosim sources lists them)")
    return number


def with_constants(scenario: Scenario, values: Mapping[str, float], source: str) -> Scenario:
    """``scenario`` with its constants set to ``values``, except those it sets itself, which win.

    Everything else (actors, options, seed, file hash) is the scenario's own, so the worlds
    and their random numbers are the same as the scenario's.
    """
    drawn = {name: Fixed(value=float(v), source=source) for name, v in values.items()}
    return dataclasses.replace(scenario, constants={**drawn, **scenario.constants})


def set_by_scenario(scenario: Scenario, names: tuple[str, ...]) -> list[str]:
    """Which of the constants ``names`` the scenario sets itself (so the draws do not change them)."""
    return [n for n in names if n in scenario.constants]
