"""Posterior sampling of the constants (simulator.history.posterior): checked on a posterior known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.history.posterior import sample_posterior, write_draws

MEAN = np.array([-6.5, 0.6])
SD = np.array([0.3, 0.1])


def log_gauss(x: np.ndarray) -> float:
    return float(-0.5 * np.sum(((x - MEAN) / SD) ** 2))


def values(x: np.ndarray) -> dict[str, float]:
    return {"hazard_intercept": float(x[0]), "hazard_exponent": float(np.exp(x[1]))}


def test_draws_recover_a_known_gaussian_posterior() -> None:
    post = sample_posterior(log_gauss, MEAN.copy(), values, walkers=16, steps=400, burn=100, seed=3)
    x = np.column_stack([post.draws["hazard_intercept"], np.log(post.draws["hazard_exponent"])])
    assert len(post.draws) == 16 * 300
    # the mean within a few Monte Carlo errors (chains are autocorrelated: ~30 steps), the sd within 15%
    assert np.all(np.abs(x.mean(axis=0) - MEAN) < 4 * SD / np.sqrt(16 * 300 / 30))
    assert np.all(np.abs(x.std(axis=0) / SD - 1) < 0.15)
    assert 0.2 < post.acceptance < 0.9
    assert post.evaluations == 16 * 401  # the start and every step, all walkers


def test_the_same_seed_gives_the_same_draws_and_threads_change_nothing() -> None:
    a = sample_posterior(log_gauss, MEAN.copy(), values, walkers=8, steps=20, burn=5, seed=11)
    b = sample_posterior(log_gauss, MEAN.copy(), values, walkers=8, steps=20, burn=5, seed=11, threads=4)
    c = sample_posterior(log_gauss, MEAN.copy(), values, walkers=8, steps=20, burn=5, seed=12)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    assert not a.draws.equals(c.draws)


def test_too_few_walkers_or_a_burn_in_longer_than_the_chain_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 4 walkers"):
        sample_posterior(log_gauss, MEAN.copy(), values, walkers=3, steps=10, burn=2, seed=1)
    with pytest.raises(ValueError, match="burn-in"):
        sample_posterior(log_gauss, MEAN.copy(), values, walkers=4, steps=10, burn=10, seed=1)


def test_written_draws_read_back_with_their_comment(tmp_path) -> None:
    post = sample_posterior(log_gauss, MEAN.copy(), values, walkers=4, steps=6, burn=2, seed=5)
    path = write_draws(tmp_path / "posterior.csv", post)
    first = path.read_text().splitlines()[0]
    assert first.startswith("# posterior draws") and "4 walkers x 6 steps" in first
    back = pd.read_csv(path, comment="#")
    assert list(back.columns) == ["draw", "hazard_intercept", "hazard_exponent"]
    np.testing.assert_allclose(back["hazard_intercept"], post.draws["hazard_intercept"], rtol=1e-5)


def test_draws_are_written_walker_by_walker_so_evenly_spaced_picks_reach_every_walker(tmp_path) -> None:
    from simulator.scenario.posterior_draws import load_draws

    walkers, steps, burn = 6, 9, 4
    post = sample_posterior(log_gauss, MEAN.copy(), values, walkers=walkers, steps=steps, burn=burn, seed=2)
    kept = steps - burn
    # the same chain run by hand with emcee: rows are walker 0's kept steps, then walker 1's ...
    import emcee

    rng = np.random.RandomState(2)
    start = MEAN + 0.02 * rng.standard_normal((walkers, 2))
    sampler = emcee.EnsembleSampler(walkers, 2, lambda xs: np.array([log_gauss(x) for x in xs]), vectorize=True)
    sampler.run_mcmc(emcee.State(start, random_state=rng.get_state()), steps)
    chain = sampler.get_chain(discard=burn)  # (steps, walkers, 2)
    blocks = chain[:, :, 0].T  # walker by walker
    np.testing.assert_allclose(post.draws["hazard_intercept"].to_numpy().reshape(walkers, kept), blocks)
    path = write_draws(tmp_path / "draws.csv", post)
    picked = load_draws(path).pick(walkers)
    assert [draw for draw, _ in picked] == [w * kept for w in range(walkers)]  # the first kept step of each walker
    np.testing.assert_allclose([v["hazard_intercept"] for _, v in picked], blocks[:, 0], rtol=1e-5)


def test_the_shipped_draws_picked_for_the_demo_come_from_every_walker() -> None:
    from simulator.scenario.posterior_draws import load_draws

    draws = load_draws()
    walkers = 12  # as the file's first line says
    assert "12 walkers" in draws.comments[0] and "walker by walker" in draws.comments[0]
    per_walker = len(draws) // walkers
    picked = [draw for draw, _ in draws.pick(20)]
    assert {d // per_walker for d in picked} == set(range(walkers))
