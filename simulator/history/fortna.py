"""Fortna's civil-war ceasefires and the figures the model is held to.

``read_fortna`` reads the file (one row per ceasefire, years at peace and whether war
resumed); ``fortna_targets`` recomputes from it the survival without peacekeepers, the hazard
ratios of peacekeeping, of a decisive victory and of observer missions, and the share of
failures in the first year, which validation reports beside the model's and calibration
fits to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.history.cases import MONTH_DAYS
from simulator.history.csvfile import read_rows
from simulator.history.scores import cox_hazard_ratio
from simulator.history.settings import DEFAULT_FORTNA

FORTNA_CENSOR_DATE = date(2004, 12, 31)
FORTNA_COLUMNS = ("id", "cname", "cfdate", "faildate", "morewar", "pk_dum", "treaty", "victory", "logcost",
                  "wardur")
FORTNA_CONTROLS = ("treaty", "victory", "logcost", "wardur")


def read_fortna(path: str | Path = DEFAULT_FORTNA) -> pd.DataFrame:
    """Fortna's ceasefires: one row each with years at peace ``T`` and ``E`` (1 if war resumed)."""
    records = []
    for row in read_rows(path, FORTNA_COLUMNS):
        start = row.date("cfdate")
        end = row.date("faildate", optional=True)
        assert start is not None
        failed = row.flag("morewar")
        if failed != (end is not None):
            raise row.error("faildate", "faildate must be given exactly when morewar is 1", "check the row")
        if end is not None and end < start:
            raise row.error("faildate", f"faildate {end} is before cfdate {start}", "check the dates")
        stop = end if end is not None else FORTNA_CENSOR_DATE
        rec: dict[str, Any] = {"id": row.text("id"), "cname": row.text("cname"),
                               "T": (stop - start).days / 365.25, "E": int(failed),
                               "pk_dum": int(row.flag("pk_dum")),
                               "follow_up_months": (FORTNA_CENSOR_DATE - start).days / MONTH_DAYS}
        for name in FORTNA_CONTROLS:
            rec[name] = row.number(name, optional=True)
        # optional: the mission type, for the observer-only comparison
        rec["pkopC"] = row.number("pkopC", optional=True) if "pkopC" in row.header else float("nan")
        records.append(rec)
    return pd.DataFrame.from_records(records)


@dataclass(frozen=True)
class FortnaTargets:
    """Figures recomputed from Fortna's file (Kaplan-Meier; Cox, Efron ties)."""

    n: int
    n_no_peacekeepers: int
    survival_1y_no_pk: float
    survival_1y_no_pk_se: float
    survival_5y_no_pk: float
    survival_5y_no_pk_se: float
    hazard_ratio: float
    hazard_ratio_lower: float
    hazard_ratio_upper: float
    log_hazard_ratio_se: float
    hazard_ratio_controls: float
    hazard_ratio_controls_lower: float
    hazard_ratio_controls_upper: float
    n_controls: int
    first_year_failure_share: float
    victory_hazard_ratio: float  # a decisive victory against none (Cox, victory alone)
    victory_hazard_ratio_lower: float
    victory_hazard_ratio_upper: float
    victory_log_hazard_ratio_se: float
    undecided_share_no_pk: float  # share of the no-peacekeeper ceasefires that followed no decisive victory
    observer_hazard_ratio: float  # observer missions only (pkopC 2) against no mission (0, 1); NaN without pkopC
    observer_hazard_ratio_lower: float
    observer_hazard_ratio_upper: float
    follow_up_months: tuple[float, ...] = field(repr=False)

    @property
    def horizon_months(self) -> int:
        """The longest follow-up in whole months: how far the generic comparisons are run."""
        return int(math.ceil(max(self.follow_up_months)))

    def as_dict(self) -> dict[str, Any]:
        """The figures by name, with the follow-ups summarised by their shortest and longest."""
        out = {k: v for k, v in self.__dict__.items() if k != "follow_up_months"}
        out["follow_up_months_min"] = min(self.follow_up_months)
        out["follow_up_months_max"] = max(self.follow_up_months)
        return out


def _km_with_se(t: np.ndarray, e: np.ndarray, at: float) -> tuple[float, float]:
    """Kaplan-Meier survival at ``at`` with Greenwood's standard error."""
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter().fit(t, e)
    s = float(kmf.survival_function_at_times([at]).iloc[0])
    table = kmf.event_table
    table = table[(table.index <= at) & (table.index > 0)]
    d, n = table["observed"].to_numpy(float), table["at_risk"].to_numpy(float)
    ok = n > d
    var = s * s * float(np.sum(d[ok] / (n[ok] * (n[ok] - d[ok]))))
    return s, math.sqrt(var)


def fortna_targets(path: str | Path = DEFAULT_FORTNA) -> FortnaTargets:
    """Recompute Fortna's survival, hazard ratios and first-year failure share from the file."""
    df = read_fortna(path)
    nopk = df[df["pk_dum"] == 0]
    s1, se1 = _km_with_se(nopk["T"].to_numpy(), nopk["E"].to_numpy(), 1.0)
    s5, se5 = _km_with_se(nopk["T"].to_numpy(), nopk["E"].to_numpy(), 5.0)
    hr, lo, hi, se = cox_hazard_ratio(df[["T", "E", "pk_dum"]], "pk_dum")
    ctrl = df[["T", "E", "pk_dum", *FORTNA_CONTROLS]].dropna()
    hrc, loc, hic, _ = cox_hazard_ratio(ctrl, "pk_dum")
    failures = df[df["E"] == 1]
    share = float((failures["T"] <= 1.0).mean()) if len(failures) else float("nan")
    vic = df[["T", "E", "victory"]].dropna()
    vhr, vlo, vhi, vse = cox_hazard_ratio(vic, "victory")
    undecided = float((nopk["victory"].dropna() == 0).mean())
    obs = df[df["pkopC"] <= 2].assign(observers=lambda x: (x["pkopC"] == 2).astype(int))
    if obs["observers"].nunique() == 2:
        ohr, olo, ohi, _ = cox_hazard_ratio(obs[["T", "E", "observers"]], "observers")
    else:
        ohr = olo = ohi = float("nan")
    return FortnaTargets(len(df), len(nopk), s1, se1, s5, se5, hr, lo, hi, se, hrc, loc, hic, len(ctrl), share,
                         vhr, vlo, vhi, vse, undecided, ohr, olo, ohi, tuple(float(x) for x in df["follow_up_months"]))
