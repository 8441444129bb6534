"""``geosim app``: serve the interactive what-if page on 127.0.0.1 (needs the ``app`` extra)."""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.errors import UsageError

DEFAULT_PORT = 8765  # Solara's own default
HOST = "127.0.0.1"  # the page is for this machine only


def free_port() -> int:
    """A port nobody listens on now, chosen by the system."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _port_taken(port: int) -> bool:
    """Whether a server listens on ``port`` (connections closing on it, as the server will, do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def cmd_app(args: argparse.Namespace) -> int:
    from simulator.app.compute import MAX_WORLDS, Question

    try:
        import solara  # noqa: F401  (the app extra)
    except ModuleNotFoundError:
        raise UsageError("the what-if page needs Solara; install it with: pip install 'geosim[app]'") from None
    ref = args.file
    if Path(ref).suffix and Path(ref).exists():
        ref = str(Path(ref).resolve())  # the server reads it, whatever its working folder
    options = [o.strip() for o in (args.options or "").split(",") if o.strip()]
    if args.worlds > MAX_WORLDS:
        raise UsageError(f"--worlds {args.worlds:,} is more than the page's limit of {MAX_WORLDS:,}")
    Question.of(ref, options, worlds=args.worlds, seed=args.seed)  # a bad scenario or option fails here, at once
    port = free_port() if args.port == 0 else args.port
    if _port_taken(port):
        raise UsageError(f"port {port} on {HOST} is in use; choose another with --port (0 picks a free one)")
    os.environ.update({
        "GEOSIM_APP_SCENARIO": ref,
        "GEOSIM_APP_WORLDS": str(args.worlds),
        "GEOSIM_APP_SEED": "" if args.seed is None else str(args.seed),
        "GEOSIM_APP_OPTIONS": ",".join(options),
        # Nothing leaves this machine: no usage statistics, no check for a newer Solara.
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    })
    print(f"geosim app: http://{HOST}:{port}/ (Ctrl-C stops it)", flush=True)
    import click
    from solara.__main__ import cli

    argv = ["run", "simulator.app.page", "--host", HOST, "--port", str(port), "--production", "--no-open",
            "--no-check-version", "--log-level", "warning"]
    try:
        cli.main(argv, prog_name="solara", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):  # Ctrl-C: Solara's command line says Abort
        pass
    print("geosim app: stopped", flush=True)
    return 0


def register(sub: Any, positive: Callable[[str], int], non_negative: Callable[[str], int]) -> None:
    from simulator.app import DEFAULT_WORLDS

    p = sub.add_parser("app", help="serve the interactive what-if page on 127.0.0.1 (needs geosim[app])")
    p.add_argument("file", metavar="SCENARIO", nargs="?", default="ukraine_2025",
                   help="a scenario file, or the name of a built-in scenario (default: ukraine_2025)")
    p.add_argument("--port", type=non_negative, default=DEFAULT_PORT,
                   help=f"port on 127.0.0.1 (default: {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--worlds", type=positive, default=DEFAULT_WORLDS,
                   help=f"worlds shared by every option (default: {DEFAULT_WORLDS:,}; more is slower)")
    p.add_argument("--seed", type=non_negative, help="seed of the worlds (default: the scenario's)")
    p.add_argument("--options", metavar="A,B,...",
                   help="options compared with the baseline at first (default: the first two); "
                        "the page can change them")
    p.set_defaults(func=cmd_app)
