"""Benchmark of CeasefireModel in one process on one core.

Measures, for the Ukraine scenario:

* throughput: world-months per second of the many-worlds model (``collect=True``, the
  default) for two options at several world counts, model construction included. Every
  timed model has a seed of its own, so it draws its parameters afresh (a model of the same
  worlds as the one before reuses its draws: that is measured on its own, below);
* all options of the scenario on the same worlds one after another, as one chunk of a run
  does them (there the draws of the parameters the options share are made once);
* the same question answered one world per model through ``mesa.batch_run``
  (``number_processes=1``), and how many times faster the many-worlds model is;
* peak traced memory (``tracemalloc``) against the number of worlds and the number of
  months, to show that memory grows with worlds and not with months.

Prints a table and writes the figures as JSON (``--out``). The defaults finish in about
two to three minutes on a two-core machine::

    python benchmarks/bench_model.py
    python benchmarks/bench_model.py --quick          # a smoke run, seconds
    python benchmarks/bench_model.py --profile        # also: where the time goes (cProfile)
    python benchmarks/bench_model.py --against ../geosim-before --only-against
                                                      # another checkout and this one, side by side

For ``--against``, check the other version out next to this one, for example
``git worktree add ../geosim-before 6fb090a``. Both versions run in subprocesses, taking turns
round after round on the same worlds, so that both see the same load; the best round counts.
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
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import subprocess  # noqa: E402
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
TARGET_RATE = 5_000_000  # world-months per second at 100,000 worlds (the goal: 10 million)
TARGET_RATIO = 100  # times faster than one world per model through batch_run
# What a subprocess of --against runs: each option once on one block of worlds, on one thread.
_SIDE_BY_SIDE = """
import json, os, sys, time
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(var, "1")
from simulator import CeasefireModel, load_scenario
scenario, worlds, seed, options = load_scenario(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
CeasefireModel(scenario, options[0], worlds=100, rng=seed).run()  # imports, caches
out = {}
for k, option in enumerate(options):
    wall, cpu = time.perf_counter(), time.process_time()
    model = CeasefireModel(scenario, option, worlds=worlds, rng=seed + 1 + k).run()
    out[option] = {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
                   "months": model.month}
wall, cpu, months = time.perf_counter(), time.process_time(), 0  # every option on one block of worlds
for option in scenario.options:
    months += CeasefireModel(scenario, option, worlds=worlds, rng=seed, collect=False).run().month
out["all options in a row"] = {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
                               "months": months}
print(json.dumps(out))
"""


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


def throughput(scenario: Any, option: str, worlds: int, seeds: list[int]) -> dict[str, Any]:
    """World-months per second of one model of ``worlds`` worlds, construction included (best of one run a seed).

    Give every run a seed no other run of the benchmark has: it then draws its worlds afresh.
    """
    times = []
    months = 0
    repeats = len(seeds)
    for seed in seeds:
        gc.collect()
        start = time.perf_counter()
        model = CeasefireModel(scenario, option, worlds=worlds, rng=seed).run()
        times.append(time.perf_counter() - start)
        months = model.month
        del model
    best = min(times)
    return {"option": option, "worlds": worlds, "months": months, "repeats": repeats,
            "seconds_best": best, "seconds_all": times, "world_months_per_s": worlds * months / best}


def options_in_a_row(scenario: Any, worlds: int, seed: int) -> dict[str, Any]:
    """All the scenario's options on the same worlds, one model after another, as a chunk of a run does."""
    gc.collect()
    start = time.perf_counter()
    months = 0
    for option in scenario.options:
        months += CeasefireModel(scenario, option, worlds=worlds, rng=seed, collect=False).run().month
    seconds = time.perf_counter() - start
    return {"options": len(scenario.options), "worlds": worlds, "seconds": seconds,
            "world_months_per_s": worlds * months / seconds}


def side_by_side(other: Path, scenario_file: Path, worlds: int, rounds: int, seed: int) -> list[dict[str, Any]]:
    """Another checkout (``other``) and this one, in turns, on the same worlds: best world-months/s of each."""
    best: dict[tuple[str, str], dict[str, float]] = {}
    for r in range(rounds):
        for label, root in (("other", other), ("this", ROOT)):
            env = {**os.environ, "PYTHONPATH": str(root)}
            done = subprocess.run([sys.executable, "-c", _SIDE_BY_SIDE, str(scenario_file), str(worlds),
                                   str(seed + 100 * r), *OPTIONS], env=env, cwd=root, check=True,
                                  capture_output=True, text=True)
            for option, t in json.loads(done.stdout).items():
                rate = {"wall": worlds * t["months"] / t["seconds"], "cpu": worlds * t["months"] / t["cpu_seconds"]}
                kept = best.setdefault((label, option), rate)
                best[(label, option)] = {k: max(kept[k], rate[k]) for k in rate}
    return [{"option": option, "worlds": worlds, "rounds": rounds,
             "other_world_months_per_s": best[("other", option)]["wall"],
             "this_world_months_per_s": best[("this", option)]["wall"],
             "other_cpu_world_months_per_s": best[("other", option)]["cpu"],
             "this_cpu_world_months_per_s": best[("this", option)]["cpu"],
             "speed_up": best[("this", option)]["wall"] / best[("other", option)]["wall"]}
            for option in (*OPTIONS, "all options in a row")]


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
    ap.add_argument("--against", type=Path, metavar="CHECKOUT",
                    help="also time another checkout of geosim (its own scenario file) side by side with this one")
    ap.add_argument("--against-worlds", type=int, default=100_000, help="worlds for --against (default 100,000)")
    ap.add_argument("--against-rounds", type=int, default=5, help="turns each version takes for --against")
    ap.add_argument("--only-against", action="store_true", help="with --against: measure nothing else")
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

    against = None
    if args.against is not None:
        other_scenario = args.against / args.scenario.relative_to(ROOT) if args.scenario.is_relative_to(ROOT) \
            else args.scenario
        rounds = 2 if args.quick else args.against_rounds
        worlds = 10_000 if args.quick else args.against_worlds
        print(f"\n{_shown(args.against)} and this checkout side by side: {worlds:,} worlds, best of {rounds} turns")
        print(f"  {'option':<22}{'other':>14}{'this':>14}{'x':>7}   (world-months/s, wall; cpu in JSON)")
        rows_against = side_by_side(args.against, other_scenario, worlds, rounds, args.seed)
        for r in rows_against:
            print(f"  {r['option']:<22}{r['other_world_months_per_s']:>14,.0f}{r['this_world_months_per_s']:>14,.0f}"
                  f"{r['speed_up']:>7.2f}")
        against = {"other": str(args.against), "rows": rows_against}
        if args.only_against:
            return _write(args, {"benchmark": "model (one process), side by side", "against": against,
                                 **_context(args, argv, pinned, scenario)})

    # warm-up: imports, scipy distribution set-up, channel-key cache
    CeasefireModel(scenario, OPTIONS[0], worlds=100, rng=args.seed).run()

    rows = []
    print("\nthroughput (collect=True, construction included, best of repeats)")
    print(f"  {'option':<16}{'worlds':>10}{'months':>8}{'seconds':>10}{'world-months/s':>17}")
    fresh_seeds = itertools.count(args.seed + 1)  # a seed for every timed model
    for worlds in args.worlds:
        for option in OPTIONS:
            reps = min(args.repeats, 2) if worlds >= 100_000 else args.repeats
            r = throughput(scenario, option, worlds, [next(fresh_seeds) for _ in range(reps)])
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
        m = peak_memory(scenario, "peacekeepers", worlds, h, next(fresh_seeds))
        memory.append(m)
        print(f"  {worlds:>10,}{h:>9}{m['peak_mb']:>10.1f}{m['peak_bytes_per_world']:>13,.0f}")

    in_a_row = options_in_a_row(scenario, max(args.worlds), next(fresh_seeds))
    print(f"\nall {in_a_row['options']} options on the same {in_a_row['worlds']:,} worlds, one after another "
          f"(collect=False): {in_a_row['seconds']:.2f} s, {in_a_row['world_months_per_s']:,.0f} world-months/s")

    rate_at_100k = [r["world_months_per_s"] for r in rows if r["worlds"] == 100_000 and r["option"] == "peacekeepers"]
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
        print(profile(scenario, "peacekeepers", 100_000, next(fresh_seeds)))

    result = {
        "benchmark": "model (one process)",
        **_context(args, argv, pinned, scenario),
        "throughput": rows,
        "options_in_a_row": in_a_row,
        "batch_run": {"scenario_path": batch_path, "loaded_scenario": batch_obj,
                      "many_worlds_rate": vector_rate, "many_worlds_at": largest,
                      "ratio_scenario_path": ratio_path, "ratio_loaded_scenario": ratio_obj},
        "memory": memory,
        "targets": targets,
        "against": against,
    }
    return _write(args, result)


def _context(args: argparse.Namespace, argv: list[str] | None, pinned: str, scenario: Any) -> dict[str, Any]:
    return {
        "date": dt.date.today().isoformat(),
        "command": "python " + " ".join([_shown(Path(sys.argv[0]))] + sys.argv[1:]) if argv is None else argv,
        "machine": {"cores_available": os.cpu_count(), "run_on": pinned, "python": platform.python_version(),
                    "numpy": np.__version__, "mesa": mesa.__version__, "platform": platform.platform(terse=True),
                    "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None},
        "scenario": {"name": scenario.name, "file": _shown(args.scenario), "horizon_months": scenario.horizon_months},
    }


def _write(args: argparse.Namespace, result: dict[str, Any]) -> int:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {_shown(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
