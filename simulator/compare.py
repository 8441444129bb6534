"""Options from one or several scenario files, side by side, paired where they share worlds.

All files run with the same seed, worlds and horizon, so world ``i`` of every option draws
from the same random streams. Options of one file are paired exactly (common random
numbers). Across files the pairing holds parameter by parameter for actors and
parameters with the same names; it is still a valid paired comparison (each world's
difference is computed on the same stream positions), and it is as tight as the files are
alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from simulator.analysis.results import Results, finalize
from simulator.api import manifest_for
from simulator.errors import UsageError
from simulator.runs.blocks import block_statistics, simulate_blocks, world_measures
from simulator.runs.plan import Plan, make_plan
from simulator.scenario.load import Scenario, load_scenario


def _select(scenarios: list[Scenario], wanted: Sequence[str] | None) -> list[tuple[Scenario, str, str]]:
    """(scenario, option, label) triples in the order asked for."""
    several = len(scenarios) > 1
    stems = [Path(s.path).stem for s in scenarios]
    if len(set(stems)) < len(stems):
        stems = [f"{i + 1}.{stem}" for i, stem in enumerate(stems)]

    def label(i: int, opt: str) -> str:
        return f"{stems[i]}:{opt}" if several else opt

    if not wanted:
        return [(sc, opt, label(i, opt)) for i, sc in enumerate(scenarios) for opt in sc.options]
    out = []
    for name in wanted:
        stem, _, opt = name.rpartition(":")
        matches = [(i, sc) for i, sc in enumerate(scenarios) if (not stem or stems[i] == stem) and opt in sc.options]
        if not matches:
            known = ", ".join(label(i, o) for i, sc in enumerate(scenarios) for o in sc.options)
            raise UsageError(f"no option '{name}' in the files given; known: {known}")
        out += [(sc, opt, label(i, opt)) for i, sc in matches if label(i, opt) not in {o[2] for o in out}]
    return out


def compare_files(files: Sequence[str | Path], options: Sequence[str] | None = None, worlds: int | None = None,
                  seed: int | None = None, horizon_months: int | None = None, progress: bool = True) -> Results:
    """Run the chosen options of several files on shared worlds; the first option is the reference."""
    scenarios = [load_scenario(f) for f in files]
    chosen = _select(scenarios, options)
    first = scenarios[0]
    base_plan = make_plan(first, None, worlds, seed, horizon_months)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    frames: dict[str, pd.DataFrame] = {}
    for sc in scenarios:
        opts = tuple(dict.fromkeys(opt for s, opt, _ in chosen if s is sc))
        if not opts:
            continue
        plan = Plan(sc, opts, base_plan.worlds, base_plan.seed, base_plan.horizon)
        result = simulate_blocks(plan, 0, plan.blocks(), keep_worlds=True)
        assert result.worlds is not None
        for s, opt, lab in chosen:
            if s is sc:
                rows = result.worlds[result.worlds["option"] == opt]
                frames[lab] = rows.drop(columns="option").reset_index(drop=True)
    labels = [lab for _, _, lab in chosen]
    measures = {lab: world_measures(frames[lab], base_plan.horizon) for lab in labels}
    totals = block_statistics(measures, frames, labels, base_plan.horizon)
    plan = replace(base_plan, options=tuple(labels))
    manifest = manifest_for(plan, started, time.perf_counter() - t0,
                            files=[Path(s.path).name for s in scenarios],
                            scenario_sha256s={Path(s.path).name: s.sha256 for s in scenarios})
    manifest["baseline"] = labels[0]
    worlds_frame = pd.concat([frames[lab].assign(option=lab) for lab in labels], ignore_index=True)
    return finalize(plan, totals, manifest, worlds=worlds_frame)
