"""Every way a user can get a scenario file wrong ends in one line and exit status 2.

The line is ``FILE:LINE:COL: what; fix``; LINE and COL point at the mistake (each test
works them out from the text it wrote, not from a number that happened to pass), the
message names the problem, and there is never a traceback. Hostile YAML (alias bombs,
deep nesting, huge files) is refused quickly and without using much memory.

Most cases call ``simulator.cli.main`` in-process (the import of numpy and scipy makes
each subprocess cost seconds); a handful run the real command line in a subprocess.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import simulator
from simulator import cli
from simulator.scenario.yamlio import MAX_BYTES, MAX_DEPTH, MAX_NODES

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "seeds" / "facts.yaml"

# A small valid scenario to break; `seeds: facts.yaml` finds the copy written next to it.
MINIMAL = """\
name: tiny
description: a small scenario to break
horizon_months: 24
worlds: 100
seed: 1
seeds: facts.yaml
actors:
  russia:
    role: challenger
    gains_value:
      dist: lognormal
      median: 1.2
      sigma: 0.9
      source: "seed:hardie_war_likely"
  ukraine:
    role: defender
  united_states:
    role: patron
    resolve:
      dist: beta
      a: 2
      b: 4
      source: "seed:trump_rejects_nato"
    aid_bn_per_year: 10
  united_kingdom:
    role: force_contributor
    troops_offered: 0
    deploy_month:
      dist: triangular
      low: 3
      mode: 6
      high: 9
baseline: ceasefire_only
options:
  ceasefire_only:
    description: The ceasefire alone.
  peacekeepers:
    description: A reassurance force.
    actors:
      united_kingdom:
        troops_offered:
          dist: uniform
          low: 10000
          high: 30000
          source: "seed:starmer_troop_offer"
"""


def write(directory: Path, text: str | bytes, name: str = "bad.yaml") -> Path:
    """Write a scenario next to a copy of the seed facts; return its path."""
    shutil.copy(FACTS, directory / "facts.yaml")
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def position(text: str, anchor: str, nth: int | None = None) -> tuple[int, int]:
    """1-based line and column of ``anchor`` in ``text`` (its ``nth`` occurrence if given).

    Without ``nth`` the anchor must be unique. A ``^`` inside ``anchor`` marks the exact
    spot (``"low: ^12"`` is the 12), so the anchor can carry context that makes it unique.
    """
    needle = anchor.replace("^", "")
    offset = anchor.index("^") if "^" in anchor else 0
    if nth is None:
        assert text.count(needle) == 1, f"{needle!r} is not unique; give nth or more context"
    index = -1
    for _ in range(nth or 1):
        index = text.find(needle, index + 1)
        assert index >= 0, f"{needle!r} (occurrence {nth}) is not in the text"
    index += offset
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def broken(old: str, new: str) -> str:
    """MINIMAL with exactly one occurrence of ``old`` replaced by ``new``."""
    assert MINIMAL.count(old) == 1, f"{old!r} must occur once in MINIMAL"
    return MINIMAL.replace(old, new)


def parse_error_line(stderr: str, path: Path | str) -> tuple[int, int, str, str]:
    """Check stderr is exactly one ``FILE:LINE:COL: what; fix`` line; return its parts."""
    assert "Traceback" not in stderr, stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, f"not exactly one line: {stderr!r}"
    match = re.fullmatch(re.escape(str(path)) + r":(\d+):(\d+): (.+); (.+)\n", stderr)
    assert match, f"not FILE:LINE:COL: what; fix -> {stderr!r}"
    return int(match[1]), int(match[2]), match[3], match[4]


@dataclass(frozen=True)
class Case:
    id: str
    text: str | bytes
    where: tuple[int, int]  # expected line and column
    words: tuple[str, ...]  # what the message must mention


def _case(id: str, text: str, anchor: str, *words: str, nth: int | None = None) -> Case:
    return Case(id, text, position(text, anchor, nth), words)


_LATIN1 = MINIMAL.replace("horizon_months: 24\n", "horizon_months: 24  # caf\u00e9 talk\n").encode("latin-1")
_MERGE = MINIMAL + "defaults: &defaults\n  worlds: 5\nmore:\n  <<: *defaults\n"

CASES = [
    _case("yaml-syntax-unclosed-bracket", broken("worlds: 100", "worlds: [100"), "[100", "YAML syntax error"),
    _case("yaml-syntax-missing-colon", broken("  ukraine:\n", "  ukraine\n"), "  ^ukraine", "YAML syntax error",
          "':'"),
    _case("yaml-syntax-unclosed-quote", broken('"seed:trump_rejects_nato"', '"seed:trump_rejects_nato'),
          '"seed:trump_rejects_nato', "YAML syntax error", "quoted text runs on", "close the quote"),
    _case("yaml-syntax-unclosed-quote-at-the-end", MINIMAL.replace('"seed:starmer_troop_offer"',
          '"seed:starmer_troop_offer'), '"seed:starmer', "YAML syntax error", "quoted"),
    _case("yaml-tab-indentation", broken("  ukraine:\n", "\tukraine:\n"), "\tukraine", "tab", "spaces"),
    Case("empty-file", "", (1, 1), ("empty",)),
    Case("whitespace-only", "\n   \n\n", (1, 1), ("empty",)),
    Case("comment-only", "# a scenario will go here\n\n# one day\n", (1, 1), ("empty",)),
    Case("not-utf8", _LATIN1, (3, _LATIN1.split(b"\n")[2].index(b"\xe9") + 1), ("not UTF-8", "0xe9")),
    _case("duplicate-top-level-key", broken("seed: 1\n", "seed: 1\nworlds: 5\n"), "worlds:",
          "duplicate key 'worlds'", f"first at line {position(MINIMAL, 'worlds:')[0]}", nth=2),
    _case("duplicate-parameter", broken("    troops_offered: 0\n", "    troops_offered: 0\n    troops_offered: 5\n"),
          "    ^troops_offered: 5", "duplicate key 'troops_offered'"),
    _case("unknown-top-level-key", broken("horizon_months: 24", "horizon_month: 24"), "horizon_month:",
          "unknown key 'horizon_month'", "did you mean 'horizon_months'"),
    _case("unknown-actor-parameter", broken("    troops_offered: 0", "    troops_offerd: 0"), "troops_offerd",
          "unknown parameter 'troops_offerd'", "united_kingdom", "did you mean 'troops_offered'"),
    _case("unknown-distribution-field", broken("      sigma: 0.9\n", "      sigam: 0.9\n"), "sigam",
          "unknown key 'sigam'", "russia.gains_value", "did you mean 'sigma'"),
    _case("distribution-field-of-another-distribution", broken("      a: 2\n", "      mean: 2\n"), "mean",
          "unknown key 'mean'", "united_states.resolve", "a, b"),
    _case("horizon-is-text", broken("horizon_months: 24", 'horizon_months: "soon"'), '"soon"',
          "horizon_months", "integer", "soon"),
    _case("worlds-is-a-fraction", broken("worlds: 100", "worlds: 1.5"), "1.5", "worlds", "1.5"),
    _case("worlds-is-true", broken("worlds: 100", "worlds: true"), "true", "worlds"),
    _case("parameter-is-text", broken("aid_bn_per_year: 10", "aid_bn_per_year: lots"), "lots",
          "united_states.aid_bn_per_year", "lots"),
    _case("parameter-value-is-text", broken("aid_bn_per_year: 10", "aid_bn_per_year: {value: lots}"), "lots",
          "united_states.aid_bn_per_year", "number", "lots"),
    _case("parameter-is-true", broken("aid_bn_per_year: 10", "aid_bn_per_year: true"), "true",
          "united_states.aid_bn_per_year", "not true/false"),
    _case("parameter-is-empty", broken("aid_bn_per_year: 10", "aid_bn_per_year:"), "aid_bn_per_year:^",
          "united_states.aid_bn_per_year", "got nothing"),
    _case("probability-above-one", broken("    troops_offered: 0\n", "    troops_offered: 0\n    resolve: 1.4\n"),
          "1.4", "united_kingdom.resolve", "probability", "1.4", "0..1"),
    _case("probability-distribution-outside", broken("    troops_offered: 0\n",
          "    troops_offered: 0\n    resolve: {dist: uniform, low: 0.5, high: 1.5}\n"),
          "high: ^1.5", "united_kingdom.resolve", "1.5", "0..1"),
    _case("negative-troops", broken("troops_offered: 0", "troops_offered: -5000"), "-5000",
          "united_kingdom.troops_offered", "troops -5000"),
    _case("negative-troops-in-option", broken("low: 10000", "low: -10000"), "-10000",
          "united_kingdom.troops_offered", "-10000"),
    _case("negative-aid", broken("aid_bn_per_year: 10", "aid_bn_per_year: -10"), "-10",
          "united_states.aid_bn_per_year", "aid -10"),
    _case("uniform-low-above-high", broken("low: 10000", "low: 40000"), "40000",
          "united_kingdom.troops_offered", "low (40000) is above high (30000)"),
    _case("triangular-low-above-high", broken("      low: 3\n", "      low: 12\n"), "low: ^12",
          "united_kingdom.deploy_month", "low <= mode <= high", "12, 6, 9"),
    _case("triangular-mode-outside", broken("      mode: 6\n", "      mode: 20\n"), "mode: ^20",
          "united_kingdom.deploy_month", "low <= mode <= high"),
    _case("triangular-inline-low-above-high",
          broken("    aid_bn_per_year: 10\n", "    aid_bn_per_year: {dist: triangular, low: 50, mode: 40, high: 30}\n"),
          "low: ^50", "united_states.aid_bn_per_year", "low <= mode <= high"),
    _case("choice-weights-mismatch",
          broken("    aid_bn_per_year: 10\n", "    aid_bn_per_year: {dist: choice, values: [0, 50], weights: [1]}\n"),
          "weights: ^[1]", "united_states.aid_bn_per_year", "1 weights for 2 values"),
    _case("normal-sd-not-positive", broken("    aid_bn_per_year: 10\n",
          "    aid_bn_per_year:\n      dist: normal\n      mean: 40\n      sd: 0\n"), "sd: ^0",
          "united_states.aid_bn_per_year.sd", "greater than 0"),
    _case("unknown-distribution", broken("dist: beta", "dist: betta"), "betta",
          "unknown distribution 'betta'", "did you mean 'beta'"),
    _case("unknown-distribution-no-suggestion", broken("dist: uniform", "dist: gaussian"), "gaussian",
          "unknown distribution 'gaussian'", "uniform", "lognormal"),
    _case("distribution-field-missing", broken("      median: 1.2\n", ""), "      ^dist: lognormal",
          "russia.gains_value", "missing required key 'median'"),
    _case("option-unknown-actor", broken("      united_kingdom:\n        troops_offered:",
                                         "      united_kingdm:\n        troops_offered:"), "united_kingdm",
          "option 'peacekeepers'", "unknown actor 'united_kingdm'", "did you mean 'united_kingdom'"),
    _case("option-unknown-parameter", broken("        troops_offered:\n", "        troops_offerd:\n"),
          "troops_offerd", "unknown parameter 'troops_offerd'", "did you mean 'troops_offered'"),
    _case("option-unknown-key", broken("    description: A reassurance force.", "    descripton: A reassurance force."),
          "descripton", "unknown key 'descripton'", "did you mean 'description'"),
    _case("unknown-seed-fact", broken('"seed:starmer_troop_offer"', '"seed:no_such_fact"'), '"seed:no_such_fact"',
          "unknown seed fact 'no_such_fact'", "seeds/facts.yaml"),
    _case("unknown-seed-fact-close", broken('"seed:trump_rejects_nato"', '"seed:trump_reject_nato"'),
          '"seed:trump_reject_nato"', "unknown seed fact 'trump_reject_nato'", "did you mean 'trump_rejects_nato'"),
    _case("unknown-source-kind", broken('"seed:trump_rejects_nato"', '"wikipedia"'), '"wikipedia"',
          "source 'wikipedia'", "known kind"),
    _case("baseline-not-an-option", broken("baseline: ceasefire_only", "baseline: ceasefire_onyl"), "ceasefire_onyl",
          "baseline 'ceasefire_onyl'", "not one of the options", "did you mean 'ceasefire_only'"),
    _case("missing-horizon", broken("horizon_months: 24\n", ""), "name: tiny",
          "missing required key 'horizon_months'"),
    _case("missing-baseline", broken("baseline: ceasefire_only\n", ""), "name: tiny",
          "missing required key 'baseline'"),
    _case("unknown-role", broken("role: patron", "role: patrn"), "patrn", "unknown role 'patrn'",
          "did you mean 'patron'"),
    _case("no-defender", broken("role: defender", "role: patron"), "actors:", "exactly one defender",
          "found 0", nth=1),
    _case("seeds-file-missing", broken("seeds: facts.yaml", "seeds: no_facts_here.yaml"), "no_facts_here.yaml",
          "seed facts file 'no_facts_here.yaml' not found"),
    _case("merge-key", _MERGE, "<<", "merge keys"),
    _case("key-read-as-boolean", broken("  ukraine:\n", "  ukraine:\n    yes: 1\n"), "yes:", "key 'yes'",
          "true/false"),
    _case("python-tag", broken("worlds: 100", "worlds: !!python/name:os.system"), "!!python",
          "unsupported YAML value"),
    _case("python-tag-on-a-list", broken("worlds: 100", "worlds: !!python/object/apply:os.system [ls]"),
          "!!python", "unsupported YAML tag", "!!python/object/apply:os.system"),
    _case("impossible-date", broken("description: a small scenario to break", "description: 2025-13-45"),
          "2025-13-45", "2025-13-45"),
    _case("top-level-is-a-list", "- name: tiny\n- worlds: 5\n", "- name", "must be a mapping"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_file_gives_one_line_at_the_right_place(case: Case, tmp_path: Path, capsys) -> None:
    path = write(tmp_path, case.text)
    code = cli.main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    line, col, what, fix = parse_error_line(err, path)
    assert (line, col) == case.where, err
    for word in case.words:
        assert word in f"{what}; {fix}", f"{word!r} not in {err!r}"

    # The Python API raises the same error, with the same position.
    with pytest.raises(simulator.ScenarioError) as info:
        simulator.load_scenario(path)
    assert (info.value.file, info.value.line, info.value.col) == (str(path), line, col)
    assert (info.value.what, info.value.fix) == (what, fix)


def test_missing_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "no_such_scenario.yaml"
    assert cli.main(["check", str(path)]) == 2
    line, col, what, _ = parse_error_line(capsys.readouterr().err, path)
    assert (line, col) == (1, 1) and "no such file" in what
    with pytest.raises(simulator.ScenarioError) as info:
        simulator.load_scenario(path)
    assert (info.value.line, info.value.col) == (1, 1)


def test_directory_instead_of_file(tmp_path: Path, capsys) -> None:
    assert cli.main(["check", str(tmp_path)]) == 2
    line, col, what, _ = parse_error_line(capsys.readouterr().err, tmp_path)
    assert (line, col) == (1, 1) and "directory" in what


def test_check_stops_at_the_first_bad_file_of_several(tmp_path: Path, capsys) -> None:
    good = write(tmp_path, MINIMAL, "good.yaml")
    bad = write(tmp_path, broken("worlds: 100", "worlds: -1"), "bad.yaml")
    assert cli.main(["check", str(good), str(bad)]) == 2
    captured = capsys.readouterr()
    assert ": ok - scenario 'tiny'" in captured.out
    # the good file's warnings (numbers without a source) come first, then the bad file's mistake
    err = "".join(line for line in captured.err.splitlines(keepends=True) if ": warning: " not in line)
    line, col, what, _ = parse_error_line(err, bad)
    assert (line, col) == position(bad.read_text(), "-1") and "worlds" in what


@pytest.mark.parametrize("fmt", ["text", "csv"])
def test_sources_refuses_an_unknown_seed_fact(fmt: str, tmp_path: Path, capsys) -> None:
    text = broken('"seed:starmer_troop_offer"', '"seed:no_such_fact"')
    path = write(tmp_path, text)
    assert cli.main(["sources", "--format", fmt, str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    line, col, what, _ = parse_error_line(err, path)
    assert (line, col) == position(text, '"seed:no_such_fact"')
    assert "unknown seed fact 'no_such_fact'" in what


def test_sources_lists_a_good_file(tmp_path: Path, capsys) -> None:
    """The same file with the fact spelt right is listed (so the refusal above is the fact's)."""
    assert cli.main(["sources", "--format", "csv", str(write(tmp_path, MINIMAL))]) == 0
    assert "seed:starmer_troop_offer" in capsys.readouterr().out


def test_the_unbroken_scenario_is_valid(tmp_path: Path) -> None:
    """Guards the cases above: each fails because of its own change, not a broken base."""
    sc = simulator.load_scenario(write(tmp_path, MINIMAL))
    assert set(sc.options) == {"ceasefire_only", "peacekeepers"}


def test_a_value_without_a_source_is_not_credited_to_the_default(tmp_path: Path) -> None:
    """`aid_bn_per_year: 10` has no source; it must not borrow the default's ("none unless ...")."""
    sc = simulator.load_scenario(write(tmp_path, MINIMAL))
    params = {(p.actor, p.name): p for p in sc.parameters()}
    assert params[("united_states", "aid_bn_per_year")].source == "(no source given)"
    assert params[("united_states", "resolve")].source == "seed:trump_rejects_nato"
    default = params[("united_states", "will_initial")]
    assert default.origin == "default" and default.source == default.definition.source


# ------------------------------------------------------------------ hostile YAML


def _alias_bomb() -> tuple[str, tuple[int, int]]:
    """Billion laughs: 9 levels of 9 aliases; and where it passes MAX_NODES values."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\n"
    # Count values as the expanded document has them: the root mapping, then per line a
    # key, a list, and its nine items (each alias as big as what it stands for).
    total, size = 1, 0
    for number, line in enumerate(lines, start=1):
        total += 2  # the key and the list
        for item in range(9):
            total += 1 if number == 1 else size
            if total > MAX_NODES:
                col = [m.start() for m in re.finditer(r"\*", line)][item] + 1
                return text, (number, col)
        size = 1 + 9 * (1 if number == 1 else size)
    raise AssertionError("the bomb should pass the limit")


def _hostile_files(directory: Path) -> dict[str, tuple[Path, tuple[int, int], tuple[str, ...]]]:
    """Each hostile file with the position and words its refusal must have."""
    out = {}
    text, where = _alias_bomb()
    out["alias-bomb"] = (write(directory, text, "bomb.yaml"), where, ("alias", f"{MAX_NODES:,}"))

    text = "x: " + "[" * 10_000 + "]" * 10_000 + "\n"
    # the root mapping is level 1, so the MAX_DEPTH-th bracket opens level MAX_DEPTH + 1
    out["deep-lists"] = (write(directory, text, "deep_lists.yaml"), (1, text.index("[") + MAX_DEPTH),
                         ("nesting deeper than", str(MAX_DEPTH)))

    text = "x: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n"
    col = [m.start() for m in re.finditer(r"\{", text)][MAX_DEPTH - 1] + 1
    out["deep-flow-mappings"] = (write(directory, text, "deep_maps.yaml"), (1, col),
                                 ("nesting deeper than", str(MAX_DEPTH)))

    text = "".join(" " * i + "a:\n" for i in range(1000))  # block mappings, one level a line
    out["deep-block-mappings"] = (write(directory, text, "deep_block.yaml"),
                                  (MAX_DEPTH + 1, MAX_DEPTH + 1), ("nesting deeper than", str(MAX_DEPTH)))

    text = MINIMAL + "# " + "x" * MAX_BYTES + "\n"
    out["huge-file"] = (write(directory, text, "huge.yaml"), (1, 1), ("bytes", f"{MAX_BYTES:,}", "limit"))
    return out


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_bytes: int | None


def run_cli(*args: str, timeout: float = 20) -> Run:
    """Run ``python -m simulator.cli.main ARGS``; fail on a hang; measure its peak memory if we can."""
    command = [sys.executable, "-m", "simulator", *args]
    start = time.monotonic()
    if not hasattr(os, "wait4"):  # pragma: no cover - Windows: no per-child memory figure
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        return Run(result.returncode, result.stdout, result.stderr, time.monotonic() - start, None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                proc.kill()
                proc.wait()
                pytest.fail(f"{' '.join(args)} did not finish within {timeout} s")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        return Run(proc.returncode, out.read().decode(), err.read().decode(), time.monotonic() - start, rss)


_SUBPROCESS_CASES = ["alias-bomb", "deep-lists", "deep-flow-mappings", "huge-file"]


@pytest.fixture(scope="module")
def subprocess_runs(tmp_path_factory) -> dict[str, tuple[Run, Path, tuple[int, int], tuple[str, ...]]]:
    """Run each hostile file through the real command line, two at a time (each pays for importing scipy)."""
    directory = tmp_path_factory.mktemp("hostile")
    jobs: dict[str, tuple[list[str], Path, tuple[int, int], tuple[str, ...]]] = {}
    for name, (path, where, words) in _hostile_files(directory).items():
        if name in _SUBPROCESS_CASES:  # the others run in-process only, to keep the file fast
            jobs[name] = (["check", str(path)], path, where, words)
    assert sorted(jobs) == sorted(_SUBPROCESS_CASES)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run_cli, *job[0]) for name, job in jobs.items()}
        return {name: (futures[name].result(), *jobs[name][1:]) for name in jobs}


@pytest.mark.parametrize("name", _SUBPROCESS_CASES)
def test_real_command_line_refuses_with_one_line(name: str, subprocess_runs) -> None:
    run, path, where, words = subprocess_runs[name]
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    line, col, what, fix = parse_error_line(run.stderr, path)
    assert (line, col) == where, run.stderr
    for word in words:
        assert word in f"{what}; {fix}", f"{word!r} not in {run.stderr!r}"
    if run.max_rss_bytes is not None:  # importing numpy, scipy and pandas alone takes ~200 MB
        assert run.max_rss_bytes < 1024**3, f"peak memory {run.max_rss_bytes / 1024**2:.0f} MB"


@pytest.mark.parametrize("name", ["alias-bomb", "deep-lists", "deep-flow-mappings", "deep-block-mappings",
                                  "huge-file"])
def test_hostile_yaml_is_refused_quickly_in_process(name: str, tmp_path: Path) -> None:
    path, where, _ = _hostile_files(tmp_path)[name]
    start = time.perf_counter()
    with pytest.raises(simulator.ScenarioError) as info:
        simulator.load_scenario(path)
    assert time.perf_counter() - start < 3.0
    assert (info.value.line, info.value.col) == where


def test_alias_use_within_the_limit_is_fine(tmp_path: Path) -> None:
    """Aliases are allowed; only their expansion is limited (so a bomb costs what it expands to)."""
    text = MINIMAL.replace('source: "seed:hardie_war_likely"', 'source: &why "seed:hardie_war_likely"')
    text = text.replace('source: "seed:trump_rejects_nato"', "source: *why")
    assert simulator.load_scenario(write(tmp_path, text)).base[("united_states", "resolve")].source == (
        "seed:hardie_war_likely")


def test_limits_are_the_documented_ones() -> None:
    assert (MAX_BYTES, MAX_DEPTH, MAX_NODES) == (2 * 1024 * 1024, 40, 100_000)
