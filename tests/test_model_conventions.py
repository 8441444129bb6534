"""The model as a Mesa user meets it: typed parameters, fresh seeds, overrides, batch_run, the absorbing switch.

Also the exactness of the fast paths the monthly loop takes (Poisson inversion, uniforms
for a few worlds), which must give SciPy's and the full computation's numbers exactly.
"""

from __future__ import annotations

import dataclasses
import warnings

import mesa
import numpy as np
import pytest
from pandas.testing import assert_frame_equal
from scipy import stats

from simulator import CeasefireModel
from simulator.errors import UsageError
from simulator.model.parameters import PARAMETER_CLASSES, ModelConstants, field_names
from simulator.model.poisson import poisson_quantile
from simulator.model.streams import Streams
from simulator.scenario.params import CONSTANTS, REGISTRY
from simulator.sweep import with_option

SEED = 20250228
TROOPS = "united_kingdom.troops_offered"


# ------------------------------------------------------------------------- typed parameters


@pytest.mark.parametrize("role", list(REGISTRY))
def test_each_role_has_a_typed_parameter_class_with_the_registry_names(role: str) -> None:
    assert field_names(PARAMETER_CLASSES[role]) == tuple(REGISTRY[role])


def test_model_constants_have_the_registry_names() -> None:
    assert field_names(ModelConstants) == tuple(CONSTANTS)


def test_actors_read_their_parameters_as_frozen_attributes(ukraine) -> None:
    m = CeasefireModel(ukraine, "peacekeepers", worlds=50, rng=SEED)
    uk = m.forces[0]
    assert isinstance(uk.p, PARAMETER_CLASSES["force_contributor"])
    # drawn per world (triangular) in this option, a plain float where the file gives a value
    assert isinstance(uk.p.troops_offered, np.ndarray) and uk.p.troops_offered.shape == (50,)
    assert isinstance(uk.p.tripwire_half_troops, float)
    assert isinstance(m.constants.hazard_intercept, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        uk.p.troops_offered = 0.0  # type: ignore[misc]
    assert not hasattr(uk.p, "__dict__")  # slotted: a misspelt name cannot be added by mistake


def test_a_model_after_another_of_the_same_worlds_draws_what_it_would_alone(ukraine) -> None:
    def drawn(m: CeasefireModel) -> dict[str, np.ndarray]:
        return {f"{a.name}.{name}": np.asarray(getattr(a.p, name)) for a in [m.challenger, m.defender, *m.guarantors]
                for name in field_names(type(a.p))}

    CeasefireModel(ukraine, "peacekeepers", worlds=300, rng=SEED + 1)  # other worlds: nothing to reuse
    alone = drawn(CeasefireModel(ukraine, "minerals_deal", worlds=300, rng=SEED))
    CeasefireModel(ukraine, "peacekeepers", worlds=300, rng=SEED)  # the same worlds: its draws are reused
    after = drawn(CeasefireModel(ukraine, "minerals_deal", worlds=300, rng=SEED))
    assert alone.keys() == after.keys()
    for name, values in alone.items():
        np.testing.assert_array_equal(after[name], values, err_msg=name)
    drawn_per_world = [v for v in after.values() if v.ndim]
    assert drawn_per_world and not any(v.flags.writeable for v in drawn_per_world)  # fixed for the ceasefire's life


# ------------------------------------------------------------------------------- seeds


def test_rng_none_draws_a_fresh_recorded_seed_that_reproduces_the_run(ukraine) -> None:
    a = CeasefireModel(ukraine, "peacekeepers", worlds=300, horizon_months=24, collect=False).run()
    b = CeasefireModel(ukraine, "peacekeepers", worlds=300, horizon_months=24, collect=False).run()
    assert a.seed != b.seed
    assert not a.outcomes().equals(b.outcomes())
    again = CeasefireModel(ukraine, "peacekeepers", worlds=300, horizon_months=24, collect=False, rng=a.seed).run()
    assert_frame_equal(a.outcomes(), again.outcomes())


def test_a_generator_gives_the_seed_it_draws(ukraine) -> None:
    seed = int(np.random.default_rng(7).integers(2**63))
    assert CeasefireModel(ukraine, worlds=3, rng=np.random.default_rng(7)).seed == seed


# ---------------------------------------------------------------------------- overrides


def test_an_override_is_the_same_as_an_option_that_sets_it(ukraine) -> None:
    value = {"dist": "uniform", "low": 5000, "high": 15000}
    by_override = CeasefireModel(ukraine, "peacekeepers", worlds=400, rng=SEED, horizon_months=36,
                                 overrides={TROOPS: value}).run()
    sc = with_option(ukraine, "smaller_force", {"united_kingdom": {"troops_offered": value}}, based_on="peacekeepers")
    by_option = CeasefireModel(sc, "smaller_force", worlds=400, rng=SEED, horizon_months=36).run()
    assert_frame_equal(by_override.outcomes(), by_option.outcomes())
    assert by_override.forces[0].p.troops_offered.max() <= 15000


def test_a_constant_can_be_overridden(ukraine) -> None:
    m = CeasefireModel(ukraine, worlds=10, rng=SEED, overrides={"constants.hazard_intercept": -3.0})
    assert m.constants.hazard_intercept == -3.0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"united_kingdm.troops_offered": 1}, "did you mean 'united_kingdom'"),
    ({"united_kingdom.troops_ofered": 1}, "did you mean 'troops_offered'"),
    ({"constants.hazard_intercep": 1}, "did you mean 'hazard_intercept'"),
    ({"troops_offered": 1}, "unknown actor"),
    ({"united_kingdom.resolve": 1.5}, "outside 0..1"),
    ({TROOPS: -5}, "cannot be below 0"),
    ({TROOPS: "many"}, "expected a number"),
    ({"nato.invited": 1}, "true or false"),
])
def test_a_bad_override_is_a_usage_error_that_says_what_to_fix(ukraine, overrides, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        CeasefireModel(ukraine, "peacekeepers", worlds=5, rng=SEED, overrides=overrides)


def test_batch_run_sweeps_an_override_over_iterations(ukraine) -> None:
    params = {"scenario": ukraine, "option": "peacekeepers", "worlds": 400,
              "overrides": [{TROOPS: 0}, {TROOPS: 20000}]}

    def holding(**how) -> dict[tuple[int, int], float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Mesa prefers rng=[None] * n to iterations=n
            rows = mesa.batch_run(CeasefireModel, parameters=params, max_steps=60, number_processes=1,
                                  display_progress=False, **how)
        assert len(rows) == 4 and {r["Step"] for r in rows} == {60}
        # the share holding at the end, and the mean tension and hazard of the holding worlds
        return {(r["iteration"], r["overrides"][TROOPS]): (r["holding"], r["tension"], r["hazard"]) for r in rows}

    fresh = holding(iterations=2)
    assert fresh[(0, 0)] != fresh[(1, 0)] and fresh[(0, 20000)] != fresh[(1, 20000)]  # two fresh seeds
    seeded = holding(rng=[1, 2])
    assert holding(rng=[1, 2]) == seeded  # a rerun with the same seeds is the same run
    assert seeded[(0, 0)] != seeded[(1, 0)]
    for runs in (fresh, seeded):
        for iteration in (0, 1):  # the same worlds with and without the force: the force holds more
            assert runs[(iteration, 20000)][0] > runs[(iteration, 0)][0] + 0.1


# ------------------------------------------------------------------------- absorbing=False


def test_without_absorbing_no_restart_ends_a_world_and_hazards_stay_the_models(ukraine) -> None:
    plain = CeasefireModel(ukraine, "peacekeepers", worlds=2000, rng=SEED, horizon_months=24, collect=False)
    kept = CeasefireModel(ukraine, "peacekeepers", worlds=2000, rng=SEED, horizon_months=24, collect=False,
                          absorbing=False)
    assert (~kept.agreed).any()  # refused deals still end at month 0
    for month in range(24):
        plain.step()
        kept.step()
        if month == 0:  # before any world has been stopped, both read the same hazard
            np.testing.assert_array_equal(plain.challenger.last_hazard, kept.challenger.last_hazard)
    assert (plain.collapse_month > 0).any() and plain.clash_mask.any()
    np.testing.assert_array_equal(kept.alive, kept.agreed)
    assert not (kept.collapse_month > 0).any() and not kept.clash_mask.any()
    assert set(np.unique(kept.initiator)) <= {0, CeasefireModel.REFUSED}
    assert np.all((kept.challenger.last_hazard > 0) & (kept.challenger.last_hazard < 1))


# ------------------------------------------------------------------------- exact fast paths


def test_poisson_quantile_gives_scipys_integers() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    mean = np.concatenate([rng.uniform(1e-12, 30, n), np.exp(rng.uniform(-20, np.log(400), n))])
    u = (rng.integers(0, 2**52, 2 * n) + 0.5) / 2**52
    u[:500] = 1 - u[:500] * 1e-12  # far tails on both sides
    u[500:1000] *= 1e-12
    np.testing.assert_array_equal(poisson_quantile(u, mean), stats.poisson.ppf(u, mean))
    # uniforms exactly on, just below and just above SciPy's own CDF steps
    k = rng.integers(0, 40, n)
    mean = rng.uniform(0.5, 30, n)
    step = stats.poisson.cdf(k, mean)
    ok = (step > 1e-15) & (step < 1 - 1e-15)
    for u in (step[ok], np.nextafter(step[ok], 0), np.nextafter(step[ok], 1)):
        expected = stats.poisson.ppf(u, mean[ok])
        np.testing.assert_array_equal(poisson_quantile(u, mean[ok]), expected)
        few = [poisson_quantile(u[i:i + 40], mean[ok][i:i + 40]) for i in range(0, 4000, 40)]  # a probe's handful
        np.testing.assert_array_equal(np.concatenate(few), expected[:4000])


def test_uniforms_for_some_worlds_are_those_worlds_uniforms() -> None:
    s = Streams(SEED, np.arange(1000, 6000))
    some = np.array([0, 3, 17, 4999, 2500])
    np.testing.assert_array_equal(s.uniform("event:answer:nato", 41, some), s.uniform("event:answer:nato", 41)[some])
