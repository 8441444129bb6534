"""95% intervals: the Wilson interval of a share of worlds, and paired differences between options.

Options are compared world by world: every option runs on the same worlds (common random
numbers), so the difference of an outcome between two options is measured in each world
and its mean gets a normal 95% interval from the spread of those differences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05  # every interval is a 95% interval
Z95 = float(stats.norm.ppf(1 - ALPHA / 2))
DIFFERENCE_COLUMNS = ["option", "baseline", "measure", "difference", "lower", "upper", "worlds"]


def wilson_interval(k: int, n: int) -> tuple[float, float]:
    """Wilson 95% interval of a share: ``k`` worlds out of ``n``."""
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=1 - ALPHA, method="wilson")
    return float(ci.low), float(ci.high)


def paired_differences(options: Sequence[str], measures: Sequence[str], pair_sum: np.ndarray,
                       pair_squares: np.ndarray, worlds: int) -> pd.DataFrame:
    """Every option minus every other, per measure: mean difference over ``worlds`` worlds and its interval.

    ``pair_sum[i, j, q]`` is the sum over worlds of option ``i``'s measure ``q`` minus option
    ``j``'s, ``pair_squares`` the sum of its squares. An option minus itself is exactly zero.
    """
    rows = []
    for i, option in enumerate(options):
        for j, baseline in enumerate(options):
            for q, measure in enumerate(measures):
                mean = pair_sum[i, j, q] / worlds
                if i == j:
                    half = 0.0
                elif worlds > 1 and np.isfinite(mean):
                    var = max(0.0, (pair_squares[i, j, q] - worlds * mean * mean) / (worlds - 1))
                    half = Z95 * np.sqrt(var / worlds)
                else:
                    half = np.nan
                rows.append({"option": option, "baseline": baseline, "measure": measure, "difference": mean,
                             "lower": mean - half, "upper": mean + half, "worlds": worlds})
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)
