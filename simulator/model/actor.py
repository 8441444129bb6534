"""What every actor shares: one Mesa agent per actor whose state holds one entry per world.

Parameters (``self.p``, typed per role: ``simulator/model/parameters.py``) are arrays (one
draw per world) or plain floats (the same in every world); the helpers here let the
arithmetic work for both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np

from simulator.model.parameters import RoleParameters

if TYPE_CHECKING:
    from simulator.model.model import CeasefireModel

Array = np.ndarray

def at(x: Any, idx: Array) -> Any:
    """``x[idx]`` for per-world arrays, ``x`` itself for a value shared by all worlds."""
    return x[idx] if np.ndim(x) else x


def nonzero_somewhere(x: Any) -> bool:
    return bool(np.any(x))


def read_only(x: Any) -> Any:
    """``x``, protected against changes in place: it is kept and handed out until troops move."""
    if isinstance(x, np.ndarray):
        x.flags.writeable = False
    return x


class Actor(mesa.Agent):
    """An actor of the scenario; ``p`` holds its parameters as typed attributes."""

    role: ClassVar[str] = ""
    model: "CeasefireModel"
    p: RoleParameters

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: RoleParameters) -> None:
        super().__init__(model)
        self.name = name
        self.label = label
        self.p = params

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
