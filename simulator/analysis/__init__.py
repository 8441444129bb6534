"""Totals -> Results: survival curves, shares with intervals and paired differences. Sees neither the model nor the report."""
