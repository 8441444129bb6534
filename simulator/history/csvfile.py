"""CSV files whose every mistake names FILE:LINE:COL: the rows of the historical tables.

The cases file, the war-outcome coding and Fortna's file are all read through ``read_rows``,
which checks the header for the required columns and hands back ``Row`` objects that
remember their file and line, so that a bad value is reported where the user can find it.
"""

from __future__ import annotations

import csv
import difflib
from datetime import date
from pathlib import Path

from simulator.errors import GeosimError, UsageError, did_you_mean


class Row:
    """A CSV row with its line number, so every error names FILE:LINE:COL."""

    def __init__(self, path: str, line: int, header: list[str], values: list[str]) -> None:
        self.path, self.line, self.header, self.values = path, line, header, values

    def col(self, name: str) -> int:
        """The 1-based column of ``name``."""
        return self.header.index(name) + 1

    def error(self, name: str, what: str, fix: str) -> GeosimError:
        """An error at this row's cell in column ``name``."""
        return GeosimError(self.path, self.line, self.col(name), what, fix)

    def text(self, name: str) -> str:
        """The cell in column ``name``, stripped of surrounding spaces."""
        return self.values[self.header.index(name)].strip()

    def category(self, name: str, choices: tuple[str, ...]) -> str:
        """The cell as one of ``choices``."""
        value = self.text(name)
        if value not in choices:
            shown = f"'{value}'" if value else "an empty value"
            raise self.error(name, f"unknown {name} {shown}", did_you_mean(value, choices, what="use one of"))
        return value

    def date(self, name: str, optional: bool = False) -> date | None:
        """The cell as an ISO date; ``None`` for an empty cell if ``optional``."""
        value = self.text(name)
        if not value and optional:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            shown = f"'{value}'" if value else "an empty value"
            raise self.error(name, f"bad date {shown} in column '{name}'",
                             "write an ISO date YYYY-MM-DD" + (" (or leave it empty)" if optional else "")) from None

    def count(self, name: str) -> int:
        """The cell as a whole number of at least 0."""
        value = self.text(name)
        try:
            number = int(value)
        except ValueError:
            number = -1
        if number < 0:
            raise self.error(name, f"{name} '{value}' is not a whole number of at least 0", "write 0, 1, 2, ...")
        return number

    def flag(self, name: str) -> bool:
        """The cell as a yes (1) or no (0)."""
        value = self.text(name)
        if value not in ("0", "1"):
            raise self.error(name, f"{name} '{value}' is not 0 or 1", "write 1 for yes, 0 for no")
        return value == "1"

    def number(self, name: str, optional: bool = False) -> float:
        """The cell as a number; NaN for an empty cell if ``optional``."""
        value = self.text(name)
        if not value and optional:
            return float("nan")
        try:
            return float(value)
        except ValueError:
            raise self.error(name, f"{name} '{value}' is not a number", "write a number") from None


def read_rows(path: str | Path, required: tuple[str, ...]) -> list[Row]:
    """The rows of a CSV file, with the header checked for every ``required`` column."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"file '{p}' not found; give the path of a CSV file (--cases, --fortna or "
                         "--war-outcomes)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GeosimError(str(p), 1, 1, f"cannot read the file ({exc})", "save it as UTF-8 CSV") from None
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise GeosimError(str(p), 1, 1, "the file is empty",
                          "start with a header line: " + ",".join(required)) from None
    except csv.Error as exc:
        raise GeosimError(str(p), 1, 1, f"not a CSV header ({exc})", "check the quoting") from None
    for pos, name in enumerate(required, start=1):
        if name not in header:
            # a near miss is most likely a misspelt header: say which column to rename
            hint = difflib.get_close_matches(name, header, n=1, cutoff=0.6)
            fix = (f"rename '{hint[0]}' to '{name}'" if hint else f"add a '{name}' column") + \
                "; the columns are: " + ",".join(required)
            raise GeosimError(str(p), 1, min(pos, len(header) + 1), f"missing column '{name}'", fix)
    rows: list[Row] = []
    last_line = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise GeosimError(str(p), last_line + 1, 1, f"not valid CSV ({exc})", "check the quoting") from None
        line = last_line + 1  # the line the record starts on (a quoted field may span lines)
        last_line = reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise GeosimError(str(p), line, min(len(values), len(header)) + 1,
                              f"row has {len(values)} fields but the header has {len(header)}",
                              "quote fields that contain commas; give every row the header's columns")
        rows.append(Row(str(p), line, header, values))
    if not rows:
        raise GeosimError(str(p), 2, 1, "no cases in the file", "add one row per ceasefire below the header")
    return rows
