"""The project's own error type: every mistake a user can make names file, line and fix."""

from __future__ import annotations


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
        return f"{self.file}:{self.line}:{self.col}: {self.what}; {self.fix}"


class ScenarioError(GeosimError):
    """A scenario file that cannot be read, parsed or validated."""


class UsageError(Exception):
    """A bad command-line argument or API argument (no file position to report)."""
