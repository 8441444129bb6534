"""The brief's scenario and the sources of its assumptions.

``run_scenario`` finds the scenario a results folder was made from. The manifest records its
name, the file's name (not its folder) and its SHA-256 (with ``--set`` values, the hash of the
file's hash and the values, which it also records). The scenario is looked for as the file
given (``--scenario``), else as the built-in scenario of that name, else as a file of that name
in the current folder; it is used only if its hash is the one recorded, so a brief never cites
sources the run did not use.

``sources_section`` lists the sources of every assumption that matters: what each option run
changes, the values set for the run on top of every option, the uncertain inputs of the base
scenario (those drawn from a distribution) and the calibrated model constants. A ``seed:ID``
source is shown with the fact's claim from the scenario's facts file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simulator.data import scenario_names
from simulator.errors import GeosimError, UsageError, printable
from simulator.report.brief_html import Html, esc, join, para, section, tag
from simulator.scenario.distributions import Fixed, Spec
from simulator.scenario.load import SOURCE_KINDS, Scenario, load_scenario
from simulator.scenario.params import CONSTANTS, REGISTRY
from simulator.scenario.settings import parse_settings, with_settings

# A source is "KIND: text" parts separated by ";" (as ``simulator.scenario.load`` reads them).
_PARTS = re.compile(r";\s*(?=(?:" + "|".join(SOURCE_KINDS) + r")\s*:)")
GIVE_IT = "give the scenario file the run used with --scenario FILE"


def run_scenario(manifest: Mapping[str, Any], given: str | Path | None = None) -> tuple[Scenario, Scenario]:
    """The scenario of a run as written, and with the run's ``--set`` values: checked against the manifest.

    Raises:
        UsageError: the scenario cannot be found, cannot be read, or differs from the one the run used.
    """
    name, file = str(manifest["scenario"]), manifest.get("scenario_file")
    recorded = manifest.get("scenario_sha256")
    texts = manifest.get("set") or []
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise UsageError("manifest.json: 'set' must be a list of ACTOR.PARAM=VALUE texts; make the folder again")
    if given is not None:
        candidates: list[str | Path] = [given]
    else:
        candidates = [name] if name in scenario_names() else []
        if isinstance(file, str) and file and Path(file).name == file and Path(file).is_file():
            candidates.append(Path(file))
    if not candidates:
        shown = f" (file '{printable(file, 200)}')" if isinstance(file, str) else ""
        raise UsageError(f"the run's scenario '{printable(name, 80)}'{shown} is not a built-in scenario and is not "
                         f"in the current folder; {GIVE_IT}")
    changed = []
    for candidate in candidates:
        try:
            raw = load_scenario(candidate)
        except GeosimError as exc:
            raise UsageError(f"cannot read the run's scenario: {exc}") from None
        settled = with_settings(raw, parse_settings(texts)) if texts else raw
        if not isinstance(recorded, str) or settled.sha256 == recorded:
            return raw, settled
        changed.append(printable(str(raw.path), 200))
    raise UsageError(f"the scenario '{changed[0]}' has changed since the run (its SHA-256 differs from the one in "
                     "manifest.json), so its descriptions and sources may not be the run's; run it again, or "
                     f"{GIVE_IT} as it was")


def _parts(source: str) -> list[str]:
    return [p.strip() for p in _PARTS.split(source.strip()) if p.strip()]


def cited_facts(source: str | None) -> list[str]:
    """The ids of the seed facts a source cites (``seed:a, b``), in order."""
    out = []
    for part in _parts(source or ""):
        kind, _, rest = part.partition(":")
        if kind.strip() == "seed":
            out += [i.strip() for i in rest.split(",") if i.strip()]
    return out


def source_html(parts: list[str]) -> Html:
    """The parts of a source, each ``seed:ID`` as code (the claims are listed once, below the table)."""
    out = []
    for part in parts:
        kind, _, rest = part.partition(":")
        if kind.strip() == "seed":
            out.append(join((tag("code", f"seed:{i.strip()}") for i in rest.split(",") if i.strip()), ", "))
        else:
            out.append(esc(part))
    return join(out, "; ")


def _named(sc: Scenario, actor: str, parameter: str) -> Html:
    """``Actor label: parameter`` and, small, what the parameter means."""
    if actor == "constants":
        meaning = CONSTANTS[parameter].meaning if parameter in CONSTANTS else ""
        label = "constant"
    else:
        a = sc.actors.get(actor)
        label = a.label if a is not None else actor
        pdef = REGISTRY[a.role].get(parameter) if a is not None else None
        meaning = pdef.meaning if pdef is not None else ""
    return join([f"{label}: ", tag("code", parameter), " ", tag("span", meaning, class_="meaning") if meaning else ""])


def _common(sources: list[str]) -> list[str]:
    """The "; "-separated pieces every source of a group begins with (shown once, above the group)."""
    if len(sources) < 2:
        return []
    common = []
    for pieces in zip(*(s.split("; ") for s in sources)):
        if any(p != pieces[0] for p in pieces):
            break
        common.append(pieces[0])
    return common


class _Rows:
    """The sources table: groups of rows, each under a heading row; and the facts they cite."""

    def __init__(self, sc: Scenario, replaced: set[str]) -> None:
        self.sc = sc
        self.replaced = replaced  # ACTOR.PARAM set on top of every option for the run (--set)
        self.rows: list[Html] = []
        self.facts: list[str] = []

    def group(self, title: str, items: list[tuple[str | None, str, str, Spec]]) -> None:
        """A heading row, then one row per (option or None, actor, parameter, spec)."""
        if not items:
            return
        sources = [spec.source or "" for *_, spec in items]
        common = _common(sources)
        heading: list[Any] = [title]
        if common:
            heading += [": all ", source_html(_parts("; ".join(common)))]
        self.rows.append(tag("tr", tag("th", join(heading), colspan=3, class_="group")))
        for (option, actor, parameter, spec), source in zip(items, sources):
            own = _parts("; ".join(source.split("; ")[len(common):]))
            self.facts += cited_facts(source)
            named = _named(self.sc, actor, parameter)
            if option is not None:
                named = join([tag("code", option), " sets ", named])
            value = spec.describe()
            if f"{actor}.{parameter}" in self.replaced:
                value += " (replaced for this run by --set)"
            cells = [named, value,
                     source_html(own) if own else ("(as above)" if common else "(no source given)")]
            self.rows.append(tag("tr", *(tag("td", c) for c in cells)))

    def html(self) -> Html:
        widths = Html('<colgroup><col style="width:34%"><col style="width:16%"><col style="width:50%"></colgroup>')
        head = tag("tr", *(tag("th", h) for h in ("assumption", "value", "source")))
        return tag("table", widths, tag("thead", head), tag("tbody", *self.rows), class_="sources")


def sources_section(raw: Scenario, settled: Scenario, options: list[str], posterior: bool) -> Html:
    """Where every assumption that matters comes from, with the claims of the seed facts cited."""
    changes = [(name, actor, parameter, spec)
               for name in options if name in raw.options
               for (actor, parameter), spec in raw.options[name].changes.items()]
    table = _Rows(raw, {text.partition("=")[0] for text in settled.settings})
    table.group("What the options change", changes)
    uncertain = [(None, p.actor, p.name, p.spec) for p in raw.parameters(None)
                 if not isinstance(p.spec, Fixed) and p.origin != f"option {raw.baseline}"]
    table.group("Uncertain inputs, drawn anew in every world", uncertain)
    if posterior:  # the calibrated constants are uncertain inputs too: the run drew them from their posterior
        drawn = [(None, "constants", n, s) for n, s in settled.constant_specs().items()
                 if n not in settled.constants and (s.source or "").startswith("calibrated")]
        table.group("Model constants, drawn from their posterior in the model-uncertainty runs "
                    "(value: the calibrated one)", drawn)
    out: list[Any] = [para("Every value the options set and every uncertain input, with the source the scenario "
                           "gives (", tag("code", "geosim sources"), " lists every parameter).", class_="note")]
    unchanged = [n for n in options if n in raw.options and not raw.options[n].changes]
    if unchanged:
        out.append(para(join([join((tag("code", n) for n in unchanged), ", "),
                              " change nothing: the scenario as written."])))
    if settled.settings:
        out.append(para(join(["Set for this run on top of every option (--set): ",
                              join((tag("code", t) for t in settled.settings), "; "), "."])))
    out.append(table.html())
    facts = list(dict.fromkeys(table.facts))
    if facts:
        items = []
        for fact_id in facts:
            fact = raw.facts.get(fact_id) or {}
            who = fact.get("speaker")
            said = f" ({who})" if isinstance(who, str) and who else ""
            items.append(join([tag("code", f"seed:{fact_id}"), f": {fact.get('claim', '(not in the facts file)')}{said}"]))
        out += [para("The seed facts cited:", class_="note"), tag("ul", *(tag("li", i) for i in items),
                                                                    class_="facts")]
    return section("Sources of the assumptions", *out)
