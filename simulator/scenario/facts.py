"""Seed facts: the facts file a scenario cites with ``source: seed:ID``, found and read.

A scenario names its facts file with ``seeds:``, a path relative to the scenario file. Without
it, ``../seeds/facts.yaml`` (the repository's layout) if there is such a file, else the facts
that ship with geosim: both are the facts of the Ukraine scenario's seed article, which is why
``geosim check`` warns when a file without ``seeds:`` cites them (``problems.py``).
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from simulator.data import facts_path
from simulator.scenario.yamlio import MAX_BYTES, Located, load_yaml


def load_facts(path: Path) -> dict[str, dict[str, Any]]:
    """Seed facts by id from a facts file (``seeds/facts.yaml``)."""
    loc = load_yaml(path)
    facts = loc.data.get("facts") if isinstance(loc.data, dict) else None
    if not isinstance(facts, list):
        raise loc.error((), "a facts file needs a 'facts:' list", "see seeds/facts.yaml")
    out: dict[str, dict[str, Any]] = {}
    for i, fact in enumerate(facts):
        if not isinstance(fact, dict) or "id" not in fact or "claim" not in fact:
            raise loc.error(("facts", i), "each fact needs an 'id' and a 'claim'", "add them")
        if fact["id"] in out:
            raise loc.error(("facts", i, "id"), f"duplicate fact id '{fact['id']}'", "give each fact its own id")
        out[str(fact["id"])] = fact
    return out


NEARBY_FACTS = "../seeds/facts.yaml"  # where a scenario without 'seeds:' looks first, as in the repository


def facts_file(loc: Located, scenario: Path, seeds: str | None) -> Path:
    """The seed facts file a scenario cites: its ``seeds:`` path, relative to the scenario file;
    without one, ``../seeds/facts.yaml`` if there is such a file, else the facts that ship with geosim
    (so that a scenario written anywhere after a plain install can cite ``seed:ID``)."""
    if seeds is None:
        nearby = (scenario.parent / NEARBY_FACTS).resolve()
        return nearby if nearby.is_file() else facts_path()
    # Problems with the file named are reported at the 'seeds:' line, where the fix is; only
    # mistakes inside a facts file point into it.
    fix = "point 'seeds:' at a facts file (.yaml), relative to this file, or leave 'seeds:' out to use the built-in facts"
    if "\x00" in seeds or Path(seeds).suffix not in (".yaml", ".yml"):
        raise loc.error(("seeds",), f"'seeds:' names '{seeds[:80]}', not a .yaml file", fix)
    path = (scenario.parent / seeds).resolve()
    try:
        info = path.stat()  # stat, never open: a FIFO must not block the check
    except OSError:
        raise loc.error(("seeds",), f"seed facts file '{seeds}' not found", fix) from None
    if not stat.S_ISREG(info.st_mode):
        raise loc.error(("seeds",), f"seed facts file '{seeds}' is not a regular file", fix)
    if info.st_size > MAX_BYTES:
        raise loc.error(("seeds",), f"seed facts file '{seeds}' is {info.st_size:,} bytes, over the limit of "
                        f"{MAX_BYTES:,}", fix)
    return path


def same_bytes(a: Path, b: Path) -> bool:
    """Whether two facts files hold the same bytes (both are small: facts files are size-checked)."""
    try:
        return a.resolve() == b.resolve() or a.read_bytes() == b.read_bytes()
    except OSError:
        return False
