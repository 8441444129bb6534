"""Results of a run: merged block statistics turned into the summary, survival and paired differences.

One summary row per option: the worlds run, then the columns of every declared outcome
(``simulator.scenario.outcomes``), each estimated by its tally from the option's totals
with the Kaplan-Meier curves (``survival.py``: over all worlds and among agreed deals) and
the Wilson interval (``differences.py``).
Paired differences compare options world by world (common random numbers).
Saving and loading results is the report's job (``simulator.report.write``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.analysis.differences import paired_differences, wilson_interval
from simulator.analysis.survival import SURVIVAL_COLUMNS, survival_table
from simulator.errors import UsageError
from simulator.scenario.outcomes import (COLLAPSES, HOLDING, PAIR_SQUARES, PAIR_SUM, WORLDS, OptionTotals,
                                         all_outcomes, paired_outcomes)

if TYPE_CHECKING:
    from simulator.runs.plan import Plan


def summary_columns() -> list[str]:
    """The summary's columns: ``option``, ``worlds``, then every outcome's, in declaration order."""
    return ["option", "worlds", *(c for o in all_outcomes() for c in o.columns)]


@dataclass
class Results:
    """What a run produced. ``summary``, ``survival`` and ``compare()`` are pandas frames."""

    summary: pd.DataFrame
    survival: pd.DataFrame
    pairs: pd.DataFrame
    manifest: dict[str, Any]
    worlds: pd.DataFrame | None = None
    monthly: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def options(self) -> list[str]:
        """The options run, the baseline first."""
        return list(self.summary["option"])

    @property
    def baseline(self) -> str:
        """The option the others are compared with by default."""
        return str(self.manifest.get("baseline", self.options[0]))

    def compare(self, baseline: str | None = None) -> pd.DataFrame:
        """Paired differences of every option from ``baseline`` (default: the scenario's baseline)."""
        base = self.baseline if baseline is None else baseline
        if base not in set(self.pairs["baseline"]):
            raise UsageError(f"no option '{base}' in these results; choose one of: {', '.join(self.options)}")
        out = self.pairs[self.pairs["baseline"] == base]
        return out.reset_index(drop=True)

    def differences(self, baseline: str | None = None) -> pd.DataFrame:
        """``compare(baseline)`` without the baseline minus itself (rows of zeros): ``differences.csv``."""
        out = self.compare(baseline)
        return out[out["option"] != out["baseline"]].reset_index(drop=True)


def finalize(plan: Plan, totals: dict[str, np.ndarray], manifest: dict[str, Any],
             worlds: pd.DataFrame | None = None) -> Results:
    """Turn the merged block statistics of a plan into the summary, survival and paired-difference tables."""
    options = list(plan.options)
    summary_rows, survival_frames = [], []
    for i, option in enumerate(options):
        n = int(totals[WORLDS][i])
        table, if_agreed = survival_table(totals[COLLAPSES][i], int(totals[HOLDING][i]), plan.horizon)
        survival_frames.append(table.assign(option=option)[SURVIVAL_COLUMNS])
        own = OptionTotals(worlds=n, horizon=plan.horizon, sums={name: value[i] for name, value in totals.items()},
                           survival=table, survival_if_agreed=if_agreed, share_interval=wilson_interval)
        row: dict[str, Any] = {"option": option, "worlds": n}
        for outcome in all_outcomes():
            row.update(zip(outcome.columns, outcome.tally.estimate(outcome.name, own), strict=True))
        summary_rows.append(row)
    summary = pd.DataFrame(summary_rows, columns=summary_columns())
    survival = pd.concat(survival_frames, ignore_index=True)
    pairs = paired_differences(options, [o.name for o in paired_outcomes()], totals[PAIR_SUM], totals[PAIR_SQUARES],
                               plan.worlds)
    return Results(summary=summary, survival=survival, pairs=pairs, manifest=manifest, worlds=worlds)
