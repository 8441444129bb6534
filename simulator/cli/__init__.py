"""The ``geosim`` command line: parse, call the Python API, print, exit."""

from simulator.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
