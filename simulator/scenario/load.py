"""Scenario files: schema, validation with file positions, provenance, option overlays.

A scenario is the base world (actors with roles and uncertain parameters) plus named
options, each an overlay of lever settings (which may build on another option's:
``based_on:``, resolved in ``simulator.scenario.options``). ``load_scenario`` returns a validated,
immutable ``Scenario``; every mistake becomes a ``ScenarioError`` that names the file,
the line and column, and the fix.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from simulator.data import SCENARIO_SUFFIX, facts_path, scenario_names, scenario_path
from simulator.errors import ScenarioError, UsageError, did_you_mean, printable
from simulator.scenario.distributions import DIST_NAMES, DIST_TYPES, Fixed, Spec
from simulator.scenario.facts import NEARBY_FACTS, facts_file, load_facts, same_bytes
from simulator.scenario.options import resolve_bases
from simulator.scenario.params import CONSTANTS, REGISTRY, ROLES, ParamDef, Role
from simulator.scenario.problems import Problems, source_warnings
from simulator.scenario.yamlio import Located, load_yaml

ACTOR_KEYS = ("role", "label", "description")
SOURCE_KINDS = ("seed", "cite", "judgement", "calibrated")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SOURCE_SPLIT = re.compile(r";\s*(?=(?:seed|cite|judgement|calibrated)\s*:)")


MAX_HORIZON_MONTHS = 1200  # a century: the limit of files, the command line and the API


class _TopLevel(BaseModel):
    """The shape of a scenario file; actor and option bodies are checked by role below."""

    model_config = ConfigDict(extra="forbid", strict=True)  # strict: `worlds: true` is not 1 world
    name: str = Field(min_length=1)
    description: str = ""
    horizon_months: int = Field(gt=0, le=MAX_HORIZON_MONTHS)
    worlds: int = Field(gt=0, le=1_000_000_000)
    seed: int = Field(ge=0)
    seeds: str | None = None  # see facts_file
    constants: dict[str, Any] = Field(default_factory=dict)
    actors: dict[str, dict[str, Any]]
    baseline: str
    options: dict[str, dict[str, Any]]


class _OptionShape(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = ""
    based_on: str | None = None
    actors: dict[str, dict[str, Any]] = Field(default_factory=dict)


@dataclass(frozen=True)
class Parameter:
    """A parameter value as the scenario (or the default) sets it."""

    actor: str
    name: str
    spec: Spec
    definition: ParamDef
    origin: str  # "scenario", "default", or "option NAME"

    @property
    def source(self) -> str:
        # defaults carry the registry's source; a value set in the file without one has none
        return self.spec.source or "(no source given)"


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    label: str
    description: str


@dataclass(frozen=True)
class Option:
    """An option: every setting it makes (``changes``, those of its bases included) and its base, if any."""

    name: str
    description: str
    changes: dict[tuple[str, str], Spec]
    based_on: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file."""

    path: str
    name: str
    description: str
    horizon_months: int
    worlds: int
    seed: int
    actors: dict[str, Actor]
    base: dict[tuple[str, str], Spec]  # set in the file (without defaults)
    constants: dict[str, Spec]
    baseline: str
    options: dict[str, Option]
    facts: dict[str, dict[str, Any]] = field(repr=False)
    # SHA-256 of the file; with settings, of the file's hash and the settings (so checkpoints of
    # a run with other settings are never reused)
    sha256: str = ""
    # Values set on top of every option (``geosim run --set``; ``simulator.scenario.settings``),
    # as "actor.parameter=value"
    settings: tuple[str, ...] = ()
    # What 'geosim check' warns about in a valid file (``simulator.scenario.problems``), one line each
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def actors_with_role(self, role: Role) -> list[Actor]:
        return [a for a in self.actors.values() if a.role == role]

    def parameters(self, option: str | None = None) -> list[Parameter]:
        """Every parameter of every actor under ``option`` (defaults filled in), in file order."""
        opt = self.option(option)
        out: list[Parameter] = []
        for actor in self.actors.values():
            for pname, pdef in REGISTRY[actor.role].items():
                key = (actor.name, pname)
                if key in opt.changes:
                    spec, origin = opt.changes[key], f"option {opt.name}"
                elif key in self.base:
                    spec, origin = self.base[key], "scenario"
                else:
                    spec, origin = Fixed(value=pdef.default, source=pdef.source), "default"
                out.append(Parameter(actor.name, pname, spec, pdef, origin))
        return out

    def constant_specs(self) -> dict[str, Spec]:
        """Model constants: the scenario's values, else the calibrated defaults."""
        return {
            name: self.constants.get(name, Fixed(value=d.default, source=d.source))
            for name, d in CONSTANTS.items()
        }

    def option(self, name: str | None) -> Option:
        """The named option (``None`` means the baseline)."""
        name = self.baseline if name is None else name
        if name not in self.options:
            hint = difflib.get_close_matches(name, list(self.options), n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else "choose one of: " + ", ".join(self.options)
            raise ScenarioError(self.path, 1, 1, f"no option named '{name}'", fix)
        return self.options[name]


# ---------------------------------------------------------------------------- checks


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    hint = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    if hint:
        return f"did you mean '{hint[0]}'?"
    return "choose one of: " + ", ".join(choices)


_TYPE_FIX = {
    "int_parsing": "write a whole number",
    "int_from_float": "write a whole number",
    "int_type": "write a whole number",
    "float_parsing": "write a number",
    "float_type": "write a number",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write text (quote it if needed)",
    "dict_type": "write a mapping of keys to values",
    "list_type": "write a list",
    "greater_than": "use a positive value",
    "greater_than_equal": "use a value that is not negative",
    "less_than_equal": "use a smaller value",
    "too_short": "give at least one item",
}


_UNION_PARTS = DIST_NAMES + ("Fixed",)
_SCALAR_PARTS = ("float", "bool", "int", "str")  # pydantic names the member of a union that failed


def _raise_pydantic(loc: Located, base: tuple[Any, ...], exc: ValidationError,
                    what: str | None = None, fields: list[str] | None = None) -> None:
    errors = exc.errors(include_url=False)
    # A misspelt key also leaves a required key missing: report the misspelling first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    raise _pydantic_error(loc, base, err, what, fields)


def _pydantic_errors(loc: Located, base: tuple[Any, ...], exc: ValidationError) -> list[ScenarioError]:
    """Every mistake pydantic found, as ``ScenarioError``s; a required key that a misspelt key
    probably meant (``horizon_month:`` for ``horizon_months:``) is not reported missing as well."""
    errors = exc.errors(include_url=False)
    extra = [str(e["loc"][-1]) for e in errors if e["type"] == "extra_forbidden" and e["loc"]]
    out = []
    for err in errors:
        if err["type"] == "missing" and err["loc"] and difflib.get_close_matches(str(err["loc"][-1]), extra, n=1):
            continue
        out.append(_pydantic_error(loc, base, err))
    return out


def _pydantic_error(loc: Located, base: tuple[Any, ...], err: Any, what: str | None = None,
                    fields: list[str] | None = None) -> ScenarioError:
    parts = [p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_PARTS)]
    if parts and parts[-1] in _SCALAR_PARTS:
        parts.pop()
    path = base + tuple(parts)
    kind = err["type"]
    field_name = str(path[-1]) if path else "file"
    # Name the value as the user would: "us.resolve.a" for a parameter, "actors.ukraine" at top level.
    rest = ".".join(str(p) for p in parts)
    label = (what + ("." + rest if rest else "")) if what else ".".join(str(p) for p in path) or "file"
    prefix = f"{what}: " if what else ""
    if kind == "extra_forbidden":
        parent = path[:-1]
        return loc.error(path, f"{prefix}unknown key '{field_name}'",
                         _known_keys_fix(field_name, parent, base, err, fields), key=True)
    if kind == "missing":
        return loc.error(path[:-1], f"{prefix}missing required key '{field_name}'", f"add '{field_name}:'")
    if kind == "union_tag_invalid":
        got = err.get("input", {}).get("dist") if isinstance(err.get("input"), dict) else None
        return loc.error(path + ("dist",), f"{prefix}unknown distribution '{got}'", _suggest(str(got), DIST_NAMES))
    msg = err["msg"].removeprefix("Value error, ")
    fix = _TYPE_FIX.get(kind, "see docs/scenarios.md for the allowed values")
    if kind == "value_error":
        fix = "put the bounds in order" if ("above" in msg or "not below" in msg or "<=" in msg) else fix
        culprit = _culprit(msg, err.get("input"))
        if culprit:  # point at the field at fault, not at the start of the mapping
            path = path + (culprit,)
        if culprit == "weights":
            fix = "give one weight per value, none negative and not all zero"
        return loc.error(path, f"{label}: {msg}", fix)
    if msg.startswith("Input "):
        got = err.get("input")
        shown = f" (got {got!r})" if isinstance(got, (str, int, float, type(None))) and len(repr(got)) < 40 else ""
        return loc.error(path, f"{label} {msg.removeprefix('Input ')}{shown}", fix)
    return loc.error(path, f"{label}: {msg}", fix)


def _culprit(msg: str, raw: Any) -> str | None:
    """Which field of a distribution a cross-field check (bounds, weights) blames."""
    if not isinstance(raw, dict):
        return None
    if msg.startswith("low ("):
        field = "low"
    elif msg.startswith("need low <= mode <= high"):
        try:
            field = "low" if float(raw["low"]) > float(raw["high"]) else "mode"
        except (KeyError, TypeError, ValueError):
            field = "low"
    elif msg.startswith("low equals high"):
        field = "high"
    elif "weights" in msg:
        field = "weights"
    else:
        return None
    return field if field in raw else None


def _known_keys_fix(word: str, parent: tuple[Any, ...], base: tuple[Any, ...], err: dict[str, Any],
                    fields: list[str] | None = None) -> str:
    if parent == ():
        return _suggest(word, list(_TopLevel.model_fields))
    if len(parent) == 2 and parent[0] == "options":
        return _suggest(word, list(_OptionShape.model_fields))
    if fields:  # the fields of this distribution (or of {value, source})
        return _suggest(word, fields)
    return _suggest(word, ["dist", "low", "high", "mean", "sd", "mode", "a", "b", "median", "sigma",
                           "values", "weights", "value", "source"])


def _check_source(loc: Located, path: tuple[Any, ...], source: str | None, facts: dict[str, Any]) -> None:
    if source is None:
        return
    # A source is one or more "KIND: text" parts separated by ";" (a ";" inside a
    # citation's text is fine: only a known kind after it starts a new part).
    for part in [s.strip() for s in _SOURCE_SPLIT.split(source.strip()) if s.strip()]:
        kind, _, rest = part.partition(":")
        kind = kind.strip()
        if kind not in SOURCE_KINDS or not rest.strip():
            raise loc.error(
                path + ("source",), f"source '{part}' does not start with a known kind",
                "write 'seed:FACT_ID', 'cite: reference', 'judgement: reason' or 'calibrated: how'",
            )
        if kind == "seed":
            for fact in [f.strip() for f in rest.split(",")]:
                if fact not in facts:
                    raise loc.error(
                        path + ("source",), f"unknown seed fact '{fact}'",
                        _suggest(fact, sorted(facts)) + " (facts are listed in seeds/facts.yaml)",
                    )


_SPEC = TypeAdapter(Spec)


def parse_spec(loc: Located, path: tuple[Any, ...], raw: Any, pdef: ParamDef,
               facts: dict[str, Any], what: str) -> Spec:
    """One parameter's value as written (a number, true/false, ``{value: ...}`` or ``{dist: ...}``),
    checked against the parameter's kind and range and its source against the facts.

    ``loc`` and ``path`` say where the value was written, for errors at its line."""
    if isinstance(raw, (bool, int, float)):
        raw = {"value": raw}
    if not isinstance(raw, dict):
        got = {str: f"text '{raw}'", type(None): "nothing", list: "a list"}.get(type(raw), type(raw).__name__)
        raise loc.error(path, f"{what}: expected a number, true/false or a mapping, got {got}",
                        "write a number, true/false, {value: ..., source: ...} or {dist: ..., ...}")
    if "dist" in raw and "value" in raw:
        raise loc.error(path, f"{what}: both 'dist' and 'value' given", "keep one of them")
    if "dist" in raw:
        if not isinstance(raw["dist"], str) or raw["dist"] not in DIST_TYPES:  # a mapping is unhashable
            raise loc.error(path + ("dist",), f"{what}: unknown distribution '{raw['dist']}'",
                            _suggest(str(raw["dist"]), DIST_NAMES))
        model: Any = DIST_TYPES[raw["dist"]]
    elif "value" in raw:
        model = Fixed
    else:
        raise loc.error(path, f"{what}: a mapping needs 'value' or 'dist'",
                        "write {value: ..., source: ...} or {dist: uniform, low: ..., high: ...}")
    try:
        spec: Spec = model.model_validate(raw)
    except ValidationError as exc:
        _raise_pydantic(loc, path, exc, what, list(model.model_fields))
        raise  # unreachable
    _check_value(loc, path, spec, pdef, what)
    _check_source(loc, path, spec.source, facts)
    return spec


def _check_value(loc: Located, path: tuple[Any, ...], spec: Spec, pdef: ParamDef, what: str) -> None:
    value_path = path + (("value",) if isinstance(spec, Fixed) else ())
    if pdef.kind == "bool":
        vals = [spec.value] if isinstance(spec, Fixed) else getattr(spec, "values", None)
        if vals is None or not all(isinstance(v, bool) for v in vals):
            raise loc.error(value_path, f"{what} is true or false", "write true or false (or a choice of them)")
        return
    if any(isinstance(v, bool) for v in ([spec.value] if isinstance(spec, Fixed) else getattr(spec, "values", []))):
        raise loc.error(value_path, f"{what} is a number, not true/false", "write a number")
    lo, hi = spec.extremes()  # what a world can really draw (the support, or the extreme quantiles)
    blo, bhi = pdef.bounds()
    lo_path, hi_path = _end_path(path, spec, "low"), _end_path(path, spec, "high")
    dist = getattr(spec, "dist", "")
    slo, shi = spec.support()
    if (math.isfinite(slo) and not math.isfinite(lo)) or (math.isfinite(shi) and not math.isfinite(hi)):
        # A bounded distribution whose inverse overflows (a truncnormal many sds from its interval)
        raise loc.error(path, f"{what}: a {dist} whose draws overflow to infinity",
                        "give it a larger sd or a mean nearer its interval")
    if pdef.kind == "prob":
        if lo < 0 or hi > 1:
            shown = f"{lo:g}" if lo < 0 else f"{hi:g}"
            raise loc.error(lo_path if lo < 0 else hi_path, f"{what} is a probability but {shown} is outside 0..1",
                            "use a value between 0 and 1 (a beta or truncnormal keeps draws inside)")
        return
    if blo is not None and lo < blo:
        noun = "troops" if "troops" in pdef.name else "aid" if "aid" in pdef.name else "value"
        got = (f"{noun} {lo:g}" if isinstance(spec, Fixed)
               else f"a {dist} distribution, which has no lower limit" if lo == -math.inf
               else f"a {dist} that can draw {lo:g}")
        raise loc.error(lo_path, f"{what} cannot be below {blo:g} (got {got})",
                        f"use a value of at least {blo:g} (a lognormal or truncnormal keeps draws inside)")
    if bhi is not None and hi > bhi:
        got = (f"got {hi:g}" if isinstance(spec, Fixed)
               else f"a {dist} that can draw {'infinity' if hi == math.inf else f'{hi:g}'}")
        raise loc.error(hi_path, f"{what} cannot be above {bhi:g} ({got})",
                        f"use a value of at most {bhi:g}" + ("" if isinstance(spec, Fixed) else
                                                             " (narrow the distribution or bound it)"))


def _end_path(path: tuple[Any, ...], spec: Spec, end: str) -> tuple[Any, ...]:
    """Where in the file the low or high end of a value's range is written."""
    if isinstance(spec, Fixed):
        return path + ("value",)
    if end in type(spec).model_fields:
        return path + (end,)  # where() falls back to the mapping if the field was left out
    return path + (("values",) if "values" in type(spec).model_fields else ())


def _parse_actor_params(loc: Located, path: tuple[Any, ...], body: dict[str, Any], role: Role,
                        facts: dict[str, Any], actor: str, allow_meta: bool,
                        problems: Problems) -> dict[tuple[str, str], Spec]:
    """The parameters an actor's mapping sets, each checked on its own (mistakes go to ``problems``)."""
    out: dict[tuple[str, str], Spec] = {}
    known = REGISTRY[role]
    for key, raw in body.items():
        if allow_meta and key in ACTOR_KEYS:
            continue
        with problems.check():
            if key not in known:
                choices = list(known) + (list(ACTOR_KEYS) if allow_meta else [])
                raise loc.error(path + (key,), f"unknown parameter '{key}' for {actor} (a {role})",
                                _suggest(str(key), choices), key=True)
            out[(actor, key)] = parse_spec(loc, path + (key,), raw, known[key], facts, f"{actor}.{key}")
    return out


def scenario_file(scenario: str | Path) -> str | Path:
    """The file that ``scenario`` names: a path that exists always wins; a bare name (no folder, no
    suffix) is a built-in scenario (``"ukraine_2025"``). Any other path is returned as given, for the
    reader to report."""
    text = str(scenario)
    if os.path.exists(scenario) or Path(text).name != text or "\x00" in text:
        return scenario
    suffix = Path(text).suffix
    if not suffix:
        if text in scenario_names():
            return scenario_path(text)
        raise UsageError(f"no scenario file or built-in scenario named '{printable(text)}'; "
                         f"{did_you_mean(text, scenario_names(), 'the built-in ones are')} "
                         "('geosim scenarios' lists the built-in scenarios)")
    if suffix == SCENARIO_SUFFIX and Path(text).stem in scenario_names():
        # the likeliest slip after installing: the built-in scenario's file name instead of its name
        raise ScenarioError(printable(text), 1, 1, "no such file in the current directory",
                            f"to run the built-in scenario, give its name alone: '{Path(text).stem}'")
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario: a file, or a built-in scenario by name (``"ukraine_2025"``).

    Raises ``ScenarioError`` with file:line:col for a bad file (``ScenarioErrors``, listing up
    to 20, for a file with several mistakes: ``simulator.scenario.problems``), ``UsageError``
    for a name that is neither a file nor a built-in scenario.
    """
    path = scenario_file(path)
    loc = load_yaml(path)
    data = loc.data
    if not isinstance(data, dict):
        raise loc.error((), "a scenario file must be a mapping of keys (name:, actors:, options: ...)",
                        "see docs/scenarios.md for an example")
    problems = Problems()
    top = _top_level(loc, data, problems)
    with problems.check():
        if not _SLUG.fullmatch(top.name):
            # The name becomes the default output folder (results/<name>): never a path.
            raise loc.error(("name",), f"scenario name '{top.name[:60]}' is not a simple name",
                            "use letters, digits, '_' and '-' (at most 64, starting with a letter or digit)")
    facts: dict[str, dict[str, Any]] | None = None
    with problems.check():
        facts_at = facts_file(loc, Path(path), top.seeds)
        facts = load_facts(facts_at)
    if facts is None:  # without its facts no source can be checked
        problems.raise_if_any()
        raise AssertionError("unreachable: the facts file failed without a mistake")  # pragma: no cover

    actors: dict[str, Actor] = {}
    base: dict[tuple[str, str], Spec] = {}
    for name, body in top.actors.items():
        with problems.check():
            actors[name] = _actor(loc, name, body)
        if name in actors:
            base.update(_parse_actor_params(loc, ("actors", name), body, actors[name].role, facts, name,
                                            allow_meta=True, problems=problems))

    if len(actors) == len(top.actors):  # with an actor's role unreadable, the count means nothing
        for role in ("challenger", "defender"):
            found = [a.name for a in actors.values() if a.role == role]
            with problems.check():
                if len(found) != 1:
                    raise loc.error(("actors",), f"a scenario needs exactly one {role}, found {len(found)}",
                                    f"give exactly one actor 'role: {role}'", key=True)

    constants: dict[str, Spec] = {}
    for cname, raw in top.constants.items():
        with problems.check():
            cpath = ("constants", cname)
            if cname not in CONSTANTS:
                raise loc.error(cpath, f"unknown constant '{cname}'", _suggest(str(cname), list(CONSTANTS)),
                                key=True)
            constants[cname] = parse_spec(loc, cpath, raw, CONSTANTS[cname], facts, f"constants.{cname}")

    own: dict[str, dict[tuple[str, str], Spec]] = {}
    shapes: dict[str, _OptionShape] = {}
    for oname, body in top.options.items():
        with problems.check():
            shapes[oname] = _option_shape(loc, oname, body)
        if oname not in shapes:
            continue
        changes: dict[tuple[str, str], Spec] = {}
        for aname, params in shapes[oname].actors.items():
            opath = ("options", oname, "actors", aname)
            if aname not in actors:
                with problems.check():
                    if aname not in top.actors:  # an actor whose own definition failed was reported there
                        raise loc.error(opath, f"option '{oname}' names an unknown actor '{aname}'",
                                        _suggest(str(aname), list(top.actors)), key=True)
                continue
            changes.update(_parse_actor_params(loc, opath, params, actors[aname].role, facts, aname,
                                               allow_meta=False, problems=problems))
        own[oname] = changes
    if len(shapes) < len(top.options):  # bases and the baseline may name the options that failed
        problems.raise_if_any()
    with problems.check():
        resolved = resolve_bases(loc, {name: shape.based_on for name, shape in shapes.items()}, own)
        if top.baseline not in shapes:
            raise loc.error(("baseline",), f"baseline '{top.baseline}' is not one of the options",
                            _suggest(top.baseline, list(shapes)))
    problems.raise_if_any()
    options = {name: Option(name, shape.description, resolved[name], shape.based_on) for name, shape in shapes.items()}

    written = [(("actors", a, p), f"{a}.{p}", spec, REGISTRY[actors[a].role][p]) for (a, p), spec in base.items()]
    written += [(("constants", c), f"constants.{c}", spec, CONSTANTS[c]) for c, spec in constants.items()]
    written += [(("options", o, "actors", a, p), f"option {o}: {a}.{p}", spec, REGISTRY[actors[a].role][p])
                for o, changes in own.items() for (a, p), spec in changes.items()]
    borrowed = None
    if top.seeds is None and same_bytes(facts_at, facts_path()):
        shipped = facts_at.resolve() == facts_path().resolve()
        borrowed = "the ones that ship with geosim" if shipped else f"'{NEARBY_FACTS}'"
    return Scenario(
        path=str(path), name=top.name, description=top.description, horizon_months=top.horizon_months,
        worlds=top.worlds, seed=top.seed, actors=actors, base=base, constants=constants,
        baseline=top.baseline, options=options, facts=facts, sha256=loc.sha256,
        warnings=source_warnings(loc, written, borrowed),
    )


# The top-level keys a file can do without while the rest is checked: stand-ins for bad values.
_STAND_INS: dict[str, Any] = {"name": "scenario", "description": "", "horizon_months": 1, "worlds": 1, "seed": 0,
                              "constants": {}}


def _top_level(loc: Located, data: dict[str, Any], problems: Problems) -> _TopLevel:
    """The top-level keys, checked. Mistakes in ``name``, ``horizon_months``, ``worlds``, ``seed``,
    ``description`` or ``constants`` (or an unknown key) are noted and the rest is checked with
    stand-ins; any other mistake there ends the check."""
    try:
        return _TopLevel.model_validate(data)
    except ValidationError as exc:
        for error in _pydantic_errors(loc, (), exc):
            problems.add(error)
        bad = {e["loc"][0] if e["loc"] else "" for e in exc.errors(include_url=False)}
    fields = _TopLevel.model_fields
    if any(key in fields and key not in _STAND_INS for key in bad) or "" in bad:
        problems.raise_if_any()
    kept = {k: v for k, v in data.items() if k in fields and k not in bad}
    try:
        return _TopLevel.model_validate({**kept, **{k: _STAND_INS[k] for k in bad if k in _STAND_INS}})
    except ValidationError:  # pragma: no cover - the stand-ins are valid
        problems.raise_if_any()
        raise


def _actor(loc: Located, name: Any, body: dict[str, Any]) -> Actor:
    """An actor's name, role, label and description, checked (its parameters are checked apart)."""
    apath = ("actors", name)
    if not _NAME.fullmatch(str(name)):
        raise loc.error(apath, f"actor name '{name}' is not a simple name",
                        "use lower-case letters, digits and underscores", key=True)
    role = body.get("role")
    if role is None:
        raise loc.error(apath, f"actor '{name}' has no role", "add 'role:' (one of " + ", ".join(ROLES) + ")")
    if role not in ROLES:
        raise loc.error(apath + ("role",), f"unknown role '{role}'", _suggest(str(role), ROLES))
    for meta in ("label", "description"):
        if meta in body and not isinstance(body[meta], str):
            raise loc.error(apath + (meta,), f"{name}.{meta} must be text", "quote it")
    return Actor(name, role, str(body.get("label", name)), str(body.get("description", "")))


def _option_shape(loc: Located, oname: Any, body: Any) -> _OptionShape:
    """An option's name and keys, checked (its settings are checked apart)."""
    opath = ("options", oname)
    if not _NAME.fullmatch(str(oname)):  # options are named on the command line, in lists with ',' and in files
        raise loc.error(opath, f"option name '{str(oname)[:60]}' is not a simple name",
                        "use lower-case letters, digits and underscores, starting with a letter", key=True)
    if not isinstance(body, dict):
        raise loc.error(opath, f"option '{oname}' must be a mapping", "give it 'description:' and 'actors:'")
    try:
        return _OptionShape.model_validate(body)
    except ValidationError as exc:
        _raise_pydantic(loc, opath, exc)
        raise

