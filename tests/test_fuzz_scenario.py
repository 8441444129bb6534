"""Property: whatever is done to the shipped scenario file, `geosim check` answers quickly with
exit status 0 (still valid) or 2 (one clear line), and never a traceback.

Hypothesis mutates the file at random: a value replaced by a value of another type (numbers
huge, tiny, non-finite, negative; text; lists; mappings; tags), a key renamed or removed,
a YAML tag added, or raw bytes inserted, deleted or flipped.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import cli

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "scenarios" / "ukraine_2025.yaml").read_bytes()
# one line per mistake (a file can have several), each FILE:LINE:COL: what; fix
ONE_LINE = re.compile(r"^(?:[^\n]+:\d+:\d+: [^\n]+; [^\n]+\n)+$")
SECONDS = 5.0

# What can stand where a value was: YAML text of every type and some hostile ones.
VALUES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda x: repr(x).replace("nan", ".nan").replace("inf", ".inf")),
    st.sampled_from([".nan", "-.inf", "1.0e+309", "1e18", "16:40", "0x3e8", "017", "1_000", "null", "~", "true",
                     "no", "[]", "{}", "[1, 2]", "{dist: beta}", "{dist: choice, values: []}", "'text'",
                     "!!python/object:os.system {}", "!!binary aGk=", "*undefined", "&a 1", "|\n  block",
                     "{dist: lognormal, median: 1, sigma: 1000}", "{dist: uniform, low: 1, high: 0}",
                     "{value: 1, source: 'seed:nope'}", "\"\\u001b[2J\"", "9" * 400]),
    st.text(max_size=20).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
)
_VALUE_AT = re.compile(rb"(?m)^(\s*[A-Za-z_][A-Za-z0-9_]*:)[ ]+(\S[^\n]*)$")
_KEY_AT = re.compile(rb"(?m)^(\s*)([A-Za-z_][A-Za-z0-9_]*):")


@st.composite
def mutated(draw) -> bytes:
    text = SHIPPED
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["value", "key", "drop-key", "tag", "bytes-insert", "bytes-delete", "byte-flip"]))
        if kind in ("value", "tag"):
            spots = list(_VALUE_AT.finditer(text))
            m = spots[draw(st.integers(min_value=0, max_value=len(spots) - 1))]
            new = draw(VALUES).encode("utf-8", "surrogatepass") if kind == "value" else (
                draw(st.sampled_from([b"!!str ", b"!!python/object:x ", b"!local ", b"!!map "])) + m.group(2))
            text = text[: m.start(2)] + new + text[m.end(2):]
        elif kind in ("key", "drop-key"):
            spots = list(_KEY_AT.finditer(text))
            m = spots[draw(st.integers(min_value=0, max_value=len(spots) - 1))]
            new = b"" if kind == "drop-key" else draw(st.sampled_from([b"x", b"name", b"dist", b"<<", b"1", b"?"]))
            text = text[: m.start(2)] + (new or b"zz_removed") + text[m.end(2):]
        elif kind == "bytes-insert":
            at = draw(st.integers(min_value=0, max_value=len(text)))
            text = text[:at] + draw(st.binary(min_size=1, max_size=8)) + text[at:]
        elif kind == "bytes-delete":
            at = draw(st.integers(min_value=0, max_value=len(text) - 1))
            text = text[:at] + text[at + draw(st.integers(min_value=1, max_value=40)):]
        else:
            at = draw(st.integers(min_value=0, max_value=len(text) - 1))
            text = text[:at] + bytes([draw(st.integers(min_value=0, max_value=255))]) + text[at + 1:]
    return text


def test_check_never_crashes_on_a_mutated_scenario(tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "scenarios").mkdir()
    (folder / "seeds").mkdir()
    shutil.copy(ROOT / "seeds" / "facts.yaml", folder / "seeds" / "facts.yaml")
    path = folder / "scenarios" / "mutant.yaml"
    outcomes: dict[int, int] = {0: 0, 2: 0}

    @settings(max_examples=250, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutated())
    def check(text: bytes) -> None:
        path.write_bytes(text)
        out, err = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["check", str(path)])
        took = time.perf_counter() - started
        assert took < SECONDS, f"check took {took:.1f} s"
        assert code in (0, 2), err.getvalue()
        assert "Traceback" not in err.getvalue()
        if code == 2:
            assert ONE_LINE.match(err.getvalue()), err.getvalue()
            assert "\x1b" not in err.getvalue()
        outcomes[code] += 1

    check()
    # The mutations must reach both answers, or the property was tested on nothing.
    assert outcomes[2] > 50 and outcomes[0] > 5, outcomes
