"""The brief's evidence from other folders: how far to trust the model, and what the answer depends on.

``trust_section`` reads the figures of ``geosim validate`` (``validation.json``) and puts them in
words: the model's concordance and Brier skill on Fortna's ceasefires predicted one by one,
beside the Cox regressions and the base rate scored on the same cases, and on the interstate
cases beside a two-fact ranking. Where the model does no better than a regression, a ranking or
the base rate, it says so; a negative skill is flagged as worse than always predicting the base
rate. Whether a score is out of sample follows from the files the validation names.

``depends_section`` reads ``geosim explore`` (``sensitivity.csv``, ``discovery.csv``,
``explore.json`` and, for the ranges, ``design.csv``): the factors with the largest total-order
indices, and PRIM's first box of each question in words.

Both read files only (never the modules that wrote them) and check what they read: regular
files of bounded size, JSON that is a mapping, tables with the expected columns.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.errors import UsageError, printable
from simulator.files import NotRegularFile, open_regular, read_bounded
from simulator.report.brief_html import Html, esc, join, para, section, table, tag
from simulator.scenario.load import Scenario

MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_TABLE_BYTES = 256 * 1024 * 1024
SENSITIVITY_COLUMNS = ["measure", "factor", "S1", "S1_conf", "ST", "ST_conf"]
DISCOVERY_COLUMNS = ["box", "coverage", "density", "factor", "low", "high"]
SHOWN = 3  # factors named per measure
# How the Cox baselines' covariates (Fortna's column names) read.
COVARIATES = {"pk_dum": "peacekeepers", "victory": "a decisive victory", "treaty": "a treaty",
              "logcost": "the war's deaths (log)", "wardur": "the war's length"}
WORSE = "worse than always predicting the base rate"
DICE = "dice"


def read_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; a ``UsageError`` naming the file otherwise."""
    where = printable(str(path))
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        raise UsageError(f"no file '{where}'") from None
    except NotRegularFile as exc:
        raise UsageError(f"'{where}' is a {exc.kind}, not a regular file") from None
    except OSError as exc:
        raise UsageError(f"cannot open '{where}' ({exc.strerror})") from None
    try:
        raw = read_bounded(fd, max_bytes)
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise UsageError(f"'{where}' is over {max_bytes:,} bytes, larger than geosim writes")
    return raw


def read_table(path: Path, columns: list[str], numeric: tuple[str, ...], fix: str) -> pd.DataFrame:
    """A CSV table with exactly ``columns``, those named in ``numeric`` holding numbers (or nothing)."""
    raw = read_file(path, MAX_TABLE_BYTES)
    try:
        frame = pd.read_csv(io.BytesIO(raw), keep_default_na=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"'{printable(str(path))}' cannot be read as a CSV table "
                         f"({printable(' '.join(str(exc).split()), 200)}); {fix}") from None
    if [str(c) for c in frame.columns] != columns:
        raise UsageError(f"'{printable(str(path))}' does not have the columns {', '.join(columns)}; {fix}")
    for c in numeric:
        if not (pd.api.types.is_numeric_dtype(frame[c]) or frame[c].isna().all()):
            raise UsageError(f"'{printable(str(path))}' holds text in the column '{c}', where numbers belong; {fix}")
        frame[c] = frame[c].astype(float)
    return frame


def read_json(path: Path, fix: str) -> dict[str, Any]:
    raw = read_file(path, MAX_JSON_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UsageError(f"'{printable(str(path))}' is not valid JSON; {fix}") from None
    if not isinstance(data, dict):
        raise UsageError(f"'{printable(str(path))}' is not a JSON mapping; {fix}")
    return data


def read_validation(where: str | Path) -> tuple[Path, dict[str, Any]]:
    """``validation.json`` of a ``geosim validate`` folder (or the file itself)."""
    path = Path(where)
    if path.is_dir():
        path = path / "validation.json"
    return path, read_json(path, "give the folder 'geosim validate --out DIR' wrote")


# ---------------------------------------------------------------------------- trust


def _num(m: Mapping[str, Any], key: str) -> float | None:
    """``m[key]`` as a finite number, else None (validation.json writes NaN as null)."""
    v = m.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def _fmt(x: float | None, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def _skill(x: float | None) -> Html:
    """A Brier skill, flagged in words when below zero."""
    if x is None:
        return esc("n/a")
    return tag("span", f"{x:+.2f} ({WORSE})", class_="bad") if x < 0 else esc(f"{x:+.2f}")


def _baselines(m: Mapping[str, Any]) -> list[str]:
    """The Cox baselines scored, by the name in their keys (``fortna_cox_NAME_concordance``)."""
    names = [k[len("fortna_cox_"):-len("_concordance")] for k in m
             if re.fullmatch(r"fortna_cox_[a-z0-9_]+_concordance", k) and "in_sample" not in k]
    return names


def _covariates(m: Mapping[str, Any], name: str) -> str:
    coefficients = m.get(f"fortna_cox_{name}_coefficients")
    keys = list(coefficients) if isinstance(coefficients, dict) else []
    words = [COVARIATES.get(k, k) for k in keys]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else (words[0] if words else name)


SCORES = (("concordance", "concordance", ".3f"), ("brier_1y_skill", "skill within 1 year", "+.2f"),
          ("brier_5y_skill", "skill within 5 years", "+.2f"))


def _versus(m: Mapping[str, Any], model: str, other: str, label: str) -> str:
    """Whether the model (keys ``model_*``) does better than a baseline (``other_*``), score by score."""
    better, not_better = [], []
    for key, words, _ in SCORES:
        a, b = _num(m, f"{model}_{key}"), _num(m, f"{other}_{key}")
        if a is not None and b is not None:
            (better if a > b else not_better).append(words)
    if not better and not not_better:
        return ""
    if not better:
        return f"The model does no better than {label}."
    if not not_better:
        return f"The model does better than {label} on every score."
    return f"Against {label}, the model does better on {' and '.join(better)}, and no better on {' and '.join(not_better)}."


def _fortna(m: Mapping[str, Any]) -> list[Any]:
    n = m.get("fortna_cases")
    if not isinstance(n, int) or n <= 0:
        return []
    file = str(m.get("fortna_cases_file", "a file in Fortna's format"))
    c = _num(m, "fortna_concordance")
    s1, s5 = _num(m, "fortna_brier_1y_skill"), _num(m, "fortna_brier_5y_skill")
    out: list[Any] = []
    first = (f"On {n} ceasefires after civil wars ({file}), each predicted from its own coding, the model ranks "
             f"which held longer with a concordance of {_fmt(c, '.3f')} (0.5 is a coin toss, 1 a perfect ranking)")
    if c is not None and c <= 0.5:
        first += ": no better than chance"
    out.append(para(join([first + ". Its chances of failure have a Brier skill, against always predicting the "
                          "base rate, of ", _skill(s1), " within 1 year and ", _skill(s5), " within 5 years."])))
    rows: list[list[Any]] = [["the model", n, _fmt(c, ".3f"), _skill(s1), _skill(s5)]]
    verdicts = []
    for name in _baselines(m):
        label = f"a Cox regression on {_covariates(m, name)}"
        model = "fortna_model_on_" + name if f"fortna_model_on_{name}_cases" in m else "fortna"
        cases = m.get(f"fortna_cox_{name}_cases")
        if model != "fortna" and m.get(f"{model}_cases") != n:
            rows.append([f"the model, on the same {m.get(f'{model}_cases')} cases", m.get(f"{model}_cases"),
                         *(_fmt(_num(m, f"{model}_concordance"), ".3f"),),
                         _skill(_num(m, f"{model}_brier_1y_skill")), _skill(_num(m, f"{model}_brier_5y_skill"))])
        rows.append([label[0].upper() + label[1:], cases, _fmt(_num(m, f"fortna_cox_{name}_concordance"), ".3f"),
                     _skill(_num(m, f"fortna_cox_{name}_brier_1y_skill")),
                     _skill(_num(m, f"fortna_cox_{name}_brier_5y_skill"))])
        verdict = _versus(m, model, f"fortna_cox_{name}", label)
        if verdict:
            verdicts.append(verdict)
    rows.append(["always the base rate", n, "0.500", "+0.00", "+0.00"])
    out.append(table(("predictor", "cases", "concordance", "Brier skill, 1 year", "Brier skill, 5 years"), rows,
                     numeric=(1, 2, 3, 4)))
    out += [para(v) for v in verdicts]
    trained = m.get("fortna_file")
    if trained is not None and str(trained) == file:
        out.append(para(f"None of these scores is out of sample: the regressions were fitted on these same cases "
                        f"({file}), and the model's calibrated constants were fitted to history that includes them.",
                        class_="note"))
    elif trained is not None:
        out.append(para(f"The regressions were fitted on {trained}, not on these cases: for them these scores are out "
                        "of sample (as far as the two files do not share cases). The model's calibrated constants "
                        f"were fitted to history that includes {trained}.", class_="note"))
    return out


def _interstate(m: Mapping[str, Any]) -> list[Any]:
    n, c = m.get("cases"), _num(m, "concordance")
    if not isinstance(n, int) or c is None:
        return []
    file = str(m.get("cases_file", "the cases file"))
    text = [f"On {n} interstate ceasefires ({file}) the model ranks which held longer with a concordance of {c:.3f}"]
    ranking = _num(m, "ranking_concordance")
    if ranking is not None:
        than = "no better than" if c <= ranking else "better than"
        text.append(f"; a ranking by two facts (whether the war was decided, whether foreign troops were there) "
                    f"reaches {ranking:.3f}, so the model does {than} that ranking")
    loo = _num(m, "loo_concordance")
    if loo is not None:
        text.append(f"; leaving each case out of the fit in turn (out of sample), {loo:.3f}")
    skill = _num(m, "brier_skill")
    parts: list[Any] = ["".join(text) + "."]
    if skill is not None:
        parts += [" Its chance that each had failed by its observed end has a Brier skill of ", _skill(skill),
                  " against always predicting their own share failed (in sample)."]
    return [para(join(parts))]


def _constants(m: Mapping[str, Any], settled: Scenario) -> Html | None:
    """Whether the validation used this run's constants; the differences if not."""
    used = m.get("constants")
    if not isinstance(used, dict):
        return None
    specs = settled.constant_specs()
    differ = []
    for name, value in used.items():
        spec = specs.get(str(name))
        if spec is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        own = getattr(spec, "value", None)
        if own is None:  # a distribution in the scenario
            differ.append(f"{name} {value:g} (this run: {spec.describe()})")
        elif not math.isclose(float(value), float(own), rel_tol=1e-9, abs_tol=1e-12):
            differ.append(f"{name} {value:g} (this run: {own:g})")
    worlds, seed = m.get("worlds"), m.get("seed")
    how = f" ({worlds:,} worlds per case, seed {seed})" if isinstance(worlds, int) else ""
    if not differ:
        return para(f"The validation used the constants this run used{how}.", class_="note")
    return para(f"The validation used other constants than this run{how}: {'; '.join(differ)}. Its scores are "
                "those of the model with its constants, not this run's.", class_="warn")


def trust_section(where: Path | None, m: dict[str, Any] | None, settled: Scenario) -> Html:
    title = "How far to trust it"
    if m is None:
        return section(title, para("No validation was given: run ", tag("code", "geosim validate"), " and pass its "
                                   "folder with ", tag("code", "--validation DIR"), " to show how well the model "
                                   "predicts past ceasefires, against simple regressions and the base rate.",
                                   class_="note"))
    body = [*_fortna(m), *_interstate(m)]
    if not body:
        raise UsageError(f"'{printable(str(where))}' holds none of the scores geosim validate writes "
                         "(fortna_cases, concordance); give the folder 'geosim validate --out DIR' wrote")
    constants = _constants(m, settled)
    return section(title, *body, *([constants] if constants is not None else []))


# ---------------------------------------------------------------------------- explore


def read_explore(where: str | Path, raw: Scenario) -> dict[str, Any]:
    """The exploration in the folder ``where``, checked to be of the run's scenario as it is."""
    folder = Path(where)
    fix = "give the folder 'geosim explore --out DIR' wrote"
    if not folder.is_dir():
        raise UsageError(f"'{printable(str(folder))}' is not a folder; {fix}")
    info = read_json(folder / "explore.json", fix)
    if info.get("scenario_sha256") != raw.sha256:
        raise UsageError(f"the exploration in '{printable(str(folder))}' is not of this run's scenario as it is (its "
                         "scenario SHA-256 differs); explore this scenario again, or leave out --explore")
    sensitivity = read_table(folder / "sensitivity.csv", SENSITIVITY_COLUMNS, ("S1", "S1_conf", "ST", "ST_conf"), fix)
    sensitivity["measure"] = sensitivity["measure"].astype(str)
    discovery = read_table(folder / "discovery.csv", DISCOVERY_COLUMNS, ("coverage", "density", "low", "high"), fix)
    ranges: dict[str, tuple[float, float]] = {}
    factors = [str(f) for f in discovery["factor"].dropna().unique() if str(f)]
    if factors and (folder / "design.csv").exists():
        design = pd.read_csv(io.BytesIO(read_file(folder / "design.csv", MAX_TABLE_BYTES)))
        for f in factors:
            values = pd.to_numeric(design[f], errors="coerce") if f in design else pd.Series(dtype=float)
            if values.notna().any():
                ranges[f] = (float(values.min()), float(values.max()))
    return {"info": info, "sensitivity": sensitivity, "discovery": discovery, "ranges": ranges}


def _factor(name: str) -> Html:
    return esc("the model's own dice") if name == DICE else tag("code", name)


def _top_factors(s: pd.DataFrame, measure: str, morris: bool) -> list[Any]:
    rows = s[(s["measure"] == measure) & s["ST"].notna()].sort_values("ST", ascending=False, kind="stable")
    out: list[Any] = []
    for r in rows.head(SHOWN).itertuples():
        conf = 0.0 if pd.isna(r.ST_conf) else float(r.ST_conf)
        out.append(join([_factor(str(r.factor)),
                         f" {r.ST:.2f} ({max(0.0, r.ST - conf):.2f} to {r.ST + conf:.2f})" if not morris
                         else f" {r.ST:.3g} (\u00b1 {conf:.2g})"]))
    return out


def _box_words(rows: pd.DataFrame, ranges: Mapping[str, tuple[float, float]]) -> str:
    parts = []
    for r in rows.itertuples():
        low, high = float(r.low), float(r.high)
        lo_end, hi_end = ranges.get(str(r.factor), (-math.inf, math.inf))
        if low <= lo_end and high < hi_end:
            parts.append(f"{r.factor} is below {high:.3g}")
        elif high >= hi_end and low > lo_end:
            parts.append(f"{r.factor} is above {low:.3g}")
        else:
            parts.append(f"{r.factor} is between {low:.3g} and {high:.3g}")
    return " and ".join(parts)


def _boxes(d: pd.DataFrame, ranges: Mapping[str, tuple[float, float]]) -> list[str]:
    """PRIM's first box of each question, in words."""
    out = []
    for label in dict.fromkeys(d["box"]):
        if not str(label).endswith(", box 1"):
            continue
        rows = d[d["box"] == label]
        what = str(label).removesuffix(", box 1")
        coverage, density = float(rows["coverage"].iloc[0]), float(rows["density"].iloc[0])
        restricted = rows[rows["factor"].notna() & (rows["factor"].astype(str) != "")]
        if restricted.empty:
            out.append(f"{what}: no region of the inputs stands out; this holds in {density:.0%} of the "
                       "combinations sampled.")
            continue
        out.append(f"{what}: mostly where {_box_words(restricted, ranges)}. Within that region this holds in "
                   f"{density:.0%} of the combinations sampled (density), and the region holds {coverage:.0%} of "
                   "all the combinations where it holds (coverage).")
    return out


def depends_section(explored: dict[str, Any] | None) -> Html:
    title = "What the answer depends on"
    if explored is None:
        return section(title, para("No exploration was given: run ", tag("code", "geosim explore SCENARIO --options "
                                   "A,B"), " and pass its folder with ", tag("code", "--explore DIR"), " to show which "
                                   "inputs decide the comparison and where each option wins.", class_="note"))
    info, s = explored["info"], explored["sensitivity"]
    listed = info.get("options")
    options = [str(o) for o in listed][:2] if isinstance(listed, list) else []
    morris = info.get("method") == "morris"
    index = "Morris's mu* (mean absolute change per step, \u00b1 its 95% half-width)" if morris else \
        "total-order Sobol' index (95% interval)"
    points, reps = info.get("design_points"), info.get("replicates")
    how = (f" ({points:,} combinations of inputs, each on {reps:,} worlds)"
           if isinstance(points, int) and isinstance(reps, int) else "")
    items = []
    # the difference between the two options first, then holding under each
    measures = sorted((m for m in dict.fromkeys(s["measure"]) if str(m).startswith("hold_36:")),
                      key=lambda m: str(m).partition(":")[2] in options)
    for measure in measures:
        subject = str(measure).partition(":")[2]
        if len(options) == 2 and subject == f"{options[0]}-{options[1]}":
            words = join(["the difference in holding 36 months, ", tag("code", options[0]), " minus ",
                          tag("code", options[1])])
        else:
            words = join(["holding 36 months under ", tag("code", subject)])
        top = _top_factors(s, str(measure), morris)
        if top:
            items.append(join(["What decides ", words, ": ", join(top, "; "), "."]))
    body: list[Any] = [para(f"By {index}{how}; larger means the input moves the outcome more:", class_="note"),
                       tag("ul", *(tag("li", i) for i in items))]
    boxes = _boxes(explored["discovery"], explored["ranges"])
    if boxes:
        body += [para("Where each answer holds (PRIM's first box):"), tag("ul", *(tag("li", b) for b in boxes))]
    return section(title, *body)
