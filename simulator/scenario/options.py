"""Options built on other options: ``based_on:`` in a scenario file.

An option may name another option it builds on (``based_on: peacekeepers``). It then takes
every setting of that option (and of the option that one builds on, and so on) and adds its
own; a setting it writes itself replaces the inherited one. Any option may be a base, the
baseline included. A base that is not an option, and options based on each other in a
cycle, are errors at the ``based_on:`` line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.errors import did_you_mean
from simulator.scenario.yamlio import Located


def resolve_bases[V](loc: Located, bases: Mapping[str, str | None],
                     own: Mapping[str, Mapping[Any, V]]) -> dict[str, dict[Any, V]]:
    """Every option's settings with those of its bases: ``own`` by option, ``bases`` its ``based_on``.

    The settings of a base come first, in its order; the option's own follow and replace
    inherited ones. Chains are resolved without recursion, so their length is not limited.

    Raises:
        ScenarioError: at the ``based_on:`` value, for a base that is not an option or a cycle.
    """
    resolved: dict[str, dict[Any, V]] = {}
    for start in own:
        chain: list[str] = []  # from ``start`` down to the first option already resolved (or with no base)
        current: str | None = start
        while current is not None and current not in resolved:
            if current in chain:
                raise _cycle(loc, chain, current)
            chain.append(current)
            base = bases.get(current)
            if base is not None and base not in own:
                raise loc.error(("options", current, "based_on"),
                                f"option '{current}' is based on '{base}', which is not an option",
                                did_you_mean(base, own, "choose one of"))
            current = base
        merged: dict[Any, V] = dict(resolved[current]) if current is not None else {}
        for name in reversed(chain):
            merged = {**merged, **own[name]}
            resolved[name] = merged
    return resolved


def _cycle(loc: Located, chain: list[str], back: str) -> Exception:
    """The error for options based on each other: it names the cycle, at the ``based_on:`` that closes it."""
    last = chain[-1]
    if last == back:
        return loc.error(("options", last, "based_on"), f"option '{last}' is based on itself",
                         "remove its 'based_on:' or name another option")
    cycle = chain[chain.index(back):] + [back]
    return loc.error(("options", last, "based_on"),
                     f"options based on each other in a cycle: {' -> '.join(cycle)}",
                     "remove one 'based_on:' of the cycle so that one of them stands on its own")
