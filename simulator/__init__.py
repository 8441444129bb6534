"""geosim: agent-based Monte Carlo simulation of ceasefire stability.

Data flows one way: scenario file -> ``load_scenario`` -> ``CeasefireModel`` (many worlds
at once) -> per-world outcomes -> summaries and paired comparisons -> tables and plots.

Heavy modules (Mesa, SciPy, lifelines) load on first use, so that ``geosim check`` starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import GeosimError, ScenarioError, UsageError

_LAZY = {
    "Scenario": "scenario", "load_scenario": "scenario", "CeasefireModel": "model", "run": "api",
    "Results": "results", "load_results": "results",
}

if TYPE_CHECKING:  # pragma: no cover
    from .api import run
    from .model import CeasefireModel
    from .results import Results, load_results
    from .scenario import Scenario, load_scenario


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simulator' has no attribute '{name}'")


__all__ = ["CeasefireModel", "GeosimError", "Results", "Scenario", "ScenarioError", "UsageError", "load_results",
           "load_scenario", "run"]
__version__ = "0.1.0"
