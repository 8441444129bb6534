"""Values set from the command line: ``--set actor.parameter=value`` on ``geosim run`` and ``geosim sweep``.

The text after ``=`` is read by the scenario reader (``simulator.scenario.yamlio``) as the items
of a YAML flow list, so a value is written as in a scenario file: a number, ``true``/``false``,
or a flow mapping such as ``{dist: uniform, low: 1, high: 2}``. Several values are separated by
commas (``--set united_kingdom.troops_offered=10000,20000,30000``); commas inside a mapping or a
list belong to it. Each value is then checked exactly like a file's value; a mistake is one
``UsageError`` that names the ``--set`` argument and says how to fix it.

``with_settings`` applies one value per setting on top of every option of a scenario (actors'
parameters) or to the scenario as a whole (``constants.NAME``), as ``overrides`` do for a model.
``label`` names a value by what it is (``20000``, ``true``, ``uniform(low=1, high=2)``), so two
different values never share a name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.errors import ScenarioError, UsageError, did_you_mean, printable
from simulator.scenario.distributions import Fixed, Spec
from simulator.scenario.load import Option, Scenario, parse_spec
from simulator.scenario.params import CONSTANTS, REGISTRY, ParamDef
from simulator.scenario.yamlio import Located, parse_yaml

MAX_SETTING_CHARS = 2000  # one --set argument; a distribution takes a few dozen characters
EXAMPLE = "e.g. --set united_kingdom.troops_offered=20000 or --set 'russia.gains_value={dist: uniform, low: 1, high: 2}'"


@dataclass(frozen=True)
class Setting:
    """One ``--set``: the parameter (``actor.parameter`` or ``constants.NAME``) and its values as written.

    ``values`` are plain Python values (numbers, booleans, mappings) as a scenario file would
    give them; ``where`` names the setting in messages (``--set 'KEY=TEXT'``).
    """

    key: str
    values: tuple[Any, ...]
    where: str

    @property
    def actor(self) -> str:
        return self.key.partition(".")[0]

    @property
    def parameter(self) -> str:
        return self.key.partition(".")[2]

    @property
    def is_constant(self) -> bool:
        return self.actor == "constants"

    @classmethod
    def of(cls, key: str, values: Sequence[Any] | Any) -> Setting:
        """A setting from Python: ``Setting.of("united_states.backstop", [True, False])`` (or one value)."""
        many = values if isinstance(values, (list, tuple)) else [values]
        return cls(str(key), tuple(many), f"setting '{printable(str(key))}'")

    def text(self, value: Any) -> str:
        """``key=value``, the value written as YAML flow (JSON is YAML), as ``--set`` takes it."""
        return f"{self.key}={json.dumps(value, separators=(', ', ': '))}"


def parse_setting(text: str) -> Setting:
    """Read one ``--set`` argument, ``actor.parameter=v1[,v2,...]``; the values are not checked yet.

    Raises:
        UsageError: no ``=``, no parameter, no value, or a value that is not valid YAML.
    """
    where = f"--set '{printable(text, 200)}'"
    if len(text) > MAX_SETTING_CHARS:
        raise UsageError(f"{where}: {len(text):,} characters, over the limit of {MAX_SETTING_CHARS:,}; "
                         "set fewer values at a time")
    key, eq, values = text.partition("=")
    key = key.strip()
    actor, dot, name = key.partition(".")
    if not eq or not dot or not actor or not name:
        raise UsageError(f"{where}: write actor.parameter=value; {EXAMPLE}")
    if not values.strip():
        raise UsageError(f"{where}: no value after '='; {EXAMPLE}")
    try:
        located = parse_yaml(where, f"[{values}]")
    except ScenarioError as exc:
        raise UsageError(f"{where}: cannot read the value ({_yaml_problem(exc)}); write numbers, true/false "
                         "or a mapping in braces, separated by commas; quote the whole argument in the shell") \
            from None
    items = located.data
    if not isinstance(items, list):  # pragma: no cover - a flow list always reads as a list
        raise UsageError(f"{where}: cannot read the value; {EXAMPLE}")
    return Setting(key, tuple(items), where)


def _yaml_problem(exc: ScenarioError) -> str:
    what = exc.what.removeprefix("YAML syntax error: ").replace(" in the file", "")
    return f"{what} at character {max(1, exc.col - 1)}" if exc.line == 1 else what


def parse_settings(texts: Sequence[str] | None) -> list[Setting]:
    """Every ``--set`` argument, read; a parameter set twice is an error (give its values in one ``--set``)."""
    out: list[Setting] = []
    for text in texts or ():
        setting = parse_setting(text)
        if any(s.key == setting.key for s in out):
            raise UsageError(f"{setting.where}: '{printable(setting.key)}' is set twice; give all its values "
                             "in one --set, separated by commas")
        out.append(setting)
    return out


def definition(scenario: Scenario, setting: Setting) -> ParamDef:
    """The registry entry of the parameter ``setting`` names in ``scenario``.

    Raises:
        UsageError: an unknown actor, parameter or constant, with the closest names.
    """
    actor, name, where = setting.actor, setting.parameter, setting.where
    if setting.is_constant and actor not in scenario.actors:
        if name not in CONSTANTS:
            raise UsageError(f"{where}: unknown constant '{printable(name)}'; " + did_you_mean(name, CONSTANTS))
        return CONSTANTS[name]
    if actor not in scenario.actors:
        raise UsageError(f"{where}: unknown actor '{printable(actor)}' (write actor.parameter); "
                         + did_you_mean(actor, [*scenario.actors, "constants"]))
    role = scenario.actors[actor].role
    if name not in REGISTRY[role]:
        raise UsageError(f"{where}: unknown parameter '{printable(name)}' for {actor} (a {role}); "
                         + did_you_mean(name, REGISTRY[role]))
    return REGISTRY[role][name]


def setting_specs(scenario: Scenario, setting: Setting) -> list[Spec]:
    """The values of ``setting``, each checked exactly as a value in the scenario file would be.

    Raises:
        UsageError: naming the setting (and which value, if it has several) and the fix.
    """
    pdef = definition(scenario, setting)
    out = []
    n = len(setting.values)
    for i, raw in enumerate(setting.values):
        which = "" if n == 1 else f" (value {i + 1} of {n})"
        try:
            out.append(parse_spec(Located(file=setting.where, data=None), (setting.actor, setting.parameter), raw,
                                  pdef, scenario.facts, setting.key))
        except ScenarioError as exc:
            raise UsageError(f"{setting.where}{which}: {exc.what}; {exc.fix}") from None
    return out


def with_settings(scenario: Scenario, settings: Sequence[Setting] | Mapping[str, Any]) -> Scenario:
    """``scenario`` with each setting's value on top of every option (a constant: for the whole scenario).

    ``settings`` are parsed ``--set`` arguments or a mapping ``{"actor.parameter": value}`` with
    values written as in a scenario file. The result records them (``Scenario.settings``, which
    ``geosim run`` writes to the manifest) and its ``sha256`` covers them, so a run with other
    settings never reuses this one's checkpoints.

    Raises:
        UsageError: an unknown name, a value a scenario file could not hold, a parameter set twice,
            or a setting with several values (a sweep takes several: ``geosim sweep``).
    """
    chosen = ([Setting.of(k, [v]) for k, v in settings.items()] if isinstance(settings, Mapping)
              else list(settings))
    if not chosen:
        return scenario
    params: dict[tuple[str, str], Spec] = {}
    constants = dict(scenario.constants)
    texts: list[str] = []
    seen: set[str] = set()
    for setting in chosen:
        if len(setting.values) != 1:
            raise UsageError(f"{setting.where}: {len(setting.values)} values, but a run takes one per parameter; "
                             "give one value, or try several with 'geosim sweep'")
        if setting.key in seen:
            raise UsageError(f"{setting.where}: '{printable(setting.key)}' is set twice; set it once")
        seen.add(setting.key)
        key = (setting.actor, setting.parameter)
        spec = setting_specs(scenario, setting)[0]
        if setting.is_constant and setting.actor not in scenario.actors:
            constants[setting.parameter] = spec
        else:
            params[key] = spec
        texts.append(setting.text(setting.values[0]))
    options = {name: Option(o.name, o.description, {**o.changes, **params}, o.based_on)
               for name, o in scenario.options.items()}
    recorded = (*scenario.settings, *texts)
    digest = hashlib.sha256("\n".join([scenario.sha256, *recorded]).encode()).hexdigest()
    return dataclasses.replace(scenario, options=options, constants=constants, settings=recorded, sha256=digest)


def _number(x: float) -> str:
    if isinstance(x, bool):
        return str(x).lower()
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.15g}" if math.isfinite(x) else str(x)


def _shown(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_shown(x) for x in v) + "]"
    return _number(v) if isinstance(v, (int, float)) else str(v)


def label(spec: Spec) -> str:
    """A value named by what it is: ``20000``, ``true``, ``uniform(low=1, high=2)``,
    ``choice(values=[true, false], weights=[1, 3])``. The source is not part of the name."""
    if isinstance(spec, Fixed):
        return _number(spec.value)
    fields = spec.model_dump(exclude={"source", "dist"}, exclude_none=True, exclude_defaults=True)
    return f"{spec.dist}(" + ", ".join(f"{k}={_shown(v)}" for k, v in fields.items()) + ")"  # type: ignore[union-attr]
