"""The project's own error type: every mistake a user can make names file, line and fix."""

from __future__ import annotations

from collections.abc import Iterable


class GeosimError(Exception):
    """A user error: printed by the command line as ``FILE:LINE:COL: what; fix``."""

    def __init__(self, file: str, line: int, col: int, what: str, fix: str) -> None:
        self.file = str(file)
        self.line = int(line)
        self.col = int(col)
        self.what = what
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        return printable(f"{self.file}:{self.line}:{self.col}: {self.what}; {self.fix}")


class ScenarioError(GeosimError):
    """A scenario file that cannot be read, parsed or validated."""


class UsageError(Exception):
    """A bad command-line argument or API argument (no file position to report)."""


def printable(text: str, limit: int = 2000) -> str:
    """``text`` safe to print on a terminal: control characters and escapes shown as ``\\xNN``, and cut
    to ``limit`` characters (a hostile file must not be able to move the cursor or flood the screen)."""
    out = "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def did_you_mean(word: object, choices: Iterable[str], what: str = "choose from") -> str:
    """The fix for an unknown name: the closest known name, or the list to choose from."""
    import difflib

    names = [str(c) for c in choices]
    hint = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    return f"did you mean '{hint[0]}'?" if hint else f"{what}: " + ", ".join(names)


def whole_number(name: str, value: object, low: int = 1, high: int | None = None) -> int:
    """``value`` as a whole number in ``[low, high]``, or a ``UsageError`` that says which bound it breaks."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        kind = "a positive whole number" if low == 1 else f"a whole number of at least {low:,}"
        raise UsageError(f"{name} must be {kind}, got {value!r}")
    if high is not None and value > high:
        raise UsageError(f"{name} must be at most {high:,}, got {value:,}")
    return value
