"""geosim: agent-based Monte Carlo simulation of ceasefire stability.

Data flows one way: scenario file -> ``load_scenario`` -> ``CeasefireModel`` (many worlds
at once) -> per-world outcomes -> summaries and paired comparisons -> tables and plots.
"""

from .errors import GeosimError, ScenarioError, UsageError
from .scenario import Scenario, load_scenario
from .model import CeasefireModel
from .api import run
from .results import Results, load_results

__all__ = ["CeasefireModel", "GeosimError", "Results", "load_results", "run", "Scenario", "ScenarioError", "UsageError", "load_scenario"]
__version__ = "0.1.0"
