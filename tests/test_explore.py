"""geosim explore: sensitivity indices (SALib), scenario discovery (PRIM) and the EMA Workbench adapter.

Known answers: the Ishigami function's textbook Sobol' indices through the same wrapper as the
model; a parameter that cannot act (NATO's accession delay when neither option invites Ukraine)
scores exactly 0, because every design point that changes it keeps the dice of the point it
changes; PRIM recovers a planted box; the EMA adapter's outcomes are those of the model run
directly. Sizes are tiny: these tests check the machinery, not the scenario.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.cli.main import main
from simulator.explore.discovery import COLUMNS as DISCOVERY_COLUMNS
from simulator.explore.discovery import Question, discover, find_boxes
from simulator.explore.evaluate import option_worlds, point_seed
from simulator.explore.factors import DICE, constant_ranges, uncertain_factors
from simulator.explore.sensitivity import COLUMNS as SENSITIVITY_COLUMNS
from simulator.explore.sensitivity import indices
from simulator.explore.study import explore
from simulator.model.model import CeasefireModel
from simulator.runs.engines import Processes, Sequential
from simulator.scenario.params import CONSTANTS

ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)  # a = 7, b = 0.1 (Ishigami and Homma 1990; Sobol' and Levitan 1999)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(u: np.ndarray) -> dict[str, np.ndarray]:
    x = -np.pi + 2 * np.pi * u
    return {"y": np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])}


def test_ishigami_through_the_wrapper_gives_the_textbook_indices() -> None:
    table, rows, results = indices(["x1", "x2", "x3"], ishigami, "sobol", samples=2048, seed=3)
    assert list(table.columns) == SENSITIVITY_COLUMNS
    assert rows.shape == (2048 * 5, 3) and results["y"].shape == (2048 * 5,)
    for i, name in enumerate(["x1", "x2", "x3"]):
        row = table[table["factor"] == name].iloc[0]
        assert row["S1"] == pytest.approx(ISHIGAMI_S1[i], abs=0.04), name
        assert row["ST"] == pytest.approx(ISHIGAMI_ST[i], abs=0.04), name
        assert 0 < row["ST_conf"] < 0.1  # SALib's bootstrap interval: present, and tight at this size
    again, _, _ = indices(["x1", "x2", "x3"], ishigami, "sobol", samples=2048, seed=3)
    pd.testing.assert_frame_equal(table, again)  # the design and the bootstrap follow the seed


@pytest.mark.parametrize("method,samples", [("sobol", 4), ("morris", 4)])
def test_a_parameter_that_cannot_act_scores_zero(ukraine, method: str, samples: int) -> None:
    e = explore(ukraine, "ceasefire_only,aid_only", method=method, samples=samples, replicates=32, seed=7)
    idle = e.sensitivity[e.sensitivity["factor"] == "nato.accession_delay_months"]
    assert len(idle) == 9  # four outcomes under each option and the paired difference
    holding = idle[idle["measure"].str.startswith("hold_")]
    assert holding["ST"].notna().all()
    assert (idle["ST"].fillna(0).abs() < 1e-12).all() and (idle["S1"].fillna(0).abs() < 1e-12).all()
    # ... while what does act is seen, and the dice of 32 worlds carry some variance.
    gains = e.sensitivity[(e.sensitivity["factor"] == "russia.gains_value")
                          & (e.sensitivity["measure"] == "hold_36:aid_only")]
    assert gains["ST"].iloc[0] > 0.1 if method == "sobol" else gains["ST"].iloc[0] > 0.05
    dice = e.sensitivity[(e.sensitivity["factor"] == DICE) & (e.sensitivity["measure"] == "hold_36:aid_only")]
    assert dice["ST"].iloc[0] > 0


def test_factors_follow_the_options_and_the_posterior(ukraine, tmp_path) -> None:
    factors = {f.name: f for f in uncertain_factors(ukraine, ("nato_membership", "peacekeepers"))}
    troops = factors["united_kingdom.troops_offered"]
    assert troops.specs[0] is None and troops.specs[1] is not None  # drawn under peacekeepers only
    assert list(troops.values(1, np.array([0.5]))) == [20000.0]  # the triangle's median, a whole number
    assert troops.values(0, np.array([0.5])) is None
    assert "nato.invited" not in factors  # a lever set plainly by the option, not an uncertainty
    # A draws file sets the constants' ranges to its 5%-95% quantiles; a constant it lacks keeps
    # 10% either side of its calibrated value.
    draws = tmp_path / "draws.csv"
    draws.write_text("# test draws\ndraw,hazard_intercept\n"
                     + "".join(f"{i},{-7 + i / 100}\n" for i in range(101)))
    ranges = constant_ranges(draws)
    assert ranges["hazard_intercept"][:2] == pytest.approx((-6.95, -6.05))
    calibrated = CONSTANTS["tension_weight"].default
    assert ranges["tension_weight"][:2] == pytest.approx((calibrated * 0.9, calibrated * 1.1))
    assert "10% either side" in ranges["tension_weight"][2] and "posterior" in ranges["hazard_intercept"][2]
    assert set(ranges) == {"hazard_intercept", "hazard_exponent", "tension_weight", "tension_decay_per_month",
                           "undecided_optimism"}


def test_the_same_numbers_whatever_the_workers_and_a_point_is_the_model_run_directly(ukraine) -> None:
    args = dict(samples=2, replicates=48, seed=11)
    one = explore(ukraine, ("nato_membership", "peacekeepers"), engine=Sequential(), **args)
    two = explore(ukraine, ("nato_membership", "peacekeepers"), engine=Processes(2), **args)
    pd.testing.assert_frame_equal(one.design, two.design)
    pd.testing.assert_frame_equal(one.sensitivity, two.sensitivity)
    pd.testing.assert_frame_equal(one.discovery, two.discovery)
    other = explore(ukraine, ("nato_membership", "peacekeepers"), engine=Sequential(), samples=2, replicates=48,
                    seed=12)
    assert not other.design["russia.gains_value"].equals(one.design["russia.gains_value"])
    # Row 5 of the design, run by hand: its values as overrides, on the seed of its dice.
    row, seed = one.design.iloc[5], int(one.design["seed"].iloc[5])  # (a row of floats would round the seed)
    for i, option in enumerate(one.options):
        values = {f.name: (bool(row[f.name]) if f.kind == "bool" else float(row[f.name]))
                  for f in one.factors if f.specs[i] is not None}
        model = CeasefireModel(ukraine, option, worlds=48, rng=seed, collect=False, overrides=values)
        frame = model.run().outcomes()
        assert row[f"agreed:{option}"] == frame["agreed"].mean()
        assert row[f"hold_36:{option}"] == (frame["collapse_month"].fillna(1000) > 36).mean()
    assert one.design["seed"].nunique() == 2 * 2  # one seed per row of Saltelli's A and B matrices


def test_prim_recovers_a_planted_box() -> None:
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.uniform(size=(2000, 5)), columns=[f"x{i}" for i in range(1, 6)])
    inside = (x["x2"] > 0.6) & (x["x4"] < 0.3)
    noisy = inside.to_numpy() ^ (rng.uniform(size=len(x)) < 0.05)  # a few wrong labels, as replicates leave
    box = find_boxes(x, noisy, "planted")[0]
    limits = {r.factor: r for r in box.restrictions}
    assert set(limits) == {"x2", "x4"}
    assert limits["x2"].lower and not limits["x2"].upper and limits["x2"].low == pytest.approx(0.6, abs=0.05)
    assert limits["x4"].upper and not limits["x4"].lower and limits["x4"].high == pytest.approx(0.3, abs=0.05)
    # The mislabelled points outside the box (about 88) cap its coverage near 0.8.
    assert box.coverage > 0.7 and box.density > 0.9


def test_discovery_looks_for_the_rarer_answer() -> None:
    rng = np.random.default_rng(6)
    x = pd.DataFrame(rng.uniform(size=(1500, 3)), columns=["a", "b", "c"])
    wins = (x["a"] > 0.15).to_numpy()  # A wins in about 85% of the points; B where a is small
    boxes, text = discover(x, wins, Question("A beats B", "A wins", "A does not beat B", "B wins"))
    assert boxes[0].label == "A does not beat B, box 1"
    assert [r.factor for r in boxes[0].restrictions] == ["a"] and boxes[0].restrictions[0].upper
    assert text.startswith(f"A wins in {wins.mean():.0%} of the 1,500 combinations")
    assert f"B wins in the other {1 - wins.mean():.0%}" in text
    none, text = discover(x, np.zeros(len(x), bool), Question("A beats B", "A wins", "A does not beat B", "B wins"))
    assert none[0].cases == 0 and text == "A wins in none of the 1,500 combinations of inputs sampled."


def test_cli_end_to_end_writes_the_tables_and_figures(ukraine, tmp_path, capsys) -> None:
    out = tmp_path / "explore"
    code = main(["explore", "ukraine_2025", "--options", "nato_membership,peacekeepers", "--samples", "2",
                 "--replicates", "32", "--seed", "3", "--workers", "1", "--out", str(out), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    k = len(uncertain_factors(ukraine, ("nato_membership", "peacekeepers")))
    assert f"nato_membership vs peacekeepers, sobol, {2 * (k + 3)} design points x 32 worlds, {k} factors" in printed
    assert "What decides the difference in holding at 36 months" in printed
    sens = pd.read_csv(out / "sensitivity.csv")
    assert list(sens.columns) == SENSITIVITY_COLUMNS
    disc = pd.read_csv(out / "discovery.csv")
    assert list(disc.columns) == DISCOVERY_COLUMNS
    assert set(disc["box"].str.rsplit(",", n=1).str[0]) <= {
        "nato_membership beats peacekeepers", "nato_membership does not beat peacekeepers",
        "nato_membership holds 36 months", "nato_membership does not hold 36 months"}
    # Factor names are the world table's column names (what a world draws), plus the dice.
    columns = set()
    for option in ("nato_membership", "peacekeepers"):
        columns |= set(CeasefireModel(ukraine, option, worlds=2, rng=1, collect=False).outcomes().columns)
    factors = set(sens["factor"]) - {DICE}
    assert {f for f in factors if not f.startswith("constants.")} <= columns
    assert {f for f in factors if f.startswith("constants.")} == {
        "constants.hazard_intercept", "constants.hazard_exponent", "constants.tension_weight",
        "constants.tension_decay_per_month", "constants.undecided_optimism"}
    assert len(sens) == 9 * (len(factors) + 1)
    design = pd.read_csv(out / "design.csv")
    assert len(design) == 2 * (len(factors) + 3) and factors <= set(design.columns)
    for name in ("sensitivity.png", "discovery.png", "reading.txt", "factors.csv", "explore.json"):
        assert (out / name).stat().st_size > 0, name
    # A second run into the same folder needs --force; Morris runs too.
    assert main(["explore", "ukraine_2025", "--options", "nato_membership,peacekeepers", "--samples", "2",
                 "--replicates", "16", "--workers", "1", "--out", str(out), "--quiet", "--no-plots"]) == 2
    assert main(["explore", "ukraine_2025", "--options", "nato_membership,peacekeepers", "--method", "morris",
                 "--samples", "2", "--replicates", "16", "--workers", "1", "--out", str(out), "--quiet",
                 "--no-plots", "--force"]) == 0
    morris = pd.read_csv(out / "sensitivity.csv")
    assert list(morris.columns) == SENSITIVITY_COLUMNS and morris["S1_conf"].isna().all()


@pytest.mark.parametrize("argv,message", [
    (["--options", "nato_membership"], "give two, comma-separated"),
    (["--options", "nato_membership,nato_membership"], "two different options"),
    (["--options", "nato_membership,peacekeeper"], "peacekeepers"),
    (["--options", "nato_membership,peacekeepers", "--samples", "12"], "power of two"),
])
def test_cli_refuses_bad_arguments_in_one_line(argv: list[str], message: str, tmp_path, capsys) -> None:
    assert main(["explore", "ukraine_2025", *argv, "--workers", "1", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_ema_workbench_experiments_give_what_geosim_gives(ukraine) -> None:
    from ema_workbench import Sample, SequentialEvaluator

    from simulator.explore.discovery import quiet
    from simulator.explore.ema import ema_model, variable

    options = ["nato_membership", "peacekeepers"]
    model = ema_model(ukraine, options, worlds=64, seed=5)
    names = [u.name for u in model.uncertainties]
    assert names == [f.name.replace(".", "__") for f in uncertain_factors(ukraine, options)]
    with quiet(), SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=3, policies=[Sample("a", option=options[0]), Sample("b", option=options[1])])
    assert len(experiments) == 6 and set(outcomes) == {"agreed", "hold_12", "hold_36", "direct_clash"}
    ranges = constant_ranges()
    for k, row in experiments.iterrows():
        option = row["option"]
        params = {(p.actor, p.name): p.spec for p in ukraine.parameters(option)}
        values = {}
        for name in names:
            dotted = variable(name)
            actor, _, pname = dotted.partition(".")
            if actor == "constants":
                lo, hi, _ = ranges[pname]
                values[dotted] = lo + (hi - lo) * float(row[name])
            elif not hasattr(params[(actor, pname)], "value"):  # drawn under this option
                v = float(params[(actor, pname)].ppf(np.array([float(row[name])]))[0])
                values[dotted] = round(v) if pname == "troops_offered" else v
        frame = CeasefireModel(ukraine, option, worlds=64, rng=5, collect=False, overrides=values).run().outcomes()
        held = frame["collapse_month"].fillna(1000)
        assert outcomes["agreed"][k] == frame["agreed"].mean()
        assert outcomes["hold_12"][k] == (held > 12).mean()
        assert outcomes["hold_36"][k] == (held > 36).mean()
        assert outcomes["direct_clash"][k] == frame["direct_clash"].mean()
    # Different inputs give different outcomes: the adapter does pass them on.
    assert len(set(outcomes["hold_36"])) > 1


def test_point_seeds_follow_the_dice() -> None:
    assert point_seed(1, 0.25) == point_seed(1, 0.25) != point_seed(1, 0.75)
    assert point_seed(1, 0.25) != point_seed(2, 0.25)
    assert 0 <= point_seed(2**40, 1.0) < 2**63


def test_option_worlds_match_the_world_table(ukraine) -> None:
    measured = option_worlds(ukraine, "peacekeepers", 40, 60, 9, {"russia.gains_value": 0.5})
    frame = CeasefireModel(ukraine, "peacekeepers", worlds=40, rng=9, collect=False,
                           overrides={"russia.gains_value": 0.5}).run().outcomes()
    assert list(measured["agreed"]) == list(frame["agreed"].astype(float))
    assert list(measured["direct_clash"]) == list(frame["direct_clash"].astype(float))
