"""Validation against real ceasefires, and calibration of the model's constants to them.

One job per file (docs/validation.md):

``cases.py``     the interstate cases file and the coding of how each case's war ended
``fortna.py``    Fortna's civil-war ceasefires and the figures recomputed from them
``mapping.py``   history -> the model's levers: the generic base world and the lever tables
``scores.py``    the model's predicted survival, and concordance, Brier, calibration, hazard ratios
``validate.py``  ``geosim validate``: replay the cases and the generic comparisons, score them
``calibrate.py`` ``geosim calibrate``: fit the global constants, leave-one-out cross-validation
``csvfile.py``   CSV rows that know their file and line, for error messages
``settings.py``  the commands' defaults (read by the command line without importing the model)
"""
