"""File -> validated Scenario: YAML with positions, parameters and their ranges, distributions, outcomes declared."""
