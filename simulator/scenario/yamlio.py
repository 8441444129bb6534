"""Read a YAML file defensively and remember where every value came from.

The loader refuses, before building any Python object, files that are too large, not
UTF-8, too deeply nested, or that expand (through aliases) into too many nodes; it
refuses duplicate keys. It returns plain dicts, lists and scalars together with a map
from each value's path (a tuple of keys and indices) to its line and column, so that
schema errors found later can point back into the file.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import ScenarioError, printable
from simulator.files import NotRegularFile, open_regular, read_bounded

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 40
MAX_NODES = 100_000

try:  # the C parser is much faster for the pre-scan; fall back to pure Python
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

Path_ = tuple[Any, ...]


@dataclass
class Located:
    """Parsed YAML data plus the position (1-based line, column) of every value and key."""

    file: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    sha256: str = ""  # of the bytes read, so that nothing reads the file a second time

    def where(self, path: Path_, key: bool = False) -> tuple[int, int]:
        """Line and column of the deepest known prefix of ``path``."""
        table = self.keys if key else self.values
        known: Path_ = ()
        for part in path:
            candidate = known + (part,)
            if candidate in self.values:
                known = candidate
        if key and known in self.keys:
            return self.keys[known]
        return table.get(known, self.values.get(known, (1, 1)))

    def error(self, path: Path_, what: str, fix: str, key: bool = False) -> ScenarioError:
        line, col = self.where(path, key=key)
        return ScenarioError(self.file, line, col, what, fix)


def _mark(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def read_text(path: str | Path, max_bytes: int = MAX_BYTES) -> str:
    """Read ``path`` as UTF-8 text, raising ScenarioError for every way that can fail (see ``read_file``)."""
    return read_file(path, max_bytes)[0]


def read_file(path: str | Path, max_bytes: int = MAX_BYTES) -> tuple[str, str]:
    """Read ``path`` as UTF-8 text; return the text and the SHA-256 of the bytes read.

    Only regular files are read, and never more than ``max_bytes`` (+1, to tell that there
    is more): a FIFO, a device such as /dev/zero or a socket is refused before any read,
    and a file that grows while it is read cannot exhaust memory.
    """
    name = printable(str(path))
    if "\x00" in str(path):
        raise ScenarioError(name, 1, 1, "the file name contains a NUL character", "check the path")
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        raise ScenarioError(name, 1, 1, "no such file", "check the path and the current directory") from None
    except NotRegularFile as exc:
        if exc.kind == "folder":
            raise ScenarioError(name, 1, 1, "is a directory, not a file", "name a .yaml file inside it") from None
        raise ScenarioError(name, 1, 1, f"is a {exc.kind}, not a regular file",
                            "name an ordinary file saved on disk") from None
    except OSError as exc:
        raise ScenarioError(name, 1, 1, f"cannot open file ({exc.strerror})", "check the path and its permissions") \
            from None
    fix = "a scenario file is a few kilobytes; split it or check it is the right file"
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise ScenarioError(name, 1, 1, f"file is {size:,} bytes, over the limit of {max_bytes:,}", fix)
        raw = read_bounded(fd, max_bytes)
        if len(raw) > max_bytes:  # it grew after the size was read
            raise ScenarioError(name, 1, 1, f"file is over the limit of {max_bytes:,} bytes", fix)
    except OSError as exc:
        raise ScenarioError(name, 1, 1, f"cannot read file ({exc.strerror})", "check its permissions") from None
    finally:
        os.close(fd)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise ScenarioError(
            name, line, col, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})",
            "save the file as UTF-8",
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, hashlib.sha256(raw).hexdigest()


def _prescan(name: str, text: str, loader: type = _Loader) -> None:
    """Walk the event stream (no recursion, no objects) to refuse hostile structure."""
    depth = 0
    total = 0
    # Each open collection accumulates the expanded size of its subtree, so that an
    # alias costs what its anchor expands to: alias bombs are caught in linear time.
    stack: list[tuple[str | None, int]] = []
    anchored: dict[str, int] = {}
    try:
        for event in yaml.parse(text, Loader=loader):
            size = 0
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    line, col = _mark(event.start_mark)
                    raise ScenarioError(
                        name, line, col, f"nesting deeper than {MAX_DEPTH} levels",
                        "a scenario needs a handful of levels; flatten the structure",
                    )
                stack.append((event.anchor, 1))
                total += 1  # the collection itself; its items count as they come
                continue
            new = 0  # values not counted before (an end event's items were counted already)
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
                anchor, size = stack.pop()
                if anchor:
                    anchored[anchor] = size
            elif isinstance(event, yaml.ScalarEvent):
                size = new = 1
                if event.anchor:
                    anchored[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                size = new = anchored.get(event.anchor, 1)
            else:
                continue
            if stack:
                anchor, count = stack[-1]
                stack[-1] = (anchor, count + size)
            total += new
            if total > MAX_NODES or size > MAX_NODES:
                line, col = _mark(event.start_mark)
                raise ScenarioError(
                    name, line, col, f"document expands to more than {MAX_NODES:,} values (alias bomb?)",
                    "remove the repeated aliases; write the values out",
                )
    except yaml.YAMLError as exc:
        if loader is not yaml.SafeLoader and "maximum nesting depth" in str(getattr(exc, "problem", "")):
            # libyaml gives up at 1,000 levels while scanning ahead, before we see the
            # events; the pure-Python parser finds where the nesting passes our limit.
            _prescan(name, text, yaml.SafeLoader)
        raise _syntax_error(name, exc, text) from None


# For these, the parser notices the mistake lines later (an unclosed quote or bracket, a
# key without its colon) but the context mark is where the mistake is.
_CONTEXT_FIRST = ("while scanning a simple key", "while scanning a quoted scalar", "while parsing a flow")


def _syntax_error(name: str, exc: yaml.YAMLError, text: str | None = None) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    # PyYAML sometimes appends 'in "<unicode string>", position N' on a second line: the position is ours to give
    problem = (getattr(exc, "problem", None) or str(exc)).split("\n")[0]
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context.startswith(_CONTEXT_FIRST) and context_mark is not None:
        mark = context_mark
    line, col = _mark(mark)
    if text is not None and problem.startswith("unacceptable character"):
        bad = re.search(r"[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", text)
        if bad is not None:  # PyYAML reports the start of the stream; point at the character
            at = bad.start()
            line, col = text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
        return ScenarioError(name, line, col, f"a control character (U+{ord(bad.group()) if bad else 0:04X}) in the file",
                             "remove it: scenario files hold printable text")
    if text is not None:
        lines = text.splitlines()
        if line <= len(lines) and lines[line - 1][col - 1:col] == "\t":
            return ScenarioError(name, line, col, "YAML syntax error: a tab character where YAML needs spaces",
                                 "indent with spaces, not tabs")
        runaway = _runaway_quote(text, line)
        if runaway is not None:  # a quote left open swallows the lines up to the next quote
            start, end = runaway
            return ScenarioError(name, start[0], start[1],
                                 f"YAML syntax error: quoted text runs on from here to line {end}",
                                 "close the quote on this line")
    alias = re.fullmatch(r"found undefined alias '?(.*?)'?", problem)
    if alias is not None:  # '*name' with no '&name' before it: nothing to do with indentation
        name_ = printable(alias.group(1), 60)
        return ScenarioError(name, line, col, f"the alias '*{name_}' is used but no anchor '&{name_}' comes before it",
                             f"mark the value to repeat with '&{name_}' above this line (an anchor must come before "
                             "its aliases), or write the value out")
    what = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    return ScenarioError(name, line, col, what, "fix the indentation, colons or quotes near here")


def _runaway_quote(text: str, line: int) -> tuple[tuple[int, int], int] | None:
    """Where a quoted scalar that spans lines and ends on ``line`` (the error's) starts."""
    found = None
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if token.start_mark.line + 1 > line:
                break
            if (isinstance(token, yaml.ScalarToken) and token.style in ('"', "'")
                    and token.start_mark.line < token.end_mark.line == line - 1):
                found = (_mark(token.start_mark), line)
    except yaml.YAMLError:
        pass
    return found


_KIND = {"bool": "true/false", "NoneType": "null", "int": "a number", "float": "a number",
         "date": "a date", "datetime": "a date"}


def _construct(loc: Located, loader: Any, node: yaml.Node, path: Path_) -> Any:
    loc.values[path] = _mark(node.start_mark)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        _refuse_tag(loc, node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line, col = _mark(key_node.start_mark)
                raise ScenarioError(loc.file, line, col, "a key must be a plain name", "write the key as text")
            if key_node.tag == "tag:yaml.org,2002:merge":
                line, col = _mark(key_node.start_mark)
                raise ScenarioError(loc.file, line, col, "merge keys ('<<') are not supported", "write the keys out")
            key = _scalar(loc, loader, key_node)
            if not isinstance(key, str):
                line, col = _mark(key_node.start_mark)
                kind = _KIND.get(type(key).__name__, "a value")
                raise ScenarioError(
                    loc.file, line, col, f"key '{key_node.value}' is read as {kind}, not as a name",
                    f"quote it (\"{key_node.value}\":) or choose another name",
                )
            if key in out:
                line, col = _mark(key_node.start_mark)
                first = loc.keys[path + (key,)]
                raise ScenarioError(
                    loc.file, line, col, f"duplicate key '{key}' (first at line {first[0]})",
                    "keep one of the two entries",
                )
            loc.keys[path + (key,)] = _mark(key_node.start_mark)
            out[key] = _construct(loc, loader, value_node, path + (key,))
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loc, loader, item, path + (i,)) for i, item in enumerate(node.value)]
    return _scalar(loc, loader, node)


# Numbers as people write them: decimal, with an optional fraction and exponent. YAML 1.1 also
# reads 16:40 as 1000 (base 60), 0x3e8 and 017 as hexadecimal and octal, and 1_000 as 1000,
# but takes 1e18 (no dot) for text: all surprises in a scenario file.
_DECIMAL = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_EXPONENT_ONLY = re.compile(r"[-+]?\d+[eE][-+]?\d+")
MAX_NUMBER_CHARS = 40
_PLAIN_TAGS = {"tag:yaml.org,2002:map": yaml.MappingNode, "tag:yaml.org,2002:seq": yaml.SequenceNode}


def _refuse_tag(loc: Located, node: yaml.Node) -> None:
    """Collections take no tags (``!!python/object`` on a mapping was silently ignored)."""
    if _PLAIN_TAGS.get(node.tag) is not type(node):
        line, col = _mark(node.start_mark)
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise ScenarioError(loc.file, line, col, f"unsupported YAML tag '{tag}'",
                            "remove the '!' tag (scenario files hold plain mappings, lists and values)")


def _scalar(loc: Located, loader: Any, node: yaml.Node) -> Any:
    text = node.value
    if node.style is None and (node.tag.endswith((":int", ":float")) or _EXPONENT_ONLY.fullmatch(text)):
        line, col = _mark(node.start_mark)
        if len(text) > MAX_NUMBER_CHARS:
            raise ScenarioError(loc.file, line, col, f"a number of {len(text):,} characters",
                                f"write it with at most {MAX_NUMBER_CHARS} characters (e.g. 1.5e6)")
        if _EXPONENT_ONLY.fullmatch(text):
            return float(text)
        octal = node.tag.endswith(":int") and re.match(r"[-+]?0\d", text)  # YAML 1.1 reads 017 as 15
        if octal or node.tag.endswith(":int") and not _DECIMAL.fullmatch(text) or (
                node.tag.endswith(":float") and not _DECIMAL.fullmatch(text)
                and text.lower().lstrip("+-") not in (".inf", ".nan")):
            raise ScenarioError(loc.file, line, col, f"'{text}' is not a plain decimal number (YAML reads it in "
                                "another base or notation)", "write the number in plain decimal, or quote it if it is text")
    try:
        return loader.construct_object(node)
    except yaml.constructor.ConstructorError as exc:
        line, col = _mark(node.start_mark)
        raise ScenarioError(loc.file, line, col, f"unsupported YAML value: {exc.problem}",
                            "write plain text, a number or true/false, without '!!' tags") from None
    except (ValueError, OverflowError) as exc:  # e.g. a date like 2025-13-45
        line, col = _mark(node.start_mark)
        raise ScenarioError(loc.file, line, col, f"cannot read '{node.value}' ({exc})",
                            "quote it if it is text") from None


def load_yaml(path: str | Path) -> Located:
    """Load one YAML document from ``path`` with positions; ScenarioError on any problem."""
    text, digest = read_file(path)
    return parse_yaml(str(path), text, digest)


def parse_yaml(name: str, text: str, sha256: str = "") -> Located:
    """Parse ``text`` as ``load_yaml`` parses a file's (same limits and rules); errors name ``name``."""
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise ScenarioError(name, 1, 1, "file is empty", "write a scenario (see docs/scenarios.md)")
    _prescan(name, text)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _syntax_error(name, exc, text) from None
    finally:
        loader.dispose()
    if node is None:
        raise ScenarioError(name, 1, 1, "file is empty", "write a scenario (see docs/scenarios.md)")
    loc = Located(file=name, data=None, sha256=sha256)
    loc.data = _construct(loc, yaml.SafeLoader(""), node, ())
    return loc
