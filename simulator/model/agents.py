"""The actors. Each is one Mesa agent whose state holds one entry per world.

Roles follow the design: a challenger that weighs war against the ceasefire and probes;
a defender that signs (or not), rebuilds and rarely restarts the war itself; and
guarantors (patron, force contributor, alliance) whose commitments, power and hidden
resolve the challenger learns about by probing. Every step acts on all worlds at once.
Parameters arrive as arrays (one draw per world) or plain floats (the same in every
world); the arithmetic below works for both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
from scipy import stats
from scipy.special import expit

if TYPE_CHECKING:
    from simulator.model.model import CeasefireModel

Array = np.ndarray
_SD_FLAT = np.sqrt(1.0 / 12.0)  # sd of a flat Beta(1, 1) belief


def _at(x: Any, idx: Array) -> Any:
    """``x[idx]`` for per-world arrays, ``x`` itself for a value shared by all worlds."""
    return x[idx] if np.ndim(x) else x


class Actor(mesa.Agent):
    """An actor of the scenario; ``p`` maps parameter names to per-world draws."""

    role: ClassVar[str] = ""
    model: "CeasefireModel"

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: dict[str, Any]) -> None:
        super().__init__(model)
        self.name = name
        self.label = label
        self.p = params

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


# --------------------------------------------------------------------------- guarantors


class Guarantor(Actor):
    """Anyone whose intervention the challenger must weigh. Resolve is hidden from it."""

    def commitment(self) -> Array:
        """How strongly this actor is bound to fight if the war restarts (observable)."""
        raise NotImplementedError

    def power(self) -> Any:
        """Fighting power it brings if it joins, in defender units."""
        return self.p["power"]

    def resolve(self) -> Any:
        """True probability of answering a probe or an attack it is committed against."""
        return self.p["resolve"]

    def answer_probability(self) -> Any:
        return self.resolve()

    def active(self) -> Array:
        """Worlds in which the challenger can test this actor with a probe."""
        raise NotImplementedError

    def offered_commitment(self) -> Any:
        """The commitment the defender is promised when it decides whether to sign."""
        return self.commitment()

    def on_probed(self, idx: Array, answered: Array) -> None:
        """A probe aimed at this actor in worlds ``idx``; ``answered`` says where it replied."""


class Patron(Guarantor):
    """A great power that funds the defender and may back a force (the United States)."""

    role = "patron"

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: dict[str, Any]) -> None:
        super().__init__(model, name, label, params)
        n = model.n_worlds
        self.will = np.broadcast_to(np.asarray(params["will_initial"], float), (n,)).copy()
        self.aid_month = np.zeros(n)
        self.aid_total = np.zeros(n)

    def resolve(self) -> Any:
        return np.minimum(1.0, self.p["resolve"] + self.p["stake_resolve"] * self.p["stake"])

    def answer_probability(self) -> Any:
        # a probe is answered with sanctions, arms or force: it takes both resolve and will
        return self.resolve() * self.will

    def backing(self) -> Array:
        """Worlds where this patron backs a deployed force."""
        deployed = self.model.force_deployed()
        return np.asarray(self.p["backstop"], bool) & deployed

    def commitment(self) -> Array:
        backed = self.backing()
        return np.minimum(1.0, self.p["commitment"] + self.p["backstop_commitment"] * backed)

    def offered_commitment(self) -> Any:
        # A force is on offer per world: where some contributor offers troops in *that* world.
        # (A block-wide any() here made one world's signing depend on the other worlds run
        # with it whenever troops_offered is drawn, breaking worlds=1 == world i.)
        offered = np.zeros(self.model.n_worlds, bool)
        for f in self.model.forces:
            offered |= np.asarray(f.p["troops_offered"]) > 0
        backed = np.asarray(self.p["backstop"], bool) & offered
        return np.minimum(1.0, self.p["commitment"] + self.p["backstop_commitment"] * backed)

    def active(self) -> Array:
        return (self.commitment() > 0) | (self.aid_month > 0)

    def step(self) -> None:
        """Will moves (fatigue down; stake and outrage up); aid flows at base level times will."""
        m = self.model
        flowing = (self.will >= self.p["cutoff_will"]) & m.alive
        self.aid_month = np.where(flowing, self.p["aid_bn_per_year"] / 12.0 * self.will, 0.0)
        self.aid_total += self.aid_month
        m.aid_this_month += self.aid_month
        delta = (self.p["stake_will_per_month"] * self.p["stake"]
                 + self.p["outrage_per_probe"] * m.probed_last_month
                 - self.p["fatigue_per_bn"] * self.aid_month)
        np.clip(self.will + delta, 0.0, 1.0, out=self.will)


class ForceContributor(Guarantor):
    """A state that deploys troops on the ceasefire line: a tripwire and incident control."""

    role = "force_contributor"

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: dict[str, Any]) -> None:
        super().__init__(model, name, label, params)
        n = model.n_worlds
        self.deployed = np.zeros(n)
        self.withdrawn = np.zeros(n, bool)
        self.deaths = np.zeros(n)
        self.rally = np.zeros(n)
        self.max_deployed = np.zeros(n)
        # Whether this contributor insists on a backstop is drawn once per world.
        self.insists_on_backstop = model.streams.uniform(f"draw:{name}.insists_on_backstop") < params["needs_backstop"]

    def resolve(self) -> Any:
        return np.minimum(1.0, self.p["resolve"] + self.rally)

    def tripwire(self) -> Array:
        """Commitment of a deployed force: grows with size, half at ``tripwire_half_troops``."""
        return self.deployed / (self.deployed + self.p["tripwire_half_troops"])

    def commitment(self) -> Array:
        return self.tripwire()

    def offered_commitment(self) -> Any:
        offered = self.p["troops_offered"]
        return offered / (offered + self.p["tripwire_half_troops"])

    def power(self) -> Any:
        return self.p["power"] + self.p["power_per_1000_troops"] * self.deployed / 1000.0

    def active(self) -> Array:
        return self.deployed > 0

    def incident_control(self) -> Array:
        """Share of incidents prevented: full effect for a force as large as the tripwire scale."""
        strength = np.minimum(1.0, self.deployed / self.p["tripwire_half_troops"])
        return self.p["incident_control"] * strength

    def step(self) -> None:
        """Deploy when due (and backed, if it insists on a backstop)."""
        m = self.model
        backed = m.backstop_available()
        due = m.month >= self.p["deploy_month"]
        willing = ~self.insists_on_backstop | backed
        go = due & willing & ~self.withdrawn & m.alive & (self.deployed == 0)
        self.deployed = np.where(go, self.p["troops_offered"], self.deployed)
        np.maximum(self.max_deployed, self.deployed, out=self.max_deployed)

    def on_probed(self, idx: Array, answered: Array) -> None:
        """A probe on the force causes deaths; they rally resolve or, past tolerance, end the mission."""
        troops = self.deployed[idx]
        hit = troops > 0
        if not hit.any():
            return
        mean_deaths = _at(self.p["deaths_per_probe_per_1000"], idx) * troops / 1000.0
        u = self.model.streams.uniform(f"event:deaths:{self.name}", self.model.month)[idx]
        deaths = np.where(hit, stats.poisson.ppf(u, np.maximum(mean_deaths, 1e-12)), 0.0)
        self.deaths[idx] += deaths
        self.rally[idx] += _at(self.p["rally_per_death"], idx) * deaths
        out = idx[self.deaths[idx] >= _at(self.p["casualty_tolerance"], idx)]
        out = out[self.deployed[out] > 0]
        self.deployed[out] = 0.0
        self.withdrawn[out] = True


class Alliance(Guarantor):
    """A collective-defence alliance: invitation, accession (vetoes, delay), then membership."""

    role = "alliance"

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: dict[str, Any]) -> None:
        super().__init__(model, name, label, params)
        n = model.n_worlds
        invited = np.broadcast_to(np.asarray(params["invited"], bool), (n,))
        self.accession_due = np.maximum(1, np.ceil(params["accession_delay_months"])) * np.ones(n)
        members = np.asarray(params["veto_members"], float) * np.ones(n)
        vetoed = np.zeros(n, bool)
        for k in range(int(members.max(initial=0))):
            u = model.streams.uniform(f"draw:{name}.veto_{k}")
            vetoed |= (k < members) & (u < params["veto_probability_each"])
        self.vetoed = vetoed
        self.pending = invited.copy()
        self.member = np.zeros(n, bool)
        self.accession_month = np.full(n, -1, dtype=np.int32)

    def commitment(self) -> Array:
        return np.where(self.member, self.p["member_commitment"],
                        np.where(self.pending, self.p["pending_commitment"], 0.0))

    def offered_commitment(self) -> Any:
        return np.where(self.pending, self.p["member_commitment"], 0.0)

    def active(self) -> Array:
        return self.pending | self.member

    def step(self) -> None:
        """At the accession month the defender joins, unless a member vetoed: then the bid lapses."""
        due = self.pending & (self.model.month >= self.accession_due)
        # Only a defender still at peace joins: no accession is recorded in a world whose
        # ceasefire has already collapsed (it also made accession_month depend on whether the
        # block of worlds was still running, breaking worlds=1 == world i).
        joins = due & ~self.vetoed & self.model.alive
        self.member |= joins
        self.accession_month[joins] = self.model.month
        self.pending &= ~due


# ------------------------------------------------------------------------- belligerents


class Defender(Actor):
    """The state defended (Ukraine): signs or refuses, rebuilds with aid, rarely strikes first."""

    role = "defender"

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: dict[str, Any]) -> None:
        super().__init__(model, name, label, params)
        self.capability = np.ones(model.n_worlds)

    def accepts(self, guarantors: list[Guarantor], patrons: list[Patron]) -> Array:
        """Sign when offered security plus war-weariness meets the guarantee demanded."""
        none_answer = np.ones(self.model.n_worlds)
        for g in guarantors:
            none_answer = none_answer * (1.0 - g.offered_commitment() * g.p["credibility_prior_mean"])
        security = 1.0 - none_answer
        for pat in patrons:
            security = security + self.p["aid_security_per_bn_year"] * pat.p["aid_bn_per_year"] * pat.p["will_initial"]
        return security + self.p["war_weariness"] >= self.p["guarantee_demand"]

    def step(self) -> None:
        """Capability wears down and is rebuilt by own production and aid."""
        self.capability = (self.capability * (1.0 - self.p["depreciation_per_month"])
                           + self.p["production_per_month"]
                           + self.p["aid_absorption_per_bn"] * self.model.aid_this_month)

    def restarts(self, u: Array) -> Array:
        """Worlds in which the defender itself breaks the ceasefire this month."""
        return self.model.alive & (u < self.p["own_restart_per_month"])


class Challenger(Actor):
    """The revisionist power (Russia): weighs war against the ceasefire, probes, learns."""

    role = "challenger"

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: dict[str, Any]) -> None:
        super().__init__(model, name, label, params)
        n = model.n_worlds
        self.capability = np.broadcast_to(np.asarray(params["capability"], float), (n,)).copy()
        # A war stopped before it was decided leaves the challenger expecting more of another
        # round: its aims are unmet and the war has not taught it the balance of power (mutual
        # optimism: Blainey; Fearon 1995). After a decisive war it has won its aims or learned it
        # cannot. The factor is fixed for the ceasefire's life, so it is worked out once here.
        self.optimism = 1.0 + model.constants["undecided_optimism"] * np.asarray(params["war_undecided"], float)
        # Beliefs about each guarantor's resolve: Beta(a, b) counts, starting at the prior.
        self.belief_a: dict[str, Array] = {}
        self.belief_b: dict[str, Array] = {}
        for g in model.guarantors:
            mean, strength = g.p["credibility_prior_mean"], g.p["credibility_prior_strength"]
            self.belief_a[g.name] = np.broadcast_to(np.asarray(mean * strength, float), (n,)).copy()
            self.belief_b[g.name] = np.broadcast_to(np.asarray((1 - mean) * strength, float), (n,)).copy()
        self.last_hazard = np.zeros(n)

    # beliefs ---------------------------------------------------------------------
    def believed_resolve(self, g: Guarantor) -> Array:
        a, b = self.belief_a[g.name], self.belief_b[g.name]
        return a / (a + b)

    def belief_sd(self, g: Guarantor) -> Array:
        a, b = self.belief_a[g.name], self.belief_b[g.name]
        s = a + b
        return np.sqrt(a * b / (s * s * (s + 1.0)))

    def update_beliefs(self, g: Guarantor, idx: Array, answered: Array) -> None:
        """Bayesian update of a Beta belief: an answered probe is a success, an ignored one a failure."""
        self.belief_a[g.name][idx] += answered
        self.belief_b[g.name][idx] += ~answered

    # the decision -----------------------------------------------------------------
    def restart_hazard(self) -> Array:
        """Monthly chance of restarting the war, from expected utility (see docs/model.md)."""
        m = self.model
        c = m.constants
        stay_out = np.ones(m.n_worlds)
        third_party = np.zeros(m.n_worlds)
        for g in m.guarantors:
            q = g.commitment() * self.believed_resolve(g)  # expected to intervene
            stay_out = stay_out * (1.0 - q)
            third_party = third_party + q * g.power()
        expected_intervention = 1.0 - stay_out
        p_win = self.capability / (self.capability + m.defender.capability + third_party)
        gain = p_win * self.p["gains_value"] * self.optimism
        cost = 1.0 + expected_intervention * self.p["intervention_cost"] + self.p["hold_value"]
        with np.errstate(divide="ignore"):
            log_ratio = np.log(gain) - np.log(cost)
        logit = (c["hazard_intercept"] + c["hazard_exponent"] * log_ratio
                 + c["tension_weight"] * m.tension + c["window_weight"] * m.window_open())
        return expit(logit)

    def step(self) -> None:
        """Rebuild; then restart the war, or probe a guarantor and learn from the answer."""
        m = self.model
        self.capability = (self.capability * (1.0 - self.p["depreciation_per_month"])
                           + self.p["regeneration_per_month"] * (1.0 - self.p["sanctions_drag"]))
        hazard = self.restart_hazard()
        self.last_hazard = hazard
        restart = m.alive & (m.streams.uniform("event:restart", m.month) < hazard)
        m.end_ceasefire(restart, initiator=m.CHALLENGER)
        m.answer_restart(restart)
        self._probe(m.alive.copy())

    def _probe(self, holding: Array) -> None:
        m = self.model
        gs = m.guarantors
        # What the challenger needs to learn is how likely each guarantor is to intervene,
        # commitment x resolve: its uncertainty is commitment x sd(belief). A guarantor with
        # no commitment (a patron that only sends aid) is not worth testing.
        sd = [np.where(g.active(), g.commitment() * self.belief_sd(g), 0.0) for g in gs]
        uncertainty = np.max(sd, axis=0) / _SD_FLAT if gs else np.zeros(m.n_worlds)
        p_probe = np.minimum(1.0, self.p["probe_rate_per_month"] * (1.0 + self.p["probe_uncertainty_weight"] * uncertainty))
        probe = holding & (m.streams.uniform("event:probe", m.month) < p_probe)
        m.probed_last_month = probe.astype(float)
        m.probes += probe
        m.tension += m.constants["probe_tension"] * probe
        if not gs:
            return
        # The guarantor whose intervention is most uncertain is the likeliest target.
        weights = np.stack(sd)
        total = weights.sum(axis=0)
        targeted = probe & (total > 0)
        idx = np.flatnonzero(targeted)
        if idx.size == 0:
            return
        cum = np.cumsum(weights[:, idx], axis=0) / total[idx]
        u_target = m.streams.uniform("event:probe_target", m.month)[idx]
        target = np.minimum((cum < u_target).sum(axis=0), len(gs) - 1)
        for k, g in enumerate(gs):
            sel = idx[target == k]
            if sel.size == 0:
                continue
            u = m.streams.uniform(f"event:answer:{g.name}", m.month)[sel]
            answered = u < _at(g.answer_probability(), sel)
            self.update_beliefs(g, sel, answered)
            m.answered[sel] += answered
            g.on_probed(sel, answered)
