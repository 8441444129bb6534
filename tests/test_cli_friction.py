"""The command line without friction (issue 16, item 4): each rough edge a new user met, tested.

--version; help for every argument; printed tables that fit 100 columns with units in their
headers; compare's labels and its refusal to pair two conflicts; rounded CSV files without
self-difference rows; one name for worker counts and a note when workers outnumber chunks;
progress that stays off the screen unless stderr is a terminal; check's warnings on numbers
without a source and on borrowed facts, every mistake of a file at once, and undefined
aliases; the worked example of another conflict in docs/scenarios.md; the forest plot's two
panels; and README examples that do not write into each other's folders.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

import simulator
from simulator import cli, load_results
from simulator.cli import progress
from simulator.cli.main import build_parser
from simulator.cli.run import fewer_workers
from simulator.compare import compare_files
from simulator.report.figures import plot_differences
from simulator.report.tables import WIDTH, render_table
from simulator.report.write import SIGNIFICANT_DIGITS, rounded
from simulator.scenario.problems import MAX_ERRORS, ScenarioErrors, says_nothing

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
HIDDEN_ALIASES = {"--jobs": "--workers"}  # old names kept working but left out of --help


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> tuple[Path, str]:
    """The shipped scenario's eight options on one block of worlds, as 'geosim run' prints and saves them."""
    folder = tmp_path_factory.mktemp("run") / "out"
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stdout", out)
        mp.setattr(sys, "stderr", err)
        code = cli.main(["run", "ukraine_2025", "--worlds", "4096", "--no-plots", "--quiet", "--out", str(folder)])
    assert code == 0, err.getvalue()
    return folder, out.getvalue()


# ------------------------------------------------------------------- --version and help


def test_version_prints_the_installed_version_and_exits_0(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"geosim {version('geosim')}\n"


def test_version_from_the_real_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "simulator", "--version"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"geosim {simulator.__version__}" == f"geosim {version('geosim')}"


def _actions(parser: argparse.ArgumentParser, prog: str = "geosim"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{prog} {name}")
        else:
            yield prog, action


def test_every_argument_of_every_command_has_help() -> None:
    seen = 0
    commands = set()
    for prog, action in _actions(build_parser()):
        if isinstance(action, argparse._HelpAction):
            continue
        seen += 1
        commands.add(prog)
        name = action.option_strings[0] if action.option_strings else action.dest
        if action.help == argparse.SUPPRESS:  # a hidden alias must stand for a documented option
            assert name in HIDDEN_ALIASES, f"{prog} {name} is hidden"
            assert action.dest == HIDDEN_ALIASES[name].lstrip("-").replace("-", "_")
            continue
        assert action.help and action.help.strip(), f"{prog} {name} has no help"
    # the walk reached every command named in the issue
    assert {"geosim", "geosim check", "geosim sources", "geosim compare", "geosim plot", "geosim run",
            "geosim validate", "geosim calibrate"} <= commands and seen > 50


def test_workers_is_the_one_name_and_jobs_a_hidden_alias(capsys) -> None:
    parser = build_parser()
    assert parser.parse_args(["calibrate", "--jobs", "3"]).workers == 3
    assert parser.parse_args(["calibrate", "--workers", "2"]).workers == 2
    assert parser.parse_args(["calibrate"]).workers == 1
    for command in ("run", "sweep", "calibrate"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = capsys.readouterr().out
        assert "--workers" in text and "--jobs" not in text, command


# ------------------------------------------------------------------- printed tables


def test_every_printed_line_of_a_run_fits_100_columns(run_dir) -> None:
    folder, out = run_dir
    long = [line for line in out.splitlines() if len(line) > WIDTH]
    assert long == [], "\n".join(long)
    assert len(load_results(folder).options) == 8  # the shipped scenario's eight options were printed


def test_the_price_says_aid_in_total_and_per_year_and_peak_troops(run_dir) -> None:
    folder, out = run_dir
    results = load_results(folder)
    price = out[out.index("Price"):]
    for words in ("aid in total, bn USD", "aid per year, bn USD", "peak troops", "60-month horizon"):
        assert words in " ".join(price.split()), words
    horizon = results.manifest["horizon_months"]
    for _, r in results.summary.iterrows():  # each row: total, total / years of the horizon, troops
        row = next(line for line in price.splitlines() if line.split()[:1] == [r["option"]])
        cells = row.split()
        assert cells[-3:] == [f"{r['mean_aid_bn']:,.0f}", f"{12 * r['mean_aid_bn'] / horizon:,.1f}",
                              f"{r['mean_troops']:,.0f}"], row
    assert (results.summary["mean_aid_bn"] > 0).any() and (results.summary["mean_troops"] > 0).any()


def test_a_table_too_wide_is_split_and_long_names_shortened() -> None:
    names = ["short", "an_option_name_far_longer_than_forty_characters_in_all"]
    columns = [(f"measure number {k}, %", [f"{k}.5 (1.0-99.0)", "12.0 (11.5-12.5)"]) for k in range(9)]
    text = render_table("A wide table (in %)", names, columns, width=60)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert "A wide table, continued:" in lines
    for k in range(9):
        assert f"{k}.5 (1.0-99.0)" in text
    shown = [line.split()[0] for line in lines if line.startswith("an_opt")]
    assert shown and all(len(name) == 40 and "..." in name for name in shown)


# ------------------------------------------------------------------- compare


def test_compare_prints_readable_labels_and_holding_at_24_months(capsys) -> None:
    args = ["ukraine_2025", "--worlds", "600", "--options", "ceasefire_only,peacekeepers", "--quiet"]
    assert cli.main(["compare", *args]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= WIDTH
    for raw in ("hold_12", "hold_24", "hold_36", "hold_horizon", "direct_clash"):
        assert raw not in out
    flat = " ".join(out.split())
    for label in ("deal, pp", "holds 12 months, pp", "holds 24 months, pp", "holds 36 months, pp",
                  "holds to horizon, pp", "direct clash, pp", "for direct clash lower is better"):
        assert label in flat
    results = compare_files(["ukraine_2025"], options=["ceasefire_only", "peacekeepers"], worlds=600, progress=False)
    d = results.compare().set_index(["option", "measure"]).loc[("peacekeepers", "hold_24")]
    assert f"{100 * d['difference']:+.1f} ({100 * d['lower']:+.1f} to {100 * d['upper']:+.1f})" in out


def _variant(tmp_path: Path, name: str, edit) -> Path:
    text = (ROOT / "scenarios" / "ukraine_2025.yaml").read_text(encoding="utf-8")
    text = edit(text.replace("name: ukraine_2025", f"name: {name}").replace(
        "seeds: ../seeds/facts.yaml", f"seeds: {ROOT / 'seeds' / 'facts.yaml'}"))
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_compare_refuses_to_pair_two_conflicts(tmp_path: Path, capsys) -> None:
    other = _variant(tmp_path, "other_war", lambda t: t.replace("  russia:\n", "  aggressor:\n"))
    assert cli.main(["compare", "ukraine_2025", str(other), "--worlds", "100", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "is not a variant of" in captured.err and "aggressor (challenger)" in captured.err
    assert "cannot be paired" in captured.err and "geosim run" in captured.err


def test_compare_of_variants_with_other_horizons_says_which_it_uses(tmp_path: Path, capsys) -> None:
    shorter = _variant(tmp_path, "shorter", lambda t: t.replace("horizon_months: 60", "horizon_months: 24"))
    code = cli.main(["compare", "ukraine_2025", str(shorter), "--worlds", "200", "--quiet",
                     "--options", "ukraine_2025:ceasefire_only,shorter:peacekeepers"])
    assert code == 0
    captured = capsys.readouterr()
    assert "horizons differ (60 months, 24 months)" in captured.err and "the first's, 60 months" in captured.err
    assert "horizon 60 months" in captured.out and "shorter:peacekeepers" in captured.out


# ------------------------------------------------------------------- results folders


def test_tables_are_written_without_float_noise(run_dir) -> None:
    folder, _ = run_dir
    for name in ("summary.csv", "survival.csv", "differences.csv", "pairs.csv"):
        text = (folder / name).read_text()
        for number in re.findall(r"(?<![\w.])-?\d+\.\d+(?:e-?\d+)?", text):
            mantissa = number.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
            assert len(mantissa) <= SIGNIFICANT_DIGITS, f"{name}: {number}"
    frame = pd.DataFrame({"x": [0.44319999999999976, 1 / 3, 12345678.9, float("nan")], "n": [1, 2, 3, 4]})
    r = rounded(frame)
    assert r["x"].iloc[:3].tolist() == [0.4432, 0.333333, 12345700.0] and pd.isna(r["x"].iloc[3])
    assert r["n"].tolist() == [1, 2, 3, 4] and r["n"].dtype == frame["n"].dtype
    pd.testing.assert_frame_equal(rounded(r), r)  # rounding what is rounded changes nothing


def test_the_folder_reads_back_what_was_written(run_dir) -> None:
    folder, _ = run_dir
    loaded = load_results(folder)
    written = pd.read_csv(folder / "summary.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(loaded.summary, written, check_exact=True)
    assert loaded.summary["p_hold_36"].between(0, 1).all()


def test_differences_have_no_baseline_minus_baseline_rows(run_dir) -> None:
    folder, _ = run_dir
    d = pd.read_csv(folder / "differences.csv")
    results = load_results(folder)
    assert not (d["option"] == d["baseline"]).any()
    assert set(d["option"]) == set(results.options) - {results.baseline}
    assert len(d) == (len(results.options) - 1) * d["measure"].nunique()


# ------------------------------------------------------------------- workers and progress


def test_a_note_when_workers_outnumber_the_chunks(capsys) -> None:
    assert fewer_workers(2, 20_000, 8) == 1
    err = capsys.readouterr().err
    assert "2 workers but 1 chunk of work (20,000 worlds in 5 blocks of 4,096, 8 blocks a chunk)" in err
    assert "the second would have nothing to do, so the run stays in this process" in err
    assert "--blocks-per-chunk 3" in err
    assert fewer_workers(5, 20_000, 2) == 3 and "the other 2 would have nothing to do, so at most 3 run" in (
        capsys.readouterr().err)
    assert fewer_workers(2, 20_000, 3) == 2 and capsys.readouterr().err == ""  # 2 chunks: no note
    assert fewer_workers(4, 5_000, 8) == 1
    assert "at least 16,384 worlds" in capsys.readouterr().err


def test_a_run_with_more_workers_than_chunks_starts_no_pool(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = cli.main(["run", "ukraine_2025", "--option", "peacekeepers", "--worlds", "300", "--workers", "2",
                     "--no-plots", "--quiet", "--out", str(out)])
    assert code == 0
    assert "2 workers but 1 chunk of work" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["run"]["engine"] == "sequential"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_a_terminal_only_and_never_with_quiet(monkeypatch) -> None:
    for stream, quiet, drawn in ((io.StringIO(), False, False), (_Terminal(), True, False), (_Terminal(), False, True)):
        monkeypatch.setattr(sys, "stderr", stream)
        bar = progress.StageBar("validate", quiet=quiet)
        bar(0, 3, "historical cases")
        bar(3, 3, "done")
        bar.close()
        status = progress.StatusLine("calibrate", quiet=quiet, max_evals=50)
        status.say("  eval   12: loss 1.2345  (x 1)")
        status.close()
        text = stream.getvalue()
        assert ("stages" in text) is drawn
        # messages show unless --quiet; the status line only on a terminal
        assert ("eval   12" in text) is (not quiet)
        assert ("evaluation 12 of at most 50" in text) is drawn


def test_validate_reports_each_stage() -> None:
    from simulator.history.validate import validate

    calls = []
    validate(fortna_path=None, worlds=16, progress=lambda *a: calls.append(a))
    assert calls == [(0, 2, "historical cases"), (1, 2, "generic comparisons"), (2, 2, "done")]


# ------------------------------------------------------------------- geosim check


SMALL = """\
name: small
horizon_months: 24
worlds: 100
seed: 1
seeds: facts.yaml
actors:
  russia:
    role: challenger
    gains_value: 1.5
    hold_value:
      value: 0.5
      source: "judgement: TODO"
    intervention_cost:
      value: 3
      source: "seed:hardie_war_likely"
  ukraine:
    role: defender
  united_states:
    role: patron
    backstop: true
baseline: alone
options:
  alone:
    description: The ceasefire alone.
  aid:
    actors:
      united_states:
        aid_bn_per_year: 10
"""


def _write(tmp_path: Path, text: str, name: str = "small.yaml") -> Path:
    shutil.copy(ROOT / "seeds" / "facts.yaml", tmp_path / "facts.yaml")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_warns_about_every_number_without_a_source(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, SMALL)
    assert cli.main(["check", str(path)]) == 0
    captured = capsys.readouterr()
    assert ": ok - scenario 'small'" in captured.out
    warned = [re.match(rf"{re.escape(str(path))}:(\d+):\d+: warning: (\S+)", line).groups()
              for line in captured.err.splitlines()]
    lines = SMALL.splitlines()
    # gains_value (plain), hold_value ("judgement: TODO") and the option's aid; not the switch, not the seed
    assert warned == [(str(lines.index("    gains_value: 1.5") + 1), "russia.gains_value"),
                      (str(lines.index("      value: 0.5") + 1), "russia.hold_value"),
                      (str(lines.index("        aid_bn_per_year: 10") + 1), "option")]
    assert "option aid: united_states.aid_bn_per_year has no source" in captured.err
    assert simulator.load_scenario(path).warnings == tuple(captured.err.splitlines())


@pytest.mark.parametrize("source,nothing", [
    (None, True), ("", True), ("judgement: TODO", True), ("cite: ?", True), ("judgement: -", True),
    ("judgement: tbd; cite: ...", True), ("seed:us_aid_175bn", False), ("cite: Fortna (2004)", False),
    ("judgement: TODO; cite: Fortna (2004)", False), ("calibrated: to Fortna's survival at one year", False)])
def test_what_says_nothing(source, nothing) -> None:
    assert says_nothing(source) is nothing


def test_the_shipped_scenario_has_no_warnings() -> None:
    assert simulator.load_scenario(ROOT / "scenarios" / "ukraine_2025.yaml").warnings == ()
    assert simulator.load_scenario("ukraine_2025").warnings == ()


def test_check_reports_every_mistake_of_a_file_at_once(tmp_path: Path, capsys) -> None:
    text = (SMALL.replace("worlds: 100", "worlds: -1").replace("    gains_value: 1.5", "    gains_valu: 1.5")
            .replace("        aid_bn_per_year: 10", "        aid_bn_per_year: -10")
            .replace("  ukraine:\n    role: defender", "  ukraine:\n    role: defender\n    war_weariness: 2"))
    path = _write(tmp_path, text)
    assert cli.main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 4, err
    assert [int(line.split(":")[1]) for line in lines] == sorted(int(line.split(":")[1]) for line in lines)
    for words, line in zip(("worlds", "gains_valu", "war_weariness", "aid_bn_per_year"), lines):
        assert words in line
    with pytest.raises(ScenarioErrors) as info:
        simulator.load_scenario(path)
    assert len(info.value.errors) == 4 and info.value.line == 3 and "worlds" in info.value.what


def test_check_lists_at_most_20_mistakes(tmp_path: Path, capsys) -> None:
    params = "".join(f"    no_such_{k}: 1\n" for k in range(MAX_ERRORS + 5))
    path = _write(tmp_path, SMALL.replace("  ukraine:\n    role: defender\n", "  ukraine:\n    role: defender\n"
                                          + params))
    assert cli.main(["check", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == MAX_ERRORS + 1
    assert all("unknown parameter 'no_such_" in line for line in lines[:-1])
    assert "more mistakes follow" in lines[-1] and "first 20" in lines[-1]


def test_an_undefined_alias_is_named(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, SMALL.replace("horizon_months: 24", "horizon_months: *months"))
    assert cli.main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:2:17: the alias '*months' is used but no anchor '&months' comes before it")
    assert "indentation" not in err


# ------------------------------------------------------------------- another conflict (docs/scenarios.md)


def _files_of_the_worked_example(tmp_path: Path) -> Path:
    blocks = re.findall(r"^```yaml\n(# file: (\S+)\n.*?)^```", DOC, flags=re.S | re.M)
    assert {path for _, path in blocks} == {"seeds/korea_facts.yaml", "scenarios/korea_1953.yaml"}
    for text, path in blocks:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    (tmp_path / "seeds" / "facts.yaml").write_bytes((ROOT / "seeds" / "facts.yaml").read_bytes())
    return tmp_path / "scenarios" / "korea_1953.yaml"


def test_the_worked_example_of_another_conflict_checks_as_the_page_shows(tmp_path: Path, capsys,
                                                                         monkeypatch) -> None:
    path = _files_of_the_worked_example(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "scenarios/korea_1953.yaml"]) == 0
    captured = capsys.readouterr()
    assert f"```text\n$ geosim check scenarios/korea_1953.yaml\n{captured.out}```" in DOC
    assert captured.err == ""  # its own facts, every number sourced: no warning
    sc = simulator.load_scenario(path)
    assert set(sc.facts) == {"armistice_signed", "defence_treaty"}


def test_a_scenario_borrowing_the_ukraine_facts_is_refused_or_warned_about(tmp_path: Path, capsys,
                                                                           monkeypatch) -> None:
    path = _files_of_the_worked_example(tmp_path)
    monkeypatch.chdir(tmp_path)
    text = path.read_text()
    without = re.sub(r"^seeds: .*\n", "", text, flags=re.M)
    path.write_text(without)
    assert cli.main(["check", "scenarios/korea_1953.yaml"]) == 2  # its facts are not the Ukraine article's
    assert "unknown seed fact 'armistice_signed'" in capsys.readouterr().err
    path.write_text(without.replace("seed:armistice_signed", "seed:talks_final_stages")
                    .replace("seed:defence_treaty; ", ""))
    assert cli.main(["check", "scenarios/korea_1953.yaml"]) == 0
    err = capsys.readouterr().err
    assert f"```text\n{err}```" in DOC  # the warning the page shows, word for word


def test_the_sources_warning_shown_on_the_page(tmp_path: Path, capsys, monkeypatch) -> None:
    example = re.findall(r"^```yaml\n(.*?)^```", DOC, flags=re.S | re.M)[0]
    (tmp_path / "seeds").mkdir()
    shutil.copy(ROOT / "seeds" / "facts.yaml", tmp_path / "seeds" / "facts.yaml")
    (tmp_path / "scenarios").mkdir()
    old = '    aid_bn_per_year:\n      value: 0\n      source: "judgement: the baseline is the ceasefire alone"\n'
    assert example.count(old) == 1
    (tmp_path / "scenarios" / "my_ceasefire.yaml").write_text(example.replace(old, "    aid_bn_per_year: 0\n"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "scenarios/my_ceasefire.yaml"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"```text\n{err}```" in DOC


# ------------------------------------------------------------------- the forest plot


def test_the_forest_plot_separates_better_if_higher_from_better_if_lower(run_dir) -> None:
    folder, _ = run_dir
    fig = Figure(figsize=(9, 8))
    top = plot_differences(load_results(folder), ax=fig.subplots())
    upper, lower = fig.axes
    assert top is upper
    assert upper.get_ylabel() == "higher is better" and lower.get_ylabel() == "lower is better"
    assert upper.get_xlabel().endswith("better \u2192") and lower.get_xlabel().startswith("\u2190 better")
    up = [t.get_text() for t in upper.get_yticklabels()]
    down = [t.get_text() for t in lower.get_yticklabels()]
    assert up and down and all("clash" in t for t in down) and not any("clash" in t for t in up)
    assert any("holding at 24 months" in t for t in up) and any("deal agreed" in t for t in up)


# ------------------------------------------------------------------- README


def _readme_commands() -> list[list[str]]:
    """Every geosim command in the README's shell blocks, continuation lines joined, comments dropped."""
    out = []
    for block in re.findall(r"^```sh\n(.*?)^```", README, flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0].endswith("geosim"):
                out.append(words[1:])
    return out


def test_readme_examples_never_write_into_the_same_folder() -> None:
    parser = build_parser()
    written: dict[str, list[str]] = {}
    for words in _readme_commands():
        if words[0] not in ("run", "sweep", "validate", "calibrate", "explore", "compare"):
            continue
        args = parser.parse_args(words)
        stem = Path(getattr(args, "file", "") or "").stem
        default = {"run": f"results/{stem}", "sweep": f"results/{stem}_sweep_{getattr(args, 'option', '')}",
                   "explore": f"results/{stem}_explore"}.get(words[0])
        out = getattr(args, "out", None) or default
        if out:
            written.setdefault(str(Path(out)), []).append(" ".join(words))
    assert len(written) >= 8
    twice = {out: commands for out, commands in written.items() if len(commands) > 1}
    assert twice == {}, twice
