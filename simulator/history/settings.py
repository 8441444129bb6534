"""Default settings of ``geosim validate`` and ``geosim calibrate``.

Kept apart from the validation code so that the command line can show them without
importing the model (which keeps ``geosim check`` quick to start).
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data"
DEFAULT_CASES = DATA_DIR / "historical_ceasefires.csv"
DEFAULT_FORTNA = DATA_DIR / "fortna_civil_ceasefires.csv"
DEFAULT_WAR_OUTCOMES = DATA_DIR / "war_outcomes.csv"  # the project's coding of how each case's war ended
DEFAULT_SEED = 20251130
DEFAULT_WORLDS = 2000  # worlds per case for validation
CALIBRATION_WORLDS = 500  # worlds per case and trial for calibration
DEFAULT_MAX_EVALS = 300  # loss evaluations of the fit
LOO_MAX_EVALS = 80  # loss evaluations of each leave-one-out refit
