"""What the what-if page shows, computed without Solara: runs on shared worlds, kept for reuse.

``compare`` runs the chosen options of a scenario, with the levers' values, through
``simulator.run`` on one seed: every call with the same seed simulates the same worlds (common
random numbers), so moving a slider moves the answer, not the dice. Answers are kept
(least recently used first out), so going back to an earlier setting is instant.

``numbers`` turns an answer into the page's table: per option the chance of a deal, holding
among agreed deals and overall, a direct clash and the price, with paired differences from
the baseline. ``one_world`` follows a single world of the same run month by month: a
``CeasefireModel`` of that world alone (``first_world``), which draws exactly what the world
drew in the many-world run.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.analysis.results import Results
from simulator.api import run
from simulator.app import DEFAULT_WORLDS
from simulator.app.levers import checked, overrides_for, scenario_with
from simulator.errors import UsageError
from simulator.model.model import CeasefireModel
from simulator.scenario.load import Scenario, load_scenario

MAX_WORLDS = 100_000
KEPT = 32  # answers kept for reuse


@lru_cache(maxsize=8)
def scenario_named(ref: str) -> Scenario:
    """A built-in scenario by name or a scenario file, loaded once per process."""
    return load_scenario(ref)


@dataclass(frozen=True)
class Question:
    """What to compute: a scenario, options (the baseline first), lever values, worlds and a seed."""

    scenario: str  # a built-in scenario's name or a file's path
    options: tuple[str, ...]
    levers: tuple[tuple[str, Any], ...]  # (key, value), sorted by key
    worlds: int
    seed: int

    @classmethod
    def of(cls, scenario: str | Path, options: Sequence[str], levers: Mapping[str, Any] | None = None,
           worlds: int = DEFAULT_WORLDS, seed: int | None = None) -> "Question":
        """A question with the options checked and put in order (the baseline first, once each)."""
        ref = str(scenario)
        sc = scenario_named(ref)
        for option in options:
            sc.option(option)  # an unknown option is refused here, naming the closest
        ordered = tuple(dict.fromkeys([sc.baseline, *options]))
        if not 1 <= int(worlds) <= MAX_WORLDS:
            raise UsageError(f"worlds must be between 1 and {MAX_WORLDS:,}, got {worlds}")
        values = checked(sc, levers or {})
        return cls(ref, ordered, tuple(sorted(values.items())), int(worlds), sc.seed if seed is None else int(seed))

    @property
    def lever_values(self) -> dict[str, Any]:
        return dict(self.levers)


@dataclass
class Answer:
    """The results of a question and how long they took to compute (seconds, on this machine)."""

    question: Question
    results: Results
    seconds: float
    reused: bool = field(default=False)


_kept: OrderedDict[Question, Answer] = OrderedDict()
_lock = threading.Lock()  # guards _kept
_one_at_a_time = threading.Lock()  # runs wait for each other: two at once would each take twice as long


def compare(question: Question) -> Answer:
    """Run the question's options on its worlds and seed, or give back the kept answer."""
    with _lock:
        kept = _kept.get(question)
        if kept is not None:
            _kept.move_to_end(question)
            return Answer(kept.question, kept.results, kept.seconds, reused=True)
    sc = scenario_with(scenario_named(question.scenario), question.lever_values)
    with _one_at_a_time:
        started = time.perf_counter()
        results = run(sc, list(question.options), worlds=question.worlds, seed=question.seed, progress=False,
                      worlds_to=None)
        answer = Answer(question, results, time.perf_counter() - started)
    with _lock:
        _kept[question] = answer
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return answer


def forget() -> None:
    """Drop every kept answer (tests time a fresh computation)."""
    with _lock:
        _kept.clear()


# The page's table: (summary column, heading, kind) in order; kinds: "share" in %, "number".
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("p_agreed", "chance of a deal", "share"),
    ("p_hold_36_if_agreed", "holds 36 months, among agreed deals", "share"),
    ("p_hold_36", "holds 36 months, overall", "share"),
    ("p_direct_clash", "direct clash with a guarantor", "share"),
    ("mean_aid_bn", "aid over the horizon, bn USD per world", "number"),
    ("mean_troops", "peak troops deployed, per world", "number"),
)
# Paired differences from the baseline shown beside them: (measure, heading).
DIFFERENCES: tuple[tuple[str, str], ...] = (
    ("agreed", "deal vs baseline, points"),
    ("hold_36", "holds 36 months overall vs baseline, points"),
    ("direct_clash", "direct clash vs baseline, points"),
)


def numbers(results: Results) -> pd.DataFrame:
    """One row per option: the ``COLUMNS`` (with ``_lo``/``_hi`` for shares) and, for each of
    ``DIFFERENCES``, ``d_MEASURE`` with ``d_MEASURE_lo``/``_hi`` (paired, world by world; 0 for the baseline)."""
    s = results.summary.set_index("option")
    out = pd.DataFrame(index=pd.Index(results.options, name="option"))
    for column, _, kind in COLUMNS:
        out[column] = s[column]
        if kind == "share":
            out[f"{column}_lo"], out[f"{column}_hi"] = s[f"{column}_lo"], s[f"{column}_hi"]
    d = results.compare()
    for measure, _ in DIFFERENCES:
        rows = d[d["measure"] == measure].set_index("option")
        for suffix, source in (("", "difference"), ("_lo", "lower"), ("_hi", "upper")):
            values = rows[source].reindex(out.index)
            values[results.baseline] = 0.0
            out[f"d_{measure}{suffix}"] = values
    return out


@dataclass
class OneWorld:
    """One world of a question under one option, stepped month by month (``step``)."""

    model: CeasefireModel
    world: int

    @property
    def month(self) -> int:
        return int(self.model.month)

    @property
    def horizon(self) -> int:
        return int(self.model.horizon)

    @property
    def done(self) -> bool:
        return not self.model.running

    def step(self, months: int = 1) -> None:
        for _ in range(months):
            if not self.model.running:
                return
            self.model.step()

    def run(self) -> None:
        self.step(self.horizon)

    def trace(self) -> pd.DataFrame:
        return self.model.trace()

    def status(self) -> str:
        """Where the world stands, in words: ``month 14 of 60: the ceasefire holds``."""
        m = self.model
        head = f"World {self.world}, month {self.month} of {self.horizon}: "
        if not bool(m.agreed[0]):
            who = CeasefireModel.REFUSERS[int(not m.challenger_signed[0]) + 2 * int(not m.defender_signed[0])]
            return head + f"no deal ({who} refused)"
        if bool(m.alive[0]):
            return head + "the ceasefire holds"
        by = CeasefireModel.INITIATORS[int(m.initiator[0])]
        return head + f"the ceasefire collapsed in month {int(m.collapse_month[0])} (restarted by the {by})"

    def drew(self) -> pd.DataFrame:
        """What this world drew: each uncertain input and hidden fact, with its value."""
        rows = [(name, float(values[0]) if values.dtype.kind in "fiu" else values[0].item())
                for name, values in self.model.world_inputs().items()]
        return pd.DataFrame(rows, columns=["input", "value"])


def one_world(question: Question, option: str, world: int) -> OneWorld:
    """World ``world`` of ``question``'s run under ``option``, at month 0, recorded month by month.

    It is the same world as in ``compare(question)`` (the same seed and world index), with the
    lever values that reach ``option`` as the model's ``overrides``.
    """
    if option not in question.options:
        raise UsageError(f"option '{option}' is not one of {', '.join(question.options)}")
    if not 0 <= int(world) < question.worlds:
        raise UsageError(f"world must be between 0 and {question.worlds - 1}, got {world}")
    sc = scenario_named(question.scenario)
    model = CeasefireModel(sc, option, worlds=1, rng=question.seed, first_world=int(world), record_worlds=1,
                           overrides=overrides_for(sc, option, question.lever_values))
    return OneWorld(model, int(world))
