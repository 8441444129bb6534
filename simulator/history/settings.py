"""Default settings of ``geosim validate`` and ``geosim calibrate``.

Kept apart from the validation code so that the command line can show them without
importing the model (which keeps ``geosim check`` quick to start).
"""

from __future__ import annotations

from simulator.data import data_path

# Package data, found wherever geosim is installed (``data/`` in a checkout links to the same files).
DEFAULT_CASES = data_path("historical_ceasefires.csv")
DEFAULT_FORTNA = data_path("fortna_civil_ceasefires.csv")
DEFAULT_WAR_OUTCOMES = data_path("war_outcomes.csv")  # the project's coding of how each case's war ended
DEFAULT_SEED = 20251130
DEFAULT_WORLDS = 2000  # worlds per case for validation
CALIBRATION_WORLDS = 500  # worlds per case and trial for calibration
DEFAULT_MAX_EVALS = 300  # loss evaluations of the fit
LOO_MAX_EVALS = 80  # loss evaluations of each leave-one-out refit
POSTERIOR_WALKERS = 12  # emcee walkers: at least twice the number of calibrated constants
