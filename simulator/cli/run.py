"""Ensemble commands: ``geosim run``, ``geosim compare`` and ``geosim plot``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from simulator.errors import UsageError


def _split_options(values: list[str] | str | None) -> list[str] | None:
    if not values:
        return None
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        out += [s.strip() for s in v.split(",") if s.strip()]
    return out


def cmd_run(args: argparse.Namespace) -> int:
    import os

    from simulator.api import run
    from simulator.runs.execute import StagedParquet, checkpoint_dir_for, remove_checkpoints
    from simulator.report.figures import summary_table
    from simulator.scenario.load import load_scenario

    if args.scheduler is not None and args.workers is not None:
        raise UsageError("--workers sets the size of a local cluster; with --scheduler the cluster's own "
                         "workers run the chunks: drop one of them")
    sc = load_scenario(args.file)
    out = Path(args.out) if args.out else Path("results") / sc.name
    if out.exists() and not out.is_dir():
        raise UsageError(f"output path '{out}' exists and is not a directory; choose another --out")
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UsageError(f"output directory '{out}' already exists; pass --force to replace it")
    dask = args.dask or args.scheduler is not None
    workers = args.workers if args.workers is not None else ((os.cpu_count() or 1) if args.dask else 1)
    checkpoints = checkpoint_dir_for(out)
    if args.resume and not checkpoints.is_dir():
        print(f"geosim: no checkpoints in '{checkpoints}'; starting from the beginning", file=sys.stderr)
    staged = checkpoints / "worlds.parquet" if args.save_worlds else None
    chunks = {"done": 0, "total": 0}

    def count(event: Any) -> None:
        chunks["done"], chunks["total"] = event.done, event.total

    try:
        results = run(sc, options=_split_options(args.option), worlds=args.worlds, seed=args.seed,
                      horizon_months=args.horizon, progress=not args.quiet, keep_worlds=False,
                      blocks_per_chunk=args.blocks_per_chunk, workers=workers, dask=dask,
                      scheduler=args.scheduler, checkpoint_dir=checkpoints, resume=args.resume,
                      keep_checkpoints=True, worlds_path=staged, on_chunk=count)
        if staged is not None:
            results.worlds = StagedParquet(staged)  # type: ignore[assignment]  # linked into the output
        results.save(out, force=args.force, save_worlds=args.save_worlds, plots=not args.no_plots)
    except KeyboardInterrupt:
        done = f"{chunks['done']} of {chunks['total']} chunks" if chunks["total"] else "no chunks"
        print(f"geosim: interrupted; no results were written ({done} checkpointed in '{checkpoints}'; "
              f"run the same command with --resume to continue)", file=sys.stderr)
        return 130
    results.worlds = None
    remove_checkpoints(checkpoints)
    m = results.manifest
    how = m["run"]
    where = {"sequential": "1 process", "processes": f"{how['workers']} processes",
             "dask": f"Dask at {how['scheduler']}" if "scheduler" in how else f"Dask, {how['workers']} workers"}
    resumed = f", {how['chunks_resumed']} of {how['chunks']} chunks resumed" if how["chunks_resumed"] else ""
    print(f"{sc.name}: {m['worlds']:,} worlds x {len(m['options'])} options, horizon {m['horizon_months']} "
          f"months, seed {m['seed']} ({m['wall_seconds']:.1f} s, {where[how['engine']]}{resumed})")
    print(summary_table(results))
    extra = ", worlds.parquet" if args.save_worlds else ""
    print(f"\nTables: {out}/summary.csv, survival.csv, differences.csv{extra}; figures: {out}/*.png")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from simulator.compare import compare_files
    from simulator.report.figures import summary_table

    results = compare_files(args.files, options=_split_options(args.options), worlds=args.worlds,
                            seed=args.seed, horizon_months=args.horizon, progress=not args.quiet)
    print(summary_table(results))
    diff = results.compare()
    shown = diff[(diff["option"] != diff["baseline"]) & diff["measure"].isin(
        ["hold_12", "hold_36", "hold_horizon", "direct_clash"])]
    if len(shown):
        print(f"\nPaired differences from {results.baseline} (percentage points, 95% interval):")
        for _, r in shown.iterrows():
            print(f"  {r['option']:<40} {r['measure']:<14} {100 * r['difference']:+6.1f} "
                  f"({100 * r['lower']:+.1f} to {100 * r['upper']:+.1f})")
    if args.out:
        results.save(args.out, force=args.force, plots=not args.no_plots)
        print(f"\nWritten to {args.out}/")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from simulator.report.figures import save_figures
    from simulator.analysis.results import load_results

    results = load_results(args.dir)
    paths = save_figures(results, Path(args.dir))
    for p in paths:
        print(p)
    return 0


def register(sub: Any, positive: Callable[[str], int], non_negative: Callable[[str], int]) -> None:
    p = sub.add_parser("run", help="run the options of a scenario and write tables and figures")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--option", action="append", metavar="NAME",
                   help="option to run (repeat or comma-separate; default: all; the baseline is always run)")
    p.add_argument("--worlds", type=positive, help="number of worlds (default: the scenario's)")
    p.add_argument("--seed", type=non_negative, help="seed (default: the scenario's)")
    p.add_argument("--horizon", type=positive, metavar="MONTHS", help="months to simulate (default: the scenario's)")
    p.add_argument("--out", metavar="DIR", help="output directory (default: results/SCENARIO)")
    p.add_argument("--force", action="store_true", help="replace an existing output directory")
    p.add_argument("--save-worlds", action="store_true", help="also write per-world outcomes (worlds.parquet)")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
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

    p = sub.add_parser("compare", help="put options from one or several scenario files side by side")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--options", metavar="A,B,...",
                   help="options to compare (NAME, or FILE_STEM:NAME when files share option names)")
    p.add_argument("--worlds", type=positive)
    p.add_argument("--seed", type=non_negative)
    p.add_argument("--horizon", type=positive, metavar="MONTHS")
    p.add_argument("--out", metavar="DIR", help="also write tables and figures here")
    p.add_argument("--force", action="store_true")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("plot", help="redraw the figures of saved results")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(func=cmd_plot)
