"""Posterior draws of the calibrated constants, by Markov chain Monte Carlo (emcee).

The calibration loss (``calibrate.Objective``) is a negative log posterior: the negative
log-likelihood of the historical cases (and Fortna's figures) plus a weak Gaussian prior, on
the searched scale of each constant (log, logit or as is). Its minimum is the calibrated
point; ``sample_posterior`` explores around it with emcee's affine-invariant ensemble
sampler, started in a small ball around that point, and keeps the draws after a burn-in.

Every evaluation of the loss uses the same seed and worlds (common random numbers), so the
posterior is that of the model's *expected* survival curves, smooth in the constants, with
the Monte Carlo error of ``worlds`` worlds per case frozen in. The sampler's own random
numbers come from ``seed``: the same call gives the same draws.

The draws are written as CSV (``write_draws``), one row per draw and one column per
calibrated constant, walker by walker (each walker's kept steps in turn), and shipped as package data (``simulator/data/history/
posterior_constants.csv``); ``geosim run --posterior K`` reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.files import atomic_write

# A small starting ball around the calibrated point, on the searched scale (log-odds, logs).
START_SCALE = 0.02


@dataclass
class PosteriorDraws:
    """Draws of the calibrated constants, and how the chain that made them behaved."""

    draws: pd.DataFrame  # one row per draw, one column per constant (values, not the searched scale)
    walkers: int
    steps: int
    burn: int
    acceptance: float  # mean acceptance fraction of the walkers
    evaluations: int  # loss evaluations the chain made (each runs the model, or finds the run remembered)
    seed: int

    def comment(self) -> str:
        return (f"posterior draws of the calibrated constants: emcee, {self.walkers} walkers x {self.steps} steps, "
                f"first {self.burn} steps dropped, mean acceptance {self.acceptance:.2f}, seed {self.seed}; "
                f"written walker by walker "
                f"(geosim calibrate --posterior; docs/validation.md)")


def sample_posterior(log_posterior: Callable[[np.ndarray], float], x_best: np.ndarray,
                     to_values: Callable[[np.ndarray], dict[str, float]], *, walkers: int, steps: int, burn: int,
                     seed: int, threads: int = 1,
                     progress: Callable[[str], None] | None = None) -> PosteriorDraws:
    """Sample ``log_posterior`` (on the searched scale) around ``x_best`` with emcee.

    ``walkers`` must be at least twice the number of constants; each step evaluates half of
    them at once, in ``threads`` threads (the model runs themselves may go to worker
    processes). ``to_values`` turns a point of the searched scale into constant values.
    """
    import emcee

    dim = len(x_best)
    if walkers < 2 * dim:
        raise ValueError(f"emcee needs at least {2 * dim} walkers for {dim} constants, got {walkers}")
    if not 0 <= burn < steps:
        raise ValueError(f"burn-in must be shorter than the chain: {burn} of {steps} steps")
    rng = np.random.RandomState(seed)
    start = x_best + START_SCALE * rng.standard_normal((walkers, dim))
    count = [0]

    def batch(xs: np.ndarray) -> np.ndarray:
        count[0] += len(xs)
        if threads > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                return np.array(list(pool.map(log_posterior, xs)))
        return np.array([log_posterior(x) for x in xs])

    sampler = emcee.EnsembleSampler(walkers, dim, batch, vectorize=True)
    state = emcee.State(start, random_state=rng.get_state())
    for k, _ in enumerate(sampler.sample(state, iterations=steps), start=1):
        if progress is not None and (k % 5 == 0 or k == steps):
            progress(f"  posterior: step {k} of {steps}, acceptance {np.mean(sampler.acceptance_fraction):.2f}")
    # Walker by walker (all kept steps of the first walker, then the second ...), so that draws
    # picked evenly through the file come from every walker, not from a few.
    kept = sampler.get_chain(discard=burn)  # (steps, walkers, constants)
    chain = kept.swapaxes(0, 1).reshape(-1, dim)
    rows = [to_values(x) for x in chain]
    draws = pd.DataFrame(rows)
    draws.insert(0, "draw", np.arange(len(draws)))
    return PosteriorDraws(draws, walkers, steps, burn, float(np.mean(sampler.acceptance_fraction)), count[0], seed)


def write_draws(path: str | Path, posterior: PosteriorDraws) -> Path:
    """Write the draws as CSV, with a first ``#`` line saying how they were made (atomically)."""
    text = f"# {posterior.comment()}\n" + posterior.draws.to_csv(index=False, float_format="%.6g")
    return atomic_write(path, text)
