"""The package's layers follow the data: file -> Scenario -> worlds -> totals -> Results -> report.

The rules are read from the source with ``ast`` (every ``import`` and ``from ... import``,
including those inside functions), so a change that breaks a rule fails here, whoever
makes it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "simulator"

# Which parts of the package each layer may import. Data flows left to right:
# scenario -> model -> runs -> analysis -> report; history replays cases through the model and
# reports them; the API and the command line sit on top. `errors` and `files` are for everyone.
BASE = {"errors", "files", "data"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "files": {"errors"},
    "data": {"errors"},
    "scenario": BASE,
    "model": BASE | {"scenario"},
    "runs": BASE | {"scenario", "model"},
    "analysis": BASE | {"scenario", "runs"},
    "report": BASE | {"scenario", "runs", "analysis", "model"},
    "history": BASE | {"scenario", "model", "runs", "analysis", "report"},
    "api": BASE | {"scenario", "model", "runs", "analysis", "report"},
    "sweep": BASE | {"scenario", "api", "analysis"},
    "compare": BASE | {"scenario", "runs", "analysis", "api", "model"},
    # sensitivity and scenario discovery: design points of the model through the engines of runs
    "explore": BASE | {"scenario", "model", "runs"},
    # the what-if page (geosim app): runs through the API, draws with the report layer, steps one world
    "app": BASE | {"api", "report", "analysis", "scenario", "model"},
    # the command line calls the public API, the report layer and history; nothing below them
    "cli": BASE | {"api", "report", "history", "sweep", "compare", "explore", "app", "scenario", "__init__"},
    "__init__": set(),  # the public face imports lazily (see below)
    "__main__": {"cli"},
}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names imported, line) for every import of the package in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "simulator"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(["simulator", *path.relative_to(PACKAGE).with_suffix("").parts][: -node.level])
                module = base + ("." + node.module if node.module else "")
            else:
                module = node.module or ""
            if module.split(".")[0] == "simulator":
                out.append((module, [a.name for a in node.names], node.lineno))
    return out


def target_layer(module: str, names: list[str]) -> list[str]:
    parts = module.split(".")
    if len(parts) == 1:  # `from simulator import x`: x is a subpackage or a name of the public face
        return [n if (PACKAGE / n).is_dir() or (PACKAGE / f"{n}.py").exists() else "__init__" for n in names]
    return [parts[1]]


CASES = [(p, layer(p)) for p in modules()]


@pytest.mark.parametrize("path,own", CASES, ids=[str(p.relative_to(PACKAGE)) for p, _ in CASES])
def test_each_module_imports_only_the_layers_below_it(path: Path, own: str) -> None:
    assert own in ALLOWED, f"{path.relative_to(PACKAGE)}: a new layer '{own}': add it to ALLOWED with its rule"
    if own == "__init__":
        return
    for module, names, line in imports(path):
        for target in target_layer(module, names):
            if target == own:
                continue
            assert target in ALLOWED[own], (
                f"simulator/{path.relative_to(PACKAGE)}:{line} imports {module} ({target}); "
                f"'{own}' may import only {sorted(ALLOWED[own])}")


def test_no_private_name_crosses_modules() -> None:
    crossing = []
    for path in modules():
        for module, names, line in imports(path):
            crossing += [f"simulator/{path.relative_to(PACKAGE)}:{line}: {module}.{n}"
                         for n in names if n.startswith("_") and not n.startswith("__")]
    assert not crossing, "private names imported from another module:\n" + "\n".join(crossing)


def test_analysis_sees_neither_the_model_nor_the_report() -> None:
    """Analysis reads totals and writes nothing: the EMA Workbench's rule that analysis never reaches back."""
    for path in (PACKAGE / "analysis").rglob("*.py"):
        for module, names, _ in imports(path):
            assert not set(target_layer(module, names)) & {"model", "report", "cli", "history"}, (path, module)


def test_validation_does_not_subclass_the_model() -> None:
    for path in (PACKAGE / "history").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b) for b in node.bases}
                assert not bases & {"CeasefireModel", "mesa.Model"}, f"{path.name}: class {node.name}({bases})"


def test_the_layers_are_folders_with_one_job_per_file() -> None:
    for folder in ("scenario", "model", "runs", "analysis", "report", "history", "cli", "data"):
        assert (PACKAGE / folder / "__init__.py").exists(), folder
    # No module grows back into a file of many jobs.
    too_long = {str(p.relative_to(PACKAGE)): n for p in modules()
                if (n := len(p.read_text().splitlines())) > 600}
    assert not too_long, too_long


def test_a_rule_break_is_caught(tmp_path: Path) -> None:
    """The checker itself: a planted import of the report layer (as analysis code would write it) is seen."""
    planted = tmp_path / "planted.py"
    planted.write_text("import numpy\nfrom simulator.report import figures\nfrom simulator import _secret\n")
    found = [target_layer(m, n) for m, n, _ in imports(planted)]
    assert found == [["report"], ["__init__"]]
    assert "report" not in ALLOWED["analysis"]
