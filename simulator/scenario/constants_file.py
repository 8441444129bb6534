"""A file of model constants: the ``constants:`` block that ``geosim calibrate`` writes.

The block has the same form as a scenario's ``constants:`` section (each constant a
``value`` and a ``source``), so it can be pasted into a scenario file, or given whole to
``geosim validate --constants``. ``write_constants`` writes it atomically;
``load_constants`` reads back the plain values, checked against the known constants and
their ranges, with every mistake naming FILE:LINE:COL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from simulator.errors import UsageError, did_you_mean
from simulator.files import atomic_write
from simulator.scenario.params import CONSTANTS
from simulator.scenario.yamlio import load_yaml


def load_constants(path: str | Path) -> dict[str, float]:
    """Plain values from a ``constants:`` block (as ``geosim calibrate`` writes); errors name FILE:LINE:COL."""
    loc = load_yaml(path)
    data = loc.data
    if not isinstance(data, dict) or not isinstance(data.get("constants"), dict):
        raise loc.error((), "expected a 'constants:' mapping", "use the file 'geosim calibrate' writes")
    out: dict[str, float] = {}
    for name, raw in data["constants"].items():
        where = ("constants", name)
        if name not in CONSTANTS:
            raise loc.error(where, f"unknown constant '{name}'", did_you_mean(name, CONSTANTS, what="known"),
                            key=True)
        value = raw.get("value") if isinstance(raw, dict) else raw
        at_value = where + (("value",) if isinstance(raw, dict) else ())
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise loc.error(at_value, f"constants.{name} needs a plain number", "write {value: NUMBER, source: ...}")
        lo, hi = CONSTANTS[name].bounds()
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            low = "-inf" if lo is None else f"{lo:g}"  # a constant may be bounded on one side only
            high = "inf" if hi is None else f"{hi:g}"
            raise loc.error(at_value, f"constants.{name} = {value:g} is outside {low}..{high}",
                            "use a value inside the range")
        out[str(name)] = float(value)
    return out


def constants_block(values: Mapping[str, float], source: str, comments: Iterable[str] = ()) -> str:
    """The YAML text of a ``constants:`` block: each value to 4 significant digits, all with one ``source``.

    ``comments`` are written first, one ``# `` line each.
    """
    unknown = [n for n in values if n not in CONSTANTS]
    if unknown:
        raise UsageError(f"unknown model constant(s): {', '.join(unknown)}")
    quoted = source.replace("\\", "\\\\").replace('"', '\\"')
    lines = [f"# {c}" for c in comments] + ["constants:"]
    for name, value in values.items():
        lines += [f"  {name}:", f"    value: {value:.4g}", f'    source: "{quoted}"']
    return "\n".join(lines) + "\n"


def write_constants(path: str | Path, values: Mapping[str, float], source: str,
                    comments: Iterable[str] = ()) -> Path:
    """Write a ``constants:`` block (``constants_block``) to ``path`` atomically: whole or not at all."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"output path '{p}' is a directory; give a file name for --out")
    text = constants_block(values, source, comments)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(p, text)
    except OSError as exc:
        raise UsageError(f"cannot write '{p}' ({exc.strerror}); choose another --out") from None
