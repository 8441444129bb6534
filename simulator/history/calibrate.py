"""Calibration of the model's global constants against history and Fortna's civil-war figures.

Only a small, identifiable subset of the global ``CONSTANTS`` is fitted (``CALIBRATED``):
the hazard's intercept and its sensitivity to the balance of gains and costs, the strength
and fading of post-war tension (which make the hazard front-loaded), and the optimism after
an undecided war. Nothing per case is fitted: the cases enter only through the documented
lever mapping of ``simulator.history.mapping``.

The loss (docs/validation.md) is a negative log-likelihood:

    loss = - sum over cases of log L_i  +  1/2 * (z_1y^2 + z_5y^2 + z_HR^2 + z_V^2)  +  1/2 * sum_j p_j^2

where L_i is the model's probability of what case i did (failing in its observed month,
S(k-1) - S(k); or holding through it, S(k)), and the z are the distances of the generic
no-guarantee case's survival at 1 and 5 years and of its peacekeeping and decisive-victory
hazard ratios (log scale) from Fortna's estimates, in units of those estimates' standard
errors: the Gaussian likelihood of Fortna's figures. The last term is a weak Gaussian prior
on each fitted constant (``PRIOR``: centred on the first, hand-tuned values, wide on the
searched scale): the data pin down the level and the front-loading of the hazard but leave
a shallow ridge between the intercept and the tension weight, along which an unpenalised
fit wanders without end. Every survival curve is computed by conditional Monte Carlo with
common random numbers (same seed and worlds at every trial), so the loss is a smooth
function of the constants and Nelder-Mead can minimise it.

How the work is shared: every term of the loss at a trial point depends only on the
constants and on a case's lever coding, never on which other cases are in the fit. A
``Trials`` object runs the model once per (point, coding) and keeps the result, so cases
with the same coding share one run and the leave-one-out refits share every point they
have in common (their starting simplex, and often their first steps from it). With
``workers`` > 1 the runs of a point go to worker processes side by side, and the
leave-one-out refits proceed together, each asking the same workers.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from simulator.errors import UsageError, whole_number
from simulator.history.cases import Case, read_cases
from simulator.history.crossval import CrossValidation, cross_validate
from simulator.history.fortna import FortnaTargets, fortna_targets
from simulator.history.fortna_cases import HORIZONS, read_fortna_cases
from simulator.history.mapping import case_scenario, generic_scenarios, lever_key
from simulator.history.posterior import PosteriorDraws, sample_posterior
from simulator.history.scores import concordance, expected_survival, restricted_mean, weighted_cox_hazard_ratio
from simulator.history.settings import CALIBRATION_WORLDS as DEFAULT_WORLDS
from simulator.history.settings import (DEFAULT_CASES, DEFAULT_FORTNA, DEFAULT_MAX_EVALS, DEFAULT_SEED,
                                        DEFAULT_WAR_OUTCOMES, LOO_MAX_EVALS, POSTERIOR_WALKERS)
from simulator.scenario.constants_file import constants_block, write_constants
from simulator.scenario.params import CONSTANTS

CALIBRATED = ("hazard_intercept", "hazard_exponent", "tension_weight", "tension_decay_per_month",
              "undecided_optimism")
EPS = 1e-6

# How each constant is searched: on its own scale, or logged / logit-ed to keep it in range.
_TRANSFORM: dict[str, str] = {"hazard_intercept": "identity", "hazard_exponent": "log", "tension_weight": "log",
                              "tension_decay_per_month": "logit", "undecided_optimism": "log", "preventive_weight": "log",
                              "tension_initial": "log", "incident_rate_per_month": "logit", "incident_tension": "log",
                              "probe_tension": "log"}

INITIAL_STEP = 0.3  # size of the starting simplex of the fit, in the searched scale
# A leave-one-out refit starts from the full fit, and leaving out one case of a dozen moves
# the optimum a little: a smaller simplex spends the refit's evaluations near it.
LOO_STEP = 0.1

# The weak prior: (centre, sd) on the searched scale (log-odds for the intercept, log for the
# exponent and the tension weight, logit for the decay). Centres are the hand-tuned values
# of the first version (hazard_intercept -4.8, hazard_exponent 1.5, tension_weight 3.5,
# tension_decay_per_month 0.2), fixed here so that recalibrating does not depend on the
# current defaults; an sd of 1.5 log-odds, or a factor of about 2 either way, is wide.
PRIOR: dict[str, tuple[float, float]] = {
    "hazard_intercept": (-4.8, 1.5),
    "hazard_exponent": (math.log(1.5), 0.7),
    "tension_weight": (math.log(3.5), 0.7),
    "tension_decay_per_month": (math.log(0.2 / 0.8), 1.0),
    # Added with the lever war_undecided, so it had no hand-tuned value: centred on expecting
    # twice the gain of another round after an undecided war, a factor of e either way at one sd.
    "undecided_optimism": (0.0, 1.0),
}


def _to_x(name: str, value: float) -> float:
    """A constant's value on the scale it is searched on."""
    kind = _TRANSFORM.get(name, "identity")
    if kind == "log":
        return math.log(max(value, 1e-9))
    if kind == "logit":
        v = min(max(value, 1e-9), 1 - 1e-9)
        return math.log(v / (1 - v))
    return value


def _from_x(name: str, x: float) -> float:
    """A constant's value from its searched scale, kept inside its declared range."""
    kind = _TRANSFORM.get(name, "identity")
    if kind == "log":
        value = math.exp(min(x, 50.0))
    elif kind == "logit":
        value = 1.0 / (1.0 + math.exp(-x))
    else:
        value = x
    lo, hi = CONSTANTS[name].bounds()
    if lo is not None:
        value = max(value, lo)
    if hi is not None:
        value = min(value, hi)
    return value


def _figures(trials: Trials, constants: dict[str, float]) -> dict[str, float]:
    """Fortna's aggregate figures at these constants (reported whether or not they are fitted)."""
    terms = trials.at(constants, [])[1]
    return {k: v for k, v in terms.items() if k != "penalty"}


def case_log_likelihood(survival: np.ndarray, case: Case) -> float:
    """log P(what the case did): failed in its observed month, or held through it."""
    k = min(case.months, len(survival) - 1)
    p = survival[k - 1] - survival[k] if case.failed else survival[k]
    return math.log(max(float(p), EPS))


# ------------------------------------------------------------------ the model's runs at a trial point

FORTNA_ARMS = ("none", "peacekeepers", "undecided", "decisive")  # the generic comparisons fitted to Fortna

def fortna_terms(fortna: FortnaTargets, constants: dict[str, float], worlds: int, seed: int) -> dict[str, float]:
    """The generic comparisons at these constants beside Fortna's figures: survival at 1 and 5 years,
    the peacekeeping and decisive-victory hazard ratios (on the expected curves), their z-scores and
    ``penalty``, half the sum of the squared z-scores (their Gaussian negative log-likelihood)."""
    f = fortna
    h = f.horizon_months
    arms = generic_scenarios(h, worlds=worlds, seed=seed, constants=constants)
    curves = {name: expected_survival(arms[name], h, worlds, seed) for name in FORTNA_ARMS}
    s0 = curves["none"]
    hr = weighted_cox_hazard_ratio(s0, curves["peacekeepers"], f.follow_up_months)
    vhr = weighted_cox_hazard_ratio(curves["undecided"], curves["decisive"], f.follow_up_months)
    z1 = (s0[12] - f.survival_1y_no_pk) / f.survival_1y_no_pk_se
    z5 = (s0[60] - f.survival_5y_no_pk) / f.survival_5y_no_pk_se
    zhr = (math.log(max(hr, EPS)) - math.log(f.hazard_ratio)) / f.log_hazard_ratio_se
    zv = (math.log(max(vhr, EPS)) - math.log(f.victory_hazard_ratio)) / f.victory_log_hazard_ratio_se
    return {"penalty": float(0.5 * (z1 * z1 + z5 * z5 + zhr * zhr + zv * zv)),
            "z_survival_1y": float(z1), "z_survival_5y": float(z5), "z_hazard_ratio": float(zhr),
            "z_victory_hazard_ratio": float(zv), "survival_1y": float(s0[12]), "survival_5y": float(s0[60]),
            "hazard_ratio": float(hr), "victory_hazard_ratio": float(vhr)}


def _case_survival(case: Case, horizon: int, constants: dict[str, float], worlds: int, seed: int) -> np.ndarray:
    """One case's predicted survival to ``horizon`` (run in a worker process or in this one)."""
    scenario = case_scenario(case, horizon_months=horizon, worlds=worlds, seed=seed, constants=constants)
    return expected_survival(scenario, horizon, worlds, seed)


def _worker_context() -> Any:
    # Workers start from a small, clean server (forkserver) or a fresh interpreter (spawn), never
    # as a fork of this process, which runs the leave-one-out refits in threads.
    return mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")


# A model run to do at a trial point: its name, its length in model months (to start the
# longest first), the function that does it and the function's arguments.
_Job = tuple[Hashable, int, Callable[..., Any], tuple[Any, ...]]


class Trials:
    """The model's runs at trial values of the constants, each done once and shared.

    ``at(constants, keys)`` gives the survival curves of the case codings ``keys``
    (``lever_key``), each to the longest span among the cases with that coding, and
    ``fortna_terms`` of the generic comparisons. Objectives that share a ``Trials`` share its
    runs; the last ``keep`` points are remembered. With ``workers`` > 1 the runs go to that
    many worker processes; use it in a ``with`` block (or call ``close``) to stop them.
    """

    def __init__(self, cases: list[Case], fortna: FortnaTargets, worlds: int, seed: int, *, workers: int = 1,
                 keep: int = 512) -> None:
        self.fortna = fortna
        self.worlds = whole_number("worlds", worlds)
        self.seed = seed
        self.workers = whole_number("workers", workers)
        self.keep = keep
        self._coded: dict[tuple[Any, ...], Case] = {}  # a case of each coding: the scenario to run
        self._horizon: dict[tuple[Any, ...], int] = {}  # the longest span among the cases of each coding
        for c in cases:
            key = lever_key(c)
            self._coded.setdefault(key, c)
            self._horizon[key] = max(self._horizon.get(key, 0), c.months)
        self._pool = (ProcessPoolExecutor(self.workers, mp_context=_worker_context())
                      if self.workers > 1 else None)
        self._lock = threading.Lock()
        self._memo: OrderedDict[tuple[tuple[str, float], ...], dict[Hashable, Future[Any]]] = OrderedDict()
        self._closed = False
        self.runs = 0  # jobs started: a case's curve or the Fortna terms at one point (not those remembered)

    def __enter__(self) -> Trials:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes; runs not yet started are dropped."""
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def at(self, constants: dict[str, float], keys: list[tuple[Any, ...]],
           figures: bool = True) -> tuple[dict[tuple[Any, ...], np.ndarray], dict[str, float]]:
        """The survival curves of the codings ``keys`` and (with ``figures``) the Fortna terms, at these constants."""
        args = (constants, self.worlds, self.seed)
        jobs: list[_Job] = [(key, self._horizon[key], _case_survival, (self._coded[key], self._horizon[key], *args))
                            for key in keys]
        if not figures:
            return dict(zip(keys, self._run(constants, jobs))), {}
        jobs.append(("fortna", len(FORTNA_ARMS) * self.fortna.horizon_months, fortna_terms, (self.fortna, *args)))
        done = self._run(constants, jobs)
        return dict(zip(keys, done[:-1])), done[-1]

    def mean_months(self, constants: dict[str, float], cases: list[Case], horizon: int) -> dict[str, float]:
        """Each case's predicted mean months held within ``horizon`` (its score for the concordance)."""
        keys = list(dict.fromkeys(lever_key(c) for c in cases))
        jobs: list[_Job] = [(("mean", key, horizon), horizon, _case_survival,
                             (self._coded[key], horizon, constants, self.worlds, self.seed)) for key in keys]
        curves = dict(zip(keys, self._run(constants, jobs)))
        return {c.case_id: restricted_mean(curves[lever_key(c)]) for c in cases}

    def predictions(self, constants: dict[str, float], cases: list[Case],
                    horizon: int) -> dict[str, tuple[float, dict[str, float]]]:
        """Each case's predicted mean months held within ``horizon`` and chance of failing within each of ``HORIZONS``."""
        keys = list(dict.fromkeys(lever_key(c) for c in cases))
        reach = max(horizon, *HORIZONS.values())
        jobs: list[_Job] = [(("curve", key, reach), reach, _case_survival,
                             (self._coded[key], reach, constants, self.worlds, self.seed)) for key in keys]
        curves = dict(zip(keys, self._run(constants, jobs)))
        return {c.case_id: (restricted_mean(curves[lever_key(c)][:horizon + 1]),
                            {label: 1.0 - float(curves[lever_key(c)][m]) for label, m in HORIZONS.items()})
                for c in cases}

    def _run(self, constants: dict[str, float], jobs: list[_Job]) -> list[Any]:
        """The results of ``jobs`` at a point: remembered, running, or started now (the longest first,
        so that the workers finish together)."""
        point = tuple(sorted((n, float(v)) for n, v in constants.items()))
        futures: dict[Hashable, Future[Any]] = {}
        here: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        with self._lock:
            if self._closed:
                raise RuntimeError("these trials are closed: no more model runs")
            memo = self._memo.get(point)
            if memo is None:
                memo = self._memo[point] = {}
                while len(self._memo) > self.keep:
                    self._memo.popitem(last=False)
            else:
                self._memo.move_to_end(point)
            for name, _, func, fargs in sorted(jobs, key=lambda job: -job[1]):
                fut = memo.get(name)
                if fut is None:
                    self.runs += 1
                    if self._pool is not None:
                        fut = self._pool.submit(func, *fargs)
                    else:
                        fut = Future()
                        here.append((fut, func, fargs))
                    memo[name] = fut
                futures[name] = fut
        for i, (fut, func, fargs) in enumerate(here):
            try:
                fut.set_result(func(*fargs))
            except BaseException as exc:
                # forget the runs that did not happen, so that a later call at this point does them
                with self._lock:
                    for failed, _, _ in here[i:]:
                        failed.set_exception(exc)
                        for name in [n for n, f in memo.items() if f is failed]:
                            del memo[name]
                raise
        return [futures[name].result() for name, *_ in jobs]


# ---------------------------------------------------------------------------------- the loss

@dataclass
class Objective:
    """The calibration loss as a function of the calibrated constants (common random numbers throughout).

    ``trials`` holds the model's runs; objectives of subsets of the same cases (the
    leave-one-out refits) can share one. Without it the objective makes its own, in this process.
    """

    cases: list[Case]
    fortna: FortnaTargets
    worlds: int = DEFAULT_WORLDS
    seed: int = DEFAULT_SEED
    names: tuple[str, ...] = CALIBRATED
    fixed: dict[str, float] = field(default_factory=dict)  # other constants held at these values
    prior: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(PRIOR))
    trials: Trials | None = None
    figures: bool = True  # Fortna's aggregate figures as penalties (off when Fortna's cases are fitted one by one)
    evaluations: int = 0
    _cache: dict[tuple[float, ...], dict[str, float]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        unknown = [n for n in self.names if n not in CONSTANTS]
        if unknown:
            raise UsageError(f"unknown model constant(s): {', '.join(unknown)}")
        if self.trials is None:
            self.trials = Trials(self.cases, self.fortna, self.worlds, self.seed)
        elif (self.trials.worlds, self.trials.seed) != (self.worlds, self.seed):
            raise UsageError(f"the shared trials run {self.trials.worlds} worlds with seed {self.trials.seed}, "
                             f"not {self.worlds} with seed {self.seed}")
        groups: dict[tuple[Any, ...], list[Case]] = {}
        for c in self.cases:
            groups.setdefault(lever_key(c), []).append(c)
        # each coding's cases, with the longest span among them: its curve is read that far
        self._groups = [(key, group, max(c.months for c in group)) for key, group in groups.items()]

    def constants(self, values: dict[str, float]) -> dict[str, float]:
        """The fitted values together with the constants held fixed."""
        return {**self.fixed, **values}

    def components(self, values: dict[str, float]) -> dict[str, float]:
        """Every term of the loss at these constant values."""
        key = tuple(round(float(values[n]), 10) for n in self.names)
        if key in self._cache:
            return self._cache[key]
        self.evaluations += 1
        assert self.trials is not None
        curves, terms = self.trials.at(self.constants(values), [k for k, _, _ in self._groups], self.figures)
        nll = 0.0
        for k, group, h in self._groups:
            s = curves[k][:h + 1]
            nll -= sum(case_log_likelihood(s, c) for c in group)
        prior = 0.0
        for n in self.names:
            if n in self.prior:
                centre, sd = self.prior[n]
                prior += 0.5 * ((_to_x(n, values[n]) - centre) / sd) ** 2
        out = {"loss": nll + terms.get("penalty", 0.0) + prior, "nll_cases": nll, "prior": prior,
               **{k: v for k, v in terms.items() if k != "penalty"}}
        self._cache[key] = out
        return out

    def values(self, x: np.ndarray) -> dict[str, float]:
        """Constant values from a point of the searched scale."""
        return {n: _from_x(n, float(v)) for n, v in zip(self.names, x)}

    def x(self, values: dict[str, float]) -> np.ndarray:
        """A point of the searched scale from constant values."""
        return np.array([_to_x(n, values[n]) for n in self.names])

    def __call__(self, x: np.ndarray) -> float:
        return self.components(self.values(x))["loss"]


def minimise(objective: Objective, start: dict[str, float], max_evals: int,
             step: float = INITIAL_STEP, progress: Callable[[str], None] | None = None) -> tuple[dict[str, float], Any]:
    """Nelder-Mead from ``start`` in the searched scale, with at most ``max_evals`` loss evaluations."""
    x0 = objective.x(start)
    simplex = np.vstack([x0] + [x0 + step * np.eye(len(x0))[i] for i in range(len(x0))])
    best = [math.inf]

    def f(x: np.ndarray) -> float:
        value = objective(x)
        if progress is not None and value < best[0] - 1e-9:
            best[0] = value
            shown = ", ".join(f"{n} {v:.4g}" for n, v in objective.values(x).items())
            progress(f"  eval {objective.evaluations:4d}: loss {value:.4f}  ({shown})")
        return value

    res = minimize(f, x0, method="Nelder-Mead",
                   options={"maxfev": max(1, int(max_evals)), "initial_simplex": simplex,
                            "xatol": 1e-3, "fatol": 1e-3, "adaptive": False})
    return objective.values(res.x), res


# -------------------------------------------------------------------------------- the report

@dataclass
class CalibrationReport:
    """What ``calibrate`` found: the fitted constants, the loss's terms before and after, the concordances."""

    names: tuple[str, ...]
    old: dict[str, float]
    fitted: dict[str, float]
    start_components: dict[str, float]
    fit_components: dict[str, float]
    concordance: float
    loo_concordance: float | None
    loo_scores: dict[str, float] | None
    loo_fits: dict[str, dict[str, float]] | None
    evaluations: int
    converged: bool
    message: str
    worlds: int
    seed: int
    cases_file: str
    n_cases: int
    war_outcomes_file: str | None = None
    posterior: PosteriorDraws | None = None
    cross_validation: CrossValidation | None = None
    n_fortna_cases: int = 0  # Fortna's ceasefires fitted one by one (0: Fortna's figures as penalties)

    def _coding(self) -> str:
        if self.war_outcomes_file is None:
            return "war outcomes not coded"
        return f"war outcomes coded in {Path(self.war_outcomes_file).name}"

    def source(self) -> str:
        """The ``source`` of every calibrated constant: what it was fitted to, and how."""
        if self.n_fortna_cases:
            fortna = (f"and of Fortna's {self.n_fortna_cases} civil-war ceasefires one by one "
                      f"(data/fortna_civil_ceasefires.csv, mapped by mission type and victory)")
        else:
            fortna = ("with Fortna (2004) no-peacekeeper survival at 1 and 5 years and hazard ratios of "
                      "peacekeeping and of a decisive victory as Gaussian penalties")
        return (f"calibrated: maximum likelihood of the {self.n_cases} historical ceasefires in "
                f"{Path(self.cases_file).name} ({self._coding()}; generic base world, documented lever "
                f"mapping) {fortna}, weak prior; geosim calibrate, "
                f"{self.worlds} worlds, seed {self.seed} (docs/validation.md)")

    def _comments(self) -> list[str]:
        return [
            "Model constants fitted by `geosim calibrate` (docs/validation.md).",
            f"Loss {self.fit_components['loss']:.3f} (start {self.start_components['loss']:.3f}); "
            f"concordance {self.concordance:.3f}"
            + (f", leave-one-out {self.loo_concordance:.3f}" if self.loo_concordance is not None else "") + ".",
            "Paste the block below into a scenario file to use these values there.",
        ]

    def yaml(self) -> str:
        """The calibrated constants as a scenario ``constants:`` block."""
        return constants_block({n: self.fitted[n] for n in self.names}, self.source(), self._comments())

    def write_yaml(self, path: str | Path) -> Path:
        """Write the ``constants:`` block to ``path`` atomically."""
        return write_constants(path, {n: self.fitted[n] for n in self.names}, self.source(), self._comments())

    def text(self) -> str:
        """The constants before and after, the loss's terms and the concordances, as readable lines."""
        s, e = self.start_components, self.fit_components
        w = max(len(n) for n in self.names)
        lines = [f"{'constant':<{w}}  {'old':>9}  {'calibrated':>10}"]
        lines += [f"{n:<{w}}  {self.old[n]:>9.4g}  {self.fitted[n]:>10.4g}" for n in self.names]
        lines += ["", f"{'term':<28} {'old':>9} {'calibrated':>10}"]
        for key, label in (("loss", "loss"), ("nll_cases", "-log likelihood of the cases"), ("prior", "weak prior"),
                           ("survival_1y", "survival 1 y, no guarantee"), ("survival_5y", "survival 5 y, no guarantee"),
                           ("hazard_ratio", "peacekeeping hazard ratio"),
                           ("victory_hazard_ratio", "decisive-victory hazard ratio"), ("z_survival_1y", "  z (1 y)"),
                           ("z_survival_5y", "  z (5 y)"), ("z_hazard_ratio", "  z (hazard ratio, log)"),
                           ("z_victory_hazard_ratio", "  z (victory hazard ratio, log)")):
            lines.append(f"{label:<28} {s[key]:>9.3f} {e[key]:>10.3f}")
        lines += ["", f"concordance on the cases (in sample): {self.concordance:.3f}"]
        if self.loo_concordance is not None:
            lines.append(f"leave-one-out concordance (each case predicted by a fit without it): "
                         f"{self.loo_concordance:.3f}")
        cv = self.cross_validation
        if cv is not None:
            for label, held in (("interstate, leave-one-out", cv.interstate), ("Fortna, by folds", cv.fortna)):
                if held is None:
                    continue
                s = held.scores()
                briers = "; ".join(
                    f"Brier {h} {s[f'brier_{h}']:.3f} against {s[f'brier_{h}_base_rate']:.3f} for the base rate "
                    f"(skill {s[f'brier_{h}_skill']:+.3f}" + (", worse than the base rate)" if s[f'brier_{h}_skill'] < 0
                                                             else ")")
                    for h in HORIZONS)
                lines.append(f"held out ({label}): concordance {s['concordance']:.3f}; {briers}")
        lines.append(f"{self.evaluations} loss evaluations, {self.worlds} worlds, seed {self.seed}; "
                     f"optimiser: {self.message}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ the command

def refit_predict(held: list[Case], cases: list[Case], trials: Trials, names: tuple[str, ...],
                  start: dict[str, float], max_evals: int, horizon: int,
                  figures: bool = True) -> tuple[dict[str, tuple[float, float]], dict[str, float], int]:
    """Refit ``names`` without the cases ``held`` (a fold) and predict each of them.

    Returns, per held-out case, its predicted mean months within ``horizon`` and its chance of
    failing by its observed end; the refitted constants; and the refit's loss evaluations.
    """
    out = {c.case_id for c in held}
    rest = [c for c in cases if c.case_id not in out]
    obj = Objective(rest, trials.fortna, trials.worlds, trials.seed, names, trials=trials, figures=figures)
    fitted, _ = minimise(obj, start, max_evals, step=LOO_STEP)
    return trials.predictions(fitted, held, horizon), fitted, obj.evaluations


def calibrate(cases_path: str | Path = DEFAULT_CASES, fortna_path: str | Path = DEFAULT_FORTNA, *,
              worlds: int = DEFAULT_WORLDS, seed: int = DEFAULT_SEED, names: tuple[str, ...] = CALIBRATED,
              max_evals: int = DEFAULT_MAX_EVALS, loo: bool = True, loo_max_evals: int = LOO_MAX_EVALS,
              start: dict[str, float] | None = None, workers: int = 1,
              progress: Callable[[str], None] | None = None,
              war_outcomes: str | Path | None = DEFAULT_WAR_OUTCOMES,
              fortna_cases_fitted: bool = True,
              posterior_steps: int = 0, posterior_walkers: int = POSTERIOR_WALKERS,
              posterior_burn: int | None = None) -> CalibrationReport:
    """Fit ``names`` to the cases and Fortna's figures; optionally leave-one-out cross-validate.

    ``workers`` > 1 runs the model in that many processes: the runs of each trial point side by
    side, and the leave-one-out refits together. The results are the same for any ``workers``.
    With ``fortna_cases_fitted`` (the default) Fortna's ceasefires enter the likelihood one by one,
    mapped by ``fortna_cases``, and are cross-validated in folds; without it, Fortna's aggregate
    figures enter as penalties, as before. ``posterior_steps`` > 0 also samples the posterior of the constants around the fit with
    emcee (``simulator.history.posterior``): ``posterior_walkers`` walkers for that many steps,
    dropping the first ``posterior_burn`` (default: half).
    """
    whole_number("worlds", worlds)
    whole_number("workers", workers)
    cases = read_cases(cases_path, war_outcomes)
    fortna = fortna_targets(fortna_path)
    # Fortna's ceasefires one by one, or (without them) Fortna's aggregate figures as penalties
    fortna_cases: list[Case] = list(read_fortna_cases(fortna_path)) if fortna_cases_fitted else []
    figures = not fortna_cases
    old = {n: float(CONSTANTS[n].default) for n in names}
    begin = dict(old if start is None else start)
    say = progress or (lambda text: None)
    with Trials([*cases, *fortna_cases], fortna, worlds, seed, workers=workers) as trials:
        obj = Objective([*cases, *fortna_cases], fortna, worlds, seed, tuple(names), trials=trials, figures=figures)
        start_components = {**obj.components(begin), **_figures(trials, obj.constants(begin))}
        what = (f"{len(cases)} interstate cases and Fortna's {len(fortna_cases)} ceasefires one by one"
                if fortna_cases else f"{len(cases)} cases and Fortna's figures")
        say(f"fitting {', '.join(names)} to {what} ({worlds} worlds, at most {max_evals} evaluations)")
        fitted, res = minimise(obj, begin, max_evals, progress=progress)
        fit_components = {**obj.components(fitted), **_figures(trials, obj.constants(fitted))}
        horizon = max(c.months for c in cases)
        scores = trials.mean_months(fitted, cases, horizon)
        observed = [c.observed_months for c in cases]
        failed = [c.failed for c in cases]
        c_in = concordance(observed, [scores[c.case_id] for c in cases], failed)

        loo_c = loo_scores = loo_fits = None
        crossval = None
        if loo:
            crossval = cross_validate(cases, fortna_cases, trials, refit_predict, names=tuple(names), start=fitted,
                                      max_evals=loo_max_evals, figures=figures, workers=workers, say=say)
            held = crossval.interstate
            loo_scores = {c.case_id: held.predicted[c.case_id][0] for c in cases}
            loo_fits = dict(held.fits)
            loo_c = concordance(observed, [loo_scores[c.case_id] for c in cases], failed)

        posterior = None
        if posterior_steps > 0:
            burn = posterior_steps // 2 if posterior_burn is None else posterior_burn
            say(f"posterior: emcee, {posterior_walkers} walkers x {posterior_steps} steps ({burn} dropped)")
            posterior = sample_posterior(lambda x: -obj(x), obj.x(fitted), obj.values,
                                         walkers=posterior_walkers, steps=posterior_steps, burn=burn, seed=seed,
                                         threads=max(1, posterior_walkers // 2) if workers > 1 else 1,
                                         progress=progress)

    return CalibrationReport(tuple(names), old, fitted, start_components, fit_components, c_in, loo_c, loo_scores,
                             loo_fits, obj.evaluations, bool(res.success), str(res.message), worlds, seed,
                             str(cases_path), len(cases), None if war_outcomes is None else str(war_outcomes),
                             posterior, crossval, len(fortna_cases))
