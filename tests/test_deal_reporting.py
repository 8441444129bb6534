"""No deal is its own outcome (issue 13): the chance of a deal, holding among agreed deals, holding overall.

Most answers here are exact, from a hand-made table of ten worlds whose fates are known:
three without a deal, four agreed ceasefires that ended, three still holding at the horizon.
A small real run checks the same arithmetic on the model's worlds.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from simulator import run
from simulator.analysis.results import Results, finalize
from simulator.report.figures import plot_survival
from simulator.report.labels import percent
from simulator.report.reading import describe
from simulator.report.tables import summary_table
from simulator.runs.blocks import block_statistics, world_measures

HORIZON = 40
# Ten worlds: (who refused, month the ceasefire ended or None, who broke it).
FATES = [
    ("challenger", 0, "no_deal"), ("both", 0, "no_deal"), ("defender", 0, "no_deal"),
    ("", 5, "challenger"), ("", 5, "challenger"), ("", 20, "defender"), ("", 38, "challenger"),
    ("", None, ""), ("", None, ""), ("", None, ""),
]


def _worlds(fates: list[tuple[str, int | None, str]]) -> pd.DataFrame:
    """A world table with the columns the declared outcomes read."""
    n = len(fates)
    return pd.DataFrame({
        "world": np.arange(n),
        "agreed": [r == "" for r, _, _ in fates],
        "refused_by": pd.Categorical([r for r, _, _ in fates], categories=["", "challenger", "defender", "both"]),
        "collapsed": [m is not None for _, m, _ in fates],
        "collapse_month": pd.array([m for _, m, _ in fates], dtype="Int32"),
        "initiator": pd.Categorical([i for _, _, i in fates],
                                    categories=["", "challenger", "defender", "no_deal"]),
        "direct_clash": np.zeros(n, bool),
        "aid_bn": np.zeros(n),
        "troops_deployed": np.zeros(n),
    })


def _results(fates: list[tuple[str, int | None, str]] = FATES, option: str = "truce") -> Results:
    """Results of one option whose worlds are ``fates``, through the same statistics and estimators as a run."""
    frame = _worlds(fates)
    stats = block_statistics({option: world_measures(frame, HORIZON)}, {option: frame}, [option], HORIZON)
    plan = SimpleNamespace(options=[option], horizon=HORIZON, worlds=len(fates))
    manifest = {"scenario": "hand-made", "seed": 0, "worlds": len(fates), "horizon_months": HORIZON,
                "options": [option], "baseline": option}
    return finalize(plan, stats, manifest)


@pytest.fixture(scope="module")
def hand() -> Results:
    return _results()


@pytest.fixture(scope="module")
def real(ukraine) -> Results:
    return run(ukraine, options=["nato_membership", "peacekeepers"], worlds=2000, horizon_months=HORIZON,
               progress=False, worlds_to="memory")


def test_deal_refusals_and_holding_from_known_fates(hand: Results) -> None:
    r = hand.summary.iloc[0]
    assert r["p_agreed"] == 7 / 10
    assert r["p_refused_by_challenger"] == 2 / 10 and r["p_refused_by_defender"] == 2 / 10  # "both" counts for each
    # held after 12 months: the deals ending in months 20 and 38 and the three still holding
    assert r["p_hold_12"] == pytest.approx(5 / 10) and r["p_hold_12_if_agreed"] == pytest.approx(5 / 7)
    assert r["p_hold_36"] == pytest.approx(4 / 10) and r["p_hold_36_if_agreed"] == pytest.approx(4 / 7)
    assert r["p_hold_horizon"] == pytest.approx(3 / 10) and r["p_hold_horizon_if_agreed"] == pytest.approx(3 / 7)
    for m in ("12", "36", "horizon"):
        col = f"p_hold_{m}_if_agreed"
        assert r[f"{col}_lo"] < r[col] < r[f"{col}_hi"]
    # An agreed ceasefire falls to half or below at month 38 (3 of 7 hold); with the no-deals
    # counted as collapses at month 0 the curve would be at 0.5 by month 5.
    assert r["median_months_to_collapse"] == 38
    assert r["mean_months_held"] == pytest.approx((5 + 5 + 20 + 38 + 3 * HORIZON) / 10)


def test_broken_by_shares_count_only_agreed_ceasefires_that_ended(hand: Results) -> None:
    r = hand.summary.iloc[0]
    # four agreed ceasefires ended, three broken by the challenger and one by the defender;
    # the three worlds without a deal are in neither share (3/7 and 1/7 if they were).
    assert r["share_broken_by_challenger"] == 3 / 4
    assert r["share_broken_by_defender"] == 1 / 4


def test_no_deal_anywhere_leaves_holding_among_agreed_deals_unestimated() -> None:
    r = _results([("challenger", 0, "no_deal"), ("defender", 0, "no_deal")])
    row = r.summary.iloc[0]
    assert row["p_agreed"] == 0 and row["p_hold_36"] == 0
    assert np.isnan(row["p_hold_36_if_agreed"]) and np.isnan(row["median_months_to_collapse"])
    assert np.isnan(row["share_broken_by_challenger"])  # no agreed ceasefire ended
    assert "n/a" in summary_table(r)
    assert ("`truce` is agreed in no world (the challenger refuses in 50.0%, the defender in 50.0%), "
            "so it never holds.") in describe(r)


def test_holding_if_agreed_is_holding_overall_over_the_deal_share(real: Results) -> None:
    """Kaplan-Meier with no censoring before the horizon: S_agreed(m) = S(m) / S(0) exactly."""
    for _, r in real.summary.iterrows():
        for m in ("12", "36", "horizon"):
            assert r[f"p_hold_{m}_if_agreed"] == pytest.approx(r[f"p_hold_{m}"] / r["p_agreed"], rel=1e-12)
        own = real.worlds[real.worlds["option"] == r["option"]]
        agreed = own[own["agreed"]]
        months = agreed["collapse_month"].to_numpy(dtype=float, na_value=np.inf)
        assert r["p_hold_36_if_agreed"] == pytest.approx((months > 36).mean(), abs=1e-12)
        refused = own["refused_by"].astype(str)
        assert ((refused == "") == own["agreed"]).all()  # a deal is agreed exactly where nobody refused
        assert r["p_refused_by_challenger"] == pytest.approx(refused.isin(["challenger", "both"]).mean(), abs=1e-12)
        ended = agreed[agreed["collapsed"]]
        assert r["share_broken_by_defender"] == pytest.approx((ended["initiator"] == "defender").mean(), abs=1e-12)


def test_the_table_shows_the_deal_and_holding_among_agreed_deals(real: Results) -> None:
    text = summary_table(real, width=1000)  # wide enough that no header wraps
    for title in ("Chance of a deal", "Holding among agreed deals", "Holding overall"):
        assert title in text
    assert text.index("Chance of a deal") < text.index("Holding among agreed deals") < text.index("Holding overall")
    for header in ("deal, %", "refused by challenger, %", "refused by defender, %", "holds 36 months if agreed, %",
                   "holds 36 months, %"):
        assert header in text
    r = real.summary.iloc[0]
    cell = (f"{100 * r['p_hold_36_if_agreed']:4.1f} ({100 * r['p_hold_36_if_agreed_lo']:.1f}-"
            f"{100 * r['p_hold_36_if_agreed_hi']:.1f})")
    assert cell in text


def test_the_reading_gives_the_deal_who_refuses_and_both_kinds_of_holding(real: Results) -> None:
    text = describe(real)
    for _, r in real.summary.iterrows():
        sentence = (f"`{r['option']}` is agreed in {percent(r['p_agreed'])} of worlds (the challenger refuses in "
                    f"{percent(r['p_refused_by_challenger'])}, the defender in {percent(r['p_refused_by_defender'])}"
                    f"); where agreed it holds 36 months in {percent(r['p_hold_36_if_agreed'])} (95% interval ")
        assert sentence in text
        assert f"), so overall in {percent(r['p_hold_36'])}." in text
    named = describe(real, actors={"challenger": "Russia", "defender": "Ukraine"})
    r = real.summary.iloc[0]
    assert f"(Russia refuses in {percent(r['p_refused_by_challenger'])}, Ukraine in " in named


def test_the_reading_of_a_deal_always_agreed_names_no_refusal() -> None:
    r = _results([("", None, ""), ("", 3, "challenger")])
    text = describe(r)
    assert "`truce` is agreed in every world; where agreed it holds 36 months in 50.0%" in text
    assert "refuses" not in text


def test_the_survival_figure_starts_at_one_and_gives_the_deal_in_the_legend(hand: Results) -> None:
    ax = plot_survival(hand, ax=Figure().subplots())
    curves = [line for line in ax.get_lines() if line.get_label().startswith("truce (")]
    assert len(curves) == 1
    y = np.asarray(curves[0].get_ydata(), dtype=float)
    assert y[0] == 1.0  # among agreed deals: no drop at month 0
    assert y == pytest.approx(hand.survival["survival_if_agreed"].to_numpy())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["truce (deal in 70.0% of worlds)"]
