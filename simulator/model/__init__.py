"""Scenario -> worlds: the actors, the Mesa model that plays one option in many worlds, and its random streams."""
