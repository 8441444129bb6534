"""``geosim report``: the brief is one self-contained HTML file whose words come from the results' numbers.

A small run (400 worlds, three options, 36 months) of a copy of the Ukraine scenario with hostile
text in it is briefed; the expected sentences are rebuilt here from summary.csv, pairs.csv and
posterior.csv. A validation folder is written by hand (exact flags) and once by ``geosim
validate`` (real key names); an exploration folder by hand. The PDF test needs Chromium: it skips
without one, unless GEOSIM_REQUIRE_BROWSER=1, when it fails.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simulator import cli, load_results
from simulator.report.brief import build_brief, headline
from simulator.report.labels import digits
from simulator.report.pdf import NO_BROWSER, find_browser
from simulator.scenario.distributions import Fixed
from simulator.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = "peacekeepers,nato_membership"
HOSTILE = "<script>alert('brief')</script> & <b>bold</b>"
HOSTILE_SOURCE = "judgement: <img src=x onerror=alert(1)> most likely two thirds"
DRAWS = """# made by hand for a test
draw,hazard_intercept,hazard_exponent,tension_weight,tension_decay_per_month,undecided_optimism
0,-6.528,1.851,3.729,0.1131,1.518
1,-6.2,1.4,3.2,0.14,1.2
2,-7.1,1.8,4.2,0.1,1.9
"""


def text_of(page: str) -> str:
    """The page as a reader sees it: tags removed, entities decoded, spaces collapsed."""
    inline = re.sub(r"</?(code|span|strong|em|b|i)\b[^>]*>", "", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("brief")


@pytest.fixture(scope="module")
def scenario(work: Path) -> Path:
    """The Ukraine scenario under another name, with markup in its description, a label and a source."""
    data = yaml.safe_load((ROOT / "scenarios" / "ukraine_2025.yaml").read_text())
    data.update(name="hostile", description=HOSTILE)
    data.pop("seeds")  # the facts that ship with geosim
    data["actors"]["russia"]["label"] = "<i>Russia</i>"
    data["options"]["peacekeepers"]["actors"]["united_kingdom"]["troops_offered"]["source"] = HOSTILE_SOURCE
    path = work / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def run_dir(work: Path, scenario: Path) -> Path:
    out = work / "run"
    assert cli.main(["run", str(scenario), "--option", OPTIONS, "--worlds", "400", "--horizon", "36", "--out",
                     str(out), "--quiet", "--no-plots"]) == 0
    return out


@pytest.fixture(scope="module")
def page(run_dir: Path, scenario: Path) -> str:
    out = run_dir.parent / "brief.html"
    assert cli.main(["report", str(run_dir), "--scenario", str(scenario), "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def interval(r: pd.Series, col: str) -> str:
    v, lo, hi = r[col], r[col + "_lo"], r[col + "_hi"]
    k = digits(v, lo, hi)
    return f"{100 * v:.{k}f}% (95% interval {100 * lo:.{k}f}% to {100 * hi:.{k}f}%)"


def difference(r: pd.Series) -> str:
    k = digits(r["difference"], r["lower"], r["upper"])
    return (f"{100 * r['difference']:+.{k}f} percentage points (95% interval {100 * r['lower']:+.{k}f} to "
            f"{100 * r['upper']:+.{k}f})")


def test_the_brief_is_one_file_that_loads_nothing_else(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    tags = re.findall(r"<[^>]+>", page)  # the real tags: text with markup in it is escaped ("&lt;")
    links = [link for t in tags
             for link in re.findall(r"""\b(?:src|href|srcset|action|data)\s*=\s*["']?([^"'\s>]*)""", t, flags=re.IGNORECASE)]
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == 2  # survival curves and paired differences
    assert all(link.startswith("data:image/png;base64,") for link in links) and len(links) == len(images)
    for image in images:
        assert base64.b64decode(image.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    assert not re.search(r"<(script|link|iframe|object|embed)\b|@import|url\(", page, flags=re.IGNORECASE)
    assert "@page { size: A4" in page  # printed on A4


def test_hostile_text_is_escaped(page: str) -> None:
    assert "<script" not in page and "<img src=x" not in page and "<i>Russia" not in page
    assert html.escape(HOSTILE) in page  # the description, shown as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;i&gt;Russia&lt;/i&gt; refuses in" in page  # the challenger's label in the deal's words


def test_headline_gives_the_comparison_with_the_numbers_of_the_tables(page: str, run_dir: Path) -> None:
    summary = pd.read_csv(run_dir / "summary.csv").set_index("option")
    pairs = pd.read_csv(run_dir / "pairs.csv")
    top = summary["p_hold_36"].idxmax()
    assert top == "peacekeepers"  # a force with a US backstop holds longest in this scenario
    pair = pairs[(pairs["option"] == top) & (pairs["baseline"] == "ceasefire_only")
                 & (pairs["measure"] == "hold_36")].iloc[0]
    verdict = "excludes zero" if pair["lower"] > 0 or pair["upper"] < 0 else "includes zero"
    expected = (f"{top} comes first: the ceasefire is agreed and still holds at 36 months in "
                f"{interval(summary.loc[top], 'p_hold_36')} of 400 simulated worlds, against "
                f"{interval(summary.loc['ceasefire_only'], 'p_hold_36')} under the baseline ceasefire_only; world by "
                f"world, {top} minus the baseline is {difference(pair)}, an interval that {verdict}")
    headline_html = re.search(r'<p class="headline">(.*?)</p>', page, flags=re.DOTALL)
    assert headline_html and text_of(headline_html.group(1)).startswith(expected)
    assert "draws of the model's constants" not in text_of(page)  # no posterior run, no such interval


def test_when_the_baseline_comes_first_the_headline_says_no_option_does_better(run_dir: Path) -> None:
    results = load_results(run_dir)
    results.manifest["baseline"] = "peacekeepers"  # pairs.csv holds every option minus every other
    pairs = results.pairs
    second = results.summary.set_index("option").drop("peacekeepers")["p_hold_36"].idxmax()
    pair = pairs[(pairs["option"] == second) & (pairs["baseline"] == "peacekeepers")
                 & (pairs["measure"] == "hold_36")].iloc[0]
    text = headline(results).replace("`", "")
    assert text.startswith("No option does better than the baseline peacekeepers")
    assert f"under {second}, the next best; world by world, {second} minus the baseline is {difference(pair)}" in text


def test_deal_chances_and_who_refuses(page: str, run_dir: Path) -> None:
    summary = pd.read_csv(run_dir / "summary.csv")
    text = text_of(page)
    for _, r in summary.iterrows():
        assert (f"{r['option']} is agreed in {100 * r['p_agreed']:.1f}% of worlds (<i>Russia</i> refuses in "
                f"{100 * r['p_refused_by_challenger']:.1f}%, Ukraine in {100 * r['p_refused_by_defender']:.1f}%)") in text


def test_price_table_has_each_options_costs_and_clash_risk(page: str, run_dir: Path) -> None:
    summary = pd.read_csv(run_dir / "summary.csv")
    price = re.search(r"The price of each option</h2>(.*?)</table>", page, flags=re.DOTALL)
    assert price is not None
    rows = {text_of(m.group(1)).split()[0]: text_of(m.group(1))
            for m in re.finditer(r"<tr>(<td>.*?)</tr>", price.group(1), flags=re.DOTALL)}
    assert set(rows) == set(summary["option"])
    for _, r in summary.iterrows():
        clash = f"{100 * r['p_direct_clash']:.1f} ({100 * r['p_direct_clash_lo']:.1f} to {100 * r['p_direct_clash_hi']:.1f})"
        assert rows[r["option"]].endswith(f"{clash} {r['mean_aid_bn']:,.0f} {r['mean_troops']:,.0f}")
    assert "aid delivered in total over the horizon, bn USD" in text_of(price.group(1))


def test_sources_of_every_option_setting_and_uncertain_input(page: str, scenario: Path) -> None:
    sc = load_scenario(scenario)
    sources = text_of(page.split("Sources of the assumptions", 1)[1])
    specs = [spec for name in ("peacekeepers", "nato_membership") for spec in sc.options[name].changes.values()]
    specs += [p.spec for p in sc.parameters(None) if not isinstance(p.spec, Fixed)]  # the uncertain inputs
    assert len(specs) > 10
    for spec in specs:
        for part in re.split(r";\s*(?=(?:seed|cite|judgement|calibrated)\s*:)", squash(spec.source)):
            kind, _, rest = part.partition(":")
            if kind == "seed":
                for fact in (f.strip() for f in rest.split(",")):
                    assert f"seed:{fact}" in sources
                    assert squash(sc.facts[fact]["claim"]) in sources  # the claim, from the seeds file
            else:
                assert part in sources, part
    assert "model constants" not in sources.lower()  # drawn only in a posterior run


def test_trust_section_flags_negative_skill_and_a_better_regression(run_dir: Path, scenario: Path,
                                                                     work: Path) -> None:
    folder = work / "validation"
    folder.mkdir()
    metrics = {
        "fortna_cases": 96, "fortna_cases_file": "data/fortna_civil_ceasefires.csv",
        "fortna_file": "data/fortna_civil_ceasefires.csv",
        "fortna_concordance": 0.612, "fortna_brier_1y_skill": -0.05, "fortna_brier_5y_skill": 0.02,
        "fortna_cox_five_concordance": 0.752, "fortna_cox_five_brier_1y_skill": 0.31,
        "fortna_cox_five_brier_5y_skill": 0.27, "fortna_cox_five_cases": 84,
        "fortna_cox_five_coefficients": {"pk_dum": -1.0, "victory": -1.3, "treaty": -0.8},
        "fortna_model_on_five_cases": 84, "fortna_model_on_five_concordance": 0.6,
        "fortna_model_on_five_brier_1y_skill": -0.04, "fortna_model_on_five_brier_5y_skill": 0.01,
        "cases": 13, "cases_file": "data/historical_ceasefires.csv", "concordance": 0.873, "brier_skill": -0.264,
        "ranking_concordance": 0.9, "worlds": 60, "seed": 1,
        "constants": {"hazard_intercept": -6.0},
    }
    (folder / "validation.json").write_text(json.dumps(metrics))
    text = text_of(build_brief(run_dir, validation=folder, scenario=scenario))
    trust = text.split("How far to trust it", 1)[1].split("Sources of the assumptions", 1)[0]
    assert "concordance of 0.612" in trust
    assert "Brier skill, against always predicting the base rate, of -0.05 (worse than always predicting the base " \
           "rate) within 1 year and +0.02 within 5 years" in trust
    assert "the model, on the same 84 cases 84 0.600 -0.04 (worse than always predicting the base rate) +0.01" in trust
    assert "The model does no better than a Cox regression on peacekeepers, a decisive victory and a treaty." in trust
    assert "None of these scores is out of sample" in trust
    assert "reaches 0.900, so the model does no better than that ranking" in trust
    assert "-0.26 (worse than always predicting the base rate) against always predicting their own share" in trust
    own = load_scenario(scenario).constant_specs()["hazard_intercept"].value
    assert "other constants than this run" in trust and f"hazard_intercept -6 (this run: {own:g})" in trust


def test_trust_section_from_geosim_validate(run_dir: Path, scenario: Path, work: Path) -> None:
    fortna = work / "fortna5.csv"
    lines = (ROOT / "data" / "fortna_civil_ceasefires.csv").read_text().splitlines()
    fortna.write_text("\n".join(lines[:6]) + "\n")
    folder = work / "validated"
    assert cli.main(["validate", "--worlds", "60", "--fortna", str(fortna), "--out", str(folder)]) == 0
    m = json.loads((folder / "validation.json").read_text())
    text = text_of(build_brief(run_dir, validation=folder, scenario=scenario))
    trust = text.split("How far to trust it", 1)[1].split("Sources of the assumptions", 1)[0]
    assert f"On {m['fortna_cases']} ceasefires after civil wars" in trust
    assert f"concordance of {m['fortna_concordance']:.3f}" in trust
    for key in ("fortna_brier_1y_skill", "fortna_cox_pk_victory_brier_5y_skill", "fortna_cox_five_brier_1y_skill"):
        assert f"{m[key]:+.2f}" in trust
    assert f"reaches {m['ranking_concordance']:.3f}" in trust
    assert "The validation used the constants this run used" in trust


def test_explore_section_names_the_top_factors_and_the_first_box(run_dir: Path, scenario: Path,
                                                                 work: Path) -> None:
    folder = work / "explore"
    folder.mkdir()
    sc = load_scenario(scenario)
    info = {"scenario": "hostile", "scenario_sha256": sc.sha256, "options": ["peacekeepers", "ceasefire_only"],
            "method": "sobol", "design_points": 184, "replicates": 64}
    (folder / "explore.json").write_text(json.dumps(info))
    rows = [("hold_36:peacekeepers-ceasefire_only", "russia.gains_value", 0.5, 0.1, 0.62, 0.05),
            ("hold_36:peacekeepers-ceasefire_only", "dice", 0.01, 0.01, 0.03, 0.01),
            ("hold_36:peacekeepers-ceasefire_only", "ukraine.guarantee_demand", 0.2, 0.1, 0.31, 0.2),
            ("hold_36:peacekeepers-ceasefire_only", "russia.hold_value", 0.0, 0.1, 0.01, 0.02),
            ("hold_36:peacekeepers-ceasefire_only", "nato.resolve", 0.0, 0.0, 0.002, 0.001),
            ("hold_36:peacekeepers", "russia.gains_value", 0.8, 0.1, 0.9, 0.1)]
    pd.DataFrame(rows, columns=["measure", "factor", "S1", "S1_conf", "ST", "ST_conf"]).to_csv(
        folder / "sensitivity.csv", index=False)
    pd.DataFrame([("peacekeepers does not beat ceasefire_only, box 1", 1.0, 0.92, "russia.gains_value", 2.8567, 3.9)],
                 columns=["box", "coverage", "density", "factor", "low", "high"]).to_csv(folder / "discovery.csv",
                                                                                        index=False)
    pd.DataFrame({"point": [0, 1], "russia.gains_value": [0.1, 3.9]}).to_csv(folder / "design.csv", index=False)
    text = text_of(build_brief(run_dir, explore=folder, scenario=scenario))
    depends = text.split("What the answer depends on", 1)[1].split("How far to trust it", 1)[0]
    assert ("What decides the difference in holding 36 months, peacekeepers minus ceasefire_only: russia.gains_value "
            "0.62 (0.57 to 0.67); ukraine.guarantee_demand 0.31 (0.11 to 0.51); the model's own dice 0.03 "
            "(0.02 to 0.04).") in depends  # the three largest total-order indices, largest first
    assert depends.index("minus ceasefire_only") < depends.index("under peacekeepers")
    assert ("peacekeepers does not beat ceasefire_only: mostly where russia.gains_value is above 2.86. Within that "
            "region this holds in 92% of the combinations sampled (density), and the region holds 100% of all the "
            "combinations where it holds (coverage).") in depends
    other = dict(info, scenario_sha256="0" * 64)
    (folder / "explore.json").write_text(json.dumps(other))
    with pytest.raises(Exception, match="not of this run's scenario"):
        build_brief(run_dir, explore=folder, scenario=scenario)


def test_model_uncertainty_across_posterior_draws(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    draws = work / "draws.csv"
    draws.write_text(DRAWS)
    out = work / "posterior_run"
    # the built-in scenario by name: the brief finds it without --scenario
    assert cli.main(["run", "ukraine_2025", "--option", "peacekeepers", "--worlds", "300", "--horizon", "36",
                     "--posterior", "3", "--posterior-file", str(draws), "--out", str(out), "--quiet",
                     "--no-plots"]) == 0
    assert cli.main(["report", str(out)]) == 0
    text = text_of((out / "brief.html").read_text())
    post = pd.read_csv(out / "posterior.csv")
    r = post[(post["option"] == "peacekeepers") & (post["measure"] == "hold_36") & (post["kind"] == "difference")]
    r = r.iloc[0]
    k = digits(r["median"])
    assert (f"Across 3 draws of the model's constants (model uncertainty) the difference is {100 * r['median']:+.{k}f} "
            f"percentage points at the median (90% of draws from {100 * r['q05']:+.{digits(r['q05'])}f} to "
            f"{100 * r['q95']:+.{digits(r['q95'])}f}), and peacekeepers does better than the baseline in "
            f"{100 * r['share_better']:.0f}% of draws.") in text
    assert "Model uncertainty: the constants" in text
    assert "Model constants, drawn from their posterior" in text
    # posterior.csv edited after the run: refused
    posterior = out / "posterior.csv"
    posterior.write_text(posterior.read_text().replace("peacekeepers", "peacekeeperz", 1))
    capsys.readouterr()
    assert cli.main(["report", str(out), "--out", str(work / "x.html")]) == 2
    assert "posterior.csv' was changed after the run" in capsys.readouterr().err
    assert not (work / "x.html").exists()


def test_a_damaged_results_folder_is_refused(run_dir: Path, scenario: Path, work: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    damaged = work / "damaged"
    shutil.copytree(run_dir, damaged)
    summary = damaged / "summary.csv"
    summary.write_text(summary.read_text().replace("0.", "0.9", 1))
    capsys.readouterr()
    assert cli.main(["report", str(damaged), "--scenario", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert "summary.csv' was changed after the run" in err and "Traceback" not in err
    assert not (damaged / "brief.html").exists()


def test_a_scenario_changed_since_the_run_or_not_found_is_refused(run_dir: Path, scenario: Path, work: Path,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    changed = work / "changed.yaml"
    changed.write_text(scenario.read_text().replace("horizon_months: 60", "horizon_months: 48"))
    capsys.readouterr()
    assert cli.main(["report", str(run_dir), "--scenario", str(changed), "--out", str(work / "c.html")]) == 2
    assert "has changed since the run" in capsys.readouterr().err
    monkeypatch.chdir(run_dir)  # no hostile.yaml here
    assert cli.main(["report", str(run_dir), "--out", str(work / "c.html")]) == 2
    err = capsys.readouterr().err
    assert "'hostile'" in err and "--scenario FILE" in err
    monkeypatch.chdir(work)  # hostile.yaml, as the manifest names it, in the current folder
    assert cli.main(["report", str(run_dir), "--out", str(work / "c.html")]) == 0


def test_pdf_without_chromium_says_so_and_writes_the_html(run_dir: Path, scenario: Path, work: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(work / "nothing-here"))
    out = work / "nopdf.html"
    capsys.readouterr()
    assert cli.main(["report", str(run_dir), "--scenario", str(scenario), "--out", str(out), "--pdf"]) == 0
    assert NO_BROWSER in capsys.readouterr().err
    assert out.is_file() and not out.with_suffix(".pdf").exists()


def test_pdf_with_chromium(run_dir: Path, scenario: Path, work: Path) -> None:
    if find_browser() is None:
        if os.environ.get("GEOSIM_REQUIRE_BROWSER") == "1":
            pytest.fail("GEOSIM_REQUIRE_BROWSER=1 but no Chromium is installed (Debian: apt-get install chromium)")
        pytest.skip("no Chromium installed (Debian: apt-get install chromium); set GEOSIM_REQUIRE_BROWSER=1 to fail")
    out = work / "printed.html"
    assert cli.main(["report", str(run_dir), "--scenario", str(scenario), "--out", str(out), "--pdf"]) == 0
    pdf = out.with_suffix(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert 1 <= pages <= 3  # A4; two pages for this brief where the fonts match, one more where they run wider


def test_a_validation_or_exploration_that_is_not_one_is_refused_in_one_line(run_dir: Path, scenario: Path, work: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    bad = work / "bad_validation"
    bad.mkdir()
    (bad / "validation.json").write_text(json.dumps({"fortna_cases": "many", "concordance": "<b>high</b>"}))
    explored = work / "bad_explore"
    explored.mkdir()
    (explored / "explore.json").write_text(json.dumps({"scenario_sha256": load_scenario(scenario).sha256}))
    (explored / "sensitivity.csv").write_text("measure,factor,S1,S1_conf,ST,ST_conf\nhold_36:a,x,1,1,lots,1\n")
    (explored / "discovery.csv").write_text("box,coverage,density,factor,low,high\n")
    for extra, said in ((["--validation", str(bad)], "holds none of the scores"),
                        (["--validation", str(work / "nowhere")], "no file"),
                        (["--explore", str(explored)], "holds text in the column 'ST'")):
        capsys.readouterr()
        assert cli.main(["report", str(run_dir), "--scenario", str(scenario), "--out", str(work / "bad.html"),
                         *extra]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (work / "bad.html").exists()
