"""Ensemble runner benchmark: world-months per second, the ratio against mesa.batch_run, the speed-up from
1 to 2 worker processes, and the peak memory of a 10-million-world run. Not a test.

    python benchmarks/bench_ensemble.py                 # everything: about 30 minutes on 2 cores
    python benchmarks/bench_ensemble.py --quick         # small sizes, to check the script works
    python benchmarks/bench_ensemble.py --parts scaling # one part (throughput, baseline, scaling, memory)

A world-month is one world simulated for one month under one option: worlds x options x horizon,
counted at the nominal horizon even where a model stops early. Parts:

1. throughput: ``geosim.run`` end to end (simulation, exact merging, summary tables) in one
   process, Ukraine scenario, all six options, 60 months, for 1, 10^4, 10^5 and 10^6 worlds;
2. baseline: ``mesa.batch_run`` of the same model one world at a time (``worlds=1``, one seed per
   run, the scenario file given by path as a model parameter, one process), and the same loop
   without batch_run and with the scenario loaded once, to show where the time goes;
3. scaling: 10^6 worlds with the ``processes`` engine, 1 and 2 worker processes;
4. memory: 10^7 worlds, all six options, 60 months, no per-world output, 2 worker processes
   (``--memory-*`` options change that); peak of the summed RSS and of the summed PSS of the
   whole process tree (psutil, sampled every 0.25 s), ``ru_maxrss`` of this process and the
   tracemalloc peak of this process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import threading
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mesa  # noqa: E402
import numpy as np  # noqa: E402

from simulator import CeasefireModel, Processes, Sequential, load_scenario, run  # noqa: E402
from simulator.runs.plan import DEFAULT_BLOCKS_PER_CHUNK  # noqa: E402

SCENARIO = ROOT / "scenarios" / "ukraine_2025.yaml"
MiB = 2**20


def world_months(worlds: int, options: int, horizon: int) -> int:
    return worlds * options * horizon


class TreeMemory:
    """Peak of the summed RSS (and PSS) of this process and all its descendants, sampled every ``period`` s.

    RSS counts pages shared between processes (the code of numpy, pandas, SciPy ...) once per
    process, so the RSS sum overstates what the tree really uses; PSS splits each shared page
    between the processes sharing it.
    """

    def __init__(self, period: float = 0.25) -> None:
        import psutil

        self.proc = psutil.Process()
        self.period = period
        self.peak = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self._cpu: dict[int, float] = {}  # last cumulative CPU seconds seen, per child process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _sample(self) -> None:
        import psutil

        total, pss, n = 0, 0, 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                info = p.memory_full_info()
            except psutil.Error:
                continue
            total += info.rss
            pss += getattr(info, "pss", info.rss)
            n += 1
            if p.pid != self.proc.pid:
                try:
                    t = p.cpu_times()
                    self._cpu[p.pid] = t.user + t.system
                except psutil.Error:
                    pass
        if total > self.peak:
            self.peak, self.peak_processes = total, n
        self.peak_pss = max(self.peak_pss, pss)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.period)

    def __enter__(self) -> "TreeMemory":
        import psutil

        t = self.proc.cpu_times()
        self._own0 = t.user + t.system
        self._cpu0: dict[int, float] = {}  # children that already exist (a fork server): count only from now
        for p in self.proc.children(recursive=True):
            try:
                c = p.cpu_times()
                self._cpu0[p.pid] = c.user + c.system
            except psutil.Error:
                pass
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        t = self.proc.cpu_times()
        self.cpu_self = t.user + t.system - self._own0

    @property
    def cpu_children(self) -> float:
        """CPU seconds of the descendants (as last sampled: up to ``period`` s short per process)."""
        return sum(v - self._cpu0.get(pid, 0.0) for pid, v in self._cpu.items())


def timed_run(worlds: int, options: list[str] | None = None, horizon: int = 60, **kw: object) -> dict:
    sc = load_scenario(SCENARIO)
    t0 = time.perf_counter()
    res = run(sc, options, worlds=worlds, horizon_months=horizon, progress=False, worlds_to=None, **kw)
    wall = time.perf_counter() - t0
    k = len(res.manifest["options"])
    wm = world_months(worlds, k, horizon)
    return {"worlds": worlds, "options": k, "horizon": horizon, "wall_s": round(wall, 2),
            "world_months_per_s": round(wm / wall), "run": res.manifest["run"]}


def batch_run_baseline(seeds: int, horizon: int = 60) -> dict:
    sc = load_scenario(SCENARIO)
    options = list(sc.options)
    t0 = time.perf_counter()
    for opt in options:
        mesa.batch_run(CeasefireModel, parameters={"scenario": str(SCENARIO), "option": opt, "worlds": 1},
                       rng=list(range(seeds)), max_steps=horizon, number_processes=1, display_progress=False)
    wall = time.perf_counter() - t0
    wm = world_months(seeds, len(options), horizon)
    # The same worlds without batch_run, the scenario parsed once: what one-world-at-a-time costs by itself.
    t0 = time.perf_counter()
    for opt in options:
        for seed in range(seeds):
            CeasefireModel(sc, opt, worlds=1, rng=seed, horizon_months=horizon).run()
    loop = time.perf_counter() - t0
    return {"worlds_per_option": seeds, "options": len(options), "horizon": horizon,
            "batch_run_wall_s": round(wall, 2), "batch_run_world_months_per_s": round(wm / wall),
            "loop_wall_s": round(loop, 2), "loop_world_months_per_s": round(wm / loop)}


def memory_run(worlds: int, options: list[str], horizon: int, workers: int, blocks_per_chunk: int) -> dict:
    tracemalloc.start()
    with TreeMemory() as tree:
        out = timed_run(worlds, options, horizon, engine=Processes(workers, blocks_per_chunk=blocks_per_chunk))
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    unit = 1 if sys.platform == "darwin" else 1024
    out.update({
        "peak_tree_rss_mib": round(tree.peak / MiB, 1), "peak_tree_pss_mib": round(tree.peak_pss / MiB, 1),
        "processes_at_peak": tree.peak_processes,
        "maxrss_self_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / MiB, 1),
        "tracemalloc_peak_parent_mib": round(traced_peak / MiB, 1),
    })
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only (checks the script)")
    ap.add_argument("--parts", default="throughput,baseline,scaling,memory",
                    help="comma-separated parts to run (default: all)")
    ap.add_argument("--seeds", type=int, default=50, help="worlds per option for the batch_run baseline")
    ap.add_argument("--memory-worlds", type=int, default=10**7)
    ap.add_argument("--memory-options", default="all",
                    help="options of the memory run (comma-separated, or 'all')")
    ap.add_argument("--memory-horizon", type=int, default=60)
    ap.add_argument("--memory-blocks-per-chunk", type=int, default=DEFAULT_BLOCKS_PER_CHUNK)
    ap.add_argument("--out", metavar="FILE", default=str(ROOT / "benchmarks" / "results" / "ensemble.json"),
                    help="write the figures as JSON here (default: benchmarks/results/ensemble.json)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    sizes = [1, 10**3, 10**4] if args.quick else [1, 10**4, 10**5, 10**6]
    big = 10**4 if args.quick else 10**6
    seeds = 5 if args.quick else args.seeds
    mem_worlds = 10**5 if args.quick else args.memory_worlds

    report: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
                    "mesa": mesa.__version__, "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}

    def show(title: str, value: object) -> None:
        print(f"{title}: {json.dumps(value)}", flush=True)

    run(load_scenario(SCENARIO), worlds=1, horizon_months=2, progress=False)  # warm up imports and caches
    if "throughput" in parts:
        report["throughput"] = []
        for n in sizes:
            r = timed_run(n)
            report["throughput"].append(r)
            show(f"throughput {n:>9,} worlds", r)
    if "baseline" in parts:
        report["baseline"] = batch_run_baseline(seeds)
        show("mesa.batch_run baseline", report["baseline"])
        ours = next((r for r in report.get("throughput", []) if r["worlds"] == big), None)
        if ours:
            report["ratio_vs_batch_run"] = round(
                ours["world_months_per_s"] / report["baseline"]["batch_run_world_months_per_s"], 1)
            show("ratio (1 process, largest size) / batch_run", report["ratio_vs_batch_run"])
    if "scaling" in parts:
        from simulator.runs.execute import execute
        from simulator.runs.plan import make_plan

        report["scaling"] = {}
        plan = make_plan(load_scenario(SCENARIO), None, big, None, 60)
        wm = world_months(big, len(plan.options), 60)
        # Start the fork server before timing, so that neither process count pays for it.
        execute(make_plan(load_scenario(SCENARIO), None, 1, None, 2), Processes(2))
        # A fresh engine for each measurement: the time includes starting its worker processes.
        for name, engine in (("sequential", Sequential()), ("processes_1", Processes(1)),
                             ("processes_2", Processes(2))):
            load0 = os.getloadavg()[0]
            with TreeMemory(period=0.5) as tree:
                t0 = time.perf_counter()
                out = execute(plan, engine)
                wall = time.perf_counter() - t0
            cpu = tree.cpu_self + tree.cpu_children
            report["scaling"][name] = {
                "wall_s": round(wall, 2), "world_months_per_s": round(wm / wall), "cpu_s": round(cpu, 1),
                "cores_used": round(cpu / wall, 2), "load_1min_before_after": [round(load0, 2),
                                                                                round(os.getloadavg()[0], 2)],
                "run": out.info}
            show(f"scaling {name}", report["scaling"][name])
        s = report["scaling"]
        report["speedup_2_vs_1_processes"] = round(s["processes_1"]["wall_s"] / s["processes_2"]["wall_s"], 2)
        report["speedup_2_processes_vs_sequential"] = round(s["sequential"]["wall_s"] / s["processes_2"]["wall_s"], 2)
        show("speed-up 2 vs 1 processes", report["speedup_2_vs_1_processes"])
    if "memory" in parts:
        sc = load_scenario(SCENARIO)
        opts = list(sc.options) if args.memory_options == "all" else args.memory_options.split(",")
        report["memory"] = memory_run(mem_worlds, opts, args.memory_horizon, workers=2,
                                      blocks_per_chunk=args.memory_blocks_per_chunk)
        show("memory", report["memory"])
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
        print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
