"""Outcomes are declared once (``simulator.scenario.outcomes``) and every step reads that list.

Adding an outcome is one change in one file: the first test appends an outcome to
``OUTCOMES`` (as an edit of that file would) and finds it in the world table, the block
statistics, the summary, the paired differences and the printed table.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from simulator import CeasefireModel, UsageError, run
from simulator.analysis.results import summary_columns
from simulator.report.labels import header, quantity
from simulator.report.tables import difference_table, summary_table
from simulator.runs.blocks import simulate_blocks
from simulator.runs.plan import make_plan
from simulator.scenario import outcomes
from simulator.scenario.outcomes import (SHARED_STATISTICS, HoldingAt, Outcome, Share, check, outcome_named,
                                         outcome_of_column, paired_outcomes)

# The summary's columns as summary.csv has always had them, then those added since at the end:
# a file that others read keeps every column it had, in the same place.
SUMMARY_CSV_COLUMNS = [
    "option", "worlds", "p_agreed", "p_agreed_lo", "p_agreed_hi",
    "p_hold_12", "p_hold_12_lo", "p_hold_12_hi", "p_hold_24", "p_hold_24_lo", "p_hold_24_hi",
    "p_hold_36", "p_hold_36_lo", "p_hold_36_hi", "p_hold_horizon", "p_hold_horizon_lo", "p_hold_horizon_hi",
    "median_months_to_collapse", "mean_months_held", "p_direct_clash", "p_direct_clash_lo", "p_direct_clash_hi",
    "share_broken_by_challenger", "share_broken_by_defender", "mean_aid_bn", "mean_troops",
    # who refused the deal, and holding among agreed deals (issue 13)
    "p_refused_by_challenger", "p_refused_by_challenger_lo", "p_refused_by_challenger_hi",
    "p_refused_by_defender", "p_refused_by_defender_lo", "p_refused_by_defender_hi",
    "p_hold_12_if_agreed", "p_hold_12_if_agreed_lo", "p_hold_12_if_agreed_hi",
    "p_hold_36_if_agreed", "p_hold_36_if_agreed_lo", "p_hold_36_if_agreed_hi",
    "p_hold_horizon_if_agreed", "p_hold_horizon_if_agreed_lo", "p_hold_horizon_if_agreed_hi",
]
# Holding among agreed deals is not paired: it is a share of different worlds under each option.
PAIRED = ["agreed", "hold_12", "hold_24", "hold_36", "hold_horizon", "months_held", "direct_clash", "aid_bn", "troops",
          "refused_by_challenger", "refused_by_defender"]


def probed(model: CeasefireModel) -> np.ndarray:
    """Whether the challenger probed at least once: a per-world value the world table lacks."""
    return model.probes > 0


PROBED = Outcome("probed", "probed", "the challenger probed at least once", "probability", Share(), record=probed)


def test_adding_an_outcome_is_one_change(ukraine, monkeypatch) -> None:
    monkeypatch.setattr(outcomes, "OUTCOMES", (*outcomes.OUTCOMES, PROBED))

    model = CeasefireModel(ukraine, "peacekeepers", worlds=400, horizon_months=24, collect=False).run()
    worlds = model.outcomes()
    assert "probed" in worlds
    assert (worlds["probed"].to_numpy() == (worlds["probes"].to_numpy() > 0)).all()

    results = run(ukraine, options=["peacekeepers"], worlds=600, horizon_months=24, progress=False,
                  worlds_to="memory")
    assert list(results.summary.columns) == SUMMARY_CSV_COLUMNS + ["p_probed", "p_probed_lo", "p_probed_hi"]
    for _, row in results.summary.iterrows():
        own = results.worlds[results.worlds["option"] == row["option"]]
        assert row["p_probed"] == pytest.approx((own["probes"] > 0).mean(), abs=1e-12)
        assert row["p_probed_lo"] < row["p_probed"] < row["p_probed_hi"]
    assert "probed" in set(results.pairs["measure"])
    mine = results.compare().query("option == 'peacekeepers' and measure == 'probed'")
    by_option = {o: (f["probes"].to_numpy() > 0).astype(float) for o, f in results.worlds.groupby("option")}
    paired = by_option["peacekeepers"] - by_option[results.baseline]  # world by world
    assert mine["difference"].iloc[0] == pytest.approx(paired.mean(), abs=1e-12)
    assert "Other outcomes:" in summary_table(results) and "probed, %" in summary_table(results)
    assert difference_table(results, measures=("probed",)).index[0] == ("peacekeepers", "probed")


def test_the_shipped_outcomes_give_the_summary_csv_its_columns() -> None:
    assert summary_columns() == SUMMARY_CSV_COLUMNS
    assert [o.name for o in paired_outcomes()] == PAIRED


def test_block_statistics_are_named_and_count_what_the_world_table_says(ukraine) -> None:
    plan = make_plan(ukraine, ["peacekeepers"], worlds=700, horizon_months=24)
    chunk = simulate_blocks(plan, 0, 1, keep_worlds=True)
    stats = chunk.stats[0]
    declared = {"agreed", "direct_clash", "broken_by_challenger", "broken_by_defender", "months_held", "aid_bn",
                "troops", "refused_by_challenger", "refused_by_defender"}
    assert set(stats) == set(SHARED_STATISTICS) | declared
    worlds = chunk.worlds
    for i, option in enumerate(plan.options):
        own = worlds[worlds["option"] == option]
        ended = own["collapse_month"].dropna().astype(int)
        assert stats["worlds"][i] == len(own)
        assert stats["holding_at_horizon"][i] == own["collapse_month"].isna().sum()
        assert (stats["collapses_by_month"][i] == np.bincount(ended, minlength=25)).all()
        assert stats["agreed"][i] == own["agreed"].sum()
        assert stats["collapses_by_month"][i][0] == (~own["agreed"]).sum()  # month 0: the worlds without a deal
        refused = own["refused_by"].astype(str)
        assert stats["refused_by_challenger"][i] == refused.isin(["challenger", "both"]).sum()
        assert stats["refused_by_defender"][i] == refused.isin(["defender", "both"]).sum()
        assert stats["broken_by_challenger"][i] == (own["initiator"] == "challenger").sum()
        assert stats["troops"][i] == pytest.approx(own["troops_deployed"].sum(), rel=1e-12)
    assert stats["pair_sum"].shape == (2, 2, len(PAIRED))


def test_tallies_estimate_what_the_worlds_say(ukraine) -> None:
    results = run(ukraine, options=["nato_membership"], worlds=1500, horizon_months=30, progress=False,
                  worlds_to="memory")
    for _, row in results.summary.iterrows():
        own = results.worlds[results.worlds["option"] == row["option"]]
        month = own["collapse_month"].to_numpy(dtype=float, na_value=np.inf)
        assert row["mean_months_held"] == pytest.approx(np.minimum(month, 30).mean(), rel=1e-12)
        ended = own[own["collapsed"] & own["agreed"]]  # agreed ceasefires that ended: no-deals left out
        assert len(ended) < own["collapsed"].sum()  # some worlds had no deal
        assert row["share_broken_by_challenger"] == pytest.approx((ended["initiator"] == "challenger").mean())
        assert row["share_broken_by_challenger"] + row["share_broken_by_defender"] == pytest.approx(1.0)
        refused = own["refused_by"].astype(str)
        assert row["p_refused_by_defender"] == pytest.approx(refused.isin(["defender", "both"]).mean(), abs=1e-12)
        assert row["p_direct_clash"] == pytest.approx(own["direct_clash"].mean(), abs=1e-12)
        assert np.isnan(row["p_hold_36"]) and np.isnan(row["p_hold_36_lo"])  # beyond a 30-month horizon


def test_labels_units_and_columns_come_from_the_declarations() -> None:
    assert header(outcome_named("hold_36")) == "holds 36 months, %"
    assert header(outcome_named("agreed")) == "deal, %"
    assert header(outcome_named("hold_36_if_agreed")) == "holds 36 months if agreed, %"
    assert header(outcome_named("aid_bn")) == "aid, bn USD"
    assert header(outcome_named("months_held")) == "months held"  # the label already names the unit
    assert quantity(outcome_named("aid_bn"), 60.0) == "aid 60 bn USD"
    assert quantity(outcome_named("troops"), 15000.0) == "troops 15,000"
    assert outcome_of_column("p_hold_horizon_hi").tally == HoldingAt(None)
    assert outcome_of_column("mean_troops").name == "troops"
    with pytest.raises(UsageError, match="did you mean 'hold_36'"):
        outcome_named("hold_63")


def test_a_clash_of_names_is_refused() -> None:
    agreed = outcome_named("agreed")
    with pytest.raises(ValueError, match="agreed declared twice"):
        check([*outcomes.OUTCOMES, agreed])
    with pytest.raises(ValueError, match="worlds"):
        check([Outcome("worlds", "worlds", "worlds", "", Share(), measure=agreed.measure)])
    with pytest.raises(ValueError, match="no part of the summary called odds"):
        check([Outcome("odd", "odd", "odd", "", Share(), measure=agreed.measure, group="odds")])


def test_analysis_and_the_declarations_load_neither_the_model_nor_the_report() -> None:
    code = ("import sys, simulator.analysis.results, simulator.analysis.survival, simulator.analysis.differences\n"
            "loaded = [m for m in ('mesa', 'simulator.model.model', 'simulator.runs.blocks', 'simulator.report',"
            " 'matplotlib.pyplot') if m in sys.modules]\n"
            "print(','.join(loaded))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_a_run_saved_before_an_outcome_was_declared_still_prints(ukraine, monkeypatch) -> None:
    results = run(ukraine, options=["aid_only"], worlds=300, horizon_months=12, progress=False)
    monkeypatch.setattr(outcomes, "OUTCOMES", (*outcomes.OUTCOMES, PROBED))
    text = summary_table(results)
    assert "aid_only" in text and "probed" not in text


def test_checkpoints_saved_before_an_outcome_was_declared_are_not_resumed(ukraine, tmp_path, monkeypatch) -> None:
    """A chunk saved without an outcome's statistics cannot serve a run that reports it."""
    from simulator.runs.engines import Sequential
    from simulator.runs.execute import execute

    plan = make_plan(ukraine, ["peacekeepers"], worlds=600, horizon_months=24)
    ck = tmp_path / "ck"
    execute(plan, Sequential(), checkpoints=ck)
    assert execute(plan, Sequential(), checkpoints=ck, resume=True).info["chunks_resumed"] == 1
    monkeypatch.setattr(outcomes, "OUTCOMES", (*outcomes.OUTCOMES, PROBED))
    out = execute(plan, Sequential(), checkpoints=ck, resume=True)
    assert (out.info["chunks_resumed"], out.info["chunks_computed"]) == (0, 1)
