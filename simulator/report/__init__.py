"""The only place that formats or writes results: labels, tables, readings, figures, results folders."""
