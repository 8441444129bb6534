"""Ensembles, survival, paired differences and the files `geosim run` writes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator import cli, load_results, run, save_results
from simulator.analysis.survival import kaplan_meier, kaplan_meier_if_agreed

WORLDS = 3000
HORIZON = 40


@pytest.fixture(scope="module")
def results(ukraine):
    return run(ukraine, worlds=WORLDS, horizon_months=HORIZON, progress=False, worlds_to="memory")


def _geosim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True, text=True, cwd=cwd)


def test_probabilities_are_probabilities(results) -> None:
    s = results.summary
    prob_cols = [c for c in s.columns if c.startswith("p_") and s[c].notna().any()]
    assert prob_cols
    values = s[prob_cols].to_numpy(dtype=float)
    values = values[~np.isnan(values)]
    assert ((values >= 0) & (values <= 1)).all()


def test_survival_never_rises_and_intervals_contain_estimates(results) -> None:
    for _, s in results.survival.groupby("option"):
        for curve, lower, upper in (("survival", "lower", "upper"),
                                    ("survival_if_agreed", "lower_if_agreed", "upper_if_agreed")):
            assert (np.diff(s[curve].to_numpy()) <= 1e-12).all()
            assert (s[lower] <= s[curve] + 1e-12).all() and (s[curve] <= s[upper] + 1e-12).all()
        assert (s["at_risk"].diff().dropna() <= 0).all()
        assert s["survival_if_agreed"].iloc[0] == 1.0 and s["survival"].iloc[0] < 1.0
    s = results.summary
    for col in ["p_agreed", "p_hold_12", "p_hold_24", "p_hold_36", "p_hold_horizon", "p_direct_clash",
                "p_refused_by_challenger", "p_refused_by_defender", "p_hold_12_if_agreed", "p_hold_36_if_agreed",
                "p_hold_horizon_if_agreed"]:
        assert (s[f"{col}_lo"] <= s[col] + 1e-12).all() and (s[col] <= s[f"{col}_hi"] + 1e-12).all(), col


def test_summary_agrees_with_survival(results) -> None:
    for _, row in results.summary.iterrows():
        surv = results.survival[results.survival["option"] == row["option"]].set_index("month")
        for m in (12, 24, 36):
            assert row[f"p_hold_{m}"] == surv.loc[m, "survival"]
            assert row[f"p_hold_{m}_lo"] == surv.loc[m, "lower"]
        for m in (12, 36):
            assert row[f"p_hold_{m}_if_agreed"] == surv.loc[m, "survival_if_agreed"]
            assert row[f"p_hold_{m}_if_agreed_hi"] == surv.loc[m, "upper_if_agreed"]
        assert row["p_hold_horizon"] == surv.loc[HORIZON, "survival"]
        assert row["p_hold_horizon_if_agreed"] == surv.loc[HORIZON, "survival_if_agreed"]
        # the median months to collapse is that of an agreed ceasefire: no deal is not a collapse at month 0
        below = surv.index[surv["survival_if_agreed"] <= 0.5]
        if len(below):
            assert row["median_months_to_collapse"] == below[0]
        else:
            assert np.isnan(row["median_months_to_collapse"])


def test_survival_is_the_share_of_worlds_still_holding(results) -> None:
    """Without censoring before the horizon, Kaplan-Meier is the plain share of worlds."""
    w = results.worlds
    for option, frame in w.groupby("option", observed=True):
        months = frame["collapse_month"].to_numpy(dtype=float, na_value=np.inf)
        surv = results.survival[results.survival["option"] == option].set_index("month")["survival"]
        for m in (0, 1, 6, 12, 30, HORIZON):
            assert surv[m] == pytest.approx((months > m).mean(), abs=1e-12)
        assert surv[0] == pytest.approx(frame["agreed"].mean(), abs=1e-12)


def test_survival_among_agreed_deals_is_the_share_of_agreed_worlds_still_holding(results) -> None:
    """Among agreed deals, without censoring before the horizon: S_agreed(m) = S(m) / S(0), a plain share."""
    w = results.worlds
    for option, frame in w.groupby("option", observed=True):
        agreed = frame[frame["agreed"]]
        months = agreed["collapse_month"].to_numpy(dtype=float, na_value=np.inf)
        surv = results.survival[results.survival["option"] == option].set_index("month")
        assert surv["survival_if_agreed"].to_numpy() == pytest.approx(
            (surv["survival"] / surv.loc[0, "survival"]).to_numpy(), abs=1e-12)
        for m in (0, 1, 6, 12, 30, HORIZON):
            assert surv.loc[m, "survival_if_agreed"] == pytest.approx((months > m).mean(), abs=1e-12)


def test_kaplan_meier_from_counts_matches_the_textbook() -> None:
    # 10 worlds: 2 refuse (month 0), 1 fails in month 1, 2 in month 3, 5 censored at horizon 4.
    km = kaplan_meier(np.array([2, 1, 0, 2, 0]), censored=5, horizon=4)
    assert km["survival"].tolist() == pytest.approx([0.8, 0.7, 0.7, 0.5, 0.5])
    assert km["at_risk"].tolist() == [10, 8, 7, 7, 5]
    # Greenwood variance at month 3: S^2 * sum d/(n(n-d))
    var = 0.5**2 * (2 / (10 * 8) + 1 / (8 * 7) + 2 / (7 * 5))
    assert km["upper"][3] - km["lower"][3] > 2 * 1.5 * np.sqrt(var) * 0.5  # a real, not degenerate, band
    # Among agreed deals: the 2 refusals leave the risk set, so 8 worlds start and 1, 7/8, 7/8, 5/8, 5/8 hold.
    agreed = kaplan_meier_if_agreed(np.array([2, 1, 0, 2, 0]), censored=5, horizon=4)
    assert agreed["survival"].tolist() == pytest.approx([1.0, 7 / 8, 7 / 8, 5 / 8, 5 / 8])
    assert agreed["at_risk"].tolist() == [8, 8, 7, 7, 5]
    assert agreed["survival"].to_numpy() == pytest.approx(km["survival"].to_numpy() / 0.8)
    # No world agreed: nothing to estimate.
    assert kaplan_meier_if_agreed(np.array([10, 0, 0]), censored=0, horizon=2)["survival"].isna().all()


def test_paired_differences_match_world_by_world(results) -> None:
    w = results.worlds
    base = w[w["option"] == "ceasefire_only"].reset_index(drop=True)
    peace = w[w["option"] == "peacekeepers"].reset_index(drop=True)
    assert (base["world"].to_numpy() == peace["world"].to_numpy()).all()
    hold = lambda f: (f["collapse_month"].to_numpy(dtype=float, na_value=np.inf) > 36).astype(float)  # noqa: E731
    d = hold(peace) - hold(base)
    row = results.compare().query("option == 'peacekeepers' and measure == 'hold_36'").iloc[0]
    assert row["difference"] == pytest.approx(d.mean(), abs=1e-12)
    half = 1.959963984540054 * d.std(ddof=1) / np.sqrt(len(d))
    assert row["upper"] - row["difference"] == pytest.approx(half, rel=1e-9)
    deal = results.compare().query("option == 'peacekeepers' and measure == 'agreed'")["difference"].iloc[0]
    assert deal == pytest.approx(peace["agreed"].mean() - base["agreed"].mean(), abs=1e-12)
    # holding among agreed deals is a share of different worlds under each option: not paired
    assert not results.pairs["measure"].str.endswith("_if_agreed").any()


def test_an_option_compared_with_itself_is_exactly_zero(results) -> None:
    same = results.pairs[results.pairs["option"] == results.pairs["baseline"]]
    assert len(same) > 0
    assert (same["difference"].fillna(0) == 0).all()
    assert ((same["upper"] - same["lower"]).fillna(0) == 0).all()
    diff = results.compare()
    own = diff[diff["option"] == "ceasefire_only"]
    assert (own["difference"].fillna(0) == 0).all() and (own["lower"].fillna(0) == own["upper"].fillna(0)).all()


def test_compare_against_another_baseline(results) -> None:
    d = results.compare("peacekeepers")
    assert set(d["baseline"]) == {"peacekeepers"}
    a = d.query("option == 'ceasefire_only' and measure == 'hold_36'")["difference"].iloc[0]
    b = results.compare().query("option == 'peacekeepers' and measure == 'hold_36'")["difference"].iloc[0]
    assert a == pytest.approx(-b, abs=1e-12)
    with pytest.raises(simulator.UsageError):
        results.compare("no_such_option")


def test_chunking_does_not_change_a_single_number(ukraine) -> None:
    a = run(ukraine, options=["peacekeepers"], worlds=9000, horizon_months=24, progress=False,
            engine=simulator.Sequential(blocks_per_chunk=1))
    b = run(ukraine, options=["peacekeepers"], worlds=9000, horizon_months=24, progress=False,
            engine=simulator.Sequential(blocks_per_chunk=8))
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)
    pd.testing.assert_frame_equal(a.survival, b.survival, check_exact=True)
    pd.testing.assert_frame_equal(a.pairs, b.pairs, check_exact=True)


def test_a_different_seed_lands_inside_the_intervals_most_of_the_time(ukraine, results) -> None:
    other = run(ukraine, worlds=WORLDS, horizon_months=HORIZON, seed=ukraine.seed + 1, progress=False)
    inside, total = 0, 0
    for col in ["p_hold_12", "p_hold_24", "p_hold_36", "p_hold_horizon"]:
        for (_, a), (_, b) in zip(results.summary.iterrows(), other.summary.iterrows()):
            total += 1
            inside += a[f"{col}_lo"] <= b[col] <= a[f"{col}_hi"]
    assert inside / total >= 0.7  # a 95% interval misses an independent estimate ~17% of the time
    assert not results.summary.equals(other.summary)


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())
            if p.name != "manifest.json"}


def test_run_command_writes_every_file_and_reproduces_them(tmp_path: Path, ukraine_path: Path) -> None:
    args = ["run", str(ukraine_path), "--worlds", "2000", "--horizon", "36", "--save-worlds", "--quiet"]
    first = _geosim(*args, "--out", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    assert "peacekeepers" in first.stdout and "summary.csv" in first.stdout
    second = _geosim(*args, "--out", str(tmp_path / "b"))
    assert second.returncode == 0, second.stderr
    files = {"summary.csv", "survival.csv", "differences.csv", "pairs.csv", "worlds.parquet", "manifest.json",
             "survival.png", "probabilities.png", "differences.png", "price.png"}
    assert files <= {p.name for p in (tmp_path / "a").iterdir()}
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    for key in ("scenario_sha256", "seed", "worlds", "options", "versions", "started", "finished", "wall_seconds"):
        assert key in manifest
    assert manifest["scenario_sha256"] == hashlib.sha256(ukraine_path.read_bytes()).hexdigest()
    summary = pd.read_csv(tmp_path / "a" / "summary.csv")
    assert list(summary["option"])[0] == "ceasefire_only"
    loaded = load_results(tmp_path / "a")
    pd.testing.assert_frame_equal(loaded.summary, summary)
    assert loaded.worlds is not None and len(loaded.worlds) == 2000 * len(summary)


def test_existing_output_is_not_overwritten_without_force(tmp_path: Path, ukraine_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    r = _geosim("run", str(ukraine_path), "--worlds", "500", "--horizon", "12", "--out", str(out), "--quiet")
    assert r.returncode == 2 and "--force" in r.stderr and "Traceback" not in r.stderr
    assert (out / "keep.txt").read_text() == "mine"


def test_a_failed_save_leaves_nothing_that_looks_complete(tmp_path: Path, ukraine, monkeypatch) -> None:
    res = run(ukraine, options=["peacekeepers"], worlds=500, horizon_months=12, progress=False)
    import simulator.report.figures as plots

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plots, "save_figures", boom)
    with pytest.raises(RuntimeError):
        save_results(res, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []  # the temporary directory is gone too


@pytest.mark.parametrize("args, expected", [
    (["--option", "nato_membershp"], "did you mean 'nato_membership'"),
    (["--worlds", "0"], "not positive"),
    (["--worlds", "many"], "not a whole number"),
    (["--horizon", "-3"], "not positive"),
    (["--seed", "-1"], "negative"),
])
def test_bad_run_arguments_exit_2_without_traceback(args, expected, ukraine_path: Path, tmp_path: Path,
                                                    capsys) -> None:
    code = cli.main(["run", str(ukraine_path), "--out", str(tmp_path / "o"), "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unwritable_output_path_exits_2(ukraine_path: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = cli.main(["run", str(ukraine_path), "--worlds", "200", "--horizon", "6", "--quiet",
                     "--out", str(blocker / "sub")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot" in err and str(blocker) in err and "Traceback" not in err


def test_plot_redraws_figures(tmp_path: Path, ukraine) -> None:
    res = run(ukraine, options=["aid_only"], worlds=600, horizon_months=12, progress=False)
    save_results(res, tmp_path / "r", plots=False)
    assert not (tmp_path / "r" / "survival.png").exists()
    assert cli.main(["plot", str(tmp_path / "r")]) == 0
    png = (tmp_path / "r" / "survival.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_compare_files_side_by_side(tmp_path: Path, ukraine_path: Path, capsys) -> None:
    twin = tmp_path / "twin.yaml"
    text = ukraine_path.read_text().replace("seeds: ../seeds/facts.yaml",
                                            f"seeds: {ukraine_path.parent.parent / 'seeds' / 'facts.yaml'}")
    twin.write_text(text)
    code = cli.main(["compare", str(ukraine_path), str(twin), "--options",
                     "ukraine_2025:peacekeepers,twin:peacekeepers,twin:nato_membership",
                     "--worlds", "800", "--horizon", "24", "--quiet", "--out", str(tmp_path / "c"), "--no-plots"])
    out = capsys.readouterr().out
    assert code == 0
    assert "twin:nato_membership" in out
    pairs = pd.read_csv(tmp_path / "c" / "differences.csv")
    same = pairs[(pairs["option"] == "twin:peacekeepers")]
    # identical files on shared worlds: the same option in both is identical world by world
    assert (same["difference"].fillna(0) == 0).all() and (same["upper"].fillna(0) == same["lower"].fillna(0)).all()
