"""What ``geosim check`` reports about a scenario file beyond "valid": every mistake, and warnings.

**Every mistake at once.** The loader (``load.py``) checks each actor, parameter, constant and
option on its own and gathers the mistakes in ``Problems``, so that one run of ``geosim
check`` shows all of a file's mistakes, up to ``MAX_ERRORS``, each on its own line
``FILE:LINE:COL: what; fix``, in the order of the file. A mistake that leaves nothing to
check after it (a YAML syntax error, a file that is not a mapping, a missing ``actors:``)
ends the check there. One mistake is raised as the plain ``ScenarioError`` it is; several as
``ScenarioErrors``, whose attributes are those of the first.

**Warnings** do not stop a file from loading; ``geosim check`` prints them (``Scenario.warnings``):

- *A number without a source.* A number the file sets (an actor's parameter, an option's
  setting, a constant) is unsourced when it has no ``source:``, or when every part of its
  source says nothing: after its kind (``cite:``, ``judgement:``, ``calibrated:``) comes only
  a placeholder (``TODO``, ``TBD``, ``?``, ``unknown``, ``guess`` ...) or no letters at all.
  ``seed:`` parts never say nothing: the loader has checked that each names a fact. Switches
  (``true``/``false``) are choices an option makes, not numbers, and are not flagged.
- *Facts borrowed from another conflict.* A file without ``seeds:`` looks its ``seed:`` facts
  up in ``../seeds/facts.yaml`` or, without one, in the facts that ship with geosim. When
  that is the shipped file (the same bytes), and the file cites a ``seed:`` fact, its facts
  are those of the Ukraine scenario's seed article, which a scenario of another conflict
  almost never means.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from simulator.errors import ScenarioError
from simulator.scenario.distributions import Spec
from simulator.scenario.params import ParamDef

MAX_ERRORS = 20  # mistakes reported for one file; more are announced, not listed
MAX_WARNINGS = 20
PLACEHOLDERS = {"todo", "tbd", "tbc", "tba", "fixme", "xxx", "unknown", "none", "n/a", "na", "guess", "source",
                "placeholder", "later", "see above", "same", "?", "??", "???", "-", "--", "..."}
_PARTS = re.compile(r";\s*(?=(?:seed|cite|judgement|calibrated)\s*:)")
SOURCE_FIX = "add 'source:' saying where it comes from (seed:FACT_ID, cite: ..., judgement: ... or calibrated: ...)"


class ScenarioErrors(ScenarioError):
    """Several mistakes in one file: the first one's attributes, and every one in ``str()``."""

    def __init__(self, errors: list[ScenarioError], more: bool = False) -> None:
        self.errors = list(errors)
        self.more = more
        first = self.errors[0]
        super().__init__(first.file, first.line, first.col, first.what, first.fix)

    def __str__(self) -> str:
        lines = [str(e) for e in self.errors]
        if self.more:
            last = self.errors[-1]
            lines.append(f"{last.file}:{last.line}:{last.col}: more mistakes follow (geosim lists the first "
                         f"{MAX_ERRORS} of a file); fix these and check again")
        return "\n".join(lines)


class Problems:
    """The mistakes found in one file so far; ``check()`` around each independent part."""

    def __init__(self) -> None:
        self.found: list[ScenarioError] = []

    def add(self, error: ScenarioError) -> None:
        """Note a mistake; past ``MAX_ERRORS`` stop checking and raise them all."""
        for e in getattr(error, "errors", [error]):
            if all((e.line, e.col, e.what) != (f.line, f.col, f.what) for f in self.found):
                self.found.append(e)
        if len(self.found) > MAX_ERRORS:
            raise self.error() from None

    @contextmanager
    def check(self) -> Iterator[None]:
        """Run one part of the checks: a mistake in it is noted, and checking goes on after it."""
        try:
            yield
        except ScenarioError as exc:
            self.add(exc)

    def error(self) -> ScenarioError:
        """The mistakes in file order: one ``ScenarioError``, or ``ScenarioErrors`` for several."""
        shown = sorted(self.found, key=lambda e: (e.line, e.col))
        more = len(shown) > MAX_ERRORS
        if more:
            # the first MAX_ERRORS in the order they were found (the checks follow the file)
            shown = sorted(self.found[:MAX_ERRORS], key=lambda e: (e.line, e.col))
        return shown[0] if len(shown) == 1 and not more else ScenarioErrors(shown, more)

    def raise_if_any(self) -> None:
        if self.found:
            raise self.error() from None


def says_nothing(source: str | None) -> bool:
    """Whether a source is missing or tells the reader nothing (see the module's notes)."""
    if source is None or not source.strip():
        return True
    for part in _PARTS.split(source.strip()):
        kind, _, text = part.partition(":")
        if kind.strip() == "seed":
            return False
        text = " ".join(text.split()).strip(" .").lower()
        if re.search(r"[a-z]", text) and text not in PLACEHOLDERS:
            return False
    return True


Where = tuple[Any, ...]


def source_warnings(loc: Any, written: list[tuple[Where, str, Spec, ParamDef]], borrowed_facts: str | None
                    ) -> tuple[str, ...]:
    """The warnings of a valid file (``FILE:LINE:COL: warning: what; fix``), in file order.

    ``written`` holds every value the file sets: where it is, its name, its value and its
    definition. ``borrowed_facts`` says where the facts of the Ukraine scenario come from when the
    file has no ``seeds:`` and its seed facts resolve to them (else None).
    """
    found: list[tuple[int, int, str]] = []
    for path, what, spec, pdef in written:
        if pdef.kind != "bool" and says_nothing(spec.source):
            line, col = loc.where(path)
            said = "has no source" if spec.source is None or not spec.source.strip() else (
                f"has a source that says nothing ('{spec.source.strip()[:40]}')")
            found.append((line, col, f"{loc.file}:{line}:{col}: warning: {what} {said}; {SOURCE_FIX}"))
    found.sort()
    lines = [text for _, _, text in found]
    if len(lines) > MAX_WARNINGS:
        more = len(found) - MAX_WARNINGS
        lines = [*lines[:MAX_WARNINGS], f"{loc.file}: warning: {more} more numbers without a source; add a source to each"]
    cites = [(loc.where(path + ("source",)), what) for path, what, spec, _ in written
             if spec.source and re.search(r"(^|;)\s*seed\s*:", spec.source)]
    if cites and borrowed_facts:
        (line, col), what = min(cites)
        lines.insert(0, f"{loc.file}:{line}:{col}: warning: {what} cites a seed fact, but the file has no 'seeds:', "
                        f"so its facts are {borrowed_facts}: the facts of the Ukraine scenario's article; give this "
                        "conflict its own facts file and name it with 'seeds:' (docs/scenarios.md: Writing a "
                        "scenario for another conflict)")
    return tuple(lines)
