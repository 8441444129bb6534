"""Cross-validation of the calibration: how well the fitted constants predict cases they were not fitted to.

Each interstate case is left out in turn (leave-one-out) and Fortna's cases are left out a
fold at a time (``FOLDS`` folds, cases dealt to folds in order of their ids). For every
held-out set the constants are refitted without it, from the full fit with a small simplex,
and each held-out case is predicted: its mean months held within the longest span of its
kind, and its chance of failing within 1 and within 5 years. Those predictions are scored
by concordance and by proper Brier scores at those horizons (over the cases followed up
that long, or failed before), beside the Brier score of the training cases' base rate at
the same horizon, so the scores say how the calibration does on cases it has not seen.

The refits share one ``Trials``: every term of the loss depends only on the constants and
one case's coding, so refits that visit the same point reuse its runs. With ``workers`` > 1
they proceed together in threads, their model runs going to the worker processes.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.history.baselines import brier_skill, failed_by
from simulator.history.cases import Case
from simulator.history.fortna_cases import HORIZONS
from simulator.history.scores import brier, concordance

if TYPE_CHECKING:
    from simulator.history.calibrate import Trials

FOLDS = 5  # Fortna's cases are left out a fifth at a time


def folds(cases: list[Case], k: int = FOLDS) -> list[list[Case]]:
    """The cases dealt in turn to ``k`` folds, in order of their ids (numeric ids as numbers)."""
    def order(c: Case) -> tuple[int, float, str]:
        try:
            return (0, float(c.case_id), "")
        except ValueError:
            return (1, 0.0, c.case_id)

    ordered = sorted(cases, key=order)
    return [f for f in (ordered[i::k] for i in range(k)) if f]


@dataclass
class HeldOut:
    """Predictions of one kind of case, each made by a fit that did not see it."""

    cases: list[Case]
    # id -> (mean months, {horizon label: P(failed within it)})
    predicted: dict[str, tuple[float, dict[str, float]]] = field(default_factory=dict)
    # id -> {horizon label: share failed within it among the fit's cases of this kind followed that long}
    base_rates: dict[str, dict[str, float]] = field(default_factory=dict)
    fits: dict[str, dict[str, float]] = field(default_factory=dict)  # id -> the constants of the fit without it

    def scores(self) -> dict[str, float]:
        """Concordance; per horizon the Brier score, the base rate's, and the Brier skill against it."""
        observed = np.array([c.observed_months for c in self.cases])
        failed = np.array([c.failed for c in self.cases], bool)
        mean = [self.predicted[c.case_id][0] for c in self.cases]
        out = {"concordance": concordance(observed, mean, failed)}
        for label, months in HORIZONS.items():
            known, by = failed_by(observed, failed, months)
            p = np.array([self.predicted[c.case_id][1][label] for c in self.cases])[known]
            ref = np.array([self.base_rates[c.case_id][label] for c in self.cases])[known]
            b, b0 = brier(p, by[known]), brier(ref, by[known])
            out.update({f"brier_{label}": b, f"brier_{label}_base_rate": b0,
                        f"brier_{label}_skill": brier_skill(b, b0), f"cases_{label}": int(known.sum())})
        return out


def training_rates(train: list[Case]) -> dict[str, float]:
    """Share of the training cases followed up to each horizon (or failed before) that failed within it."""
    observed = np.array([c.observed_months for c in train])
    failed = np.array([c.failed for c in train], bool)
    out = {}
    for label, months in HORIZONS.items():
        known, by = failed_by(observed, failed, months)
        out[label] = float(by[known].mean()) if known.any() else float("nan")
    return out


@dataclass
class CrossValidation:
    """Held-out predictions of the interstate cases (one at a time) and of Fortna's (by folds)."""

    interstate: HeldOut
    fortna: HeldOut | None
    evaluations: int


def cross_validate(interstate: list[Case], fortna_cases: list[Case], trials: Trials, refit: Callable[..., Any], *,
                   names: tuple[str, ...], start: dict[str, float], max_evals: int, figures: bool, workers: int,
                   say: Callable[[str], None]) -> CrossValidation:
    """Refit without each held-out set and predict it (``refit`` is ``calibrate.refit_predict``)."""
    everything = [*interstate, *fortna_cases]
    held_sets: list[tuple[str, list[Case], int]] = [("interstate", [c], max(x.months for x in interstate))
                                                    for c in interstate]
    if fortna_cases:
        reach = max(c.months for c in fortna_cases)
        held_sets += [("fortna", fold, reach) for fold in folds(fortna_cases)]
    out = {"interstate": HeldOut(interstate), "fortna": HeldOut(fortna_cases) if fortna_cases else None}
    evaluations = 0

    def run(kind: str, held: list[Case], horizon: int) -> tuple[str, list[Case], Any]:
        return kind, held, refit(held, everything, trials, names, start, max_evals, horizon, figures)

    def done(kind: str, held: list[Case], result: Any) -> None:
        nonlocal evaluations
        predicted, fitted, n = result
        evaluations += n
        record = out[kind]
        assert record is not None
        out_ids = {c.case_id for c in held}
        rate = training_rates([c for c in record.cases if c.case_id not in out_ids])
        for c in held:
            record.predicted[c.case_id] = predicted[c.case_id]
            record.base_rates[c.case_id] = rate
            record.fits[c.case_id] = fitted
        what = held[0].case_id if len(held) == 1 else f"a fold of {len(held)} Fortna cases"
        say(f"  left out {what} ({n} evaluations)")

    say(f"cross-validation: {len(interstate)} interstate cases one at a time"
        + (f", Fortna's {len(fortna_cases)} in {len(folds(fortna_cases))} folds" if fortna_cases else "")
        + f"; refits of at most {max_evals} evaluations")
    if workers > 1:
        with ThreadPoolExecutor(max_workers=len(held_sets)) as threads:
            running = [threads.submit(run, *h) for h in held_sets]
            try:
                for fut in as_completed(running):
                    done(*fut.result())
            except BaseException:
                trials.close()  # the refits still running stop at their next model run
                raise
    else:
        for h in held_sets:
            done(*run(*h))
    return CrossValidation(out["interstate"], out["fortna"], evaluations)  # type: ignore[arg-type]
