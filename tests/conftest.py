"""Shared fixtures: paths to the shipped scenario and a small loaded copy of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator import load_scenario

ROOT = Path(__file__).resolve().parent.parent
UKRAINE = ROOT / "scenarios" / "ukraine_2025.yaml"


@pytest.fixture(scope="session")
def ukraine_path() -> Path:
    return UKRAINE


@pytest.fixture(scope="session")
def ukraine():
    return load_scenario(UKRAINE)
