"""The constants' uncertainty in a results folder: ``posterior.csv``, ``posterior.png`` and a printed table.

Written by ``save_results`` when the results carry posterior draws (``simulator.run(...,
posterior=K)``, ``geosim run --posterior K``), inside the same atomic folder and listed with
their hashes in the manifest. Both kinds of uncertainty are shown side by side and labelled:
the Monte Carlo 95% interval of the main run, at the calibrated constants, and the 90% range
across draws of the constants (``simulator.analysis.posterior``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

import pandas as pd

from simulator.analysis.posterior import PosteriorResults
from simulator.files import atomic_write
from simulator.report.labels import digits
from simulator.scenario.outcomes import outcome_named

POSTERIOR_FILE = "posterior.csv"
POSTERIOR_FIGURE = "posterior.png"
MC_LABEL = "Monte Carlo 95%"
DRAWS_LABEL = "constants, 90% across draws"


def save_posterior(results: PosteriorResults, directory: Path, plots: bool = True) -> list[Path]:
    """Write ``posterior.csv`` (and, with ``plots``, ``posterior.png``) into ``directory``."""
    assert results.posterior is not None
    out = [atomic_write(Path(directory) / POSTERIOR_FILE, results.posterior.to_csv(index=False))]
    if plots:
        from matplotlib.figure import Figure  # matplotlib loads only when figures are drawn

        fig = Figure(figsize=(9, 6))
        plot_posterior(results, ax=fig.subplots())
        fig.tight_layout()
        out.append(atomic_write(Path(directory) / POSTERIOR_FIGURE,
                                partial(fig.savefig, format="png", dpi=110, metadata={"Software": None})))
    return out


def shown_measure(results: PosteriorResults, measure: str = "hold_36") -> str:
    """``measure``, or holding at the horizon if the run stops before it is defined."""
    p = results.posterior
    assert p is not None
    rows = p[(p["measure"] == measure) & (p["kind"] == "difference")]
    return measure if rows["value"].notna().any() else "hold_horizon"


def plot_posterior(results: PosteriorResults, ax: object | None = None, measure: str = "hold_36") -> object:
    """Each option's difference from the baseline in ``measure`` with both intervals, labelled.

    Black whisker: the Monte Carlo 95% interval of the main run, at the calibrated constants
    (its dot, the estimate). Thick grey bar: the 5% to 95% range of the estimate across draws
    of the constants (its diamond, the median).
    """
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(9, 6))[1]
    measure = shown_measure(results, measure)
    outcome = outcome_named(measure)
    scale = 100.0 if outcome.tally.share else 1.0
    p = results.posterior
    assert p is not None
    d = p[(p["measure"] == measure) & (p["kind"] == "difference")].reset_index(drop=True)
    for i, r in d.iterrows():
        ax.plot([scale * r["q05"], scale * r["q95"]], [i + 0.12] * 2, color="#999999", linewidth=7,
                solid_capstyle="butt", label=DRAWS_LABEL if i == 0 else None)
        ax.plot(scale * r["median"], i + 0.12, marker="D", color="#555555", markersize=6, linestyle="none",
                label="median across draws" if i == 0 else None)
        ax.errorbar(scale * r["value"], i - 0.12, xerr=[[scale * (r["value"] - r["mc_lo"])],
                                                        [scale * (r["mc_hi"] - r["value"])]],
                    fmt="o", color="black", capsize=4, linewidth=1.4,
                    label=f"{MC_LABEL} (calibrated constants)" if i == 0 else None)
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(range(len(d)), [f"{o}\n(better in {share(r['share_better'])} of draws)"
                                  for o, (_, r) in zip(d["option"], d.iterrows())], fontsize=8)
    ax.invert_yaxis()
    unit = "percentage points" if outcome.tally.share else outcome.unit
    ax.set_xlabel(f"difference from {results.baseline} in {outcome.long_label}, {unit}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    m = results.manifest
    post = m.get("posterior", {})
    ax.set_title(f"Difference from the baseline: Monte Carlo noise and the constants' uncertainty\n"
                 f"{m.get('scenario', '')}, seed {m.get('seed', '')}: {m.get('worlds', 0):,} worlds at the calibrated "
                 f"constants;\n{post.get('draws', len(d))} draws of the constants, each on the same first "
                 f"{post.get('worlds_per_draw', 0):,} worlds", fontsize=10)
    return ax


def share(x: float) -> str:
    """A share of draws in words: ``85%``, or ``n/a``."""
    return "n/a" if pd.isna(x) else f"{100 * x:.0f}%"


def number(outcome_name: str, x: float, sign: bool = True) -> str:
    """A difference as printed: percentage points for a share, else the outcome's own unit."""
    if pd.isna(x):
        return "n/a"
    if outcome_named(outcome_name).tally.share:
        return f"{100 * x:{'+' if sign else ''}.{digits(x)}f}"
    return f"{x:{'+' if sign else ''},.1f}"


def posterior_table(results: PosteriorResults,
                    measures: Sequence[str] = ("agreed", "hold_36", "direct_clash")) -> str:
    """The differences from the baseline with both intervals and the share of draws each option is better."""
    p = results.posterior
    assert p is not None
    wanted = [shown_measure(results, m) if m == "hold_36" else m for m in measures]
    d = p[(p["kind"] == "difference") & p["measure"].isin(wanted)].copy()
    d["order"] = d["measure"].map({m: i for i, m in enumerate(wanted)})
    d = d.sort_values(["order"], kind="stable")
    rows = [{
        "option": r["option"],
        "measure": outcome_named(r["measure"]).label + (", pp" if outcome_named(r["measure"]).tally.share else ""),
        "calibrated": number(r["measure"], r["value"]),
        MC_LABEL: f"{number(r['measure'], r['mc_lo'])} to {number(r['measure'], r['mc_hi'])}",
        "median of draws": number(r["measure"], r["median"]),
        "90% of draws": f"{number(r['measure'], r['q05'])} to {number(r['measure'], r['q95'])}",
        "better in": share(r["share_better"]),
    } for _, r in d.iterrows()]
    post = results.manifest.get("posterior", {})
    title = (f"Differences from {results.baseline}: at the calibrated constants ({MC_LABEL}) and across "
             f"{post.get('draws', '?')} draws of the constants ({post.get('worlds_per_draw', 0):,} worlds each)")
    if not rows:
        return title + ": no other option was run"
    return f"{title}:\n{pd.DataFrame(rows).to_string(index=False)}"
