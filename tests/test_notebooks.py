"""The notebooks run from a clean kernel and draw figures; the generated reading says what the numbers say.

Each notebook in ``notebooks/`` is executed with nbclient (kernel ``python3``, working
directory ``notebooks/``) and must finish without an error and produce at least one image.
Each starts with a cell tagged ``parameters`` (papermill-style) that every later cell reads;
the notebooks are also run on a second, small scenario with other parameters injected into
that cell, and no other code cell may name the shipped scenario, its options or its actors.
The reading and table functions of ``simulator.report`` are checked against small hand-built results.

To refresh the outputs saved in the notebooks after a change, run this file as a script:
``python tests/test_notebooks.py`` (it executes every notebook and writes it back).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import CeasefireModel, Results, run
from simulator.analysis.differences import DIFFERENCE_COLUMNS
from simulator.analysis.results import summary_columns
from simulator.report.figures import plot_world
from simulator.report.reading import describe, describe_sweep
from simulator.report.tables import difference_table, probability_table

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {"01_nato_vs_peacekeepers.ipynb", "02_inside_a_world.ipynb", "03_what_if.ipynb",
            "04_what_decides.ipynb"}
CELL_TIMEOUT = 300


def execute(path: Path, parameters: dict[str, object] | None = None):
    """Run a notebook top to bottom in a fresh ``python3`` kernel, in ``notebooks/``; return it executed.

    ``parameters`` are set on top of the notebook's parameters cell first (``with_parameters``).
    """
    nbformat = pytest.importorskip("nbformat", reason="install the test extra (make test) to run notebooks")
    nbclient = pytest.importorskip("nbclient", reason="install the test extra (make test) to run notebooks")
    nb = nbformat.read(path, as_version=4)
    if parameters:
        with_parameters(nb, **parameters)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", record_timing=False,
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb


def parameters_cell(nb):
    """The code cell tagged ``parameters`` (there must be exactly one, before any other code cell)."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{len(tagged)} cells tagged 'parameters'"
    assert code[0] is tagged[0], "the parameters cell must be the first code cell"
    return tagged[0]


def parameter_names(nb) -> list[str]:
    """The names the parameters cell assigns, in order."""
    return re.findall(r"^([A-Z][A-Z0-9_]*) *=", parameters_cell(nb).source, flags=re.MULTILINE)


def with_parameters(nb, **values: object) -> None:
    """Set ``values`` in the parameters cell, papermill-style: the cell's source becomes its defaults
    followed by the injected assignments, so the names not given keep their defaults."""
    unknown = set(values) - set(parameter_names(nb))
    assert not unknown, f"not parameters of this notebook: {sorted(unknown)}"
    cell = parameters_cell(nb)
    cell.source += "\n\n# Injected parameters\n" + "\n".join(f"{k} = {v!r}" for k, v in values.items())


def printed(nb) -> str:
    """Everything the code cells printed or displayed as text or Markdown, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            for kind in ("text/plain", "text/markdown"):
                parts.append(out.get("data", {}).get(kind, ""))
    return "\n".join(parts)


def images(nb) -> int:
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []))


def errors(nb) -> list[str]:
    return [f"{out.get('ename')}: {out.get('evalue')}" for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def test_the_four_notebooks_are_there() -> None:
    assert EXPECTED <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_from_a_clean_kernel_and_draws(path: Path) -> None:
    nb = execute(path)
    assert not errors(nb)
    assert images(nb) >= 1, f"{path.name} produced no figure"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_notebook_carries_its_outputs(path: Path) -> None:
    """Committed notebooks are stored executed, so they read well on a code host."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code), f"{path.name} is saved unexecuted"
    assert images(nb) >= 1 and not errors(nb)


# ------------------------------------------------------------------ parameters, and another scenario


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_a_parameters_cell(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    names = parameter_names(nbformat.read(path, as_version=4))
    assert {"SCENARIO", "OPTIONS", "WORLDS", "SEED"} <= set(names), names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_the_parameters_cell_names_the_shipped_scenario(path: Path, ukraine) -> None:
    """Other code picks its options and actors from the scenario, so it runs on any scenario."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    params = parameters_cell(nb)
    assert re.search(rf"^SCENARIO = ['\"]{ukraine.name}['\"]", params.source, flags=re.MULTILINE)  # the default
    names = [ukraine.name, *ukraine.options, *ukraine.actors]
    for cell in nb.cells:
        if cell.cell_type == "code" and cell is not params:
            found = [n for n in names if re.search(rf"\b{n}\b", cell.source)]
            assert not found, f"cell {cell.get('id')} names {found}"


# A second scenario, small and unlike the shipped one: a patron, but no alliance and no force,
# and a horizon shorter than 36 months, with its own facts file.
OTHER_FACTS = """\
facts:
  - {id: northland_claims, claim: Northland claims the border province it held before the war.}
  - {id: patronia_arms, claim: Patronia has promised arms to Southland if a truce holds.}
"""
OTHER_SCENARIO = """\
name: northland_truce
description: A made-up truce between Northland and Southland, with Patronia as patron.
horizon_months: 24
worlds: 1000
seed: 11
seeds: facts.yaml
actors:
  northland:
    role: challenger
    label: Northland
    gains_value: {dist: lognormal, median: 1.0, sigma: 0.8, source: "seed:northland_claims"}
  southland:
    role: defender
    label: Southland
  patronia:
    role: patron
    label: Patronia
    resolve: {dist: beta, a: 2, b: 3, source: "judgement: less than an even chance"}
baseline: truce_only
options:
  truce_only:
    description: The truce alone.
  arms_aid:
    description: Patronia sends arms while its will lasts.
    actors:
      patronia:
        aid_bn_per_year: {value: 20, source: "seed:patronia_arms"}
  defence_pact:
    description: Arms and a defence pact.
    based_on: arms_aid
    actors:
      patronia:
        commitment: {value: 0.6, source: "judgement: a pact short of an alliance"}
"""
OTHER_OPTIONS = ("truce_only", "arms_aid", "defence_pact")
# Small runs: each notebook in a few seconds.
OTHER_PARAMETERS = {
    "01_nato_vs_peacekeepers.ipynb": {"WORLDS": 1500, "POSTERIOR": 2, "POSTERIOR_WORLDS": 500},
    "02_inside_a_world.ipynb": {"WORLDS": 600, "RECORDED": 60},
    "03_what_if.ipynb": {"WORLDS": 600, "PREVENTIVE_WEIGHTS": [0, 1]},
    "04_what_decides.ipynb": {"WORLDS": 600},
}


@pytest.fixture
def other_scenario(tmp_path: Path) -> Path:
    (tmp_path / "facts.yaml").write_text(OTHER_FACTS, encoding="utf-8")
    path = tmp_path / "northland_truce.yaml"
    path.write_text(OTHER_SCENARIO, encoding="utf-8")
    return path


def test_the_other_scenario_is_valid_and_unlike_the_shipped_one(other_scenario: Path) -> None:
    from simulator import load_scenario

    sc = load_scenario(other_scenario)
    assert tuple(sc.options) == OTHER_OPTIONS and sorted(sc.facts) == ["northland_claims", "patronia_arms"]
    assert {a.role for a in sc.actors.values()} == {"challenger", "defender", "patron"}
    assert sc.horizon_months < 36
    assert set(OTHER_PARAMETERS) == EXPECTED


def test_notebook_01_runs_on_another_scenario(other_scenario: Path) -> None:
    nb = execute(NOTEBOOK_DIR / "01_nato_vs_peacekeepers.ipynb",
                 {"SCENARIO": str(other_scenario), **OTHER_PARAMETERS["01_nato_vs_peacekeepers.ipynb"]})
    assert not errors(nb) and images(nb) >= 1
    text = printed(nb)
    assert "northland_truce: 3 options x 1,500 worlds, seed 11, horizon 24 months" in text
    assert "options run: truce_only, arms_aid, defence_pact" in text
    assert "a pending accession: none; a force on the line: none" in text
    assert all(f"`{o}`" in text for o in OTHER_OPTIONS)  # the generated reading names every option
    assert "Northland (challenger) refuses the baseline 'truce_only'" in text
    assert "ceasefire_only" not in text and "ukraine" not in text.lower()


@pytest.mark.parametrize("name", ["02_inside_a_world.ipynb", "03_what_if.ipynb"])
def test_other_notebooks_skip_what_another_scenario_lacks(name: str, other_scenario: Path) -> None:
    nb = execute(NOTEBOOK_DIR / name, {"SCENARIO": str(other_scenario), **OTHER_PARAMETERS[name]})
    assert not errors(nb) and images(nb) >= 1
    text = printed(nb)
    assert "northland_truce: baseline 'truce_only'" in text
    assert "ceasefire_only" not in text and "ukraine" not in text.lower()
    if name.startswith("02"):
        assert "no option; a force on the line: no option" in text
        assert "the sections on a pending accession are skipped" in text
        assert "the sections on the tripwire are skipped" in text
    else:
        assert text.count("has this lever: skipped") == 3  # troops, delay and backstop
        assert "`patronia.aid_bn_per_year` from 0 to 90" in text and "`patronia.stake` from 0.0 to 1.0" in text
        assert "the preventive motive is zero: skipped" in text


def test_notebook_04_degrades_on_another_scenario(other_scenario: Path) -> None:
    """Its default options are not in the other scenario, whose horizon is too short to explore: it says so,
    picks two options of its own and compares them at the horizon."""
    nb = execute(NOTEBOOK_DIR / "04_what_decides.ipynb",
                 {"SCENARIO": str(other_scenario), **OTHER_PARAMETERS["04_what_decides.ipynb"]})
    assert not errors(nb) and images(nb) >= 1
    text = printed(nb)
    assert "'nato_membership' is not an option of northland_truce: using 'arms_aid' (the next option)" in text
    assert "'peacekeepers' is not an option of northland_truce: using 'defence_pact' (the next option)" in text
    assert "northland_truce: baseline 'truce_only', horizon 24 months; A = 'arms_aid', B = 'defence_pact'" in text
    assert "the horizon of northland_truce is 24 months: sections 1 to 3 are skipped" in text
    assert "the sections on the delay, vetoes and the preventive motive are skipped" in text
    assert "gives a guarantee at once: skipped" in text and "gives a force during a pending accession: skipped" in text
    assert "Holding at 24 months (the horizon) overall, 'arms_aid': " in text
    assert "ceasefire_only" not in text and "ukraine" not in text.lower()


# ------------------------------------------------------------------ the reading, on hand-built results


def _summary(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """A summary table: every option holds with probability ``hold`` (interval +-3 points) unless told."""
    out = []
    for option, v in rows.items():
        r = {c: np.nan for c in summary_columns()}
        r.update(option=option, worlds=1000, p_agreed=0.9, p_agreed_lo=0.88, p_agreed_hi=0.92,
                 mean_aid_bn=0.0, mean_troops=0.0, p_direct_clash=0.0, p_direct_clash_lo=0.0,
                 p_direct_clash_hi=0.004)
        hold = v.get("hold", 0.5)
        for key in ("p_hold_12", "p_hold_24", "p_hold_36", "p_hold_horizon"):
            r[key], r[key + "_lo"], r[key + "_hi"] = hold, hold - 0.03, hold + 0.03
        for key, value in v.items():
            if key != "hold":
                r[key] = value
        out.append(r)
    return pd.DataFrame(out, columns=summary_columns())


def _pairs(diffs: dict[tuple[str, str], tuple[float, float, float]], measure: str = "hold_36") -> pd.DataFrame:
    rows = [{"option": o, "baseline": b, "measure": measure, "difference": d, "lower": lo, "upper": hi,
             "worlds": 1000} for (o, b), (d, lo, hi) in diffs.items()]
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def _results(summary: pd.DataFrame, pairs: pd.DataFrame, horizon: int = 60) -> Results:
    return Results(summary=summary, survival=pd.DataFrame(), pairs=pairs,
                   manifest={"baseline": "base", "worlds": 1000, "seed": 7, "horizon_months": horizon})


@pytest.fixture
def hand_built() -> Results:
    summary = _summary({
        "base": {"hold": 0.40},
        "alpha": {"hold": 0.41, "mean_aid_bn": 60.0},
        "beta": {"hold": 0.55, "mean_troops": 15000.0, "p_direct_clash": 0.03, "p_direct_clash_lo": 0.02,
                 "p_direct_clash_hi": 0.04},
        "gamma": {"hold": 0.33},
    })
    pairs = _pairs({
        ("alpha", "base"): (0.01, -0.01, 0.03),    # interval includes zero
        ("beta", "base"): (0.15, 0.12, 0.18),      # above, excludes zero
        ("gamma", "base"): (-0.07, -0.09, -0.05),  # below, excludes zero
        ("beta", "alpha"): (0.14, 0.11, 0.17),
        ("base", "gamma"): (0.07, 0.05, 0.09),
    })
    return _results(summary, pairs)


def _ranked(text: str) -> list[str]:
    return re.findall(r"^\d+\. `(\w+)`", text, flags=re.MULTILINE)


def _line(text: str, option: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"- `{option}`: ") and "percentage" in line)


def test_reading_ranks_the_most_stable_option_first(hand_built: Results) -> None:
    text = describe(hand_built)
    assert _ranked(text) == ["beta", "alpha", "base", "gamma"]
    assert "1. `beta`: 55.0%" in text
    assert "at 36 months" in text
    assert text._repr_markdown_() == str(text)  # a notebook shows it rendered


def test_reading_says_when_an_interval_includes_zero(hand_built: Results) -> None:
    text = describe(hand_built)
    alpha = _line(text, "alpha")
    assert "+1.0 percentage points (95% interval -1.0 to +3.0)" in alpha
    assert "includes zero" in alpha and "excludes zero" not in alpha and "higher" not in alpha
    assert "excludes zero: higher than the baseline" in _line(text, "beta")
    assert "excludes zero: lower than the baseline" in _line(text, "gamma")
    # neighbours in the ranking that cannot be told apart are flagged
    assert re.search(r"2\. `alpha`.*Not distinguishable from `base`.*includes zero", text)


def test_reading_notes_price_and_direct_clash_risk(hand_built: Results) -> None:
    text = describe(hand_built)
    assert "`beta`: aid 0 bn USD, troops 15,000, direct clash 3.0% (95% interval 2.0% to 4.0%)" in text
    assert "`alpha`: aid 60 bn USD, troops 0, no direct clash in any world" in text
    assert "`beta`, also has the highest estimated risk of a direct clash" in text


def test_reading_with_no_clash_anywhere_and_a_short_horizon() -> None:
    summary = _summary({"base": {"hold": 0.5}, "alpha": {"hold": 0.6}})
    summary[["p_hold_36", "p_hold_36_lo", "p_hold_36_hi"]] = np.nan  # a 24-month horizon
    pairs = _pairs({("alpha", "base"): (0.0, 0.0, 0.0)}, measure="hold_horizon")
    text = describe(_results(summary, pairs, horizon=24))
    assert "to the end of the horizon (24 months)" in text
    assert _ranked(text) == ["alpha", "base"]
    assert "the same outcome as the baseline in every world" in text
    assert "No option led to a direct clash" in text


def test_tables_show_intervals_and_the_zero_check(hand_built: Results) -> None:
    table = probability_table(hand_built, columns=("p_hold_36",))
    assert table.loc["beta", "holds 36 months, %"] == "55.0 (52.0-58.0)"
    diff = difference_table(hand_built, measures=("hold_36",))
    assert not diff.loc[("alpha", "holds 36 months"), "excludes_zero"]
    assert diff.loc[("gamma", "holds 36 months"), "excludes_zero"]
    assert diff.loc[("beta", "holds 36 months"), "difference_pp"] == 15.0


def test_sweep_reading_from_hand_built_table() -> None:
    names = ["lever=0", "lever=1", "lever=2"]
    summary = _summary({"base": {"hold": 0.4}, names[0]: {"hold": 0.4}, names[1]: {"hold": 0.45},
                        names[2]: {"hold": 0.42}})
    pairs = _pairs({(names[2], names[0]): (0.02, -0.01, 0.05), (names[0], "base"): (0.0, 0.0, 0.0),
                    (names[1], "base"): (0.05, 0.03, 0.07), (names[2], "base"): (0.02, -0.01, 0.05)})
    results = _results(summary, pairs)
    table = summary.iloc[1:].reset_index(drop=True)
    table.insert(1, "value", [0, 1, 2])
    table.insert(1, "parameter", "actor.lever")
    text = describe_sweep(table, results)
    assert "ranges from 40.0% (95% interval 37.0% to 43.0%) at 0 to 45.0%" in text
    assert ("From 0 to 2, world by world: +2.0 percentage points (95% interval -1.0 to +5.0); "
            "the interval includes zero") in text
    assert "above it (interval excluding zero) at 1" in text
    assert "not distinguishable from it at 2" in text
    assert "the same as it in every world at 0" in text


def test_reading_of_a_real_run_names_every_option(ukraine) -> None:
    results = run(ukraine, worlds=600, horizon_months=36, progress=False)
    text = describe(results)
    assert sorted(_ranked(text)) == sorted(results.options)
    best = results.summary.sort_values("p_hold_36", ascending=False, kind="stable")["option"].iloc[0]
    assert _ranked(text)[0] == best


def test_plot_world_draws_a_recorded_world(ukraine) -> None:
    import matplotlib.pyplot as plt

    model = CeasefireModel(ukraine, "nato_membership", worlds=5, record_worlds=5, horizon_months=24).run()
    fig = plot_world(model.trace(), world=3)
    assert len(fig.axes) >= 4
    plt.close(fig)
    with pytest.raises(ValueError, match="not in the trace"):
        plot_world(model.trace(), world=99)


if __name__ == "__main__":  # refresh the outputs saved in the notebooks
    import nbformat

    for nb_path in sorted(NOTEBOOK_DIR.glob(sys.argv[1] if len(sys.argv) > 1 else "*.ipynb")):
        t0 = time.perf_counter()
        executed = execute(nb_path)
        nbformat.write(executed, nb_path)
        print(f"{nb_path.name}: {time.perf_counter() - t0:.1f} s, {images(executed)} figures")
