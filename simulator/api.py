"""The Python API for ensembles: ``run`` a scenario's options and get ``Results``."""

from __future__ import annotations

import difflib
import platform
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .ensemble import BLOCK, Plan, run_sequential, totals
from .errors import UsageError
from .results import Results, finalize
from .scenario import Scenario, load_scenario
from .streams import MAX_MONTHS

PACKAGES = ("geosim", "mesa", "numpy", "pandas", "scipy", "lifelines", "pydantic", "matplotlib")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[name] = "not installed"
    return out


def _check_positive(name: str, value: Any, limit: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UsageError(f"{name} must be a positive whole number, got {value!r}")
    if limit is not None and value > limit:
        raise UsageError(f"{name} must be at most {limit:,}, got {value:,}")
    return value


def make_plan(scenario: Scenario, options: Sequence[str] | None = None, worlds: int | None = None,
              seed: int | None = None, horizon_months: int | None = None) -> Plan:
    """Resolve defaults and check arguments: the baseline first, then the other options."""
    if options:
        for name in options:
            if name not in scenario.options:
                hint = difflib.get_close_matches(name, list(scenario.options), n=1)
                fix = f"did you mean '{hint[0]}'?" if hint else "choose from: " + ", ".join(scenario.options)
                raise UsageError(f"{scenario.path}: no option named '{name}'; {fix}")
        chosen = list(dict.fromkeys(options))
    else:
        chosen = list(scenario.options)
    if scenario.baseline in chosen:
        chosen.remove(scenario.baseline)
    chosen.insert(0, scenario.baseline)  # differences are always against the baseline
    worlds = _check_positive("worlds", scenario.worlds if worlds is None else worlds, 10**9)
    horizon = _check_positive("horizon", scenario.horizon_months if horizon_months is None else horizon_months,
                              MAX_MONTHS)
    seed = scenario.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"seed must be a whole number of at least 0, got {seed!r}")
    return Plan(scenario=scenario, options=tuple(chosen), worlds=worlds, seed=seed, horizon=horizon)


def run(scenario: Scenario | str | Path, options: Sequence[str] | None = None, worlds: int | None = None,
        seed: int | None = None, horizon_months: int | None = None, progress: bool = True,
        keep_worlds: bool | None = None, blocks_per_chunk: int = 16) -> Results:
    """Run options of a scenario on common random numbers and summarise them.

    Args:
        scenario: a loaded scenario or a path to a scenario file.
        options: option names (default: all); the baseline is always included, first.
        worlds, seed, horizon_months: override the scenario's values.
        progress: show a progress bar on a terminal for runs longer than a second.
        keep_worlds: keep per-world outcomes in ``Results.worlds`` (default: up to 200,000 worlds).
        blocks_per_chunk: blocks of 4,096 worlds simulated together (memory vs overhead).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    plan = make_plan(sc, options, worlds, seed, horizon_months)
    keep = plan.worlds <= 200_000 if keep_worlds is None else keep_worlds
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=plan.blocks(), unit="block", desc=f"{sc.name}: {len(plan.options)} options",
                   delay=1.0, file=sys.stderr)
    try:
        merged = run_sequential(plan, blocks_per_chunk=blocks_per_chunk, keep_worlds=keep, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    manifest = manifest_for(plan, started, wall)
    return finalize(plan, totals(plan, merged), manifest, worlds=merged.worlds)


def manifest_for(plan: Plan, started: datetime, wall_seconds: float, **extra: Any) -> dict[str, Any]:
    sc = plan.scenario
    return {
        "scenario": sc.name,
        "scenario_file": Path(sc.path).name,
        "scenario_sha256": sc.sha256,
        "seed": plan.seed,
        "worlds": plan.worlds,
        "horizon_months": plan.horizon,
        "options": list(plan.options),
        "baseline": sc.baseline,
        "block_worlds": BLOCK,
        "versions": _versions(),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(wall_seconds, 3),
        **extra,
    }
