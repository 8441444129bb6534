"""geosim as an EMA Workbench model: ``perform_experiments(ema_model("ukraine_2025"), 100, ...)``.

``ema_model`` reads a scenario and gives an ``ema_workbench.Model`` whose

* uncertainties are the factors of ``explore`` (``factors.py``): each uncertain parameter of the
  chosen options and each calibrated constant, as a ``RealParameter`` over its *quantiles*,
  0 to 1. EMA's samplers then draw from the scenario's own distributions (a Latin hypercube
  over quantiles is one over the distribution), and an option that sets a parameter to a plain
  value keeps it. EMA names must be Python identifiers, so ``russia.gains_value`` is called
  ``russia__gains_value`` (``ema_name``); ``variable`` maps names back;
* lever is ``option``: a ``CategoricalParameter`` of the scenario's options (or those chosen);
* outcomes are shares of ``worlds`` worlds run at the experiment's inputs: ``agreed`` (the
  chance of a deal), ``hold_12``, ``hold_36`` (holding overall at 12 and 36 months) and
  ``direct_clash``, as ``ScalarOutcome``s.

Every experiment runs its worlds on the same seed, so experiments differ only by their inputs
(common random numbers, as between the options of a run). With ``dice=True`` a further
uncertainty, ``dice``, picks the seed instead, as in ``explore``.

The function is a picklable object, so the EMA Workbench's ``MultiprocessingEvaluator`` can run
it too; ``SequentialEvaluator`` runs it in this process.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import UsageError, whole_number
from simulator.explore.discovery import quiet
from simulator.explore.evaluate import OUTCOMES, option_worlds, point_seed
from simulator.explore.factors import DICE, Factor, overrides, uncertain_factors
from simulator.scenario.load import Scenario, load_scenario

LEVER = "option"
DEFAULT_WORLDS = 512


def ema_name(name: str) -> str:
    """The EMA Workbench's name of a factor: ``actor.parameter`` as ``actor__parameter``."""
    return name.replace(".", "__")


@dataclass(frozen=True)
class GeosimFunction:
    """The model function EMA calls with one experiment's uncertainties and lever, by EMA name."""

    scenario: Scenario
    options: tuple[str, ...]
    factors: tuple[Factor, ...]
    worlds: int
    seed: int
    horizon: int
    dice: bool = False

    def inputs(self, **experiment: Any) -> tuple[str, dict[str, Any], int]:
        """The option, the overrides and the seed an experiment stands for."""
        option = str(experiment[LEVER])
        if option not in self.options:
            raise UsageError(f"option '{option}' is not one of {', '.join(self.options)}")
        u = np.array([[float(experiment[ema_name(f.name)]) for f in self.factors]])
        values = overrides(self.factors, self.options.index(option), u)[0]
        seed = point_seed(self.seed, float(experiment[DICE])) if self.dice else self.seed
        return option, values, seed

    def __call__(self, **experiment: Any) -> dict[str, float]:
        option, values, seed = self.inputs(**experiment)
        worlds = option_worlds(self.scenario, option, self.worlds, self.horizon, seed, values)
        return {name: float(np.mean(worlds[name])) for name in OUTCOMES}


def ema_model(scenario: Scenario | str | Path, options: Sequence[str] | None = None, *, worlds: int = DEFAULT_WORLDS,
              seed: int | None = None, posterior_file: str | Path | None = None, dice: bool = False,
              name: str | None = None) -> Any:
    """An ``ema_workbench.Model`` of ``scenario``'s ``options`` (default: all), each experiment run on
    ``worlds`` worlds with ``seed`` (default: the scenario's)."""
    try:
        with quiet():
            from ema_workbench import CategoricalParameter, Model, RealParameter, ScalarOutcome
    except ImportError:
        raise UsageError("the EMA Workbench adapter needs the explore extra: pip install 'geosim[explore]'") from None
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    chosen = tuple(dict.fromkeys(options)) if options else tuple(sc.options)
    for option in chosen:
        sc.option(option)  # an unknown one: a ScenarioError naming the closest
    if sc.horizon_months < 36:
        raise UsageError(f"the EMA model reports holding at 36 months; the horizon is {sc.horizon_months} months")
    worlds = whole_number("worlds", worlds, high=10**7)
    seed = whole_number("seed", sc.seed if seed is None else seed, low=0)
    factors = tuple(uncertain_factors(sc, chosen, posterior_file))
    function = GeosimFunction(sc, chosen, factors, worlds, seed, sc.horizon_months, dice)
    model_name = name or re.sub(r"\W", "_", sc.name)
    if not model_name.isidentifier():
        model_name = f"geosim_{model_name}"
    with quiet():
        model = Model(model_name, function=function)
        model.uncertainties = [RealParameter(ema_name(f.name), 0.0, 1.0) for f in factors] + (
            [RealParameter(DICE, 0.0, 1.0)] if dice else [])
        model.levers = [CategoricalParameter(LEVER, list(chosen))]
        model.outcomes = [ScalarOutcome(o) for o in OUTCOMES]
    return model


def variable(ema: str) -> str:
    """A factor's geosim name from its EMA name (``russia__gains_value`` -> ``russia.gains_value``)."""
    head, _, tail = ema.rpartition("__")  # parameter and constant names hold no double underscore
    return f"{head}.{tail}" if head else ema
