"""Posterior draws of the constants carried into a run: the draws file, the runs per draw, posterior.csv.

Every test writes its own small draws file: the package may not ship one yet.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import Processes, Results, Sequential, cli, load_results, run
from simulator.analysis.posterior import BETTER, POSTERIOR_COLUMNS, PosteriorResults, across_draws, estimates, summarise
from simulator.api import posterior_worlds_default
from simulator.errors import GeosimError, UsageError
from simulator.scenario import posterior_draws
from simulator.scenario.distributions import Fixed
from simulator.scenario.outcomes import all_outcomes, paired_outcomes
from simulator.scenario.params import CONSTANTS
from simulator.scenario.posterior_draws import CALIBRATED, load_draws, with_constants

OPTIONS = ["peacekeepers", "nato_membership"]  # with the baseline: three options
SMALL = dict(options=OPTIONS, worlds=600, horizon_months=36, progress=False)
# Three draws: the calibrated defaults, then two others well inside every range.
DRAWS = [
    {n: CONSTANTS[n].default for n in CALIBRATED},
    {"hazard_intercept": -6.2, "hazard_exponent": 1.4, "tension_weight": 3.2, "tension_decay_per_month": 0.14,
     "undecided_optimism": 1.2},
    {"hazard_intercept": -7.1, "hazard_exponent": 1.8, "tension_weight": 4.2, "tension_decay_per_month": 0.1,
     "undecided_optimism": 1.9},
]


def write_draws(path: Path, draws: list[dict[str, float]] = DRAWS, first: int = 0) -> Path:
    names = list(draws[0])
    lines = ["# made by hand for a test", ",".join(["draw", *names])]
    lines += [",".join([str(first + i), *(repr(float(d[n])) for n in names)]) for i, d in enumerate(draws)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def draws_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_draws(tmp_path_factory.mktemp("draws") / "draws.csv")


@pytest.fixture(scope="module")
def plain(ukraine):
    return run(ukraine, **SMALL)


@pytest.fixture(scope="module")
def with_draws(ukraine, draws_file):
    return run(ukraine, **SMALL, posterior=3, posterior_file=draws_file)


def test_the_draw_at_the_calibrated_constants_reproduces_the_ordinary_run(plain, with_draws) -> None:
    assert isinstance(with_draws, PosteriorResults)
    pd.testing.assert_frame_equal(with_draws.summary, plain.summary)  # the main run is the ordinary run
    pd.testing.assert_frame_equal(with_draws.pairs, plain.pairs)
    by_draw = with_draws.by_draw
    at_defaults = by_draw[by_draw["draw"] == 0].drop(columns="draw").reset_index(drop=True)
    pd.testing.assert_frame_equal(at_defaults, estimates(plain).drop(columns="draw"))  # exactly, bit for bit
    # ... while the other draws move the answers: the constants reach the model.
    other = by_draw[by_draw["draw"] == 1]["value"].to_numpy()
    assert not np.array_equal(other, at_defaults["value"].to_numpy(), equal_nan=True)
    post = with_draws.manifest["posterior"]
    assert post["picked"] == [0, 1, 2] and post["worlds_per_draw"] == 600 and post["calibrated_not_drawn"] == []


def test_posterior_table_holds_the_main_run_and_the_spread_across_draws(plain, with_draws) -> None:
    p = with_draws.posterior
    assert list(p.columns) == POSTERIOR_COLUMNS
    values = p[p["kind"] == "value"]
    assert len(values) == 3 * len(all_outcomes())
    hold = values[(values["option"] == "peacekeepers") & (values["measure"] == "hold_12")].iloc[0]
    row = plain.summary.set_index("option").loc["peacekeepers"]
    assert (hold["value"], hold["mc_lo"], hold["mc_hi"]) == (row["p_hold_12"], row["p_hold_12_lo"],
                                                            row["p_hold_12_hi"])
    diffs = p[p["kind"] == "difference"]
    assert set(diffs["option"]) == set(OPTIONS)  # the baseline minus itself is left out
    assert len(diffs) == 2 * len(paired_outcomes())
    d = plain.compare().set_index(["option", "measure"]).loc[("nato_membership", "direct_clash")]
    clash = diffs[(diffs["option"] == "nato_membership") & (diffs["measure"] == "direct_clash")].iloc[0]
    assert (clash["value"], clash["mc_lo"], clash["mc_hi"]) == (d["difference"], d["lower"], d["upper"])
    assert clash["better"] == "lower"
    # The spread is taken over the three draws' own estimates.
    per_draw = with_draws.by_draw
    three = per_draw[(per_draw["option"] == "peacekeepers") & (per_draw["measure"] == "hold_12")
                     & (per_draw["kind"] == "difference")]["value"].to_numpy()
    row = diffs[(diffs["option"] == "peacekeepers") & (diffs["measure"] == "hold_12")].iloc[0]
    assert row["median"] == np.sort(three)[1] and row["draws"] == 3
    assert row["q05"] == pytest.approx(np.sort(three)[0] + 0.1 * (np.sort(three)[1] - np.sort(three)[0]))
    assert row["share_better"] == pytest.approx(np.mean(three > 0))


def test_quantiles_and_share_better_on_known_numbers() -> None:
    # Sorted finite values -0.2, 0, 0.1, 0.3: linear quantiles at positions 0.15 and 2.85 of 0..3.
    got = across_draws(np.array([0.1, -0.2, 0.3, 0.0, np.nan]), better=1)
    assert got["median"] == pytest.approx(0.05)
    assert got["q05"] == pytest.approx(-0.2 + 0.15 * 0.2)
    assert got["q95"] == pytest.approx(0.1 + 0.85 * 0.2)
    assert got["draws"] == 4
    assert got["share_better"] == 0.5  # 0.1 and 0.3; a tie (0.0) is not better
    assert across_draws(np.array([0.1, -0.2, 0.3, 0.0]), better=-1)["share_better"] == 0.25
    assert np.isnan(across_draws(np.array([0.1]), better=0)["share_better"])  # no better direction
    assert across_draws(np.array([np.nan]), better=1)["draws"] == 0


def test_share_better_follows_the_direction_of_each_outcome(plain) -> None:
    """Constructed draws: holding is better higher, a direct clash better lower."""
    made = {"hold_36": [0.02, -0.01, 0.03, 0.0], "direct_clash": [0.01, -0.02, 0.0, -0.03]}
    runs = []
    for k in range(4):
        pairs = plain.pairs.copy()
        for measure, values in made.items():
            at = (pairs["option"] == "peacekeepers") & (pairs["baseline"] == plain.baseline) & \
                (pairs["measure"] == measure)
            pairs.loc[at, "difference"] = values[k]
        runs.append((k, Results(summary=plain.summary, survival=plain.survival, pairs=pairs, manifest=plain.manifest)))
    p = summarise(plain, runs).posterior
    rows = p[(p["option"] == "peacekeepers") & (p["kind"] == "difference")].set_index("measure")
    assert rows.loc["hold_36", "share_better"] == 0.5  # +0.02 and +0.03
    assert rows.loc["direct_clash", "share_better"] == 0.5  # -0.02 and -0.03
    assert rows.loc["hold_36", "median"] == pytest.approx(0.01)
    assert rows.loc["direct_clash", "median"] == pytest.approx(-0.01)  # between -0.02 and 0


def test_every_better_direction_names_a_declared_outcome() -> None:
    names = {o.name for o in all_outcomes()}
    assert set(BETTER) <= names
    assert all(BETTER[n] == 1 for n in ("agreed", "hold_12", "hold_36", "hold_horizon"))
    assert BETTER["direct_clash"] == -1


def test_same_draws_same_numbers_whatever_the_workers(ukraine, draws_file) -> None:
    kwargs = dict(options=["peacekeepers"], worlds=4596, horizon_months=24, progress=False, posterior=2,
                  posterior_file=draws_file)  # two blocks, so two chunks a run with one block per chunk
    one = run(ukraine, **kwargs, engine=Sequential(blocks_per_chunk=1))
    two = run(ukraine, **kwargs, engine=Processes(2, blocks_per_chunk=1))
    pd.testing.assert_frame_equal(one.posterior, two.posterior)
    pd.testing.assert_frame_equal(one.by_draw, two.by_draw)
    assert one.manifest["posterior"]["picked"] == [0, 1]  # rows 0 and 1 of 3: floor(i * 3 / 2)
    assert one.manifest["posterior"]["worlds_per_draw"] == 4096  # 4,596 / 2, raised to one block


def test_draws_are_picked_evenly_and_deterministically(tmp_path: Path) -> None:
    draws = load_draws(write_draws(tmp_path / "ten.csv", [DRAWS[1]] * 10, first=100))
    assert draws.comments == ("made by hand for a test",)
    assert draws.pick(3).ids == (100, 103, 106)
    assert draws.pick(10).ids == draws.ids
    assert set(draws.pick(2).ids) <= set(draws.pick(4).ids) <= set(draws.pick(8).ids)
    assert draws.pick(1).ids == (100,)
    for bad in (0, 11, 2.5):
        with pytest.raises(UsageError, match="from 1 to 10"):
            draws.pick(bad)


def test_worlds_per_draw_by_default() -> None:
    assert posterior_worlds_default(20_000, 20) == 4096  # at least one block
    assert posterior_worlds_default(1_000_000, 20) == 50_000  # the draws cost about one more run
    assert posterior_worlds_default(3_000, 3) == 3_000  # never more than the run's worlds


@pytest.mark.parametrize("text,line,col,what", [
    ("draw,hazard_intercep\n0,-6\n", 1, 2, "unknown constant 'hazard_intercep'; did you mean 'hazard_intercept'"),
    ("# comment\nid,hazard_intercept\n0,-6\n", 2, 1, "the first column is 'id', not 'draw'"),
    ("draw,tension_weight,tension_weight\n", 1, 3, "named twice"),
    ("draw,tension_weight\n0,3\n1,abc\n", 3, 2, "tension_weight 'abc' is not a finite number"),
    ("draw,tension_weight\n0,3\n1,nan\n", 3, 2, "not a finite number"),
    ("draw,tension_decay_per_month\n0,1.5\n", 2, 2, "outside 0..1"),
    ("draw,tension_weight\n0,3,4\n", 2, 3, "row has 3 fields but the header has 2"),
    ("draw,tension_weight\n0,3\n0,4\n", 3, 1, "draw 0 is given twice (first on line 2)"),
    ("draw,tension_weight\n-1,3\n", 2, 1, "not a whole number"),
    ("draw,tension_weight\n\n", 3, 1, "holds no draws"),
    ("# only a comment\n", 2, 1, "no header"),
])
def test_a_malformed_draws_file_names_its_line(tmp_path: Path, text: str, line: int, col: int, what: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(GeosimError) as caught:
        load_draws(path)
    assert (caught.value.line, caught.value.col) == (line, col)
    assert what in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}:{col}: ")


def test_unreadable_draws_files_are_refused(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_draws(tmp_path / "missing.csv")
    with pytest.raises(UsageError, match="is a folder"):
        load_draws(tmp_path)
    monkeypatch.setattr(posterior_draws, "MAX_DRAWS_BYTES", 40)
    with pytest.raises(UsageError, match="over 40 bytes"):
        load_draws(write_draws(tmp_path / "big.csv"))


def test_the_scenarios_own_constants_win_over_the_draws(ukraine) -> None:
    own = dataclasses.replace(ukraine, constants={"tension_weight": Fixed(value=2.0)})
    drawn = with_constants(own, DRAWS[1], "test").constant_specs()
    assert drawn["tension_weight"].value == 2.0  # the scenario's
    assert drawn["hazard_intercept"].value == -6.2  # the draw's
    assert drawn["incident_tension"].value == CONSTANTS["incident_tension"].default  # not drawn: the default


def test_geosim_run_posterior_end_to_end(ukraine_path, draws_file, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = cli.main(["run", str(ukraine_path), "--option", "peacekeepers", "--worlds", "300", "--horizon", "36",
                     "--posterior", "3", "--posterior-file", str(draws_file), "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "Monte Carlo 95%" in printed and "90% of draws" in printed and "posterior.csv" in printed
    table = pd.read_csv(out / "posterior.csv")
    assert list(table.columns) == POSTERIOR_COLUMNS
    assert (out / "posterior.png").stat().st_size > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"posterior.csv", "posterior.png"} <= set(manifest["sha256"])
    assert manifest["posterior"]["draws"] == 3 and manifest["posterior"]["draws_file_sha256"]
    assert load_results(out).summary["option"].tolist() == ["ceasefire_only", "peacekeepers"]  # hashes check out


def test_without_a_shipped_draws_file_the_message_says_to_calibrate(ukraine_path, tmp_path: Path, capsys,
                                                                    monkeypatch) -> None:
    def none_shipped(name: str) -> Path:
        raise UsageError(f"no data file named '{name}'")

    monkeypatch.setattr(posterior_draws, "data_path", none_shipped)
    code = cli.main(["run", str(ukraine_path), "--worlds", "100", "--posterior", "2", "--out", str(tmp_path / "o"),
                     "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "geosim calibrate" in err and "--posterior-file" in err
    assert not (tmp_path / "o").exists()
    code = cli.main(["run", str(ukraine_path), "--posterior-file", "x.csv", "--out", str(tmp_path / "o")])
    assert code == 2 and "--posterior K" in capsys.readouterr().err
