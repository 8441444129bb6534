"""A brief for decision makers: one self-contained HTML file from a results folder (``geosim report``).

``build_brief`` reads a results folder (``load_results``, which refuses a damaged or edited
folder), finds the scenario the run used and checks that it is unchanged (``brief_sources``),
and writes, every sentence generated from the numbers:

- the question: the scenario's description and the options compared;
- the answer in one sentence: the option that holds longest against the baseline (or the
  baseline against the next best), both with their 95% intervals, the paired difference with
  its interval and, after a run with posterior draws (``posterior.csv``), the spread of that
  difference across draws of the model's constants;
- survival curves and paired differences (figures embedded as PNG);
- the chance of a deal and who refuses it, and the price of each option (aid, troops, clash);
- what the answer depends on (``geosim explore``, if given) and how far to trust it
  (``geosim validate``, if given), from ``brief_evidence``;
- the sources of every assumption that matters, from ``brief_sources``.

``write_brief`` writes the page atomically; ``simulator.report.pdf`` prints it to PDF.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.analysis.posterior import POSTERIOR_COLUMNS
from simulator.analysis.results import Results
from simulator.errors import UsageError, printable
from simulator.files import atomic_write
from simulator.report.brief_evidence import (MAX_TABLE_BYTES, depends_section, read_explore, read_file,
                                             read_validation, trust_section)
from simulator.report.brief_html import (Html, bullets, figure, inline, join, page, para, png_data_uri, section,
                                         table, tag)
from simulator.report.brief_sources import run_scenario, sources_section
from simulator.report.labels import digits
from simulator.report.posterior import POSTERIOR_FILE, number, share
from simulator.report.reading import (SIDES, describe, difference_line, difference_text, interval_text, months_text,
                                       paired, verdict)
from simulator.report.write import REMAKE, load_results
from simulator.scenario.load import Scenario
from simulator.scenario.outcomes import (
    HoldingAt,
    Outcome,
    all_outcomes,
    outcome_of_column,
)

BRIEF_FILE = "brief.html"
MEASURE = "p_hold_36"  # the headline's measure (holding at the horizon if the run is shorter)
PRICE_MEASURES = ("agreed", "direct_clash")  # with their intervals, across posterior draws


def default_out(results_dir: str | Path) -> Path:
    """Where the brief goes by default: ``brief.html`` inside the results folder."""
    return Path(results_dir) / BRIEF_FILE


def read_posterior(results_dir: Path, manifest: Mapping[str, Any]) -> pd.DataFrame | None:
    """``posterior.csv`` if the run made one, checked against the manifest's SHA-256; else None."""
    listed = manifest.get("files")
    if not (isinstance(listed, list) and POSTERIOR_FILE in listed):
        return None
    path = results_dir / POSTERIOR_FILE
    if not path.exists():
        raise UsageError(f"'{printable(str(path))}' is missing, so the folder is incomplete; {REMAKE}")
    raw = read_file(path, MAX_TABLE_BYTES)
    recorded = (manifest.get("sha256") or {}).get(POSTERIOR_FILE)
    if recorded is not None and hashlib.sha256(raw).hexdigest() != recorded:
        raise UsageError(f"'{printable(str(path))}' was changed after the run (its SHA-256 differs from the one in "
                         f"manifest.json); {REMAKE}")
    frame = pd.read_csv(io.BytesIO(raw), dtype={c: str for c in ("option", "baseline", "measure", "kind", "better")},
                        keep_default_na=False, na_values=[""])
    if list(frame.columns) != POSTERIOR_COLUMNS:
        raise UsageError(f"'{printable(str(path))}' does not have the columns this version of geosim writes; {REMAKE}")
    return frame


# ---------------------------------------------------------------------------- the answer

def _stability(summary: pd.DataFrame, column: str) -> Outcome:
    """The probability of holding named by ``column`` if the run estimated it, else holding at the horizon."""
    if column in summary and summary[column].notna().any():
        return outcome_of_column(column)
    return next(o for o in all_outcomes() if isinstance(o.tally, HoldingAt) and o.tally.month is None
                and not o.tally.among_agreed)


def _reading_block(reading: str, heading: str) -> list[str]:
    """The list that follows the paragraph starting with ``heading`` in a reading, one item per line."""
    blocks = reading.split("\n\n")
    for i, block in enumerate(blocks[:-1]):
        if block.startswith(heading):
            return [line.removeprefix("- ") for line in blocks[i + 1].splitlines() if line.startswith("- ")]
    return []


def _posterior_clause(post: pd.DataFrame | None, option: str, measure: str, manifest: Mapping[str, Any]) -> str:
    """The spread of ``option``'s difference from the baseline across draws of the constants, in words."""
    if post is None:
        return ""
    row = post[(post["option"] == option) & (post["measure"] == measure) & (post["kind"] == "difference")]
    if row.empty or pd.isna(row["median"].iloc[0]):
        return ""
    r = row.iloc[0]
    draws = (manifest.get("posterior") or {}).get("draws", int(r["draws"]))
    return (f" Across {draws} draws of the model's constants (model uncertainty) the difference is "
            f"{number(measure, r['median'])} percentage points at the median (90% of draws from "
            f"{number(measure, r['q05'])} to {number(measure, r['q95'])}), and `{option}` does better than the "
            f"baseline in {share(r['share_better'])} of draws.")


def headline(results: Results, post: pd.DataFrame | None = None) -> str:
    """The answer in one sentence (two with model uncertainty), in the readings' Markdown."""
    s = results.summary.reset_index(drop=True)
    m = results.manifest
    outcome = _stability(s, MEASURE)
    col, key = outcome.columns[0], outcome.name
    horizon = m.get("horizon_months", "?")
    when = months_text(outcome, horizon)
    base = results.baseline
    worlds = f"{int(m.get('worlds', s['worlds'].iloc[0])):,} simulated worlds"
    ranked = s.sort_values(col, ascending=False, kind="stable").reset_index(drop=True)
    rows = {r["option"]: r for _, r in s.iterrows()}
    if len(s) == 1:
        return f"Under `{base}` the ceasefire is agreed and still holds {when} in {interval_text(rows[base], col)} of {worlds}."
    top = str(ranked.loc[0, "option"])
    if top != base:
        other, lead = top, (f"`{top}` comes first: the ceasefire is agreed and still holds {when} in "
                            f"{interval_text(rows[top], col)} of {worlds}, against {interval_text(rows[base], col)} under "
                            f"the baseline `{base}`")
    else:
        other = str(ranked.loc[1, "option"])
        lead = (f"No option does better than the baseline `{base}`: the ceasefire is agreed and still holds {when} in "
                f"{interval_text(rows[base], col)} of {worlds}, against {interval_text(rows[other], col)} under `{other}`, "
                "the next best")
    pair = paired(results, other, base, key)
    if pair is None:
        return lead + "."
    reads = verdict(pair)
    if reads == "identical":
        tail = "; the outcome is the same as the baseline's in every world."
    else:
        tail = f"; world by world, `{other}` minus the baseline is {difference_text(pair)}"
        tail += (", an interval that includes zero, so these worlds do not show a difference." if reads == "unclear"
                 else ", an interval that excludes zero.")
    return lead + tail + _posterior_clause(post, other, key, m)


def _differences(results: Results, outcome: Outcome) -> list[str]:
    """Each option's paired difference from the baseline, as the readings word it."""
    out = []
    base, when = results.baseline, months_text(outcome, results.manifest.get("horizon_months", "?"))
    for option in results.options:
        if option == base:
            continue
        p = paired(results, option, base, outcome.name)
        if p is not None:
            out.append(difference_line(option, p))
    return [f"Holding {when}, world by world against the baseline `{base}`:", *out] if out else []


def _figures(results: Results) -> Html:
    """Survival curves and (with more than one option) the paired differences, as embedded PNG."""
    from matplotlib.figure import Figure  # matplotlib loads only when a brief is drawn

    from simulator.report.figures import plot_differences, plot_survival

    survival = Figure(figsize=(5.2, 3.2))
    ax = plot_survival(results, ax=survival.subplots())
    ax.set_title("Agreed ceasefires still holding (95% bands)", fontsize=10)
    drawn = [(survival, "survival curves", ("Survival of agreed ceasefires by option, with 95% bands; the legend "
                                            "gives each option's chance of a deal."))]
    if len(results.options) > 1:
        rows = (len(results.options) - 1) * 6  # the measures of each option
        differences = Figure(figsize=(5.2, max(3.2, 1.3 + 0.15 * rows)))
        ax = plot_differences(results, ax=differences.subplots())
        ax.set_title("Minus the baseline, world by world", fontsize=10)
        for a in differences.axes:  # long axis labels end at the axes' right edge rather than run off the figure
            a.set_xlabel(a.get_xlabel(), loc="right", fontsize=7)
        drawn.append((differences, "paired differences",
                      (f"Each option minus the baseline ({results.baseline}) on the same worlds, with 95% intervals. "
                       "For holding and a deal, right is better; for a direct clash, right is worse.")))
    shown = []
    for fig, alt, caption in drawn:
        fig.tight_layout()
        shown.append(figure(png_data_uri(fig), alt, caption))
    return tag("div", *shown, class_="figures")


def _cell(outcome: Outcome, r: pd.Series) -> str:
    column = outcome.columns[0]
    value = r.get(column)
    if value is None or pd.isna(value):
        return "n/a"
    if outcome.tally.interval:
        k = digits(value, r[column + "_lo"], r[column + "_hi"])
        return f"{100 * value:.{k}f} ({100 * r[column + '_lo']:.{k}f} to {100 * r[column + '_hi']:.{k}f})"
    if outcome.tally.share:
        return f"{100 * value:.1f}"
    return f"{value:,.0f}"


def _heading(o: Outcome) -> str:
    """A column of the price table: the long label, its unit unless the label names it, and the interval."""
    unit = "%" if o.tally.share else ("" if o.unit in o.long_label else o.unit)
    return o.long_label + (f", {unit}" if unit else "") + (" (95% interval)" if o.tally.interval else "")


def price_table(results: Results) -> Html:
    """The chance of a deal and every outcome declared part of the price, one row per option."""
    s = results.summary
    shown = [outcome_of_column("p_agreed"), *(o for o in all_outcomes() if o.price and o.columns[0] in s)]
    shown = [o for o in shown if o.columns[0] in s]
    heads = [_heading(o) for o in shown]
    rows = [[tag("code", r["option"]), *(_cell(o, r) for o in shown)] for _, r in s.iterrows()]
    return table(("option", *heads), rows, numeric=tuple(range(1, len(shown) + 1)))


def posterior_section(post: pd.DataFrame | None, results: Results) -> Html | None:
    if post is None:
        return None
    outcome = _stability(results.summary, MEASURE)
    measures = [outcome.name, *PRICE_MEASURES]
    d = post[(post["kind"] == "difference") & post["measure"].isin(measures)].copy()
    if d.empty:
        return None
    d["order"] = d["measure"].map({m: i for i, m in enumerate(measures)})
    d = d.sort_values(["option", "order"], kind="stable",
                      key=lambda c: c.map({o: i for i, o in enumerate(results.options)}) if c.name == "option" else c)
    rows = [[tag("code", r["option"]), outcome_of_column_name(r["measure"]),
             (f"{number(r['measure'], r['value'])} ({number(r['measure'], r['mc_lo'])} to "
              f"{number(r['measure'], r['mc_hi'])})"),
             number(r["measure"], r["median"]),
             f"{number(r['measure'], r['q05'])} to {number(r['measure'], r['q95'])}",
             share(r["share_better"])] for _, r in d.iterrows()]
    post_info = results.manifest.get("posterior") or {}
    draws, per_draw = post_info.get("draws", "?"), post_info.get("worlds_per_draw")
    each = f", each on the same first {per_draw:,} worlds" if isinstance(per_draw, int) else ""
    return section(
        "Model uncertainty: the constants",
        para(inline(f"Differences from the baseline `{results.baseline}` in percentage points: at the calibrated constants "
             f"with the Monte Carlo 95% interval, and across {draws} draws of the constants{each}; \"better in\" is "
             "the share of draws in which the option beats the baseline."), class_="note"),
        table(("option", "measure", "calibrated (Monte Carlo 95%)", "median of draws", "90% of draws", "better in"),
              rows, numeric=(2, 3, 4, 5)))


def outcome_of_column_name(name: str) -> str:
    return next((o.long_label for o in all_outcomes() if o.name == name), name)


# ---------------------------------------------------------------------------- the page


def _question(raw: Scenario, results: Results) -> Html:
    items = []
    for name in results.options:
        opt = raw.options.get(name)
        described = " ".join(opt.description.split()) if opt is not None else ""
        mark = " (the baseline)" if name == results.baseline else ""
        items.append(join([tag("code", name), mark, f": {described}" if described else ""]))
    worlds = int(results.manifest.get("worlds", 0))
    return section("The question",
                   para(" ".join(raw.description.split()) or "(the scenario has no description)"),
                   para(f"Options compared, each on the same {worlds:,} simulated worlds:"), bullets(items))


def _meta(results: Results, where: Path) -> Html:
    m = results.manifest
    facts = [f"{int(m['worlds']):,} worlds per option", f"seed {m['seed']}", f"{m['horizon_months']}-month horizon"]
    if m.get("finished"):
        facts.append(f"run finished {m['finished']}")
    version = (m.get("versions") or {}).get("geosim")
    if version:
        facts.append(f"geosim {version}")
    return para(f"Generated from the results in {where} ({', '.join(facts)}). Intervals are 95% unless said. These are "
                "outcomes of the model under the scenario's assumptions, not forecasts.", class_="meta")


def build_brief(results_dir: str | Path, *, validation: str | Path | None = None, explore: str | Path | None = None,
                scenario: str | Path | None = None) -> str:
    """The brief of the results in ``results_dir`` as one HTML document.

    Args:
        results_dir: a folder ``geosim run`` wrote; refused if damaged or edited (``load_results``).
        validation: a folder ``geosim validate`` wrote (or its ``validation.json``): adds how far to trust it.
        explore: a folder ``geosim explore`` wrote for the same scenario: adds what the answer depends on.
        scenario: the scenario file the run used, if it is neither built in nor in the current folder.

    Raises:
        UsageError: a folder or file that cannot be read, or a scenario changed since the run.
    """
    folder = Path(results_dir)
    results = load_results(folder)
    m = results.manifest
    raw, settled = run_scenario(m, scenario)
    post = read_posterior(folder, m)
    checked, metrics = read_validation(validation) if validation is not None else (None, None)
    explored = read_explore(explore, raw) if explore is not None else None

    outcome = _stability(results.summary, MEASURE)
    actors = {role: a.label for role in SIDES for a in settled.actors_with_role(role)}  # type: ignore[arg-type]
    # the deal and the risk of a clash in the reading's own words (simulator.report.reading.describe)
    reading = describe(results, MEASURE, actors=actors)
    deal = [inline(line) for line in _reading_block(reading, "**Deal and holding")]
    last = reading.strip().split("\n\n")[-1]
    clash = [para(inline(last))] if "direct clash" in last and not last.startswith(("-", "*", "1.")) else []
    differences = _differences(results, outcome)
    body: list[Any] = [
        tag("h1", f"{raw.name}: a brief"),
        _meta(results, folder),
        _question(raw, results),
        section("The answer", para(inline(headline(results, post)), class_="headline"),
                *([para(inline(differences[0])), bullets(inline(t) for t in differences[1:])] if differences else []),
                _figures(results)),
    ]
    if deal:
        body.append(section("The deal: how often it is agreed, and who refuses", bullets(deal)))
    body.append(section("The price of each option",
                        para("Means over all worlds; a probability for a risk.", class_="note"),
                        price_table(results), *clash))
    uncertainty = posterior_section(post, results)
    if uncertainty is not None:
        body.append(uncertainty)
    body += [depends_section(explored), trust_section(checked, metrics, settled),
             sources_section(raw, settled, results.options, post is not None)]
    return page(f"{raw.name}: a brief", body)


def write_brief(results_dir: str | Path, out: str | Path | None = None, **kwargs: Any) -> Path:
    """Build the brief (``build_brief``) and write it atomically to ``out`` (default: RESULTS_DIR/brief.html)."""
    target = Path(out) if out is not None else default_out(results_dir)
    if target.is_dir():
        raise UsageError(f"'{printable(str(target))}' is a folder; give a file name for --out")
    if not target.parent.is_dir():
        raise UsageError(f"no folder '{printable(str(target.parent))}' to write '{printable(target.name)}' into")
    text = build_brief(results_dir, **kwargs)
    return atomic_write(target, text)


__all__ = ["BRIEF_FILE", "build_brief", "default_out", "headline", "write_brief"]
