"""CeasefireModel: a Mesa model that plays out one option of a scenario in many worlds at once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from simulator.errors import UsageError
from simulator.model.agents import (
    Actor,
    Alliance,
    Challenger,
    Defender,
    ForceContributor,
    Guarantor,
    Patron,
)
from simulator.model.parameters import (
    RoleParameters,
    draw,
    model_constants,
    override_specs,
    role_parameters,
)
from simulator.model.streams import MAX_MONTHS, Streams
from simulator.scenario.load import Scenario, load_scenario
from simulator.scenario.params import CONSTANTS, REGISTRY

AGENT_CLASSES: dict[str, type[Actor]] = {
    "challenger": Challenger, "defender": Defender, "patron": Patron,
    "force_contributor": ForceContributor, "alliance": Alliance,
}
# Order of a round (docs/model.md): accession, patrons, forces, defender, challenger.
ROUND_ORDER = ("alliance", "patron", "force_contributor", "defender", "challenger")


class CeasefireModel(mesa.Model):
    """The ceasefire of a scenario, under one option, in ``worlds`` parallel worlds.

    Args:
        scenario: a loaded ``Scenario`` or the path of a scenario file.
        option: the option to apply (``None``: the scenario's baseline).
        worlds: number of worlds simulated side by side.
        rng: seed of the run, or a numpy ``Generator`` to draw one from. ``None`` (Mesa's
            convention) draws a fresh seed, so two models differ; pass ``scenario.seed`` for the
            scenario's own run (``geosim run`` and ``simulator.run`` do). The seed used is
            ``model.seed``; it also seeds ``model.rng``.
        first_world: index of the first world, so that a block of worlds of a larger run can
            be simulated on its own with identical results.
        horizon_months: months to simulate (``None``: the scenario's horizon).
        record_worlds: keep a month-by-month trace of the first this-many worlds.
        collect: record per-month aggregates with a Mesa DataCollector.
        overrides: parameter values set on top of the option, by ``"actor.parameter"`` (or
            ``"constants.name"``), written as in a scenario file: ``{"united_kingdom.troops_offered":
            20000}`` or ``{"russia.gains_value": {"dist": "uniform", "low": 1, "high": 2}}``. They are
            checked like a file's values (unknown names and values out of range raise ``UsageError``),
            and let ``mesa.batch_run`` sweep a parameter: ``parameters={"overrides": [{...}, {...}]}``.
        absorbing: ``True`` (the model): a restart, by the challenger or the defender, ends the
            ceasefire in that world for good, and committed guarantors may be drawn into the war.
            ``False``: restarts are not acted on, so every world that signed keeps running to the
            horizon and no guarantor is drawn into a clash; the challenger's hazard is still
            computed each month (``challenger.last_hazard``). Validation uses this to read the
            monthly hazards of a world conditional on the ceasefire still holding. A refused deal
            still ends the world at month 0.
    """

    CHALLENGER, DEFENDER, REFUSED = 1, 2, 3
    INITIATORS = {0: "", 1: "challenger", 2: "defender", 3: "no_deal"}
    # who refused the deal, by (challenger refused) + 2 x (defender refused)
    REFUSERS = ("", "challenger", "defender", "both")

    def __init__(self, scenario: Scenario | str | Path, option: str | None = None, worlds: int = 1,
                 rng: int | np.random.Generator | None = None, *, first_world: int = 0,
                 horizon_months: int | None = None, record_worlds: int = 0, collect: bool = True,
                 overrides: Mapping[str, Any] | None = None, absorbing: bool = True) -> None:
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if rng is None:
            rng = np.random.default_rng()  # a fresh seed from the operating system's entropy
        if isinstance(rng, np.random.Generator):
            seed = int(rng.integers(2**63))
        else:
            seed = int(rng)
        super().__init__(rng=seed)
        if int(worlds) < 1:
            raise UsageError(f"worlds must be a positive whole number, got {worlds}")
        self.spec = sc  # Mesa 3.5 reserves `model.scenario` for its own Scenario class
        self.absorbing = bool(absorbing)
        self.option = sc.option(option).name
        self.overrides = override_specs(sc, overrides or {})
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
        self._holding: np.ndarray | None = None  # indices of the holding worlds, while ``alive`` is unchanged
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
        # Counts every time troops move onto or off the line: what depends on them is then worked out again.
        self.troop_moves = 0

        constant_specs = {**sc.constant_specs(), **self.overrides.constants}
        # Every value drawn per world (a distribution, not a plain value), by "actor.parameter" or
        # "constants.NAME": the world's inputs, kept beside its outcomes (``outcomes()``).
        self.inputs: dict[str, np.ndarray] = {}
        constants = {name: draw(spec, self.streams, f"draw:constants.{name}", CONSTANTS[name].kind)
                     for name, spec in constant_specs.items()}
        self.inputs.update({f"constants.{name}": v for name, v in constants.items() if np.ndim(v)})
        self.constants = model_constants(constants)
        self.tension += self.constants.tension_initial
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
        # Fixed for the ceasefire's life: where some patron offers a backstop, and whether aid flows at all.
        self._backstop = np.zeros(n, bool)
        for patron in self.patrons:
            self._backstop |= patron.backstop
        self.aid_flowing = any(patron.sends_aid for patron in self.patrons)

        # Both sides sign or refuse at the start; a refused deal is a ceasefire that never held.
        self.defender_signed = self.defender.accepts(self.guarantors, self.patrons) & np.ones(n, bool)
        self.challenger_signed = self.challenger.consents(self.guarantors) & np.ones(n, bool)
        self.agreed = self.defender_signed & self.challenger_signed
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
    def _draw_parameters(self) -> dict[str, RoleParameters]:
        """Each actor's parameters under the option and the overrides, drawn once per world."""
        values: dict[str, dict[str, Any]] = {a: {} for a in self.spec.actors}
        for param in self.spec.parameters(self.option):
            spec = self.overrides.parameters.get((param.actor, param.name), param.spec)
            kind = REGISTRY[self.spec.actors[param.actor].role][param.name].kind
            value = values[param.actor][param.name] = draw(spec, self.streams, f"draw:{param.actor}.{param.name}", kind)
            if np.ndim(value):
                self.inputs[f"{param.actor}.{param.name}"] = value
        return {name: role_parameters(self.spec.actors[name].role, drawn) for name, drawn in values.items()}

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
        """Collapse is absorbing: record month and initiator, and stop those worlds.

        With ``absorbing=False`` only a refused deal ends a world; restarts are ignored.
        """
        if not self.absorbing and initiator != self.REFUSED:
            return
        ending = np.flatnonzero(worlds & self.alive)
        self.collapse_month[ending] = self.month
        self.initiator[ending] = initiator
        self.alive[ending] = False
        self._holding = None

    def answer_restart(self, restart: np.ndarray, engaged: list[tuple[int, Guarantor, np.ndarray]]) -> None:
        """A committed guarantor that answers a renewed attack fights the challenger directly.

        It joins with probability commitment x resolve. ``engaged`` lists (index, guarantor,
        commitment) for the guarantors committed somewhere; the others cannot join.
        """
        if not self.absorbing:
            return
        worlds = np.flatnonzero(restart)
        if worlds.size == 0:
            return
        for k, g, commitment in engaged:
            committed = commitment[worlds]
            u = self.streams.uniform(g.intervene_channel, self.month, worlds)
            joins = worlds[(committed > 0) & (u < committed * g.resolve(worlds))]
            self.clash_mask[joins] |= np.int32(1 << k)

    def force_deployed(self) -> np.ndarray:
        """Worlds where some force contributor has troops on the ceasefire line."""
        out = np.zeros(self.n_worlds, bool)
        for f in self.forces:
            out |= f.on_the_line().present
        return out

    def backstop_available(self) -> np.ndarray:
        """Worlds where some patron offers to back a deployed force (read-only)."""
        return self._backstop

    def tripwire_on_the_line(self) -> np.ndarray:
        """Per world, the largest tripwire of the forces on the line (0 where none is deployed)."""
        out = np.zeros(self.n_worlds)
        for f in self.forces:
            np.maximum(out, f.tripwire(), out=out)
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
        if self.aid_flowing:
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
        """Incidents happen by chance, more often under tension, less where a force patrols.

        rate = min(1, incident_rate x (1 + tension) x (1 - control)), control the largest
        incident control of the forces; tension = tension x (1 - decay) + incident_tension x incident.
        """
        c = self.constants
        rate = self.tension + 1.0
        rate *= c.incident_rate_per_month
        patrolled = [f for f in self.forces if f.committed_anywhere()]  # no troops, no control
        if patrolled:
            control = patrolled[0].incident_control()
            for f in patrolled[1:]:
                control = np.maximum(control, f.incident_control())
            rate *= 1.0 - control
        np.minimum(rate, 1.0, out=rate)
        incident = self.alive & (self.streams.uniform("event:incident", self.month) < rate)
        self.incidents += incident
        self.tension *= 1.0 - c.tension_decay_per_month
        self.tension += c.incident_tension * incident

    def run(self) -> "CeasefireModel":
        """Run to the horizon and return self."""
        while self.running:
            self.step()
        return self

    # ---------------------------------------------------------------- measures
    def holding_worlds(self) -> np.ndarray:
        """Indices of the worlds whose ceasefire holds (read-only; valid until a world collapses)."""
        if self._holding is None:
            self._holding = np.flatnonzero(self.alive)
        return self._holding

    def _mean_over_holding(self, values: np.ndarray) -> float:
        # the same numbers, in the same order, as values[self.alive], gathered many times faster
        holding = self.holding_worlds()
        return float(values.take(holding).mean()) if holding.size else float("nan")

    @property
    def share_holding(self) -> float:
        return np.count_nonzero(self.alive) / self.n_worlds

    @property
    def mean_tension(self) -> float:
        return self._mean_over_holding(self.tension)

    @property
    def mean_hazard(self) -> float:
        """This month's restart hazard, averaged over the worlds holding when the challenger decided."""
        return self.challenger.mean_hazard_at_risk if self.month else 0.0

    @property
    def aid_flowing_bn(self) -> float:
        """Aid delivered this month, bn USD, averaged over all worlds."""
        return float(self.aid_this_month.mean()) if self.aid_flowing else 0.0

    @property
    def troops_deployed(self) -> float:
        """Troops on the ceasefire line this month, averaged over all worlds."""
        if len(self.forces) == 1:  # adding it to zeros would change no number
            return float(self.forces[0].deployed.mean())
        total = np.zeros(self.n_worlds)
        for f in self.forces:
            total += f.deployed
        return float(total.mean())

    def mean_credibility(self, guarantor: str) -> float:
        """Mean over holding worlds of the challenger's believed resolve of ``guarantor``."""
        g = next(g for g in self.guarantors if g.name == guarantor)
        return self.challenger.mean_belief(g, self.holding_worlds())

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
            "preventive": (np.zeros(k) if self.challenger.last_preventive is None
                           else self.challenger.last_preventive[first]),
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

    def world_inputs(self) -> dict[str, np.ndarray]:
        """What each world drew: every parameter and constant drawn per world (``actor.parameter``,
        ``constants.NAME``), and the hidden facts fixed at the start (``<force>.insists_on_backstop``,
        ``<alliance>.vetoed``) where they can differ between worlds. Plain values are left out: they
        are the same in every world."""
        out = dict(self.inputs)
        for f in self.forces:
            if np.ndim(f.p.needs_backstop) or 0.0 < float(f.p.needs_backstop) < 1.0:
                out[f"{f.name}.insists_on_backstop"] = f.insists_on_backstop
        for a in self.alliances:
            if np.ndim(a.p.veto_members) or float(a.p.veto_members) > 0:
                out[f"{a.name}.vetoed"] = a.vetoed
        return out

    def outcomes(self) -> pd.DataFrame:
        """One row per world: agreement, collapse, who broke it, probes, clashes, costs, beliefs,
        and what the world drew (``world_inputs``: one column per uncertain input).

        Outcomes declared with a ``record`` (``simulator.scenario.outcomes``) add a column each.
        """
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
        refused_by = np.asarray(self.REFUSERS, dtype=object)[
            (~self.challenger_signed).astype(np.int8) + 2 * (~self.defender_signed).astype(np.int8)]
        frame = pd.DataFrame({
            "world": self.world_ids,
            "agreed": self.agreed,
            "refused_by": pd.Categorical(refused_by, categories=list(self.REFUSERS)),
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
        for name, values in self.world_inputs().items():
            frame[name] = values
        from simulator.scenario.outcomes import all_outcomes

        for outcome in all_outcomes():  # an outcome the table above does not hold records its own column
            if outcome.record is not None:
                frame[outcome.name] = outcome.record(self)
        return frame
