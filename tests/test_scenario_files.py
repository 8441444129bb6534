"""The shipped scenarios validate and every number in them names a real source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator import load_scenario
from simulator.scenario.provenance import sources_table

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
REQUIRED_OPTIONS = {"ceasefire_only", "nato_membership", "peacekeepers", "peacekeepers_no_backstop",
                    "aid_only", "minerals_deal"}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenarios_check(path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "simulator", "check", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert ": ok - scenario" in result.stdout


def test_ukraine_has_the_five_actors_and_required_options(ukraine) -> None:
    roles = {a.name: a.role for a in ukraine.actors.values()}
    assert sorted(roles.values()) == sorted(
        ["challenger", "defender", "patron", "force_contributor", "alliance"])
    assert REQUIRED_OPTIONS <= set(ukraine.options)
    assert ukraine.baseline == "ceasefire_only"
    assert ukraine.options["ceasefire_only"].changes == {}


def test_every_number_in_the_ukraine_file_cites_a_source(ukraine) -> None:
    missing = [f"{a}.{p}" for (a, p), spec in ukraine.base.items() if not spec.source]
    for opt in ukraine.options.values():
        missing += [f"{opt.name}:{a}.{p}" for (a, p), spec in opt.changes.items() if not spec.source]
    assert missing == []


def test_seed_citations_resolve_to_facts(ukraine) -> None:
    table = sources_table(ukraine)
    cited = set()
    for src in table["source"]:
        for part in src.split(";"):
            part = part.strip()
            if part.startswith("seed:"):
                cited |= {f.strip() for f in part[5:].split(",")}
    assert cited, "the Ukraine scenario should cite the seed article"
    assert cited <= set(ukraine.facts)


def test_sources_command_lists_every_parameter(ukraine_path: Path, ukraine) -> None:
    result = subprocess.run([sys.executable, "-m", "simulator", "sources", "--format", "csv",
                             str(ukraine_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "scope,actor,parameter,value,origin,source"
    assert len(lines) - 1 == len(sources_table(ukraine))
    assert any("seed:us_aid_175bn" in line for line in lines)


def test_options_change_only_levers_the_file_names(ukraine) -> None:
    peace = {p.name: p for p in ukraine.parameters("peacekeepers") if p.actor == "united_kingdom"}
    base = {p.name: p for p in ukraine.parameters("ceasefire_only") if p.actor == "united_kingdom"}
    changed = [name for name in peace if peace[name].spec != base[name].spec]
    assert changed == ["troops_offered"]
