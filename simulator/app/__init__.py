"""``geosim app``: an interactive what-if page, served on 127.0.0.1 with Solara.

``levers`` says which parameters the page offers as sliders and switches, and how each one
changes a scenario's options; ``compute`` runs the chosen options on shared worlds (common
random numbers) and keeps recent answers; ``page`` is the Solara page itself, in Mesa's
visualisation style. Only ``page`` imports Solara: the other two work without the ``app`` extra.
"""

DEFAULT_WORLDS = 4096  # one block of worlds: an answer in under a second for three options on one core
