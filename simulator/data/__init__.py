"""Data that ship inside the package: built-in scenarios, the seed facts and the historical tables.

They are read with ``importlib.resources``, so they are found wherever geosim is installed
and whatever the current folder. In a checkout of the repository the top-level folders
``scenarios/``, ``seeds/`` and ``data/`` are links to ``scenarios/``, ``seeds/`` and
``history/`` here: one copy of each file, seen from both places.

``scenarios/NAME.yaml``
    Built-in scenarios, run by name (``geosim run ukraine_2025``); ``scenario_names()`` lists them.
``seeds/facts.yaml``
    Facts from the seed article that scenarios cite as ``seed:ID`` (``facts_path()``).
``history/historical_ceasefires.csv``
    Thirteen interstate ceasefires coded on the model's levers (``geosim validate``, ``geosim calibrate``).
``history/war_outcomes.csv``
    The project's coding of how the war before each of those ceasefires ended.
``history/fortna_civil_ceasefires.csv``
    Fortna's 96 ceasefires after civil wars, 1989-1999, whose survival the model is checked against.

``history/README.md`` gives the columns and the sources of the three tables.
"""

from __future__ import annotations

import atexit
import contextlib
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

from simulator.errors import UsageError, did_you_mean

SCENARIO_SUFFIX = ".yaml"

# Folders opened with as_file stay open until the process ends (see _root).
_OPENED = contextlib.ExitStack()
atexit.register(_OPENED.close)


@cache
def _root() -> Path:
    """This package's folder on disk.

    For an installed package (a wheel always installs as files) this is the folder itself;
    imported from a zip archive, it is extracted once for the life of the process, so that a
    scenario's ``seeds:`` path, written relative to the scenario file, still resolves.
    """
    return _OPENED.enter_context(as_file(files(__name__)))


def scenario_names() -> list[str]:
    """The names of the built-in scenarios, sorted (``ukraine_2025`` is the main one)."""
    folder = _root() / "scenarios"
    return sorted(p.stem for p in folder.iterdir() if p.suffix == SCENARIO_SUFFIX and p.is_file())


def scenario_path(name: str) -> Path:
    """The file of the built-in scenario ``name``; a ``UsageError`` names the closest one if there is none."""
    if name not in scenario_names():
        raise UsageError(f"no built-in scenario named '{name}'; "
                         f"{did_you_mean(name, scenario_names(), 'the built-in scenarios are')}")
    return _root() / "scenarios" / f"{name}{SCENARIO_SUFFIX}"


def facts_path() -> Path:
    """The seed facts file (``seeds/facts.yaml``) that the built-in scenarios cite as ``seed:ID``."""
    return _root() / "seeds" / "facts.yaml"


def data_path(name: str) -> Path:
    """A historical table by file name, e.g. ``data_path("historical_ceasefires.csv")``.

    ``history/README.md`` (also available here) describes each table and where it comes from.
    """
    folder = _root() / "history"
    known = sorted(p.name for p in folder.iterdir() if p.is_file())
    if name not in known:
        raise UsageError(f"no data file named '{name}'; {did_you_mean(name, known, 'the data files are')}")
    return folder / name


def shown_path(path: str | Path) -> str:
    """How a data file is named in outputs: a shipped table as ``data/NAME`` (the same on every
    machine and install), any other file as given."""
    p = Path(path)
    try:
        if p.resolve().parent == (_root() / "history").resolve():
            return f"data/{p.name}"
    except OSError:
        pass
    return str(path)
