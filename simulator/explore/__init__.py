"""Exploration: which inputs decide the answer (sensitivity), and where each option wins (discovery).

``factors`` lists the uncertain inputs of two options, ``evaluate`` runs design points of them
on replicated worlds through an engine, ``sensitivity`` computes Sobol or Morris indices with
SALib, ``discovery`` finds boxes with PRIM, ``write`` runs it all and writes a folder, and
``ema`` lets an EMA Workbench user run geosim as an EMA model. docs/explore.md explains each.
"""
