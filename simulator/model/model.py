"""CeasefireModel: a Mesa model that plays out one option of a scenario in many worlds at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from simulator.model.agents import Actor, Alliance, Challenger, Defender, ForceContributor, Guarantor, Patron
from simulator.scenario.distributions import Fixed, Spec
from simulator.errors import UsageError
from simulator.scenario.params import CONSTANTS, REGISTRY
from simulator.scenario.load import Scenario, load_scenario
from simulator.model.streams import MAX_MONTHS, Streams

AGENT_CLASSES: dict[str, type[Actor]] = {
    "challenger": Challenger, "defender": Defender, "patron": Patron,
    "force_contributor": ForceContributor, "alliance": Alliance,
}
# Order of a round (docs/model.md): accession, patrons, forces, defender, challenger.
ROUND_ORDER = ("alliance", "patron", "force_contributor", "defender", "challenger")


def draw(spec: Spec, streams: Streams, channel: str, kind: str) -> Any:
    """One value per world (by inverse CDF of the world's own uniform), or a plain value."""
    if isinstance(spec, Fixed):
        value = spec.value
        return bool(value) if kind == "bool" else float(value)
    values = spec.ppf(streams.uniform(channel))
    if kind == "bool":
        return values.astype(bool)
    if kind == "count":
        return np.round(values)
    return values.astype(float)


class CeasefireModel(mesa.Model):
    """The ceasefire of a scenario, under one option, in ``worlds`` parallel worlds.

    Args:
        scenario: a loaded ``Scenario`` or the path of a scenario file.
        option: the option to apply (``None``: the scenario's baseline).
        worlds: number of worlds simulated side by side.
        rng: seed of the run (``None``: the scenario's seed). Also seeds ``model.rng``.
        first_world: index of the first world, so that a block of worlds of a larger run can
            be simulated on its own with identical results.
        horizon_months: months to simulate (``None``: the scenario's horizon).
        record_worlds: keep a month-by-month trace of the first this-many worlds.
        collect: record per-month aggregates with a Mesa DataCollector.
    """

    CHALLENGER, DEFENDER, REFUSED = 1, 2, 3
    INITIATORS = {0: "", 1: "challenger", 2: "defender", 3: "no_deal"}

    def __init__(self, scenario: Scenario | str | Path, option: str | None = None, worlds: int = 1,
                 rng: int | np.random.Generator | None = None, *, first_world: int = 0,
                 horizon_months: int | None = None, record_worlds: int = 0, collect: bool = True) -> None:
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if isinstance(rng, np.random.Generator):
            seed = int(rng.integers(2**63))
        elif rng is None:
            seed = sc.seed
        else:
            seed = int(rng)
        super().__init__(rng=seed)
        if int(worlds) < 1:
            raise UsageError(f"worlds must be a positive whole number, got {worlds}")
        self.spec = sc  # Mesa 3.5 reserves `model.scenario` for its own Scenario class
        self.option = sc.option(option).name
        self.seed = seed
        self.horizon = int(sc.horizon_months if horizon_months is None else horizon_months)
        if not 1 <= self.horizon <= MAX_MONTHS:
            raise UsageError(f"horizon must be between 1 and {MAX_MONTHS} months, got {self.horizon}")
        self.n_worlds = int(worlds)
        self.first_world = int(first_world)
        self.world_ids = np.arange(self.first_world, self.first_world + self.n_worlds, dtype=np.int64)
        self.streams = Streams(seed, self.world_ids)
        self.month = 0

        n = self.n_worlds
        self.alive = np.ones(n, bool)
        self.agreed = np.ones(n, bool)
        self.collapse_month = np.full(n, -1, dtype=np.int32)
        self.initiator = np.zeros(n, dtype=np.int8)
        self.tension = np.zeros(n)
        self.probes = np.zeros(n, dtype=np.int32)
        self.answered = np.zeros(n, dtype=np.int32)
        self.incidents = np.zeros(n, dtype=np.int32)
        self.clash_mask = np.zeros(n, dtype=np.int32)
        self.probed_last_month = np.zeros(n)
        self.aid_this_month = np.zeros(n)

        self.constants = {name: draw(spec, self.streams, f"draw:constants.{name}", CONSTANTS[name].kind)
                          for name, spec in sc.constant_specs().items()}
        self.tension += self.constants["tension_initial"]
        params = self._draw_parameters()

        # Build actors role by role so guarantors exist before the challenger reads them.
        self.guarantors: list[Guarantor] = []
        self.patrons: list[Patron] = []
        self.forces: list[ForceContributor] = []
        self.alliances: list[Alliance] = []
        by_role: dict[str, list[Actor]] = {r: [] for r in ROUND_ORDER}
        for role in ("patron", "force_contributor", "alliance", "defender", "challenger"):
            for actor in sc.actors_with_role(role):  # type: ignore[arg-type]
                agent = AGENT_CLASSES[role](self, actor.name, actor.label, params[actor.name])
                by_role[role].append(agent)
                if role == "defender":
                    self.defender: Defender = agent  # type: ignore[assignment]
                elif role == "challenger":
                    self.challenger: Challenger = agent  # type: ignore[assignment]
                else:
                    self.guarantors.append(agent)  # type: ignore[arg-type]
                    {"patron": self.patrons, "force_contributor": self.forces,
                     "alliance": self.alliances}[role].append(agent)  # type: ignore[arg-type]
        self._round = [a for role in ROUND_ORDER for a in by_role[role]]
        if len(self.guarantors) > 30:
            raise UsageError("at most 30 guarantors are supported")

        # The defender signs or refuses at the start; a refused deal is a ceasefire that never held.
        self.agreed = self.defender.accepts(self.guarantors, self.patrons) & np.ones(n, bool)
        self.end_ceasefire(~self.agreed, initiator=self.REFUSED)
        for alliance in self.alliances:
            alliance.pending &= self.agreed

        self._record = int(record_worlds)
        self._trace: list[dict[str, Any]] = []
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters()) if collect else None
        if self.datacollector is not None:
            self.datacollector.collect(self)
        if self._record:
            self._trace_month()
        self.running = True

    # ------------------------------------------------------------------ set-up
    def _draw_parameters(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {a: {} for a in self.spec.actors}
        for param in self.spec.parameters(self.option):
            kind = REGISTRY[self.spec.actors[param.actor].role][param.name].kind
            out[param.actor][param.name] = draw(param.spec, self.streams, f"draw:{param.actor}.{param.name}", kind)
        return out

    def _reporters(self) -> dict[str, Any]:
        reporters: dict[str, Any] = {
            "holding": "share_holding",
            "tension": "mean_tension",
            "hazard": "mean_hazard",
            "aid_bn": "aid_flowing_bn",
            "troops": "troops_deployed",
        }
        for g in self.guarantors:
            reporters[f"credibility_{g.name}"] = [self.mean_credibility, [g.name]]
        return reporters

    # ---------------------------------------------------------- shared services
    def end_ceasefire(self, worlds: np.ndarray, initiator: int) -> None:
        """Collapse is absorbing: record month and initiator, and stop those worlds."""
        ending = worlds & self.alive
        self.collapse_month[ending] = self.month
        self.initiator[ending] = initiator
        self.alive &= ~ending

    def answer_restart(self, restart: np.ndarray) -> None:
        """A committed guarantor that answers a renewed attack fights the challenger directly."""
        if not restart.any():
            return
        for k, g in enumerate(self.guarantors):
            committed = g.commitment()
            p = committed * g.resolve()
            u = self.streams.uniform(f"event:intervene:{g.name}", self.month)
            joins = restart & (committed > 0) & (u < p)
            self.clash_mask[joins] |= np.int32(1 << k)

    def force_deployed(self) -> np.ndarray:
        out = np.zeros(self.n_worlds, bool)
        for f in self.forces:
            out |= f.deployed > 0
        return out

    def backstop_available(self) -> np.ndarray:
        out = np.zeros(self.n_worlds, bool)
        for p in self.patrons:
            out |= np.asarray(p.p["backstop"], bool)
        return out

    def window_open(self) -> np.ndarray:
        """Worlds in which an accession is pending: the preventive window."""
        out = np.zeros(self.n_worlds, bool)
        for a in self.alliances:
            out |= a.pending
        return out

    # ------------------------------------------------------------------ a round
    def step(self) -> None:
        """One month: accession, patrons, forces, defender, challenger, incidents, defender's own break."""
        if self.month >= self.horizon:
            self.running = False
            return
        self.month += 1
        self.aid_this_month[:] = 0.0
        for agent in self._round:
            agent.step()
        self._incidents()
        u = self.streams.uniform("event:defender_restart", self.month)
        self.end_ceasefire(self.defender.restarts(u), initiator=self.DEFENDER)
        if self.datacollector is not None:
            self.datacollector.collect(self)
        if self._record:
            self._trace_month()
        if self.month >= self.horizon or not self.alive.any():
            self.running = False

    def _incidents(self) -> None:
        """Incidents happen by chance, more often under tension, less where a force patrols."""
        c = self.constants
        control = np.zeros(self.n_worlds)
        for f in self.forces:
            control = np.maximum(control, f.incident_control())
        rate = np.minimum(1.0, c["incident_rate_per_month"] * (1.0 + self.tension) * (1.0 - control))
        incident = self.alive & (self.streams.uniform("event:incident", self.month) < rate)
        self.incidents += incident
        self.tension = self.tension * (1.0 - c["tension_decay_per_month"]) + c["incident_tension"] * incident

    def run(self) -> "CeasefireModel":
        """Run to the horizon and return self."""
        while self.running:
            self.step()
        return self

    # ---------------------------------------------------------------- measures
    @property
    def share_holding(self) -> float:
        return float(self.alive.mean())

    @property
    def mean_tension(self) -> float:
        return float(self.tension[self.alive].mean()) if self.alive.any() else float("nan")

    @property
    def mean_hazard(self) -> float:
        h = self.challenger.last_hazard
        return float(h[self.alive].mean()) if self.alive.any() else float("nan")

    @property
    def aid_flowing_bn(self) -> float:
        """Aid delivered this month, bn USD, averaged over all worlds."""
        return float(self.aid_this_month.mean())

    @property
    def troops_deployed(self) -> float:
        total = np.zeros(self.n_worlds)
        for f in self.forces:
            total += f.deployed
        return float(total.mean())

    def mean_credibility(self, guarantor: str) -> float:
        """Mean over holding worlds of the challenger's believed resolve of ``guarantor``."""
        g = next(g for g in self.guarantors if g.name == guarantor)
        b = self.challenger.believed_resolve(g)
        return float(b[self.alive].mean()) if self.alive.any() else float("nan")

    def _trace_month(self) -> None:
        k = min(self._record, self.n_worlds)
        first = slice(0, k)
        # Evaluate each quantity once for the recorded worlds, then split it into rows.
        columns: dict[str, np.ndarray] = {
            "world": self.world_ids[first], "month": np.full(k, self.month), "holding": self.alive[first],
            "tension": self.tension[first], "hazard": self.challenger.last_hazard[first],
            "probes": self.probes[first], "answered": self.answered[first], "incidents": self.incidents[first],
            "defender_capability": self.defender.capability[first],
            "challenger_capability": self.challenger.capability[first],
            "window_open": self.window_open()[first], "aid_bn": self.aid_this_month[first],
        }
        for g in self.guarantors:
            columns[f"credibility_{g.name}"] = self.challenger.believed_resolve(g)[first]
            columns[f"commitment_{g.name}"] = np.broadcast_to(g.commitment(), (self.n_worlds,))[first]
        for f in self.forces:
            columns[f"troops_{f.name}"] = f.deployed[first]
        names = list(columns)
        for i in range(k):
            self._trace.append({name: columns[name][i].item() for name in names})

    def trace(self) -> pd.DataFrame:
        """Month-by-month state of the recorded worlds (``record_worlds``)."""
        return pd.DataFrame(self._trace)

    def outcomes(self) -> pd.DataFrame:
        """One row per world: agreement, collapse, who broke it, probes, clashes, costs, beliefs."""
        names = [g.name for g in self.guarantors]
        clash_with = np.array([
            "+".join(names[k] for k in range(len(names)) if mask >> k & 1) for mask in range(1 << len(names))
        ], dtype=object) if len(names) <= 10 else None
        if clash_with is not None:
            clash_names = clash_with[self.clash_mask]
        else:
            clash_names = np.array(["+".join(n for k, n in enumerate(names) if m >> k & 1)
                                    for m in self.clash_mask], dtype=object)
        troops = np.zeros(self.n_worlds)
        for f in self.forces:
            troops += f.max_deployed
        aid = np.zeros(self.n_worlds)
        for p in self.patrons:
            aid += p.aid_total
        accession = np.full(self.n_worlds, -1, dtype=np.int32)
        for a in self.alliances:
            accession = np.where(a.accession_month >= 0, a.accession_month, accession)
        frame = pd.DataFrame({
            "world": self.world_ids,
            "agreed": self.agreed,
            "collapsed": self.collapse_month >= 0,
            "collapse_month": pd.array(np.where(self.collapse_month >= 0, self.collapse_month, -1), dtype="Int32"),
            "initiator": pd.Categorical(np.asarray(list(self.INITIATORS.values()), dtype=object)[self.initiator],
                                        categories=list(self.INITIATORS.values())),
            "probes": self.probes,
            "answered_probes": self.answered,
            "incidents": self.incidents,
            "direct_clash": self.clash_mask > 0,
            "clash_with": clash_names,
            "aid_bn": aid,
            "troops_deployed": troops,
            "accession_month": pd.array(accession, dtype="Int32"),
        })
        frame.loc[~frame["collapsed"], "collapse_month"] = pd.NA
        frame.loc[frame["accession_month"] < 0, "accession_month"] = pd.NA
        for g in self.guarantors:
            frame[f"credibility_{g.name}"] = self.challenger.believed_resolve(g)
        return frame
