"""The what-if page (``geosim app``): its numbers against ``simulator.run``, and the page in a real browser.

The first tests need no browser: they check that the page's computation, given lever values,
gives exactly the numbers of ``simulator.run`` (or of a ``CeasefireModel`` with the same
``overrides``) on the same worlds. The last one starts ``geosim app`` on 127.0.0.1, drives a
headless Chromium with Selenium, moves the troops slider and checks that the numbers and the
figure change. Without Chromium it skips, unless ``GEOSIM_REQUIRE_BROWSER=1`` (CI), where it fails.
With ``GEOSIM_UPDATE_SCREENSHOT=1`` it also writes the screenshot to docs/app.png.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.api import run
from simulator.app.compute import Question, compare, forget, numbers, one_world
from simulator.app.levers import levers, overrides_for, reaches, scenario_with, starting_value
from simulator.cli.main import main
from simulator.errors import UsageError
from simulator.model.model import CeasefireModel
from simulator.scenario.load import load_scenario
from simulator.scenario.settings import with_settings
from simulator.sweep import with_option

ROOT = Path(__file__).resolve().parent.parent
SC = "ukraine_2025"
W = 600  # worlds for the tests without a browser
TROOPS = "united_kingdom.troops_offered"


@pytest.fixture(scope="module")
def sc():
    return load_scenario(SC)


def _rows(results, options=None) -> pd.DataFrame:
    s = results.summary.set_index("option").drop(columns=["worlds"])
    return s if options is None else s.loc[options]


def test_the_levers_of_the_ukraine_scenario(sc) -> None:
    got = {lv.key: lv.scope for lv in levers(sc)}
    assert got == {
        "ukraine.guarantee_demand": "world", "united_states.backstop": "option",
        "united_states.aid_bn_per_year": "option", "united_states.stake": "option", TROOPS: "option",
        "united_kingdom.needs_backstop": "world", "nato.accession_delay_months": "world",
        "nato.veto_probability_each": "world", "constants.preventive_weight": "world"}
    troops = next(lv for lv in levers(sc) if lv.key == TROOPS)
    # Option levers reach the options that offer them; world levers every option that does not fix them.
    assert [o for o in sc.options if reaches(sc, troops, o)] == ["peacekeepers", "peacekeepers_no_backstop",
                                                                  "bridge_force"]
    delay = next(lv for lv in levers(sc) if lv.key == "nato.accession_delay_months")
    assert [o for o in sc.options if not reaches(sc, delay, o)] == ["article5_guarantee"]
    # A slider starts at the median of the scenario's value: triangular(10000, 20000, 30000) has median 20000.
    assert starting_value(sc, troops, ["peacekeepers"]) == 20000


def test_without_levers_the_page_shows_the_scenarios_own_run() -> None:
    answer = compare(Question.of(SC, ["peacekeepers", "nato_membership"], {}, worlds=W))
    expected = run(SC, ["peacekeepers", "nato_membership"], worlds=W, progress=False)
    pd.testing.assert_frame_equal(answer.results.summary, expected.summary)
    pd.testing.assert_frame_equal(answer.results.pairs, expected.pairs)


def test_world_levers_give_the_numbers_of_run_with_the_same_settings(sc) -> None:
    values = {"nato.veto_probability_each": 0.5, "ukraine.guarantee_demand": 0.3,
              "united_kingdom.needs_backstop": 0.2, "constants.preventive_weight": 1.5}
    answer = compare(Question.of(SC, ["peacekeepers", "nato_membership"], values, worlds=W))
    expected = run(with_settings(sc, values), ["peacekeepers", "nato_membership"], worlds=W, progress=False)
    pd.testing.assert_frame_equal(answer.results.summary, expected.summary)
    assert not _rows(answer.results).equals(_rows(compare(Question.of(SC, ["peacekeepers", "nato_membership"],
                                                                       worlds=W)).results))


def test_an_option_lever_reaches_only_the_options_that_offer_it(sc) -> None:
    options = ["peacekeepers", "nato_membership"]
    answer = compare(Question.of(SC, options, {TROOPS: 40000}, worlds=W))
    plain = compare(Question.of(SC, options, worlds=W))
    # The baseline and NATO membership offer no force: untouched, world for world.
    pd.testing.assert_frame_equal(_rows(answer.results, ["ceasefire_only", "nato_membership"]),
                                  _rows(plain.results, ["ceasefire_only", "nato_membership"]))
    # Peacekeepers gets exactly the option one would write by hand with 40,000 troops.
    by_hand = with_option(sc, "pk40", {"united_kingdom": {"troops_offered": 40000}}, based_on="peacekeepers")
    expected = run(by_hand, ["pk40"], worlds=W, progress=False)
    got = _rows(answer.results, ["peacekeepers"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, _rows(expected, ["pk40"]).reset_index(drop=True))
    assert not got.equals(_rows(plain.results, ["peacekeepers"]).reset_index(drop=True))


def test_each_option_matches_a_model_with_the_same_overrides(sc) -> None:
    values = {TROOPS: 25000, "united_states.backstop": True, "nato.accession_delay_months": 6,
              "constants.preventive_weight": 0.5}
    q = Question.of(SC, ["peacekeepers", "nato_membership", "article5_guarantee"], values, worlds=W)
    table = numbers(compare(q).results)
    for option in q.options:
        model = CeasefireModel(sc, option, worlds=W, rng=q.seed, collect=False,
                               overrides=overrides_for(sc, option, values)).run()
        worlds = model.outcomes()
        held = (worlds["agreed"] & (~worlds["collapsed"] | (worlds["collapse_month"] > 36))).mean()
        assert table.loc[option, "p_agreed"] == pytest.approx(worlds["agreed"].mean(), abs=1e-12), option
        assert table.loc[option, "p_hold_36"] == pytest.approx(held, abs=1e-12), option
        assert table.loc[option, "mean_troops"] == pytest.approx(worlds["troops_deployed"].mean(), abs=1e-9)
    # article5_guarantee offers no force and fixes its own accession delay: only the constant reaches it.
    assert overrides_for(sc, "article5_guarantee", values) == {"constants.preventive_weight": 0.5}


def test_known_answers_no_troops_and_no_backstop(sc) -> None:
    # No troops offered: no option deploys any.
    no_troops = numbers(compare(Question.of(SC, ["peacekeepers", "bridge_force"], {TROOPS: 0}, worlds=W)).results)
    assert (no_troops["mean_troops"] == 0).all()
    # The backstop switched off turns peacekeepers into peacekeepers_no_backstop, world for world.
    off = compare(Question.of(SC, ["peacekeepers"], {"united_states.backstop": False}, worlds=W)).results
    plain = run(SC, ["peacekeepers_no_backstop"], worlds=W, progress=False)
    pd.testing.assert_frame_equal(_rows(off, ["peacekeepers"]).reset_index(drop=True),
                                  _rows(plain, ["peacekeepers_no_backstop"]).reset_index(drop=True))
    # The baseline's differences from itself are zero; another option's are the paired ones of run().
    d = numbers(off)
    assert (d.loc["ceasefire_only", ["d_agreed", "d_hold_36", "d_direct_clash"]] == 0).all()


def test_answers_are_kept_and_the_seed_fixes_the_worlds() -> None:
    forget()
    q = Question.of(SC, ["peacekeepers"], {TROOPS: 30000.0}, worlds=W)
    first = compare(q)
    again = compare(Question.of(SC, ["peacekeepers"], {TROOPS: 30000}, worlds=W))  # 30000.0 and 30000 are one value
    assert not first.reused and again.reused and again.results is first.results
    other_seed = compare(Question.of(SC, ["peacekeepers"], {TROOPS: 30000}, worlds=W, seed=1))
    assert not other_seed.reused
    assert not _rows(other_seed.results).equals(_rows(first.results))


def test_one_world_is_the_same_world_as_in_the_run(sc) -> None:
    values = {TROOPS: 35000, "united_kingdom.needs_backstop": 0.0}
    q = Question.of(SC, ["peacekeepers"], values, worlds=W)
    worlds = run(scenario_with(sc, values), ["peacekeepers"], worlds=W, progress=False, worlds_to="memory").worlds
    worlds = worlds[worlds["option"] == "peacekeepers"].set_index("world")
    for index in (0, 1, 2, 3, 5, 8, 13, 599):
        w = one_world(q, "peacekeepers", index)
        assert w.month == 0 and "month 0" in w.status()
        w.step(1)
        assert w.month == 1 or w.done
        w.run()
        row = worlds.loc[index]
        assert bool(w.model.agreed[0]) == bool(row["agreed"]), index
        assert int(w.model.collapse_month[0]) == (int(row["collapse_month"]) if row["collapsed"] else -1), index
        assert w.trace()["world"].unique().tolist() == [index]
        status = w.status()
        assert ("no deal" in status) == (not row["agreed"])
        assert ("holds" in status) == bool(row["agreed"] and not row["collapsed"])


def test_mistakes_are_refused_with_a_message(capsys) -> None:
    with pytest.raises(UsageError, match="no lever"):
        Question.of(SC, ["peacekeepers"], {"united_kingdom.troops": 1})
    with pytest.raises(Exception, match="no option named"):
        Question.of(SC, ["peacekeeper"])
    with pytest.raises(UsageError, match="between 0 and"):
        one_world(Question.of(SC, ["peacekeepers"], worlds=10), "peacekeepers", 10)
    assert main(["app", "no_such_scenario", "--port", "0"]) == 2
    assert "no_such_scenario" in capsys.readouterr().err


# ------------------------------------------------------------------------------------- browser
def _browser() -> tuple[str, str]:
    """Chromium and its driver (Debian's packages), or a skip, or a failure when CI requires them."""
    chromium = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)
    driver = shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", chromium), ("chromium-driver", driver)) if not path]
    try:
        import selenium  # noqa: F401
    except ModuleNotFoundError:
        missing.append("selenium (pip install 'geosim[app]')")
    if missing:
        reason = "the browser test needs " + " and ".join(missing) + " (apt-get install chromium chromium-driver)"
        if os.environ.get("GEOSIM_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; GEOSIM_REQUIRE_BROWSER=1 says it must run")
        pytest.skip(reason)
    return chromium, driver  # type: ignore[return-value]


def _start_server(log: Path) -> tuple[subprocess.Popen, str]:
    """``geosim app`` on a free port of 127.0.0.1, in its own process group; waits until it answers."""
    out = log.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "app", SC, "--port", "0", "--worlds", "4096",
                             "--options", "nato_membership,peacekeepers"],
                            stdout=out, stderr=subprocess.STDOUT, cwd=log.parent, start_new_session=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 60
    url = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"geosim app exited with {proc.returncode}:\n{log.read_text()}")
        found = re.search(r"http://127\.0\.0\.1:\d+/", log.read_text())
        if found:
            url = found.group(0)
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return proc, url
            except OSError:
                pass
        time.sleep(0.3)
    _stop(proc)
    pytest.fail(f"geosim app did not answer at {url} within 60 s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait(what, timeout: float = 30.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = what()
        except Exception:  # the element is being replaced
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"waited {timeout:.0f} s for {getattr(what, '__name__', 'a condition')}")


def test_the_page_in_a_real_browser(tmp_path: Path) -> None:
    chromium, chromedriver = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    started = time.monotonic()
    proc, url = _start_server(tmp_path / "server.log")
    driver = None
    try:
        options = Options()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1400,1900", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    # Network only to loopback: every other host name fails to resolve.
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        driver.set_page_load_timeout(60)
        driver.get(url)

        def text(css: str) -> str:
            return driver.find_element(By.CSS_SELECTOR, css).text

        def troops_cell() -> str:
            return text("#n-peacekeepers-mean_troops")

        def survival_src() -> str:
            return driver.find_element(By.CSS_SELECTOR, ".geosim-survival img").get_attribute("src") or ""

        _wait(lambda: "computed in" in text(".geosim-status") or "reused" in text(".geosim-status"), 60)
        before = {"troops": _wait(troops_cell), "hold": text("#n-peacekeepers-p_hold_36_if_agreed"),
                  "figure": _wait(survival_src), "status": text(".geosim-status")}
        assert "Levers set: none" in before["status"]
        # A settled page: every figure drawn (the one world's last) before the slider moves.
        for css in (".geosim-differences img", ".geosim-price img", ".geosim-world img"):
            _wait(lambda css=css: driver.find_elements(By.CSS_SELECTOR, css), 30)

        # Move the troops slider: a click near the right end of its track.
        track = driver.find_element(By.CSS_SELECTOR, ".geosim-lever-united_kingdom-troops_offered .v-slider")
        width = track.size["width"]
        clicked = time.monotonic()
        ActionChains(driver).move_to_element_with_offset(track, int(width * 0.4), 0).click().perform()
        _wait(lambda: TROOPS in text(".geosim-status") and troops_cell() != before["troops"], 30, 0.02)
        update_seconds = time.monotonic() - clicked
        _wait(lambda: survival_src() != before["figure"], 15, 0.02)
        figure_seconds = time.monotonic() - clicked
        status = text(".geosim-status")
        chosen = int(re.search(TROOPS + r"=(\d+)", status).group(1))
        assert 30000 < chosen <= 60000
        # The page shows the numbers the computation gives for that many troops.
        table = numbers(compare(Question.of(SC, ["nato_membership", "peacekeepers"], {TROOPS: chosen})).results)
        assert troops_cell() == f"{table.loc['peacekeepers', 'mean_troops']:,.0f}"
        assert float(driver.find_element(By.CSS_SELECTOR, "#n-peacekeepers-mean_troops")
                     .get_attribute("data-value")) == pytest.approx(table.loc["peacekeepers", "mean_troops"],
                                                                    rel=1e-5)
        assert text(".geosim-lever-united_kingdom-troops_offered .geosim-lever-note").startswith(
            f"set to {chosen:,} in: peacekeepers")
        assert float(re.search(r"computed in ([\d.]+) s", status).group(1)) < 5

        # The one-world panel: back to month 0, one month on, then to the end; its figure follows.
        def world_shows(month: int) -> bool:
            return text(".geosim-world .geosim-caption").endswith(f"months 0 to {month}")

        driver.find_element(By.XPATH, "//button[contains(., 'Back to month 0')]").click()
        _wait(lambda: ", month 0 of 60" in text(".geosim-world-status") and world_shows(0), 15)
        driver.find_element(By.CSS_SELECTOR, ".geosim-step").click()
        _wait(lambda: ", month 1 of 60" in text(".geosim-world-status") and world_shows(1), 15)
        driver.find_element(By.CSS_SELECTOR, ".geosim-end").click()

        def month_now() -> int:
            return int(re.search(r", month (\d+) of 60", text(".geosim-world-status")).group(1))

        def at_the_end() -> bool:
            return not driver.find_element(By.CSS_SELECTOR, ".geosim-end").is_enabled()

        _wait(lambda: at_the_end() and world_shows(month_now()), 15)

        # Nothing was asked of any host but this one.
        import json
        hosts = set()
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                found = re.match(r"(\w+)://([^/:]+)", message["params"]["request"]["url"])
                if found and found.group(1) in ("http", "https", "ws", "wss"):
                    hosts.add(found.group(2))
        assert hosts == {"127.0.0.1"}, hosts

        driver.set_window_size(1400, 2300)  # the layout scrolls inside: a tall window shows the whole page
        time.sleep(0.5)
        shot = tmp_path / "app.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 50_000
        if os.environ.get("GEOSIM_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(shot, ROOT / "docs" / "app.png")
        print(f"\napp: numbers {update_seconds:.2f} s and survival figure {figure_seconds:.2f} s after the slider "
              f"moved ({status.split(' on ')[0]}); "
              f"browser test {time.monotonic() - started:.1f} s; screenshot {shot}")
        assert np.isfinite(update_seconds) and update_seconds < 10
    finally:
        if driver is not None:
            driver.quit()
        _stop(proc)
