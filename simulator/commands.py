"""Ensemble commands: ``geosim run``, ``geosim compare`` and ``geosim plot``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from .errors import UsageError


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
    from .api import run
    from .plots import summary_table
    from .scenario import load_scenario

    sc = load_scenario(args.file)
    out = Path(args.out) if args.out else Path("results") / sc.name
    if out.exists() and not out.is_dir():
        raise UsageError(f"output path '{out}' exists and is not a directory; choose another --out")
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UsageError(f"output directory '{out}' already exists; pass --force to replace it")
    results = run(sc, options=_split_options(args.option), worlds=args.worlds, seed=args.seed,
                  horizon_months=args.horizon, progress=not args.quiet, keep_worlds=args.save_worlds or None)
    results.save(out, force=args.force, save_worlds=args.save_worlds, plots=not args.no_plots)
    m = results.manifest
    print(f"{sc.name}: {m['worlds']:,} worlds x {len(m['options'])} options, horizon {m['horizon_months']} "
          f"months, seed {m['seed']} ({m['wall_seconds']:.1f} s)")
    print(summary_table(results))
    print(f"\nTables: {out}/summary.csv, survival.csv, differences.csv; figures: {out}/*.png")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare_files
    from .plots import summary_table

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
    from .plots import save_figures
    from .results import load_results

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
