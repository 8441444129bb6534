"""The Poisson quantile by summing its probabilities: SciPy's integers, many times faster.

A probe that hits a deployed force causes Poisson(mean) deaths, drawn by inverse CDF of the
world's own uniform (``scipy.stats.poisson.ppf`` gives the integers the model is defined by).
SciPy inverts the incomplete gamma function for each draw; adding the probabilities up
instead takes a few dozen steps for the means a probe causes. The sums are rounded
differently from SciPy's CDF, so a draw that falls very near a step of the CDF is handed
to SciPy: the integers are always SciPy's.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

Array = np.ndarray

# Fewer draws than this are inverted one by one: numpy's per-call cost would dominate.
_POISSON_FEW = 64
# Poisson means above this are inverted by SciPy: exp(-mean) would lose precision.
_POISSON_MAX_MEAN = 100.0
# A uniform this close to a step of the summed CDF could fall on the other side of SciPy's
# own CDF (both are rounded); those few draws are inverted by SciPy itself.
_POISSON_GUARD = 1e-7


def poisson_quantile(u: Array, mean: Array) -> Array:
    """Smallest ``k`` with P(K <= k) >= ``u`` for K ~ Poisson(``mean``): ``scipy.stats.poisson.ppf``.

    Adds the probabilities up by their recurrence, P(k) = P(k-1) mean / k, and counts the steps
    whose sum is still below ``u`` (a few dozen for the means a probe causes): many times faster
    than SciPy's inversion of the incomplete gamma function. A draw that lands within
    ``_POISSON_GUARD`` of a step, or whose mean is very large, is handed to SciPy, so the
    integers are SciPy's.
    """
    u = np.asarray(u, float)
    mean = np.asarray(mean, float)
    if mean.shape != u.shape:
        mean = np.broadcast_to(mean, u.shape)
    if u.size < _POISSON_FEW:
        return _poisson_quantile_few(u, mean)
    to_scipy = mean > _POISSON_MAX_MEAN
    mu = np.where(to_scipy, 0.0, mean)
    top = float(mu.max(initial=0.0))
    # Past this many steps the tail left is smaller than any uniform's distance from 1.
    last = int(top + 12.0 * np.sqrt(top)) + 30
    out = np.zeros(u.shape)
    where = np.arange(u.size)  # positions of the draws still being summed
    uu = u
    pmf = np.exp(-mu)
    cdf = pmf.copy()
    k = np.zeros(u.shape)  # steps whose sum P(K <= step) is still below u: the quantile, when done
    gap = u.copy()  # distance from u to the nearest sum so far (P(K <= -1) = 0 included)
    for step in range(1, last + 1):
        np.minimum(gap, np.abs(cdf - uu), out=gap)
        short = cdf < uu
        left = np.count_nonzero(short)
        if left == 0 or left < short.size // 4:  # most are done: go on with the others only
            done = ~short
            out[where[done]] = k[done]
            to_scipy[where[done]] |= gap[done] < _POISSON_GUARD
            if left == 0:
                break
            where, uu, mu, pmf, cdf, k, gap, short = (a[short] for a in (where, uu, mu, pmf, cdf, k, gap, short))
        k += short
        pmf *= mu
        pmf /= step
        cdf += pmf
    else:
        to_scipy[where] = True
    if to_scipy.any():
        out[to_scipy] = stats.poisson.ppf(u[to_scipy], mean[to_scipy])
    return out


def _poisson_quantile_few(u: Array, mean: Array) -> Array:
    """``poisson_quantile`` for a handful of draws, one at a time (the same sums, in Python floats)."""
    out = np.empty(u.shape)
    to_scipy = np.zeros(u.shape, bool)
    for i, (ui, mu) in enumerate(zip(u.tolist(), mean.tolist(), strict=True)):
        if mu > _POISSON_MAX_MEAN:
            to_scipy[i] = True
            continue
        last = int(mu + 12.0 * math.sqrt(mu)) + 30
        pmf = cdf = math.exp(-mu)
        below = 0.0
        k = 0
        while cdf < ui and k < last:
            k += 1
            below = cdf
            pmf = pmf * mu / k
            cdf += pmf
        out[i] = k
        to_scipy[i] = cdf < ui or cdf - ui < _POISSON_GUARD or ui - below < _POISSON_GUARD
    if to_scipy.any():
        out[to_scipy] = stats.poisson.ppf(u[to_scipy], mean[to_scipy])
    return out
