"""The examples in docs/scenarios.md are valid, and its claims match the code.

Every ```yaml block that is a complete scenario (it has a top-level ``actors:``) must load.
A block that opens with ``# file: PATH`` is a file of a worked example, written at PATH.
Every other ```yaml block is a fragment: a few parameters, ``constants:``, or ``options:``.
The test places each fragment into the page's first complete example and loads the result.
A fragment that starts with ``# geosim check refuses this`` must be refused instead.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

import simulator
from simulator import cli
from simulator.scenario.distributions import DIST_NAMES
from simulator.scenario.params import CONSTANTS, REGISTRY

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "scenarios.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```yaml\n(.*?)^```", TEXT, flags=re.S | re.M)
COMPLETE = [b for b in BLOCKS if re.search(r"^actors:", b, flags=re.M)]
# Blocks that open with "# file: PATH" are files of a worked example (a facts file and its
# scenario): every test's copy of the layout holds them at PATH.
FILES = {m[1]: b for b in BLOCKS if (m := re.match(r"# file: (\S+)\n", b))}
FRAGMENTS = [b for b in BLOCKS if b not in COMPLETE and b not in FILES.values()]
REFUSED = "# geosim check refuses this"


def _layout(tmp_path: Path) -> Path:
    """A copy of the repository's layout: scenarios/ next to seeds/facts.yaml."""
    (tmp_path / "seeds").mkdir()
    shutil.copy(ROOT / "seeds" / "facts.yaml", tmp_path / "seeds" / "facts.yaml")
    (tmp_path / "scenarios").mkdir()
    for path, text in FILES.items():
        (tmp_path / path).write_text(text, encoding="utf-8")
    return tmp_path / "scenarios"


def test_the_page_has_examples() -> None:
    assert len(COMPLETE) >= 2
    assert len(FRAGMENTS) >= 8


@pytest.mark.parametrize("block", COMPLETE, ids=[f"complete-{i}" for i in range(len(COMPLETE))])
def test_complete_examples_load(block: str, tmp_path: Path) -> None:
    path = _layout(tmp_path) / "example.yaml"
    path.write_text(block, encoding="utf-8")
    scenario = simulator.load_scenario(path)
    assert scenario.baseline in scenario.options


def _place(fragment: dict, base: dict) -> dict:
    """Put a fragment where it belongs in a copy of the base scenario."""
    data = yaml.safe_load(yaml.safe_dump(base))
    top_level = {"constants", "options", "baseline"}
    if set(fragment) <= top_level:
        data.update(fragment)
        return data
    roles = [role for role, params in REGISTRY.items() if set(fragment) <= set(params)]
    assert roles, f"no role has all of {sorted(fragment)}"
    role = roles[0]
    for name, body in data["actors"].items():
        if body["role"] == role and role in ("challenger", "defender"):
            body.update(fragment)
            return data
    data["actors"][f"example_{role}"] = {"role": role, **fragment}
    return data


@pytest.mark.parametrize("block", FRAGMENTS, ids=[f"fragment-{i}" for i in range(len(FRAGMENTS))])
def test_fragments_are_valid_in_a_scenario(block: str, tmp_path: Path) -> None:
    fragment = yaml.safe_load(block)
    assert isinstance(fragment, dict), block
    base = yaml.safe_load(COMPLETE[0])
    path = _layout(tmp_path) / "example.yaml"
    path.write_text(yaml.safe_dump(_place(fragment, base), sort_keys=False), encoding="utf-8")
    if block.startswith(REFUSED):
        with pytest.raises(simulator.ScenarioError) as info:
            simulator.load_scenario(path)
        assert "no lower limit" in info.value.what
    else:
        simulator.load_scenario(path)


def test_every_distribution_has_an_example() -> None:
    shown = {m for block in BLOCKS for m in re.findall(r"dist: (\w+)", block)}
    assert set(DIST_NAMES) <= shown
    for name in DIST_NAMES:
        assert f"### {name}\n" in TEXT


def test_parameter_tables_match_the_registry() -> None:
    """Each role's table lists exactly its parameters, in order, with their defaults."""
    def table(title: str) -> list[tuple[str, str, str]]:
        section = TEXT.split(f"#### {title}\n", 1)[1].strip().split("\n\n", 1)[0]
        return re.findall(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|", section, flags=re.M)

    def shown(value: float | bool) -> str:
        return str(value).lower() if isinstance(value, bool) else f"{value:g}"

    def number(x: float) -> str:
        return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e7 else f"{x:.0e}".replace("e+0", "e").replace("e+", "e")

    def kind(d) -> str:  # the kind and the range every value must lie in
        lo, hi = d.bounds()
        return "bool" if d.kind == "bool" else f"{d.kind} ({number(lo)} to {number(hi)})"

    for role, params in REGISTRY.items():
        assert table(role) == [(d.name, kind(d), shown(d.default)) for d in params.values()], role
    assert table("constants") == [(d.name, kind(d), shown(d.default)) for d in CONSTANTS.values()]


# The two error examples on the page: the change to the first complete example, and the
# exact line the page shows for it.
ERROR_EXAMPLES = [
    ("        troops_offered:\n          dist: triangular", "        troops_offerd:\n          dist: triangular"),
    ("seed:starmer_troop_offer", "seed:starmer_troops_offer"),
]


@pytest.mark.parametrize("old,new", ERROR_EXAMPLES, ids=["misspelt-parameter", "unknown-fact"])
def test_error_examples_are_what_geosim_prints(old: str, new: str, tmp_path: Path, capsys,
                                               monkeypatch) -> None:
    scenarios = _layout(tmp_path)
    assert COMPLETE[0].count(old) == 1
    (scenarios / "my_ceasefire.yaml").write_text(COMPLETE[0].replace(old, new), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "scenarios/my_ceasefire.yaml"]) == 2
    err = capsys.readouterr().err
    assert f"```text\n{err}```" in TEXT, f"the page should show:\n{err}"


def test_check_output_shown_on_the_page(tmp_path: Path, capsys, monkeypatch) -> None:
    scenarios = _layout(tmp_path)
    (scenarios / "small_ceasefire.yaml").write_text(COMPLETE[0], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "scenarios/small_ceasefire.yaml"]) == 0
    out = capsys.readouterr().out
    assert f"$ geosim check scenarios/small_ceasefire.yaml\n{out}```" in TEXT
