"""Fortna's ceasefires one by one: each row of a file in Fortna's format mapped onto the model's levers.

``read_fortna_cases`` reads a file with Fortna's columns (data/README.md) into ``FortnaCase``
objects, checking every row (every mistake is a ``GeosimError`` naming FILE:LINE:COL).
``FORTNA_MISSIONS`` and ``WAR_FROM_VICTORY`` are the mapping: rules by category, the same for
every case, onto the categories of the interstate mapping (``mapping.py``). A row's mission
type (``pkopC``) becomes no force, unarmed monitors or a force of a typical size, and its
``victory`` says whether the war before was decided. Fortna's treaty, war cost (``logcost``)
and war duration (``wardur``) set nothing: the model has no mechanism for them.
``predict_fortna_cases`` predicts each case's survival by conditional Monte Carlo
(``scores.predict_cases``: cases with the same coding share one run) and returns the
per-case table that ``geosim validate`` writes as ``fortna_cases.csv``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.history.cases import MONTH_DAYS, Case
from simulator.history.csvfile import Row, read_rows
from simulator.history.fortna import FORTNA_CENSOR_DATE
from simulator.history.mapping import (MONITOR_FULL_STRENGTH, PEACEKEEPING_TROOPS, case_levers, generic_scenario,
                                       lever_key)
from simulator.history.scores import predict_cases
from simulator.history.settings import DEFAULT_FORTNA
from simulator.scenario.distributions import Fixed
from simulator.scenario.load import Scenario

# The columns a file in Fortna's format must have (chapterC may be there; it is not used:
# the mission type pkopC already says whether a mission could enforce).
FORTNA_CASE_COLUMNS = ("id", "cname", "cfdate", "faildate", "morewar", "pk_dum", "pkopC", "treaty", "victory",
                       "logcost", "wardur")
# Fortna's controls the model has no mechanism for: they set nothing (column -> what it is)
NOT_MODELLED = {"treaty": "the war ended in a treaty", "logcost": "the war's deaths",
                "wardur": "the war's length"}
HORIZONS = {"1y": 12, "5y": 60}  # fixed horizons (months) of the proper Brier scores (baselines.py)

MULTIDIMENSIONAL_TROOPS = 7000
ENFORCEMENT_TROOPS = 20000

# pkopC -> (force_type, troops, monitors, what it is and why). By mission type, never by case.
FORTNA_MISSIONS: dict[int, tuple[str, int, int, str]] = {
    0: ("none", 0, 0, "no mission: no force, no monitors"),
    1: ("none", 0, 0, "a political mission only: no force, no monitors"),
    2: ("none", 0, MONITOR_FULL_STRENGTH,
        (f"an observer mission: unarmed monitors at the interstate mapping's full strength "
         f"({MONITOR_FULL_STRENGTH}), which act only through incident control")),
    3: ("interposition", PEACEKEEPING_TROOPS, 0,
        (f"a traditional mission: an interposition force of {PEACEKEEPING_TROOPS:,}, the size of the generic "
         "peacekeeping comparison (judgement: a typical traditional mission)")),
    4: ("deterrent", MULTIDIMENSIONAL_TROOPS, 0,
        (f"a multidimensional mission: a force able to fight, of {MULTIDIMENSIONAL_TROOPS:,} (judgement: the "
         "UN's multidimensional missions of the period fielded roughly 4,500 to 16,000 troops, most near the "
         "low end)")),
    5: ("deterrent", ENFORCEMENT_TROOPS, 0,
        (f"an enforcement mission: a force able to fight, of {ENFORCEMENT_TROOPS:,} (judgement: NATO-led and "
         "regional enforcement forces ran from about 10,000 to 60,000; the deterrent type's tripwire scale)")),
}
# victory -> the war outcome of the interstate mapping (war_undecided 0 after a decided war, else 1).
WAR_FROM_VICTORY = {1: "decisive", 0: "indecisive"}
_FORCE_WORDS = {"interposition": "an interposition force", "deterrent": "a force able to fight"}


@dataclass(frozen=True)
class FortnaCase(Case):
    """One row of a file in Fortna's format, as a case on the model's levers, with Fortna's covariates."""

    censor: date = FORTNA_CENSOR_DATE
    pkopC: int = 0
    victory: int = 0
    pk_dum: int = 0
    treaty: float = math.nan
    logcost: float = math.nan
    wardur: float = math.nan

    @property
    def observed_months(self) -> float:
        """Months from the ceasefire to renewed war, or to the file's censor date while it held."""
        stop = self.end if self.end is not None else self.censor
        return (stop - self.start).days / MONTH_DAYS

    @property
    def coding(self) -> str:
        """The two columns the mapping reads."""
        return f"pkopC {self.pkopC}, victory {self.victory}"

    @property
    def mapped_to(self) -> str:
        """The coding in words: the war and the force the model is given."""
        war = "decided war" if self.victory else "undecided war"
        if self.foreign_troops:
            return f"{war}; {_FORCE_WORDS[self.force_type]} of {self.foreign_troops:,}"
        return f"{war}; {self.monitors} unarmed monitors" if self.monitors else f"{war}; no force"


def fortna_case(case_id: str, name: str, start: date, end: date | None, *, pkopC: int, victory: int,
                pk_dum: int | None = None, censor: date = FORTNA_CENSOR_DATE, line: int = 0, treaty: float = math.nan,
                logcost: float = math.nan, wardur: float = math.nan) -> FortnaCase:
    """A Fortna case from its dates and coding: the mapping's rules applied (``FORTNA_MISSIONS``, ``WAR_FROM_VICTORY``).

    ``pk_dum`` (Fortna's peacekeeping indicator, for the Cox baselines only) defaults to pkopC >= 2.
    """
    force_type, troops, monitors, _ = FORTNA_MISSIONS[pkopC]
    return FortnaCase(case_id, name, "ceasefire", start, end, end is not None, "none", troops, force_type, monitors,
                      False, "none", line, WAR_FROM_VICTORY[victory], f"Fortna's victory {victory}", censor, pkopC,
                      victory, int(pkopC >= 2) if pk_dum is None else pk_dum, treaty, logcost, wardur)


def _check_dates(row: Row, start: date, end: date | None, failed: bool, censor: date) -> None:
    """Refuse dates that contradict each other or the censor date."""
    if failed != (end is not None):
        raise row.error("faildate", "faildate must be given exactly when morewar is 1",
                        "give the date war resumed with morewar 1, or leave it empty with morewar 0")
    if start > censor:
        raise row.error("cfdate", f"cfdate {start} is after the censor date {censor}", "check the date")
    if end is not None and end < start:
        raise row.error("faildate", f"faildate {end} is before cfdate {start}", "check the dates")
    if end is not None and end > censor:
        raise row.error("faildate", f"faildate {end} is after the censor date {censor}",
                        "leave faildate empty and set morewar 0 for a ceasefire that held to the censor date")


def read_fortna_cases(path: str | Path = DEFAULT_FORTNA, censor: date = FORTNA_CENSOR_DATE) -> list[FortnaCase]:
    """The cases of a file in Fortna's format, each mapped onto the levers; mistakes name FILE:LINE:COL."""
    cases: list[FortnaCase] = []
    seen: dict[str, int] = {}
    for row in read_rows(path, FORTNA_CASE_COLUMNS):
        case_id = row.text("id")
        if not case_id:
            raise row.error("id", "empty id", "give every ceasefire its own id")
        if case_id in seen:
            raise row.error("id", f"duplicate id '{case_id}' (first on line {seen[case_id]})",
                            "give every ceasefire its own id")
        seen[case_id] = row.line
        start, end = row.date("cfdate"), row.date("faildate", optional=True)
        assert start is not None
        failed = row.flag("morewar")
        _check_dates(row, start, end, failed, censor)
        pkopC = int(row.category("pkopC", tuple(str(k) for k in FORTNA_MISSIONS)))
        # pk_dum is Fortna's own indicator, read as coded: in the shipped file two cases with a
        # mission type (Guatemala 1996, pkopC 3; Papua New Guinea 1997, pkopC 2) have pk_dum 0.
        # The model follows pkopC; the Cox baselines follow pk_dum, as Fortna's models did.
        pk_dum = int(row.flag("pk_dum"))
        victory = int(row.flag("victory"))
        controls = {name: row.number(name, optional=True) for name in NOT_MODELLED}
        if not (math.isnan(controls["treaty"]) or controls["treaty"] in (0.0, 1.0)):
            raise row.error("treaty", f"treaty '{row.text('treaty')}' is not 0 or 1", "write 1, 0, or leave it empty")
        cases.append(fortna_case(case_id, row.text("cname") or case_id, start, end, pkopC=pkopC, victory=victory,
                                 pk_dum=pk_dum, censor=censor, line=row.line, **controls))
    return cases


def fortna_levers(case: Case) -> tuple[dict[str, str], dict[tuple[str, str], Fixed]]:
    """The interstate mapping's actors and levers for a Fortna case, with sources that cite the rules, not the case."""
    if not isinstance(case, FortnaCase):
        raise TypeError("fortna_levers needs a FortnaCase")
    roles, levers = case_levers(case)
    if ("force", "troops_offered") in levers:
        mission = FORTNA_MISSIONS[case.pkopC][3]
        levers[("force", "troops_offered")] = Fixed(value=case.foreign_troops,
                                                    source=f"judgement: pkopC {case.pkopC}, {mission}")
    word = "decided" if case.victory else "undecided"
    levers[("challenger", "war_undecided")] = Fixed(
        value=levers[("challenger", "war_undecided")].value,
        source=f"cite: Fortna's victory {case.victory}: the war before was {word}")
    return roles, levers


def fortna_case_scenario(case: Case, *, horizon_months: int | None = None, worlds: int, seed: int,
                         constants: dict[str, float] | None = None) -> Scenario:
    """The scenario of one Fortna case: the generic base world plus the levers of its coding."""
    roles, levers = fortna_levers(case)
    return generic_scenario(roles, levers, name=case.case_id, path=f"fortna#{case.case_id}",
                            horizon_months=horizon_months or case.months, worlds=worlds, seed=seed,
                            constants=constants)


def codings(cases: list[FortnaCase]) -> int:
    """How many different scenarios the cases need (cases with the same coding share one)."""
    return len({lever_key(c) for c in cases})


def predict_fortna_cases(cases: list[FortnaCase], *, worlds: int, seed: int,
                         constants: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per case: its coding, what happened, and the model's prediction (``fortna_cases.csv``)."""
    horizon = max(max(c.months for c in cases), *HORIZONS.values())  # one scale for all, and the horizons
    preds = predict_cases(cases, worlds=worlds, seed=seed, constants=constants, horizon=horizon,
                          scenario_of=fortna_case_scenario)
    frame = preds.frame()
    extra: dict[str, list[Any]] = {
        "id": [c.case_id for c in cases], "coding": [c.coding for c in cases],
        "mapped_to": [c.mapped_to for c in cases],
        "observed_months": [c.observed_months for c in cases],  # unrounded: the Cox baselines use the same
        **{name: [getattr(c, name) for c in cases] for name in ("pk_dum", "victory", *NOT_MODELLED)},
        **{f"predicted_failure_{label}": [1.0 - float(preds.curves[c.case_id][m]) for c in cases]
           for label, m in HORIZONS.items()},
    }
    out = pd.DataFrame(extra).assign(name=frame["name"], failed=frame["failed"],
                                     predicted_mean_months=frame["predicted_mean_months"],
                                     predicted_median_months=frame["predicted_median_months"],
                                     predicted_failure_by_end=frame["predicted_failure_by_end"])
    order = ["id", "name", "coding", "mapped_to", "observed_months", "failed", "predicted_mean_months",
             "predicted_median_months", "predicted_failure_by_end",
             *(f"predicted_failure_{label}" for label in HORIZONS), "pk_dum", "victory", *NOT_MODELLED]
    return out[order]

