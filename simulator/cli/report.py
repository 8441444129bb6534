"""``geosim report``: a brief of a results folder in one HTML file, and a PDF (docs/report.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cmd_report(args: argparse.Namespace) -> int:
    from simulator.report.brief import default_out, write_brief
    from simulator.report.pdf import NO_BROWSER, find_browser, print_pdf

    out = Path(args.out) if args.out else default_out(args.dir)
    written = write_brief(args.dir, out, validation=args.validation, explore=args.explore, scenario=args.scenario)
    print(f"Brief written to {written}")
    if args.pdf:
        browser = find_browser()
        if browser is None:
            print(f"geosim: note: {NO_BROWSER}", file=sys.stderr)
            return 0
        pdf = print_pdf(written, written.with_suffix(".pdf"), browser)
        print(f"PDF written to {pdf}")
    return 0


def register(sub: Any, positive: Callable[[str], int], non_negative: Callable[[str], int]) -> None:
    p = sub.add_parser("report", help="write a brief of a results folder: one self-contained HTML file (and a PDF)")
    p.add_argument("dir", metavar="RESULTS_DIR", help="the folder 'geosim run' wrote (its --out)")
    p.add_argument("--out", metavar="FILE", help="the HTML file to write (default: RESULTS_DIR/brief.html)")
    p.add_argument("--validation", metavar="DIR",
                   help="a folder 'geosim validate' wrote: adds how far to trust the model (skill against "
                        "regressions and the base rate)")
    p.add_argument("--explore", metavar="DIR",
                   help="a folder 'geosim explore' wrote for the same scenario: adds what the answer depends on")
    p.add_argument("--scenario", metavar="SCENARIO",
                   help="the scenario file the run used, if it is neither built in nor in the current folder; it "
                        "must be unchanged since the run")
    p.add_argument("--pdf", action="store_true",
                   help="also print the brief to PDF (FILE with .pdf) with headless Chromium; without Chromium, "
                        "a note says so and only the HTML is written")
    p.set_defaults(func=cmd_report)
