"""Validation commands: ``geosim validate`` and ``geosim calibrate`` (docs/validation.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from simulator.cli.progress import StageBar, StatusLine
from simulator.errors import UsageError


def _war_outcomes(args: argparse.Namespace) -> str | Path | None:
    """The coding of how each case's war ended: --war-outcomes; none with --no-war-outcomes; the
    shipped coding with the shipped cases; none for another cases file (it codes other cases)."""
    from simulator.history.settings import DEFAULT_WAR_OUTCOMES

    if args.no_war_outcomes:
        return None
    if args.war_outcomes:
        return args.war_outcomes
    return None if args.cases else DEFAULT_WAR_OUTCOMES


FORTNA_HELP = {
    "validate": "a file in Fortna's format (id,cname,cfdate,faildate,morewar,pk_dum,pkopC,treaty,victory,logcost,"
                "wardur; censored 2004-12-31) whose cases are predicted one by one and scored, beside Cox baselines "
                "and the base rate (default: the shipped fortna_civil_ceasefires.csv). Fortna's aggregate figures "
                "(survival, hazard ratios), the Cox baselines and the base rate always come from the shipped file, "
                "the training data: this file only chooses the cases to score",
    "calibrate": "Fortna's civil-war ceasefires, fitted one by one with the interstate cases (with "
                 "--fortna-figures: their aggregate survival at 1 and 5 years and hazard ratios instead) "
                 "(default: the shipped fortna_civil_ceasefires.csv)",
}


def _add_data_options(p: argparse.ArgumentParser, command: str) -> None:
    """The data files both commands read: cases, Fortna's ceasefires and the war-outcome coding."""
    p.add_argument("--cases", metavar="CSV", help="cases file (default: the shipped historical_ceasefires.csv)")
    p.add_argument("--fortna", metavar="CSV", help=FORTNA_HELP[command])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--war-outcomes", metavar="CSV",
                   help="how each case's war ended: case_id,war_outcome,reason (default: the shipped "
                        "war_outcomes.csv for the shipped cases, none with --cases)")
    g.add_argument("--no-war-outcomes", action="store_true",
                   help="code no case: every case gets the generic mix of decisive and undecided wars")


def cmd_validate(args: argparse.Namespace) -> int:
    from simulator.history.settings import DEFAULT_CASES, DEFAULT_FORTNA
    from simulator.history.validate import validate
    from simulator.scenario.constants_file import load_constants

    constants = load_constants(args.constants) if args.constants else None
    cases = args.cases or DEFAULT_CASES
    out = Path(args.out)
    bar = StageBar("validate", quiet=args.quiet)
    try:
        report = validate(cases, args.fortna or DEFAULT_FORTNA, worlds=args.worlds, seed=args.seed,
                          constants=constants, war_outcomes=_war_outcomes(args), progress=bar)
    finally:
        bar.close()
    report.save(out, force=args.force)
    coding = report.metrics["war_outcomes_file"] or "none (the generic mix)"
    print(f"Validation on {report.metrics['cases']} cases from {cases} ({args.worlds:,} worlds, seed {args.seed}"
          + (f", constants from {args.constants}" if args.constants else "") + f"; war outcomes: {coding})\n")
    print(report.text())
    print(f"\nWritten to {out}/: validation.csv, validation.json, calibration_table.csv, validation.png, "
          "fortna_cases.csv")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from simulator.history.calibrate import calibrate
    from simulator.history.settings import DEFAULT_CASES, DEFAULT_FORTNA

    out = Path(args.out)
    if out.is_dir():  # refused before the long fit, not after it
        raise UsageError(f"output path '{out}' is a directory; give a file name for --out")
    cases = args.cases or DEFAULT_CASES

    draws_out = Path(args.posterior_out) if args.posterior_out else out.with_name("posterior_constants.csv")
    if args.posterior_steps and draws_out.is_dir():
        raise UsageError(f"output path '{draws_out}' is a directory; give a file name for --posterior-out")
    # The fit's messages, under a status line with the stage and the time so far (on a terminal)
    status = StatusLine("calibrate", quiet=args.quiet, max_evals=args.max_evals)
    try:
        report = calibrate(cases, args.fortna or DEFAULT_FORTNA, worlds=args.worlds, seed=args.seed,
                           max_evals=args.max_evals, loo=not args.no_loo, loo_max_evals=args.loo_max_evals,
                           workers=args.workers, progress=status.say, war_outcomes=_war_outcomes(args),
                           fortna_cases_fitted=not args.fortna_figures, posterior_steps=args.posterior_steps,
                           posterior_walkers=args.posterior_walkers)
    finally:
        status.close()
    report.write_yaml(out)
    print(report.text())
    print(f"\nCalibrated constants written to {out} (a scenario 'constants:' block).")
    if report.posterior is not None:
        from simulator.history.posterior import write_draws

        write_draws(draws_out, report.posterior)
        print(f"Posterior draws ({len(report.posterior.draws)}) written to {draws_out}: "
              "geosim run --posterior K --posterior-file reads them.")
    return 0


def register(sub: Any, positive: Callable[[str], int], non_negative: Callable[[str], int]) -> None:
    from simulator.history.settings import CALIBRATION_WORLDS as CAL_WORLDS
    from simulator.history.settings import (
        DEFAULT_MAX_EVALS,
        DEFAULT_SEED,
        DEFAULT_WORLDS,
        LOO_MAX_EVALS,
        POSTERIOR_WALKERS,
    )

    p = sub.add_parser("validate", help="replay historical ceasefires and score the model against them")
    _add_data_options(p, "validate")
    p.add_argument("--out", metavar="DIR", default="results/validation",
                   help="output directory (default: results/validation)")
    p.add_argument("--force", action="store_true", help="replace an existing output directory")
    p.add_argument("--worlds", type=positive, default=DEFAULT_WORLDS,
                   help=f"worlds per case (default: {DEFAULT_WORLDS})")
    p.add_argument("--seed", type=non_negative, default=DEFAULT_SEED, help=f"seed (default: {DEFAULT_SEED})")
    p.add_argument("--constants", metavar="YAML",
                   help="use the constants in this file (as 'geosim calibrate' writes) instead of the defaults")
    p.add_argument("--quiet", action="store_true", help="no progress bar (there is none unless stderr is a terminal)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("calibrate", help="fit the model's global constants to history and Fortna's figures")
    _add_data_options(p, "calibrate")
    p.add_argument("--out", metavar="FILE", default="calibrated_constants.yaml",
                   help="YAML file for the calibrated constants (default: calibrated_constants.yaml)")
    p.add_argument("--worlds", type=positive, default=CAL_WORLDS,
                   help=f"worlds per case and trial (default: {CAL_WORLDS})")
    p.add_argument("--seed", type=non_negative, default=DEFAULT_SEED, help=f"seed (default: {DEFAULT_SEED})")
    p.add_argument("--max-evals", type=positive, default=DEFAULT_MAX_EVALS, metavar="N",
                   help=f"most loss evaluations of the fit (default: {DEFAULT_MAX_EVALS})")
    p.add_argument("--no-loo", action="store_true", help="skip the leave-one-out cross-validation")
    p.add_argument("--loo-max-evals", type=positive, default=LOO_MAX_EVALS, metavar="N",
                   help=f"most loss evaluations of each leave-one-out refit (default: {LOO_MAX_EVALS})")
    p.add_argument("--workers", type=positive, default=1, metavar="K",
                   help="run the model in K worker processes (default: 1)")
    p.add_argument("--jobs", dest="workers", type=positive, default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)  # the old name of --workers, kept working but not shown
    p.add_argument("--fortna-figures", action="store_true",
                   help="fit Fortna's aggregate figures (survival at 1 and 5 years, hazard ratios) instead of "
                        "Fortna's ceasefires one by one")
    p.add_argument("--posterior-steps", type=non_negative, default=0, metavar="N",
                   help="also sample the posterior of the constants with emcee for N steps, the first half "
                        "dropped (default: 0, no posterior)")
    p.add_argument("--posterior-walkers", type=positive, default=POSTERIOR_WALKERS, metavar="W",
                   help=f"emcee walkers (default: {POSTERIOR_WALKERS}; at least twice the fitted constants)")
    p.add_argument("--posterior-out", metavar="FILE",
                   help="CSV file for the posterior draws (default: posterior_constants.csv beside --out)")
    p.add_argument("--quiet", action="store_true", help="no progress messages and no status line")
    p.set_defaults(func=cmd_calibrate)
