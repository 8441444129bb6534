"""The ``geosim`` command: a thin skin over the Python API.

User errors (bad files, bad arguments) print one line ``FILE:LINE:COL: what; fix`` (or
``geosim: what; fix``) and exit with status 2; they never show a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from simulator.cli.arguments import non_negative_int, positive_int
from simulator.data import scenario_names
from simulator.errors import GeosimError, UsageError
from simulator.scenario.load import Scenario, load_scenario

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors also exit 2, without usage noise
        raise UsageError(f"{message}; see 'geosim {self.prog.split()[-1]} --help'"
                         if " " in self.prog else f"{message}; see 'geosim --help'")


def _summary_line(sc: Scenario) -> str:
    return (f"{sc.path}: ok - scenario '{sc.name}', {len(sc.actors)} actors, {len(sc.options)} options, "
            f"horizon {sc.horizon_months} months, {sc.worlds:,} worlds, seed {sc.seed}")


def cmd_check(args: argparse.Namespace) -> int:
    for path in args.files:
        sc = load_scenario(path)  # every mistake of the file at once (up to 20), then exit 2
        print(_summary_line(sc))
        for line in sc.warnings:  # numbers without a source, facts of another conflict
            print(line, file=sys.stderr)
        for actor in sc.actors.values():
            print(f"  actor  {actor.name:<16} {actor.role:<18} {actor.label}")
        for opt in sc.options.values():
            mark = " (baseline)" if opt.name == sc.baseline else ""
            levers = ", ".join(f"{a}.{p}" for a, p in opt.changes) or "no changes"
            based = f" (based on {opt.based_on})" if opt.based_on else ""
            print(f"  option {opt.name:<26}{mark} {levers}{based}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from simulator.scenario.provenance import sources_table

    sc = load_scenario(args.file)
    table = sources_table(sc)
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        for scope, rows in table.groupby("scope", sort=False):
            print(f"\n== {scope}")
            for row in rows.itertuples():
                print(f"  {row.actor + '.' + row.parameter:<44} {row.value:<40} [{row.origin}]")
                print(f"      {row.source}")
    return 0


def _first_sentence(text: str) -> str:
    """The opening sentence of a description (descriptions are folded YAML: one paragraph)."""
    head, dot, _ = " ".join(text.split()).partition(". ")
    return head + dot.strip() if head else "(no description)"


def cmd_scenarios(args: argparse.Namespace) -> int:
    for name in scenario_names():
        sc = load_scenario(name)
        options = ", ".join(o + (" (baseline)" if o == sc.baseline else "") for o in sc.options)
        print(f"{name}  {_first_sentence(sc.description)}")
        print(f"  options: {options}")
        print(f"  file:    {sc.path}")
    return 0


SCENARIO_HELP = "a scenario file, or the name of a built-in scenario (see 'geosim scenarios')"


def version() -> str:
    """The installed version of geosim (package metadata), else the source tree's own."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("geosim")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from simulator import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="geosim", description="Agent-based Monte Carlo simulator of ceasefire stability.")
    parser.add_argument("--version", action="version", version=f"geosim {version()}",
                        help="print the version of geosim and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("check", help="validate scenario files and summarise them; warn about numbers without a "
                                     "source")
    p.add_argument("files", nargs="+", metavar="SCENARIO", help=SCENARIO_HELP)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("sources", help="list every parameter with its value and its source")
    p.add_argument("file", metavar="SCENARIO", help=SCENARIO_HELP)
    p.add_argument("--format", choices=("text", "csv"), default="text",
                   help="text for reading (default), or csv: one row per parameter with its scope, actor, value, "
                        "origin and source")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("scenarios", help="list the built-in scenarios, which the other commands take by name")
    p.set_defaults(func=cmd_scenarios)

    _register_more(sub)
    return parser


def _register_more(sub: argparse._SubParsersAction) -> None:
    """Commands defined in other modules register here (run, compare, plot, validate ...)."""
    for module_name in ("simulator.cli.run", "simulator.cli.history", "simulator.cli.explore",
                        "simulator.cli.app", "simulator.cli.report"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(sub, positive_int, non_negative_int)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except GeosimError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"geosim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("geosim: interrupted; no partial results were left behind", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0

