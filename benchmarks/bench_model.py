"""Benchmark of CeasefireModel in one process on one core.

Measures, for the Ukraine scenario:

* throughput: world-months per second of the many-worlds model (``collect=True``, the
  default) for two options at several world counts, model construction included;
* the same question answered one world per model through ``mesa.batch_run``
  (``number_processes=1``), and how many times faster the many-worlds model is;
* peak traced memory (``tracemalloc``) against the number of worlds and the number of
  months, to show that memory grows with worlds and not with months.

Prints a table and writes the figures as JSON (``--out``). The defaults finish in about
two to three minutes on a two-core machine::

    python benchmarks/bench_model.py
    python benchmarks/bench_model.py --quick          # a smoke run, seconds
    python benchmarks/bench_model.py --profile        # also: where the time goes (cProfile)
"""

from __future__ import annotations

import os

# One core: keep any threaded numeric library to one thread (set before numpy loads).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import datetime as dt  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import mesa  # noqa: E402
import numpy as np  # noqa: E402

from simulator import CeasefireModel, load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "ukraine_2025.yaml"
OPTIONS = ("peacekeepers", "ceasefire_only")
TARGET_RATE = 1_000_000  # world-months per second at 100,000 worlds
TARGET_RATIO = 100  # times faster than one world per model through batch_run


def _one_core(pin: bool) -> str:
    """The model is single-threaded numpy; with ``pin`` the process is also tied to one core."""
    if pin and hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"one thread, pinned to core {core}"
    return "one thread (one process), not pinned"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.name


def throughput(scenario: Any, option: str, worlds: int, repeats: int, seed: int) -> dict[str, Any]:
    """World-months per second of one model of ``worlds`` worlds, construction included (best of repeats)."""
    times = []
    months = 0
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        model = CeasefireModel(scenario, option, worlds=worlds, rng=seed).run()
        times.append(time.perf_counter() - start)
        months = model.month
        del model
    best = min(times)
    return {"option": option, "worlds": worlds, "months": months, "repeats": repeats,
            "seconds_best": best, "seconds_all": times, "world_months_per_s": worlds * months / best}


def batch_run_rate(scenario_arg: Any, runs: int, horizon: int, seed: int) -> dict[str, Any]:
    """One world per model through mesa.batch_run, both options, ``runs`` runs in all."""
    seeds = list(range(seed, seed + runs // len(OPTIONS)))
    gc.collect()
    start = time.perf_counter()
    rows = mesa.batch_run(CeasefireModel, parameters={"scenario": scenario_arg, "option": list(OPTIONS), "worlds": 1},
                          rng=seeds, max_steps=horizon, number_processes=1, display_progress=False)
    seconds = time.perf_counter() - start
    n = len(rows)
    stepped = int(sum(r["Step"] for r in rows))
    return {"runs": n, "horizon": horizon, "seconds": seconds,
            "world_months_nominal": n * horizon, "world_months_stepped": stepped,
            "world_months_per_s": n * horizon / seconds, "stepped_months_per_s": stepped / seconds}


def peak_memory(scenario: Any, option: str, worlds: int, horizon: int, seed: int) -> dict[str, Any]:
    """Peak traced memory of building and running one model (bytes)."""
    gc.collect()
    tracemalloc.start()
    try:
        start = time.perf_counter()
        model = CeasefireModel(scenario, option, worlds=worlds, rng=seed, horizon_months=horizon).run()
        seconds = time.perf_counter() - start
        current, peak = tracemalloc.get_traced_memory()
        del model
    finally:
        tracemalloc.stop()
    return {"option": option, "worlds": worlds, "horizon": horizon, "peak_mb": peak / 2**20,
            "held_mb": current / 2**20, "peak_bytes_per_world": peak / worlds, "seconds_traced": seconds}


def profile(scenario: Any, option: str, worlds: int, seed: int, top: int = 25) -> str:
    prof = cProfile.Profile()
    prof.enable()
    CeasefireModel(scenario, option, worlds=worlds, rng=seed).run()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", type=Path, default=SCENARIO, help="scenario file (default: the Ukraine scenario)")
    ap.add_argument("--worlds", type=int, nargs="+", default=[1_000, 10_000, 100_000],
                    help="world counts for the throughput runs")
    ap.add_argument("--repeats", type=int, default=3, help="repeats per throughput run (best is kept); "
                                                           "runs of 100,000 worlds or more are repeated twice at most")
    ap.add_argument("--batch-runs", type=int, default=200, help="runs of one world each through mesa.batch_run")
    ap.add_argument("--memory-worlds", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                    help="world counts for peak memory at the scenario's horizon")
    ap.add_argument("--memory-horizons", type=int, nargs="+", default=[12, 60, 240],
                    help="horizons (months) for peak memory at --memory-horizon-worlds")
    ap.add_argument("--memory-horizon-worlds", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--pin", action="store_true",
                    help="tie the process to one core (on a busy machine this can make figures worse, not steadier)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one 100,000-world peacekeepers run")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "model.json",
                    help="JSON file for the figures (default: benchmarks/results/model.json)")
    args = ap.parse_args(argv)
    if args.quick:
        args.worlds, args.repeats, args.batch_runs = [1_000, 10_000], 1, 20
        args.memory_worlds, args.memory_horizons, args.memory_horizon_worlds = [1_000, 10_000], [12, 60], 10_000

    pinned = _one_core(args.pin)
    scenario = load_scenario(args.scenario)
    horizon = scenario.horizon_months
    print(f"CeasefireModel benchmark: scenario {scenario.name}, horizon {horizon} months, {pinned}")

    # warm-up: imports, scipy distribution set-up, channel-key cache
    CeasefireModel(scenario, OPTIONS[0], worlds=100, rng=args.seed).run()

    rows = []
    print("\nthroughput (collect=True, construction included, best of repeats)")
    print(f"  {'option':<16}{'worlds':>10}{'months':>8}{'seconds':>10}{'world-months/s':>17}")
    for worlds in args.worlds:
        for option in OPTIONS:
            reps = min(args.repeats, 2) if worlds >= 100_000 else args.repeats
            r = throughput(scenario, option, worlds, reps, args.seed)
            rows.append(r)
            print(f"  {option:<16}{worlds:>10,}{r['months']:>8}{r['seconds_best']:>10.3f}"
                  f"{r['world_months_per_s']:>17,.0f}")

    print(f"\nmesa.batch_run, one world per model, {args.batch_runs} runs, number_processes=1")
    batch_path = batch_run_rate(str(args.scenario), args.batch_runs, horizon, args.seed)
    batch_obj = batch_run_rate(scenario, args.batch_runs, horizon, args.seed)
    for label, b in (("scenario path", batch_path), ("loaded scenario", batch_obj)):
        print(f"  {label:<16}{b['runs']:>6} runs {b['seconds']:>8.2f} s  {b['world_months_per_s']:>10,.0f} "
              f"world-months/s (nominal)  {b['stepped_months_per_s']:>10,.0f} months actually stepped/s")
    largest = max(args.worlds)
    big = [r for r in rows if r["worlds"] == largest]
    vector_rate = sum(r["worlds"] * r["months"] for r in big) / sum(r["seconds_best"] for r in big)
    ratio_path = vector_rate / batch_path["world_months_per_s"]
    ratio_obj = vector_rate / batch_obj["world_months_per_s"]
    print(f"  many-worlds model at {largest:,} worlds (both options): {vector_rate:,.0f} world-months/s")
    print(f"  ratio: {ratio_path:,.0f}x batch_run with the scenario path, {ratio_obj:,.0f}x with a loaded scenario")

    memory = []
    print("\npeak traced memory (tracemalloc), option peacekeepers")
    print(f"  {'worlds':>10}{'horizon':>9}{'peak MB':>10}{'bytes/world':>13}")
    cases = [(w, horizon) for w in args.memory_worlds]
    cases += [(args.memory_horizon_worlds, h) for h in args.memory_horizons if (args.memory_horizon_worlds, h) not in cases]
    for worlds, h in cases:
        m = peak_memory(scenario, "peacekeepers", worlds, h, args.seed)
        memory.append(m)
        print(f"  {worlds:>10,}{h:>9}{m['peak_mb']:>10.1f}{m['peak_bytes_per_world']:>13,.0f}")

    rate_at_100k = [r["world_months_per_s"] for r in rows if r["worlds"] == 100_000]
    targets = {
        "world_months_per_s_at_100k": {"target": TARGET_RATE, "measured_min": min(rate_at_100k) if rate_at_100k else None,
                                       "met": bool(rate_at_100k) and min(rate_at_100k) >= TARGET_RATE},
        "ratio_to_batch_run": {"target": TARGET_RATIO, "measured": ratio_path, "met": ratio_path >= TARGET_RATIO},
    }
    print("\ntargets")
    for name, t in targets.items():
        shown = t.get("measured_min", t.get("measured"))
        print(f"  {name}: target {t['target']:,}, measured {shown if shown is None else f'{shown:,.0f}'}, "
              f"{'met' if t['met'] else 'MISSED'}")

    if args.profile:
        print("\ncProfile of one peacekeepers run at 100,000 worlds (by own time)")
        print(profile(scenario, "peacekeepers", 100_000, args.seed))

    result = {
        "benchmark": "model (one process)",
        "date": dt.date.today().isoformat(),
        "command": "python " + " ".join([_shown(Path(sys.argv[0]))] + sys.argv[1:]) if argv is None else argv,
        "machine": {"cores_available": os.cpu_count(), "run_on": pinned, "python": platform.python_version(),
                    "numpy": np.__version__, "mesa": mesa.__version__, "platform": platform.platform(terse=True)},
        "scenario": {"name": scenario.name, "file": _shown(args.scenario), "horizon_months": horizon},
        "throughput": rows,
        "batch_run": {"scenario_path": batch_path, "loaded_scenario": batch_obj,
                      "many_worlds_rate": vector_rate, "many_worlds_at": largest,
                      "ratio_scenario_path": ratio_path, "ratio_loaded_scenario": ratio_obj},
        "memory": memory,
        "targets": targets,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {_shown(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
