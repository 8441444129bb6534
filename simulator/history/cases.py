"""The interstate cases file and the coding of how each case's war ended: reading and checking.

A cases file (``historical_ceasefires.csv``) codes each ceasefire on the model's levers: the
kind of guarantee, foreign troops and their type, unarmed monitors, a demilitarised zone,
and outside aid to the defender. A war-outcome file (``war_outcomes.csv``, the project's
coding) says whether the war before each case ended decisively, undecided, or whether
there was no war. ``read_cases`` reads both into ``Case`` objects; every mistake is a
``GeosimError`` naming FILE:LINE:COL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from simulator.errors import GeosimError, did_you_mean
from simulator.history.csvfile import Row, read_rows
from simulator.history.settings import DEFAULT_CASES, DEFAULT_WAR_OUTCOMES

CENSOR_DATE = date(2025, 11, 30)  # cases still holding are censored here (data/README.md)
MONTH_DAYS = 365.25 / 12.0

CASE_COLUMNS = ("case_id", "name", "kind", "start", "end", "failed", "guarantee", "foreign_troops",
                "force_type", "monitors", "dmz", "defender_aid")
KINDS = ("ceasefire", "assurance")
GUARANTEES = ("none", "assurances", "mediated", "partisan_guarantor", "defense_treaty")
FORCE_TYPES = ("none", "interposition", "deterrent")
AID_LEVELS = ("none", "low", "medium", "high")
# How the war before the ceasefire ended (data/war_outcomes.csv, the project's coding).
WAR_OUTCOMES = ("decisive", "indecisive", "no_war")
WAR_OUTCOME_COLUMNS = ("case_id", "war_outcome", "reason")


@dataclass(frozen=True)
class Case:
    """One coded ceasefire (a row of the cases file)."""

    case_id: str
    name: str
    kind: str
    start: date
    end: date | None
    failed: bool
    guarantee: str
    foreign_troops: int
    force_type: str
    monitors: int
    dmz: bool
    defender_aid: str
    line: int = 0
    war_outcome: str | None = None  # None: not coded (the generic mix of decisive and undecided wars)
    war_outcome_reason: str = ""

    @property
    def observed_months(self) -> float:
        """Months from the start to renewed war, or to the censor date while it holds."""
        stop = self.end if self.end is not None else CENSOR_DATE
        return (stop - self.start).days / MONTH_DAYS

    @property
    def months(self) -> int:
        """The observed span in whole model months (at least 1): the month of failure, or months held."""
        return max(1, int(round(self.observed_months)))


def _case_id(row: Row, seen: dict[str, int], fix_empty: str, fix_duplicate: str) -> str:
    """The row's case_id, refused if empty or already seen (``seen`` maps ids to their lines)."""
    case_id = row.text("case_id")
    if not case_id:
        raise row.error("case_id", "empty case_id", fix_empty)
    if case_id in seen:
        raise row.error("case_id", f"duplicate case_id '{case_id}' (first on line {seen[case_id]})", fix_duplicate)
    seen[case_id] = row.line
    return case_id


def read_war_outcomes(path: str | Path = DEFAULT_WAR_OUTCOMES) -> dict[str, tuple[str, str]]:
    """case_id -> (war_outcome, reason) from a coding file; every mistake names FILE:LINE:COL."""
    return {k: (outcome, reason) for k, (outcome, reason, _) in _war_outcome_rows(path).items()}


def _war_outcome_rows(path: str | Path) -> dict[str, tuple[str, str, int]]:
    """case_id -> (war_outcome, reason, line) of a coding file."""
    out: dict[str, tuple[str, str, int]] = {}
    seen: dict[str, int] = {}
    for row in read_rows(path, WAR_OUTCOME_COLUMNS):
        case_id = _case_id(row, seen, "give the case_id of the cases file", "code every case once")
        outcome = row.category("war_outcome", WAR_OUTCOMES)
        reason = row.text("reason")
        if not reason:
            raise row.error("reason", f"no reason given for coding '{case_id}' as {outcome}",
                            "say what in the historical record the coding rests on")
        out[case_id] = (outcome, reason, row.line)
    return out


def read_cases(path: str | Path = DEFAULT_CASES,
               war_outcomes: str | Path | None = DEFAULT_WAR_OUTCOMES) -> list[Case]:
    """Read and check a cases file; every mistake is a ``GeosimError`` naming FILE:LINE:COL.

    ``war_outcomes`` names a coding file (``read_war_outcomes``) of how each case's war ended;
    cases it does not code, or all cases if it is None, keep the generic mix. A coding for a
    case_id that is not in the cases file is refused (most likely a misspelt id).
    """
    coded = _war_outcome_rows(war_outcomes) if war_outcomes is not None else {}
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for row in read_rows(path, CASE_COLUMNS):
        case_id = _case_id(row, seen, "give every case a short identifier", "give every case its own identifier")
        kind = row.category("kind", KINDS)
        start = row.date("start")
        end = row.date("end", optional=True)
        assert start is not None
        failed = row.flag("failed")
        guarantee = row.category("guarantee", GUARANTEES)
        troops = row.count("foreign_troops")
        force_type = row.category("force_type", FORCE_TYPES)
        monitors = row.count("monitors")
        dmz = row.flag("dmz")
        aid = row.category("defender_aid", AID_LEVELS)
        if start > CENSOR_DATE:
            raise row.error("start", f"start {start} is after the censor date {CENSOR_DATE}",
                            "check the date")
        if end is not None and end <= start:
            raise row.error("end", f"end {end} is not after start {start}", "check the dates")
        if end is not None and end > CENSOR_DATE:
            raise row.error("end", f"end {end} is after the censor date {CENSOR_DATE}",
                            "leave 'end' empty for a ceasefire that still holds")
        if failed and end is None:
            raise row.error("end", "failed is 1 but end is empty", "give the date war resumed, or set failed to 0")
        if not failed and end is not None:
            raise row.error("failed", f"failed is 0 but end is {end}",
                            "set failed to 1, or leave 'end' empty for a ceasefire that still holds")
        if troops > 0 and force_type == "none":
            raise row.error("force_type", f"{troops} foreign troops but force_type 'none'",
                            "say whether they are an 'interposition' or a 'deterrent' force")
        if troops == 0 and force_type != "none":
            raise row.error("foreign_troops", f"force_type '{force_type}' but no foreign troops",
                            "give the force's strength, or set force_type to 'none'")
        outcome, reason, _ = coded.get(case_id, (None, "", 0))
        cases.append(Case(case_id, row.text("name") or case_id, kind, start, end, failed, guarantee, troops,
                          force_type, monitors, dmz, aid, row.line, outcome, reason))
    for case_id, (_, _, line) in coded.items():
        if case_id not in seen:
            raise GeosimError(str(war_outcomes), line, 1, f"case_id '{case_id}' is not in the cases file {path}",
                              did_you_mean(case_id, seen, what="code only the cases of the cases file, which are"))
    return cases
