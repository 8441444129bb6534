"""Ensemble commands: ``geosim run``, ``geosim sweep``, ``geosim compare`` and ``geosim plot``."""

from __future__ import annotations

import argparse
import signal
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from simulator.cli.arguments import whole_number
from simulator.errors import UsageError
from simulator.scenario.load import MAX_HORIZON_MONTHS

if TYPE_CHECKING:  # pragma: no cover
    from simulator.api import Engine


def _split_options(values: list[str] | str | None) -> list[str] | None:
    """Option names from repeated or comma-separated flags; ``None`` (all options) when none are given."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        names = [s.strip() for s in v.split(",")]
        if not all(names):  # an empty name must not quietly mean "every option"
            raise UsageError(f"option list '{v}' holds an empty name; give option names, e.g. --option "
                             "peacekeepers, or leave the flag out to run every option")
        out += names
    return out


# ``--horizon``: months, within the limit scenario files have
_horizon = whole_number(1, MAX_HORIZON_MONTHS, unit="months")
# ``--posterior``: draws of the constants (a draws file holds a few hundred to a few thousand)
_draws = whole_number(1, 10_000, unit="draws")


def _engine(args: argparse.Namespace, worlds: int | None = None) -> Engine:
    """The engine the scale flags ask for: one process, local processes, or Dask.

    With ``worlds`` known, local workers beyond the run's chunks of work are not started (they
    would have nothing to do, and starting them costs seconds): a note says so and how to
    give each worker a chunk. Results are the same bit for bit whatever the engine.
    """
    from simulator.api import Dask, Processes, Sequential

    chunk = args.blocks_per_chunk
    if args.dask or args.scheduler is not None:
        return Dask(args.workers, scheduler=args.scheduler, blocks_per_chunk=chunk)
    workers = args.workers or 1
    if workers == 1 or (worlds is not None and fewer_workers(workers, worlds, chunk) == 1):
        return Sequential(blocks_per_chunk=chunk)
    return Processes(workers, blocks_per_chunk=chunk)  # it starts no more processes than chunks (manifest)


def fewer_workers(workers: int, worlds: int, blocks_per_chunk: int) -> int:
    """The most workers the run can use, one per chunk of work, with a note on standard error when
    that is fewer than ``workers``."""
    from simulator.api import BLOCK

    blocks = -(-worlds // BLOCK)
    chunks = -(-blocks // blocks_per_chunk)
    if workers <= chunks:
        return workers
    spare = workers - chunks
    what = (f"the other {spare} would have" if spare > 1 else
            "the second would have" if workers == 2 else "the last would have")
    if blocks >= workers:
        fix = f"use --blocks-per-chunk {-(-blocks // workers)} to give each worker a chunk, or more worlds"
    else:
        fix = f"use more worlds (each worker needs a block of {BLOCK:,}: at least {workers * BLOCK:,} worlds)"
    print(f"geosim: note: {workers} workers but {_count(chunks, 'chunk')} of work ({worlds:,} worlds in "
          f"{_count(blocks, 'block')} of {BLOCK:,}, {blocks_per_chunk} blocks a chunk): {what} nothing to do, so "
          f"{'the run stays in this process' if chunks == 1 else f'at most {chunks} run'}; {fix}", file=sys.stderr)
    return chunks


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _say(text: str) -> None:
    """Print ``text`` wrapped to the width of the tables (100 columns)."""
    from simulator.report.tables import WIDTH

    print(textwrap.fill(text, WIDTH, break_on_hyphens=False, break_long_words=False))


def cmd_run(args: argparse.Namespace) -> int:
    from simulator.api import PosteriorResults, RunInterrupted, checkpoint_dir_for, run_and_save
    from simulator.report.tables import summary_table
    from simulator.scenario.load import load_scenario
    from simulator.scenario.settings import parse_settings, with_settings

    sc = with_settings(load_scenario(args.file), parse_settings(args.set))
    engine = _engine(args, args.worlds or sc.worlds)
    out = Path(args.out) if args.out else Path("results") / sc.name
    checkpoints = checkpoint_dir_for(out)
    if args.resume and not checkpoints.is_dir():
        print(f"geosim: no checkpoints in '{checkpoints}'; starting from the beginning", file=sys.stderr)
    try:
        results = run_and_save(sc, out, _split_options(args.option), worlds=args.worlds, seed=args.seed,
                               horizon_months=args.horizon, engine=engine, resume=args.resume, force=args.force,
                               save_worlds=args.save_worlds, plots=not args.no_plots, progress=not args.quiet,
                               posterior=args.posterior, posterior_file=args.posterior_file,
                               posterior_worlds=args.posterior_worlds)
    except RunInterrupted as stop:
        what = "interrupted" if stop.signal == signal.SIGINT else f"stopped by {stop.signal.name}"
        print(f"geosim: {what}; no results were written ({stop.done} of {stop.total} chunks checkpointed "
              f"in '{checkpoints}'; run the same command with --resume to continue)", file=sys.stderr)
        return 128 + stop.signal  # 130 for Ctrl-C, 143 for SIGTERM, as a shell reports them
    m = results.manifest
    how = m["run"]
    if "workers_requested" in how:
        ran = how["workers"]
        print(f"geosim: note: ran {ran} worker process{'es' if ran != 1 else ''}, not {how['workers_requested']} "
              f"(bounded by {how['workers_limited_by']})", file=sys.stderr)
    where = {"sequential": "1 process", "processes": f"{how['workers']} process{'es' if how['workers'] != 1 else ''}",
             "dask": f"Dask at {how['scheduler']}" if "scheduler" in how else f"Dask, {how['workers']} workers"}
    resumed = f", {how['chunks_resumed']} of {how['chunks']} chunks resumed" if how["chunks_resumed"] else ""
    _say(f"{sc.name}: {m['worlds']:,} worlds x {len(m['options'])} options, horizon {m['horizon_months']} "
         f"months, seed {m['seed']} ({m['wall_seconds']:.1f} s, {where[how['engine']]}{resumed})")
    if sc.settings:
        _say(f"set on top of every option: {'; '.join(sc.settings)}")
    print(summary_table(results))
    extra = ", worlds.parquet" if args.save_worlds else ""
    if isinstance(results, PosteriorResults):
        _print_posterior(results)
        extra += ", posterior.csv"
    figures = "" if args.no_plots else "; figures: *.png"
    print(f"\nWritten to {out}/")
    _say(f"  tables: summary.csv, survival.csv, differences.csv{extra}{figures}")
    return 0


def _print_posterior(results: Any) -> None:
    """The short table of ``--posterior``, with notes on constants the draws leave alone."""
    from simulator.report.posterior import posterior_table

    post = results.manifest["posterior"]
    if post["constants_set_by_scenario"]:
        print(f"geosim: note: the scenario sets {', '.join(post['constants_set_by_scenario'])} itself; its values "
              "are used in every draw, so the draws do not vary them", file=sys.stderr)
    if post["calibrated_not_drawn"]:
        print(f"geosim: note: '{post['draws_file']}' has no draws of {', '.join(post['calibrated_not_drawn'])}; "
              "they keep their calibrated values", file=sys.stderr)
    print(f"\n{posterior_table(results)}")


def cmd_sweep(args: argparse.Namespace) -> int:
    """Every combination of the --set values on top of one option, on shared worlds: a table and a figure."""
    from simulator.files import check_output_folder
    from simulator.report.design import DESIGN_FILE, FIGURE_FILE, design_text, save_design
    from simulator.scenario.load import load_scenario
    from simulator.scenario.settings import parse_settings
    from simulator.sweep import factorial

    settings = parse_settings(args.set)
    sc = load_scenario(args.file)
    out = Path(args.out) if args.out else Path("results") / f"{sc.name}_sweep_{args.option}"
    check_output_folder(out, force=args.force)  # before anything runs
    table, results = factorial(sc, args.option, settings, worlds=args.worlds, seed=args.seed,
                               horizon_months=args.horizon, progress=not args.quiet,
                               engine=_engine(args, args.worlds or sc.worlds))
    m = results.manifest
    print(f"{sc.name}: option '{args.option}', {m['design']['combinations']} combinations on {m['worlds']:,} "
          f"shared worlds, horizon {m['horizon_months']} months, seed {m['seed']} ({m['wall_seconds']:.1f} s)")
    print(design_text(table))
    save_design(table, results, out, force=args.force, plots=not args.no_plots)
    figure = "" if args.no_plots else f"; figure: {out}/{FIGURE_FILE}"
    print(f"\nTable: {out}/{DESIGN_FILE} (every measure, differences from the option as it is){figure}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from simulator.compare import compare_files
    from simulator.report.tables import difference_text, summary_table
    from simulator.report.write import save_results
    from simulator.scenario.load import load_scenario

    _refuse_other_conflicts([load_scenario(f) for f in args.files], args)
    results = compare_files(args.files, options=_split_options(args.options), worlds=args.worlds,
                            seed=args.seed, horizon_months=args.horizon, progress=not args.quiet)
    m = results.manifest
    _say(f"{', '.join(m.get('files', []))}: {m['worlds']:,} worlds x {len(m['options'])} options, horizon "
         f"{m['horizon_months']} months, seed {m['seed']}, every option on the same worlds")
    print(summary_table(results))
    text = difference_text(results)
    if text:
        print(f"\n{text}")
    if args.out:
        save_results(results, args.out, force=args.force, plots=not args.no_plots)
        print(f"\nWritten to {args.out}/")
    return 0


def _refuse_other_conflicts(scenarios: list[Any], args: argparse.Namespace) -> None:
    """Files of different conflicts are not compared world by world: refuse, and say what to do.

    Two files are of the same conflict when they have the same actors in the same roles (a
    variant of one scenario); only then does world ``i`` draw each actor's parameters from the
    same random numbers in both, which is what makes the differences paired. Files of one
    conflict with different horizons or seeds run on the first's, with a note.
    """
    from simulator.errors import printable

    first = scenarios[0]
    cast = {(a.name, a.role) for a in first.actors.values()}
    for sc in scenarios[1:]:
        other = {(a.name, a.role) for a in sc.actors.values()}
        if other != cast:
            differ = sorted(f"{n} ({r})" for n, r in cast ^ other)
            raise UsageError(
                f"'{printable(sc.path)}' is not a variant of '{printable(first.path)}' (scenarios {sc.name} and "
                f"{first.name}; actors differ: {', '.join(differ[:6])}{' ...' if len(differ) > 6 else ''}): "
                "their worlds cannot be paired, so compare puts only variants of one conflict side by side; run "
                "each with 'geosim run' on its own horizon and seed and read the two summaries apart")
    for key, flag, unit in (("horizon_months", "horizon", " months"), ("seed", "seed", "")):
        if getattr(args, flag) is None and len({getattr(s, key) for s in scenarios}) > 1:
            values = ", ".join(f"{getattr(s, key)}{unit}" for s in scenarios)
            print(f"geosim: note: the files' {flag}s differ ({values}); every option runs on the first's, "
                  f"{getattr(first, key)}{unit}, so that all share the same worlds (give --{flag} to choose)",
                  file=sys.stderr)


def cmd_plot(args: argparse.Namespace) -> int:
    """Redraw the figures of a results folder, after checking that its tables are the run's own."""
    from simulator.errors import printable
    from simulator.report.figures import save_figures
    from simulator.report.write import load_results

    results = load_results(args.dir)  # a damaged or edited folder: one line, exit 2
    if "sha256" not in results.manifest:
        print(f"geosim: note: '{printable(args.dir)}' was saved without file hashes (an older geosim); "
              "its tables were checked for shape but cannot be checked for edits", file=sys.stderr)
    paths = save_figures(results, Path(args.dir))  # each figure replaced atomically
    for p in paths:
        print(p)
    return 0


def register(sub: Any, positive: Callable[[str], int], non_negative: Callable[[str], int]) -> None:
    p = sub.add_parser("run", help="run the options of a scenario and write tables and figures")
    p.add_argument("file", metavar="SCENARIO",
                   help="a scenario file, or the name of a built-in scenario (see 'geosim scenarios')")
    p.add_argument("--option", action="append", metavar="NAME",
                   help="option to run (repeat or comma-separate; default: all; the baseline is always run)")
    p.add_argument("--worlds", type=positive, help="number of worlds (default: the scenario's)")
    p.add_argument("--seed", type=non_negative, help="seed (default: the scenario's)")
    p.add_argument("--horizon", type=_horizon, metavar="MONTHS", help="months to simulate (default: the scenario's)")
    p.add_argument("--out", metavar="DIR", help="output directory (default: results/SCENARIO)")
    p.add_argument("--force", action="store_true", help="replace an existing output directory")
    p.add_argument("--save-worlds", action="store_true", help="also write per-world outcomes (worlds.parquet)")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--set", action="append", metavar="ACTOR.PARAM=VALUE",
                   help="set a parameter on top of every option (repeatable), written as in a scenario file: "
                        "20000, true, or '{dist: uniform, low: 1, high: 2}'; constants.NAME=VALUE sets a constant")
    g = p.add_argument_group("uncertainty of the constants (posterior.csv, posterior.png)")
    g.add_argument("--posterior", type=_draws, metavar="K",
                   help="also run every option for K posterior draws of the calibrated constants, on the same "
                        "worlds, and report the spread across draws next to the Monte Carlo interval")
    g.add_argument("--posterior-file", metavar="FILE",
                   help="the CSV file of draws (default: the one 'geosim calibrate' made, shipped with geosim)")
    g.add_argument("--posterior-worlds", type=positive, metavar="N",
                   help="worlds per draw, at most --worlds (default: --worlds / K, at least 4,096)")
    g = p.add_argument_group("scale (results are identical, bit for bit, whatever these settings)")
    g.add_argument("--workers", type=positive, metavar="K",
                   help="run chunks in K local worker processes (default: 1, in this process)")
    g.add_argument("--dask", action="store_true",
                   help="run chunks on an embedded local Dask cluster of K workers (default: one per core; "
                        "needs geosim[scale])")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="run chunks on a running Dask cluster, e.g. tcp://10.0.0.5:8786 (needs geosim[scale])")
    g.add_argument("--blocks-per-chunk", type=positive, default=8, metavar="N",
                   help="blocks of 4,096 worlds per unit of work (default: 8; smaller uses less memory)")
    g.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from the chunks it checkpointed (.OUT.chunks next to --out)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sweep", help="run every combination of several levers' values on top of an option")
    p.add_argument("file", metavar="SCENARIO",
                   help="a scenario file, or the name of a built-in scenario (see 'geosim scenarios')")
    p.add_argument("--option", required=True, metavar="NAME", help="the option the levers are set on")
    p.add_argument("--set", action="append", required=True, metavar="ACTOR.PARAM=V1,V2,...",
                   help="a lever and its values, separated by commas, each written as in a scenario file "
                        "(20000, true, '{dist: uniform, low: 1, high: 2}'); repeat for more levers: every "
                        "combination runs, on the same worlds")
    p.add_argument("--worlds", type=positive, help="number of worlds (default: the scenario's)")
    p.add_argument("--seed", type=non_negative, help="seed (default: the scenario's)")
    p.add_argument("--horizon", type=_horizon, metavar="MONTHS", help="months to simulate (default: the scenario's)")
    p.add_argument("--out", metavar="DIR", help="output directory (default: results/SCENARIO_sweep_OPTION)")
    p.add_argument("--force", action="store_true", help="replace an existing output directory")
    p.add_argument("--no-plots", action="store_true", help="skip the figure")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=positive, metavar="K",
                   help="run chunks in K local worker processes (default: 1, in this process)")
    p.set_defaults(func=cmd_sweep, dask=False, scheduler=None, blocks_per_chunk=8)

    p = sub.add_parser("compare", help="put options of one scenario, or of variants of it in several files, side "
                                       "by side on the same worlds")
    p.add_argument("files", nargs="+", metavar="SCENARIO",
                   help="scenario files or built-in names; several files must be variants of one conflict (the "
                        "same actors in the same roles), else compare refuses to pair them")
    p.add_argument("--options", metavar="A,B,...",
                   help="options to compare (NAME, or FILE_STEM:NAME when files share option names; default: all); "
                        "the first is the one the others are compared with")
    p.add_argument("--worlds", type=positive, help="number of worlds (default: the first file's)")
    p.add_argument("--seed", type=non_negative, help="seed (default: the first file's)")
    p.add_argument("--horizon", type=_horizon, metavar="MONTHS",
                   help="months to simulate (default: the first file's)")
    p.add_argument("--out", metavar="DIR", help="also write tables and figures here")
    p.add_argument("--force", action="store_true", help="replace an existing --out directory")
    p.add_argument("--no-plots", action="store_true", help="with --out, skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("plot", help="redraw the figures of saved results")
    p.add_argument("dir", metavar="DIR", help="a results folder that 'geosim run' (or compare --out) wrote")
    p.set_defaults(func=cmd_plot)
