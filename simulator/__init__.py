"""geosim: agent-based Monte Carlo simulation of ceasefire stability.

Data flows one way: scenario file -> ``load_scenario`` -> ``CeasefireModel`` (many worlds
at once) -> per-world outcomes -> summaries and paired comparisons -> tables and plots.

Heavy modules (Mesa, SciPy, lifelines) load on first use, so that ``geosim check`` starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from simulator.errors import GeosimError, ScenarioError, UsageError

_LAZY = {
    "Scenario": "scenario.load", "load_scenario": "scenario.load", "CeasefireModel": "model.model", "run": "api",
    "Results": "analysis.results", "load_results": "report.write", "save_results": "report.write",
    "Sequential": "runs.engines", "Processes": "runs.engines", "Dask": "runs.engines",
}

if TYPE_CHECKING:  # pragma: no cover
    from simulator.api import run
    from simulator.runs.engines import Dask, Processes, Sequential
    from simulator.model.model import CeasefireModel
    from simulator.analysis.results import Results
    from simulator.report.write import load_results, save_results
    from simulator.scenario.load import Scenario, load_scenario


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simulator' has no attribute '{name}'")


__all__ = ["CeasefireModel", "Dask", "GeosimError", "Processes", "Results", "Scenario", "ScenarioError",
           "Sequential", "UsageError", "load_results", "load_scenario", "run", "save_results"]
__version__ = "0.1.0"
