"""Where every number came from: the table behind ``geosim sources``."""

from __future__ import annotations

import pandas as pd

from simulator.scenario.load import Scenario


def sources_table(sc: Scenario) -> pd.DataFrame:
    """One row per parameter of the base scenario, per option change and per model constant."""
    rows = []
    for param in sc.parameters(None if not sc.options else sc.baseline):
        rows.append({"scope": "base scenario", "actor": param.actor, "parameter": param.name,
                     "value": param.spec.describe(), "origin": param.origin, "source": param.source})
    for opt in sc.options.values():
        for (actor, pname), spec in opt.changes.items():
            rows.append({"scope": f"option {opt.name}", "actor": actor, "parameter": pname,
                         "value": spec.describe(), "origin": "option",
                         "source": spec.source or "(no source given)"})
    for name, spec in sc.constant_specs().items():
        rows.append({"scope": "model constants", "actor": "constants", "parameter": name,
                     "value": spec.describe(), "origin": "scenario" if name in sc.constants else "default",
                     "source": spec.source or ""})
    return pd.DataFrame(rows, columns=["scope", "actor", "parameter", "value", "origin", "source"])
