"""Hostile scenario files: each is refused at its line, quickly, with one printable message.

Every case starts from the shipped scenario and changes one thing that a tester used to
slip past validation (non-finite numbers, values outside a parameter's physical range,
distributions whose draws leave that range, YAML 1.1 notations, tags, special files,
names that would steer the output folder). Positions are worked out from the text the
test wrote, not copied from a run.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import simulator
from simulator import cli

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "scenarios" / "ukraine_2025.yaml"
FACTS = ROOT / "seeds" / "facts.yaml"
LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<what>.+?); (?P<fix>.+)\n$", re.S)


def scenario_copy(tmp_path: Path, old: str | None = None, new: str | None = None) -> Path:
    """The shipped scenario (with its facts beside it), with one piece of text replaced."""
    (tmp_path / "seeds").mkdir(exist_ok=True)
    shutil.copy(FACTS, tmp_path / "seeds" / "facts.yaml")
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    text = SHIPPED.read_text()
    if old is not None:
        assert text.count(old) >= 1, f"{old!r} not in the shipped scenario"
        text = text.replace(old, new, 1)
    path = tmp_path / "scenarios" / "case.yaml"
    path.write_text(text)
    return path


def refuse(path: Path, capsys) -> re.Match[str]:
    """Run `geosim check` on ``path``: exit 2, nothing on stdout, one parsed line on stderr."""
    code = cli.main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    match = LINE.match(err)
    assert match, f"not FILE:LINE:COL: what; fix: {err!r}"
    return match


def position(text: str, marker: str) -> tuple[int, int]:
    """1-based line and column of the first ``marker`` in ``text``."""
    at = text.index(marker)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


TROOPS = '    troops_offered:\n      value: 0\n      source: "judgement: no force in the baseline"'
SEEDS_LINE = "seeds: ../seeds/facts.yaml\n"


def troops(tmp_path: Path, value: str) -> Path:
    """The shipped scenario with the UK's baseline troops written as ``value`` (a literal or a mapping)."""
    return scenario_copy(tmp_path, TROOPS, f"    troops_offered: {value}")


# (id, text replaced in the shipped scenario, its replacement, the marker where the error must point, words)
NUMBERS = [
    ("nan-gains", "median: 1.2", "median: .nan", ".nan", ["finite"]),
    ("inf-number", "median: 1.2", "median: .inf", ".inf", ["finite"]),
    ("overflowing-literal", "median: 1.2", "median: 1.0e+309", "1.0e+309", ["finite"]),
    ("nan-constant", SEEDS_LINE, SEEDS_LINE + "constants:\n  preventive_weight: .nan\n", ".nan", ["finite"]),
    ("troops-absurd", TROOPS, "    troops_offered: 1.0e+40", "1.0e+40", ["at most"]),
    ("triangular-inf-high", TROOPS, "    troops_offered: {dist: triangular, low: 0, mode: 10, high: .inf}",
     ".inf}", ["finite"]),
    ("lognormal-overflows", "sigma: 0.9", "sigma: 1000", "dist: lognormal", ["infinity"]),
    ("truncnormal-tiny-sd", TROOPS,
     "    troops_offered: {dist: truncnormal, mean: 0, sd: 1.0e-300, low: 100, high: 200}", "{dist: truncnormal",
     ["infinity"]),
    ("weights-nan", TROOPS, "    troops_offered: {dist: choice, values: [0, 1], weights: [.nan, 1]}", ".nan",
     ["finite"]),
    ("weights-inf", TROOPS, "    troops_offered: {dist: choice, values: [0, 1], weights: [.inf, 1]}", ".inf",
     ["finite"]),
    ("weights-overflow", TROOPS,
     "    troops_offered: {dist: choice, values: [0, 1], weights: [1.7e308, 1.7e308]}", "[1.7e308", ["float"]),
]


@pytest.mark.parametrize("case", NUMBERS, ids=[c[0] for c in NUMBERS])
def test_non_finite_and_absurd_numbers_are_refused_at_their_line(case, tmp_path: Path, capsys) -> None:
    _, old, new, marker, words = case
    path = scenario_copy(tmp_path, old, new)
    m = refuse(path, capsys)
    assert (int(m["line"]), int(m["col"])) == position(path.read_text(), marker), m.group(0)
    for word in words:
        assert word in m["what"] + m["fix"], m.group(0)


def test_every_shipped_distribution_stays_inside_its_range_at_the_extreme_uniforms(ukraine) -> None:
    """The check uses the draws the streams can really give: the shipped file passes and its
    most extreme draws are finite and inside each parameter's range."""
    import numpy as np

    from simulator.scenario.distributions import U_MAX, U_MIN, Fixed

    checked = 0
    for param in ukraine.parameters(ukraine.baseline):
        if isinstance(param.spec, Fixed):
            continue
        lo, hi = param.spec.ppf(np.array([U_MIN, U_MAX]))
        blo, bhi = param.definition.bounds()
        assert np.isfinite([lo, hi]).all()
        assert blo is None or lo >= blo
        assert bhi is None or hi <= bhi
        checked += 1
    assert checked >= 5


YAML_ODDITIES = [("base-60", "16:40"), ("hexadecimal", "0x3e8"), ("octal", "017"), ("underscores", "1_000")]


@pytest.mark.parametrize("name,literal", YAML_ODDITIES, ids=[n for n, _ in YAML_ODDITIES])
def test_yaml_1_1_number_notations_are_refused(name: str, literal: str, tmp_path: Path, capsys) -> None:
    path = troops(tmp_path, literal)
    m = refuse(path, capsys)
    assert (int(m["line"]), int(m["col"])) == position(path.read_text(), literal)
    assert "plain decimal" in m["what"] + m["fix"]


def test_an_exponent_without_a_dot_is_a_number(tmp_path: Path) -> None:
    """YAML 1.1 reads 1e4 as text; people mean ten thousand."""
    path = troops(tmp_path, "1e4")
    sc = simulator.load_scenario(path)
    values = {(p.actor, p.name): p.spec for p in sc.parameters(sc.baseline)}
    spec = next(s for (actor, name), s in values.items() if name == "troops_offered")
    assert spec.value == 10_000


def test_a_huge_number_is_not_echoed(tmp_path: Path, capsys) -> None:
    digits = "9" * 5000
    path = troops(tmp_path, digits)
    m = refuse(path, capsys)
    assert len(m.group(0)) < 400
    assert "5,000 characters" in m["what"]


@pytest.mark.parametrize("tagged", ["options: !!python/object:os.system", "options: !local_tag"],
                         ids=["python-object", "local-tag"])
def test_tags_on_mappings_are_refused(tagged: str, tmp_path: Path, capsys) -> None:
    path = scenario_copy(tmp_path, "options:", tagged)
    m = refuse(path, capsys)
    line, col = position(path.read_text(), "!")
    assert (int(m["line"]), int(m["col"])) == (line, col)
    assert "tag" in m["what"]


def test_tags_on_lists_are_refused(tmp_path: Path, capsys) -> None:
    path = troops(tmp_path, "{dist: choice, values: !!python/tuple [0, 1]}")
    m = refuse(path, capsys)
    assert (int(m["line"]), int(m["col"])) == position(path.read_text(), "!!python/tuple")


@pytest.mark.parametrize("name", ["/some/folder", "../../escape", "a/b", "..", "", "x\u001b[2J", "two words"],
                         ids=["absolute", "escape", "separator", "dotdot", "empty", "escape-sequence", "space"])
def test_a_scenario_name_that_is_a_path_is_refused(name: str, tmp_path: Path, capsys) -> None:
    path = scenario_copy(tmp_path, "name: ukraine_2025", f'name: "{name}"'.replace("\u001b", "\\e"))
    m = refuse(path, capsys)
    assert int(m["line"]) == position(path.read_text(), "name:")[0]
    assert "\u001b" not in m.group(0)


@pytest.mark.parametrize("option", ["peace,keepers", "a/b", "..", "two words", "-dash", "''", "Upper"],
                         ids=["comma", "slash", "dotdot", "space", "leading-dash", "empty", "upper-case"])
def test_option_names_must_be_simple(option: str, tmp_path: Path, capsys) -> None:
    text = SHIPPED.read_text()
    assert "\n  aid_only:" in text
    path = scenario_copy(tmp_path, "\n  aid_only:", f"\n  {option if option != '' else chr(39) * 2}:")
    m = refuse(path, capsys)
    assert int(m["line"]) == position(path.read_text(), "\n  aid_only:".replace("aid_only", option))[0] + 1
    assert "not a simple name" in m["what"]


def test_control_characters_in_names_are_escaped(tmp_path: Path, capsys) -> None:
    path = scenario_copy(tmp_path, "  russia:", '  "rus\\esia":')
    m = refuse(path, capsys)
    assert "\u001b" not in m.group(0)
    assert "\\x1b" in m["what"]


def _check_in_thread(path: Path) -> tuple[int, str]:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["check", str(path)])
    return code, err.getvalue()


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    with ThreadPoolExecutor(1) as pool:
        code, err = pool.submit(_check_in_thread, fifo).result(timeout=10)  # it used to hang for ever
    assert code == 2
    assert "named pipe" in err and "regular file" in err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_refused_without_reading_it() -> None:
    with ThreadPoolExecutor(1) as pool:
        code, err = pool.submit(_check_in_thread, Path("/dev/zero")).result(timeout=10)
    assert code == 2
    assert "character device" in err


def test_a_file_name_with_a_nul_is_refused(capsys) -> None:
    code = cli.main(["check", "bad\x00name.yaml"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "NUL" in err and "\x00" not in err


SEEDS = "seeds: ../seeds/facts.yaml"


def _seeds_refused(tmp_path: Path, capsys, value: str) -> re.Match[str]:
    path = scenario_copy(tmp_path, SEEDS, f"seeds: {value}")
    with ThreadPoolExecutor(1) as pool:
        code, err = pool.submit(_check_in_thread, path).result(timeout=10)
    assert code == 2 and "Traceback" not in err
    m = LINE.match(err)
    assert m, err
    # reported at the scenario's `seeds:` line, not inside the file it names
    assert m["file"] == str(path)
    assert (int(m["line"]), int(m["col"])) == (position(path.read_text(), "seeds: " + value)[0], len("seeds: ") + 1)
    return m


def test_seeds_naming_a_fifo_is_refused_at_the_seeds_line(tmp_path: Path, capsys) -> None:
    os.mkfifo(tmp_path / "facts_pipe.yaml")
    m = _seeds_refused(tmp_path, capsys, "../facts_pipe.yaml")
    assert "not a regular file" in m["what"]


@pytest.mark.skipif(not Path("/dev/urandom").exists(), reason="needs /dev/urandom")
def test_seeds_naming_a_device_is_refused(tmp_path: Path, capsys) -> None:
    m = _seeds_refused(tmp_path, capsys, "/dev/urandom")
    assert "not a .yaml file" in m["what"]


def test_seeds_with_a_nul_is_refused(tmp_path: Path, capsys) -> None:
    m = _seeds_refused(tmp_path, capsys, '"facts\\0.yaml"')
    assert "\x00" not in m.group(0)


def test_seeds_naming_a_huge_file_is_refused_without_reading_it(tmp_path: Path, capsys) -> None:
    from simulator.scenario.yamlio import MAX_BYTES

    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: no disk used
    m = _seeds_refused(tmp_path, capsys, "../big.yaml")
    assert "over the limit" in m["what"]
