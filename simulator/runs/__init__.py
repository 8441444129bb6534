"""Worlds -> mergeable totals: plans, blocks of worlds, exact totals, checkpoints, Parquet, engines."""
