"""``geosim explore``: what decides two options' outcomes, and where each one wins (docs/explore.md)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _engine(args: argparse.Namespace) -> Any:
    """Local processes (default: one per core, at most the usable cores), this process alone, or Dask."""
    from simulator.api import Dask, Processes, Sequential

    if args.dask or args.scheduler is not None:
        return Dask(args.workers, scheduler=args.scheduler)
    workers = (os.cpu_count() or 1) if args.workers is None else args.workers
    return Sequential() if workers == 1 else Processes(workers)


def cmd_explore(args: argparse.Namespace) -> int:
    from simulator.explore.study import explore
    from simulator.explore.write import save_exploration
    from simulator.files import check_output_folder
    from simulator.scenario.load import load_scenario

    sc = load_scenario(args.file)
    out = Path(args.out) if args.out else Path("results") / f"{sc.name}_explore"
    check_output_folder(out, args.force)  # before minutes of work, not after
    bar = None
    progress: Callable[[int, int], None] | None = None
    if not args.quiet:
        from tqdm import tqdm

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="batch", desc="design points", file=sys.stderr, disable=None,
                           leave=False)
            bar.update(done - bar.n)

    engine = _engine(args)
    try:
        e = explore(sc, args.options, method=args.method, samples=args.samples, replicates=args.replicates,
                    seed=args.seed, engine=engine, progress=progress, posterior_file=args.posterior_file)
    finally:
        if bar is not None:
            bar.close()
    save_exploration(e, out, force=args.force, plots=not args.no_plots)
    a, b = e.options
    how = e.engine.get("engine", "sequential")
    workers = e.engine.get("workers") or 1
    print(f"{sc.name}: {a} vs {b}, {e.method}, {len(e.design):,} design points x {e.replicates:,} worlds, "
          f"{len(e.factors)} factors and the dice, seed {e.seed} ({e.seconds['total']:.1f} s, {how}, "
          f"{workers} worker{'s' if workers != 1 else ''})")
    for text in e.readings:
        print(f"\n{text}")
    figures = ", sensitivity.png, discovery.png" if not args.no_plots else ""
    print(f"\nWritten to {out}/: sensitivity.csv, discovery.csv, design.csv, factors.csv, reading.txt{figures}")
    return 0


def _options(text: str) -> str:
    if "," not in text:
        raise argparse.ArgumentTypeError(f"'{text}' names one option; give two, comma-separated: A,B")
    return text


def register(sub: Any, positive: Callable[[str], int], non_negative: Callable[[str], int]) -> None:
    p = sub.add_parser("explore", help="global sensitivity (SALib) and scenario discovery (PRIM) for two options")
    p.add_argument("file", metavar="SCENARIO",
                   help="a scenario file, or the name of a built-in scenario (see 'geosim scenarios')")
    p.add_argument("--options", required=True, type=_options, metavar="A,B",
                   help="the two options to compare; discovery asks where A beats B")
    p.add_argument("--method", choices=("sobol", "morris"), default="sobol",
                   help="Sobol' indices (default) or Morris's elementary effects")
    p.add_argument("--samples", type=positive, metavar="N",
                   help="Sobol' base rows, a power of two (default 128), or Morris trajectories (default 64)")
    p.add_argument("--replicates", type=positive, metavar="R", help="worlds per design point (default 512)")
    p.add_argument("--seed", type=non_negative, help="seed of the design and the dice (default: the scenario's)")
    p.add_argument("--out", metavar="DIR", help="output directory (default: results/SCENARIO_explore)")
    p.add_argument("--force", action="store_true", help="replace an existing output directory")
    p.add_argument("--posterior-file", metavar="FILE",
                   help="posterior draws of the constants whose 5%%-95%% range they take (default: the shipped "
                        "draws if any, else 10%% either side of each calibrated value)")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p.add_argument_group("scale (results are identical whatever these settings)")
    g.add_argument("--workers", type=positive, metavar="K",
                   help="worker processes (default: one per usable core; 1 runs in this process)")
    g.add_argument("--dask", action="store_true", help="run on an embedded local Dask cluster (needs geosim[scale])")
    g.add_argument("--scheduler", metavar="ADDRESS", help="run on a running Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.set_defaults(func=cmd_explore)
