"""Global sensitivity indices with SALib, over factors on the unit interval.

``indices(names, evaluate, method, samples, seed)`` is the whole machinery: it draws SALib's
design over ``[0, 1]`` for every factor, hands the rows to ``evaluate`` (geosim's design points,
or any function: the tests pass the Ishigami function) and analyses each measure it returns.

* ``sobol``: Saltelli's scheme with SALib's scrambled Sobol' sequence, ``samples`` base rows
  (a power of two), ``samples x (factors + 2)`` evaluations; first-order (``S1``) and total-order
  (``ST``) indices, each with the half-width of its 95% bootstrap interval (``S1_conf``,
  ``ST_conf``, from SALib's resampling of the design's rows). A measure that does not vary has
  no variance to share out: its indices are left empty (NaN).
* ``morris``: ``samples`` trajectories on a grid of 4 levels, ``samples x (factors + 1)``
  evaluations. The levels are the midpoints of four equal slices of each factor's quantiles
  (1/8, 3/8, 5/8, 7/8), so that no point sits in a distribution's extreme tail, and a step moves
  a factor by half its quantile range (1/8 to 5/8, or 3/8 to 7/8). The columns then hold
  Morris's measures, in the measure's own units per such step: ``ST`` is mu* (the mean absolute
  change), ``ST_conf`` its 95% bootstrap half-width, ``S1`` is mu (the signed mean change) and
  ``S1_conf`` is empty.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import UsageError

METHODS = ("sobol", "morris")
# Base rows (Sobol') or trajectories (Morris) by default: two options of the Ukraine scenario then
# take about two minutes on two cores (docs/explore.md gives the measured times).
DEFAULT_SAMPLES = {"sobol": 128, "morris": 64}
MORRIS_LEVELS = 4
RESAMPLES = 200  # bootstrap resamples of SALib's confidence intervals
CONFIDENCE = 0.95
COLUMNS = ["measure", "factor", "S1", "S1_conf", "ST", "ST_conf"]

Evaluate = Callable[[np.ndarray], Mapping[str, np.ndarray]]


def salib() -> tuple[Any, Any, Any, Any]:
    """SALib's Sobol' and Morris samplers and analysers, or a ``UsageError`` naming the extra."""
    try:
        from SALib.analyze import morris as morris_analyze
        from SALib.analyze import sobol as sobol_analyze
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample
    except ImportError:
        raise UsageError("geosim explore needs SALib: pip install 'geosim[explore]'") from None
    return sobol_sample, sobol_analyze, morris_sample, morris_analyze


def problem(names: Sequence[str]) -> dict[str, object]:
    """SALib's problem: every factor on the unit interval (its quantiles)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def check(method: str, samples: int) -> None:
    """Refuse an unknown method, or a number of samples SALib's designs cannot use."""
    if method not in METHODS:
        raise UsageError(f"unknown method '{method}'; choose sobol or morris")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise UsageError(f"samples must be a whole number of at least 2, got {samples!r}")
    if method == "sobol" and samples & (samples - 1):
        below = 2 ** int(math.log2(samples))
        raise UsageError(f"Sobol' samples must be a power of two (the sequence is balanced only then), got "
                         f"{samples}; try {below} or {2 * below}")


def design(method: str, names: Sequence[str], samples: int, seed: int) -> np.ndarray:
    """SALib's rows for ``method`` over ``names``, each value in [0, 1]."""
    check(method, samples)
    sobol_sample, _, morris_sample, _ = salib()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            return sobol_sample.sample(problem(names), samples, calc_second_order=False,
                                       scramble=True, seed=seed)
        return morris_sample.sample(problem(names), samples, num_levels=MORRIS_LEVELS,
                                    seed=seed)


def quantiles(method: str, rows: np.ndarray) -> np.ndarray:
    """The quantiles a design's rows stand for: Sobol' rows as they are, Morris's grid levels at the
    midpoints of equal slices (level k of L: (k + 1/2) / L)."""
    if method == "morris":
        return (np.round(rows * (MORRIS_LEVELS - 1)) + 0.5) / MORRIS_LEVELS
    return rows


def analyze(method: str, names: Sequence[str], rows: np.ndarray, results: Mapping[str, np.ndarray],
            seed: int, resamples: int = RESAMPLES) -> pd.DataFrame:
    """The indices of every measure in ``results`` (one value per row of the design): ``COLUMNS``."""
    _, sobol_analyze, _, morris_analyze = salib()
    frames = []
    for measure, y in results.items():
        y = np.asarray(y, dtype=float)
        if y.shape != (rows.shape[0],):
            raise ValueError(f"{measure}: {y.shape[0]} values for {rows.shape[0]} rows")
        table = pd.DataFrame({"factor": list(names)})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if method == "sobol":
                if not np.isfinite(y).all() or np.ptp(y) == 0:
                    s = {k: np.full(len(names), np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
                else:
                    s = sobol_analyze.analyze(problem(names), y, calc_second_order=False,
                                              num_resamples=resamples, conf_level=CONFIDENCE, seed=seed)
                for k in ("S1", "S1_conf", "ST", "ST_conf"):
                    table[k] = np.asarray(s[k], dtype=float)
            else:
                s = morris_analyze.analyze(problem(names), rows, y, num_resamples=resamples,
                                           conf_level=CONFIDENCE, num_levels=MORRIS_LEVELS, seed=seed)
                step = MORRIS_LEVELS / (2 * (MORRIS_LEVELS - 1))  # SALib divides each change by this step
                table["S1"] = np.asarray(s["mu"], dtype=float) * step
                table["S1_conf"] = np.nan
                table["ST"] = np.asarray(s["mu_star"], dtype=float) * step
                table["ST_conf"] = np.asarray(s["mu_star_conf"], dtype=float) * step
        table.insert(0, "measure", measure)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def indices(names: Sequence[str], evaluate: Evaluate, method: str = "sobol", samples: int | None = None,
            seed: int = 0, resamples: int = RESAMPLES) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """Sensitivity indices of whatever ``evaluate`` measures, over ``names`` on the unit interval.

    ``evaluate`` gets the quantiles of every row (``quantiles``: one column per name) and returns
    one array of values per measure. Returns the indices (``COLUMNS``), the design's rows and the
    measures, all determined by ``seed``.
    """
    samples = DEFAULT_SAMPLES.get(method, 0) if samples is None else samples
    rows = design(method, names, samples, seed)
    results = {k: np.asarray(v, dtype=float) for k, v in evaluate(quantiles(method, rows)).items()}
    return analyze(method, names, rows, results, seed, resamples), rows, results
