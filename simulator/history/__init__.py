"""Validation against real ceasefires, and calibration of the model's constants to them.

One job per file (docs/validation.md):

``cases.py``     the interstate cases file and the coding of how each case's war ended
``fortna.py``    Fortna's civil-war ceasefires and the figures recomputed from them
``fortna_cases.py`` Fortna's ceasefires one by one, mapped onto the levers by mission type and victory
``baselines.py`` statistical baselines beside the model: base rates, Cox models, a simple ranking
``mapping.py``   history -> the model's levers: the generic base world and the lever tables
``scores.py``    the model's predicted survival, and concordance, Brier, calibration, hazard ratios
``validate.py``  ``geosim validate``: replay the cases and the generic comparisons, score them
``calibrate.py`` ``geosim calibrate``: fit the global constants to the cases (interstate and Fortna's)
``crossval.py``  cross-validation of the fit: interstate cases one at a time, Fortna's in folds
``posterior.py`` posterior draws of the constants by Markov chain Monte Carlo (emcee)
``csvfile.py``   CSV rows that know their file and line, for error messages
``settings.py``  the commands' defaults (read by the command line without importing the model)
"""
