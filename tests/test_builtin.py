"""Built-in scenarios and package data: found by name, from any folder, one copy of each file."""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import simulator
import simulator.data as data
from simulator import cli
from simulator.history import settings
from simulator.scenario.load import load_facts

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DATA = Path(data.__file__).parent


def test_the_builtin_scenarios_and_data_files_are_package_data() -> None:
    assert "ukraine_2025" in data.scenario_names()
    assert data.scenario_path("ukraine_2025") == PACKAGE_DATA / "scenarios" / "ukraine_2025.yaml"
    assert data.facts_path().is_file()
    for name in ("historical_ceasefires.csv", "war_outcomes.csv", "fortna_civil_ceasefires.csv", "README.md"):
        assert data.data_path(name).parent == PACKAGE_DATA / "history"
    # validate and calibrate read their defaults from there, whatever the current folder
    assert settings.DEFAULT_CASES == data.data_path("historical_ceasefires.csv")
    assert settings.DEFAULT_FORTNA == data.data_path("fortna_civil_ceasefires.csv")
    assert settings.DEFAULT_WAR_OUTCOMES == data.data_path("war_outcomes.csv")


def test_unknown_names_in_the_data_api_suggest_the_closest() -> None:
    with pytest.raises(simulator.UsageError, match="did you mean 'ukraine_2025'"):
        data.scenario_path("ukraine_2052")
    with pytest.raises(simulator.UsageError, match="did you mean 'war_outcomes.csv'"):
        data.data_path("war_outcome.csv")


@pytest.mark.parametrize("folder, target", [("scenarios", "scenarios"), ("seeds", "seeds"), ("data", "history")])
def test_the_checkout_folders_are_relative_links_into_the_package(folder: str, target: str) -> None:
    link = ROOT / folder
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))  # survives moving the checkout
    assert link.resolve() == (PACKAGE_DATA / target).resolve()


def test_a_checkout_path_and_the_builtin_name_load_the_same_file() -> None:
    by_path = simulator.load_scenario(ROOT / "scenarios" / "ukraine_2025.yaml")  # its seeds: goes through the link
    by_name = simulator.load_scenario("ukraine_2025")
    assert by_path.sha256 == by_name.sha256
    assert by_path.facts == by_name.facts == load_facts(data.facts_path())
    assert Path(by_name.path) == data.scenario_path("ukraine_2025")


def test_a_builtin_scenario_loads_by_name_from_any_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    sc = simulator.load_scenario("ukraine_2025")
    assert sc.name == "ukraine_2025" and sc.baseline == "ceasefire_only" and len(sc.options) == 8
    assert hashlib.sha256(data.scenario_path("ukraine_2025").read_bytes()).hexdigest() == sc.sha256


def test_a_path_that_exists_wins_over_a_builtin_name(tmp_path: Path, monkeypatch) -> None:
    text = data.scenario_path("ukraine_2025").read_text(encoding="utf-8")
    local = text.replace("name: ukraine_2025", "name: my_copy").replace(
        "seeds: ../seeds/facts.yaml", f"seeds: {data.facts_path()}")
    (tmp_path / "ukraine_2025").write_text(local, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert simulator.load_scenario("ukraine_2025").name == "my_copy"


def test_an_unknown_name_suggests_a_builtin_one_and_the_command_that_lists_them(tmp_path: Path, monkeypatch,
                                                                                capsys) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(simulator.UsageError) as info:
        simulator.load_scenario("ukrain_2025")
    assert "did you mean 'ukraine_2025'?" in str(info.value) and "'geosim scenarios'" in str(info.value)
    for command in (["run", "ukrain_2025"], ["check", "ukrain_2025"], ["sources", "ukrain_2025"]):
        assert cli.main(command) == 2
        err = capsys.readouterr().err
        assert err.startswith("geosim: no scenario file or built-in scenario named 'ukrain_2025'"), err
    # the built-in file name, where no such file is, points at the name
    assert cli.main(["check", "ukraine_2025.yaml"]) == 2
    assert "give its name alone: 'ukraine_2025'" in capsys.readouterr().err


def test_geosim_scenarios_lists_each_with_its_options(capsys) -> None:
    assert cli.main(["scenarios"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 * len(data.scenario_names())
    at = out.index("ukraine_2025  Russia and Ukraine agree a ceasefire.")
    assert out[at + 1] == ("  options: ceasefire_only (baseline), nato_membership, peacekeepers, "
                           "peacekeepers_no_backstop, aid_only, minerals_deal, article5_guarantee, bridge_force")
    assert out[at + 2] == f"  file:    {data.scenario_path('ukraine_2025')}"


def test_check_sources_and_run_take_a_builtin_name(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "ukraine_2025"]) == 0
    assert "ok - scenario 'ukraine_2025', 5 actors, 8 options" in capsys.readouterr().out
    assert cli.main(["sources", "ukraine_2025", "--format", "csv"]) == 0
    assert "united_kingdom,troops_offered" in capsys.readouterr().out
    assert cli.main(["run", "ukraine_2025", "--worlds", "300", "--option", "peacekeepers",
                     "--no-plots", "--quiet"]) == 0
    with open(tmp_path / "results" / "ukraine_2025" / "summary.csv", newline="") as fh:  # the default output
        assert [row["option"] for row in csv.DictReader(fh)] == ["ceasefire_only", "peacekeepers"]


SCENARIO_WITHOUT_SEEDS = """\
name: own
horizon_months: 12
worlds: 100
seed: 1
actors:
  russia:
    role: challenger
    capability: {value: 2.0, source: "seed:%s"}
  ukraine: {role: defender}
baseline: nothing
options:
  nothing: {}
"""


def test_a_scenario_without_seeds_cites_the_builtin_facts_from_anywhere(tmp_path: Path) -> None:
    fact = sorted(load_facts(data.facts_path()))[0]
    path = tmp_path / "own.yaml"
    path.write_text(SCENARIO_WITHOUT_SEEDS % fact, encoding="utf-8")
    assert simulator.load_scenario(path).facts == load_facts(data.facts_path())


def test_a_scenario_without_seeds_prefers_the_facts_beside_it(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "facts.yaml").write_text("facts:\n  - {id: own_fact, claim: a fact of our own}\n",
                                                   encoding="utf-8")
    (tmp_path / "scenarios").mkdir()
    path = tmp_path / "scenarios" / "own.yaml"
    path.write_text(SCENARIO_WITHOUT_SEEDS % "own_fact", encoding="utf-8")
    assert list(simulator.load_scenario(path).facts) == ["own_fact"]


def test_builtin_scenarios_load_when_the_package_is_imported_from_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "geosim.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (ROOT / "simulator").rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, path.relative_to(ROOT).as_posix())
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import simulator\n"
            "assert simulator.__file__.startswith(sys.argv[1]), simulator.__file__\n"
            "sc = simulator.load_scenario('ukraine_2025')\n"
            "print(sc.name, len(sc.facts), sc.path.startswith(sys.argv[1]))")
    done = subprocess.run([sys.executable, "-c", code, str(archive)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    name, facts, inside = done.stdout.split()
    # extracted to a real folder, so that the scenario's relative seeds: path resolves
    assert (name, int(facts) > 0, inside) == ("ukraine_2025", True, "False")


def test_outputs_name_shipped_tables_the_same_on_every_machine(tmp_path) -> None:
    from simulator.data import data_path, shown_path

    assert shown_path(data_path("war_outcomes.csv")) == "data/war_outcomes.csv"
    mine = tmp_path / "war_outcomes.csv"  # a user's own file of the same name is shown as given
    mine.write_text("case_id,war_outcome,reason\n")
    assert shown_path(mine) == str(mine)
