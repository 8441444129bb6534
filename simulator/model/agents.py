"""The actors. Each is one Mesa agent whose state holds one entry per world.

Roles follow the design: a challenger that weighs war against the ceasefire and probes;
a defender that signs (or not), rebuilds and rarely restarts the war itself; and
guarantors (patron, force contributor, alliance) whose commitments, power and hidden
resolve the challenger learns about by probing. Every step acts on all worlds at once.
Parameters (``self.p``, typed per role: ``simulator/model/parameters.py``) are arrays (one
draw per world) or plain floats (the same in every world); the arithmetic below works for both.

The monthly loop is the hot path of every run, so what is fixed for the ceasefire's life is
worked out once when an actor is built, and work on a few worlds (answering probes, deaths,
interventions) is done on those worlds only. Each world's numbers are computed by the same
operations in the same order as the plain formulas in the docstrings, so results do not
depend on these shortcuts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np
from scipy.special import expit

from simulator.model.parameters import (AllianceParameters, ChallengerParameters, DefenderParameters,
                                        ForceContributorParameters, PatronParameters, RoleParameters)
from simulator.model.poisson import poisson_quantile

if TYPE_CHECKING:
    from simulator.model.model import CeasefireModel

Array = np.ndarray
_SD_FLAT = np.sqrt(1.0 / 12.0)  # sd of a flat Beta(1, 1) belief


def _at(x: Any, idx: Array) -> Any:
    """``x[idx]`` for per-world arrays, ``x`` itself for a value shared by all worlds."""
    return x[idx] if np.ndim(x) else x


def _nonzero_somewhere(x: Any) -> bool:
    return bool(np.any(x))


def _read_only(x: Any) -> Any:
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


# --------------------------------------------------------------------------- guarantors


class Guarantor(Actor):
    """Anyone whose intervention the challenger must weigh. Resolve is hidden from it."""

    p: PatronParameters | ForceContributorParameters | AllianceParameters

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: RoleParameters) -> None:
        super().__init__(model, name, label, params)
        # channels of this guarantor's random events, named once
        self.answer_channel = f"event:answer:{name}"
        self.intervene_channel = f"event:intervene:{name}"

    def commitment(self) -> Array:
        """How strongly this actor is bound to fight if the war restarts (observable)."""
        raise NotImplementedError

    def committed_anywhere(self) -> bool:
        """False only when the commitment is zero in every world: then the challenger need not weigh it.

        A zero commitment adds nothing to the expected intervention, to the challenger's
        uncertainty or to who answers a restart, so skipping it changes no number.
        """
        return _nonzero_somewhere(self.commitment())

    def power(self) -> Any:
        """Fighting power it brings if it joins, in defender units."""
        return self.p.power

    def resolve(self, worlds: Array | None = None) -> Any:
        """True probability of answering a probe or an attack it is committed against.

        In the worlds ``worlds`` (indices) if given, else in all worlds.
        """
        return self.p.resolve if worlds is None else _at(self.p.resolve, worlds)

    def answer_probability(self, worlds: Array) -> Any:
        """Chance of answering a probe in the worlds ``worlds`` (indices)."""
        return self.resolve(worlds)

    def offered_commitment(self) -> Any:
        """The commitment the defender is promised when it decides whether to sign."""
        return self.commitment()

    def on_probed(self, idx: Array, answered: Array) -> None:
        """A probe aimed at this actor in worlds ``idx``; ``answered`` says where it replied."""


class Patron(Guarantor):
    """A great power that funds the defender and may back a force (the United States)."""

    role = "patron"
    p: PatronParameters

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: PatronParameters) -> None:
        super().__init__(model, name, label, params)
        n = model.n_worlds
        p = params
        self.will = np.broadcast_to(np.asarray(p.will_initial, float), (n,)).copy()
        self.aid_month = np.zeros(n)
        self.aid_total = np.zeros(n)
        # Fixed for the ceasefire's life: resolve with the stake, the commitment with and
        # without a force to back, aid per month at full will, the will a stake restores.
        self.true_resolve = np.minimum(1.0, p.resolve + p.stake_resolve * p.stake)
        self.backstop = np.asarray(p.backstop, bool)
        self.backing_commitment = np.minimum(1.0, p.commitment + p.backstop_commitment * True)
        self.plain_commitment = np.minimum(1.0, p.commitment + p.backstop_commitment * False)
        self.sends_aid = _nonzero_somewhere(p.aid_bn_per_year)
        self.aid_per_month_at_full_will = p.aid_bn_per_year / 12.0
        self.stake_will = p.stake_will_per_month * p.stake
        self.has_stake = _nonzero_somewhere(self.stake_will)
        self._may_commit_alone = _nonzero_somewhere(self.plain_commitment)
        self._may_back = _nonzero_somewhere(self.backstop) and _nonzero_somewhere(self.backing_commitment)
        # backing and commitment change only when troops move: worked out again then
        self._backing_at = -1
        self._backing = np.zeros(n, bool)
        self._commitment = np.zeros(n)
        self._backs_anywhere = False

    def resolve(self, worlds: Array | None = None) -> Any:
        """Resolve, raised by an economic stake: min(1, resolve + stake_resolve x stake)."""
        return self.true_resolve if worlds is None else _at(self.true_resolve, worlds)

    def answer_probability(self, worlds: Array) -> Any:
        # a probe is answered with sanctions, arms or force: it takes both resolve and will
        return self.resolve(worlds) * self.will[worlds]

    def _follow_troops(self) -> None:
        m = self.model
        if self._backing_at != m.troop_moves:
            self._backing = _read_only(self.backstop & m.force_deployed())
            self._commitment = _read_only(np.where(self._backing, self.backing_commitment, self.plain_commitment))
            self._backs_anywhere = bool(self._backing.any())
            self._backing_at = m.troop_moves

    def backing(self) -> Array:
        """Worlds where this patron backs a deployed force (read-only)."""
        self._follow_troops()
        return self._backing

    def commitment(self) -> Array:
        """min(1, commitment + backstop_commitment x backing a deployed force) (read-only)."""
        self._follow_troops()
        return self._commitment

    def committed_anywhere(self) -> bool:
        if self._may_commit_alone:
            return True
        self._follow_troops()
        return self._may_back and self._backs_anywhere

    def offered_commitment(self) -> Any:
        # A force is on offer per world: where some contributor offers troops in *that* world.
        # (A block-wide any() here made one world's signing depend on the other worlds run
        # with it whenever troops_offered is drawn, breaking worlds=1 == world i.)
        offered = np.zeros(self.model.n_worlds, bool)
        for f in self.model.forces:
            offered |= np.asarray(f.p.troops_offered) > 0
        backed = self.backstop & offered
        return np.minimum(1.0, self.p.commitment + self.p.backstop_commitment * backed)

    def step(self) -> None:
        """Will moves (fatigue down; stake and outrage up); aid flows at base level times will.

        aid = (will >= cutoff_will) x aid_bn_per_year / 12 x will, in holding worlds;
        will = clip(will + stake_will_per_month x stake + outrage_per_probe x probed
        - fatigue_per_bn x aid, 0, 1).
        """
        m = self.model
        p = self.p
        # outrage at last month's probes, plus the will the stake restores (if any)
        delta = p.outrage_per_probe * m.probed_last_month
        if self.has_stake:
            delta += self.stake_will
        if self.sends_aid:  # without aid, aid, its total and its fatigue stay zero
            flowing = (self.will >= p.cutoff_will) & m.alive
            self.aid_month = np.where(flowing, self.aid_per_month_at_full_will * self.will, 0.0)
            self.aid_total += self.aid_month
            m.aid_this_month += self.aid_month
            delta -= p.fatigue_per_bn * self.aid_month
        delta += self.will
        np.clip(delta, 0.0, 1.0, out=self.will)


@dataclass(frozen=True, slots=True)
class TroopsOnTheLine:
    """What a force's troops on the line give, worked out once each time they move (read-only arrays)."""

    present: Array  # worlds with troops on the line
    anywhere: bool
    tripwire: Array
    power: Any
    control: Array


class ForceContributor(Guarantor):
    """A state that deploys troops on the ceasefire line: a tripwire and incident control.

    Its troops move only in ``step`` (deployment) and ``on_probed`` (withdrawal); what they
    give (tripwire, power, incident control) is worked out again only then.
    """

    role = "force_contributor"
    p: ForceContributorParameters

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: ForceContributorParameters) -> None:
        super().__init__(model, name, label, params)
        n = model.n_worlds
        self.deployed = np.zeros(n)
        self.withdrawn = np.zeros(n, bool)
        self.deaths = np.zeros(n)
        self.rally = np.zeros(n)
        self.max_deployed = np.zeros(n)
        self.deaths_channel = f"event:deaths:{name}"
        self._line: TroopsOnTheLine | None = None
        # Whether this contributor insists on a backstop is drawn once per world.
        self.insists_on_backstop = model.streams.uniform(f"draw:{name}.insists_on_backstop") < params.needs_backstop

    def resolve(self, worlds: Array | None = None) -> Any:
        """Resolve, raised by the rally after deaths: min(1, resolve + rally)."""
        if worlds is None:
            return np.minimum(1.0, self.p.resolve + self.rally)
        return np.minimum(1.0, _at(self.p.resolve, worlds) + self.rally[worlds])

    def on_the_line(self) -> TroopsOnTheLine:
        """What the troops now on the line give."""
        if self._line is None:
            d, p = self.deployed, self.p
            present = _read_only(d > 0)
            self._line = TroopsOnTheLine(
                present=present,
                anywhere=bool(present.any()),
                tripwire=_read_only(d / (d + p.tripwire_half_troops)),
                power=_read_only(p.power + p.power_per_1000_troops * d / 1000.0),
                # full effect for a force as large as the tripwire scale
                control=_read_only(p.incident_control * np.minimum(1.0, d / p.tripwire_half_troops)),
            )
        return self._line

    def _troops_moved(self) -> None:
        self._line = None
        self.model.troop_moves += 1

    def tripwire(self) -> Array:
        """Commitment of a deployed force: grows with size, half at ``tripwire_half_troops`` (read-only)."""
        return self.on_the_line().tripwire

    def commitment(self) -> Array:
        return self.tripwire()

    def committed_anywhere(self) -> bool:
        return self.on_the_line().anywhere

    def offered_commitment(self) -> Any:
        offered = self.p.troops_offered
        return offered / (offered + self.p.tripwire_half_troops)

    def power(self) -> Any:
        """power + power_per_1000_troops x troops / 1000 (read-only)."""
        return self.on_the_line().power

    def incident_control(self) -> Array:
        """Share of incidents prevented: incident_control x min(1, troops / tripwire_half_troops) (read-only)."""
        return self.on_the_line().control

    def step(self) -> None:
        """Deploy when due (and backed, if it insists on a backstop)."""
        m = self.model
        go = m.month >= self.p.deploy_month
        go &= ~self.insists_on_backstop | m.backstop_available()
        go &= ~self.withdrawn
        go &= m.alive
        go &= self.deployed == 0
        if go.any():
            troops = _at(self.p.troops_offered, go)
            if _nonzero_somewhere(troops):  # deploying no troops moves nothing
                self.deployed[go] = troops
                np.maximum(self.max_deployed, self.deployed, out=self.max_deployed)
                self._troops_moved()

    def on_probed(self, idx: Array, answered: Array) -> None:
        """A probe on the force causes deaths; they rally resolve or, past tolerance, end the mission.

        Deaths ~ Poisson(deaths_per_probe_per_1000 x troops / 1000) where troops are deployed.
        """
        troops = self.deployed[idx]
        hit = troops > 0
        if not hit.any():
            return
        idx, troops = idx[hit], troops[hit]
        mean_deaths = _at(self.p.deaths_per_probe_per_1000, idx) * troops / 1000.0
        u = self.model.streams.uniform(self.deaths_channel, self.model.month, idx)
        deaths = poisson_quantile(u, np.maximum(mean_deaths, 1e-12))
        self.deaths[idx] += deaths
        self.rally[idx] += _at(self.p.rally_per_death, idx) * deaths
        out = idx[self.deaths[idx] >= _at(self.p.casualty_tolerance, idx)]
        if out.size:
            self.deployed[out] = 0.0
            self.withdrawn[out] = True
            self._troops_moved()


class Alliance(Guarantor):
    """A collective-defence alliance: invitation, accession (vetoes, delay), then membership."""

    role = "alliance"
    p: AllianceParameters

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: AllianceParameters) -> None:
        super().__init__(model, name, label, params)
        n = model.n_worlds
        invited = np.broadcast_to(np.asarray(params.invited, bool), (n,))
        self.accession_due = np.maximum(1, np.ceil(params.accession_delay_months)) * np.ones(n)
        members = np.asarray(params.veto_members, float) * np.ones(n)
        vetoed = np.zeros(n, bool)
        for k in range(int(members.max(initial=0))):
            u = model.streams.uniform(f"draw:{name}.veto_{k}")
            vetoed |= (k < members) & (u < params.veto_probability_each)
        self.vetoed = vetoed
        self.pending = invited.copy()
        self.member = np.zeros(n, bool)
        self.accession_month = np.full(n, -1, dtype=np.int32)

    def commitment(self) -> Array:
        return np.where(self.member, self.p.member_commitment,
                        np.where(self.pending, self.p.pending_commitment, 0.0))

    def committed_anywhere(self) -> bool:
        return bool(self.pending.any() or self.member.any())

    def offered_commitment(self) -> Any:
        return np.where(self.pending, self.p.member_commitment, 0.0)

    def step(self) -> None:
        """At the accession month the defender joins, unless a member vetoed: then the bid lapses."""
        if not self.pending.any():
            return
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
    p: DefenderParameters

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: DefenderParameters) -> None:
        super().__init__(model, name, label, params)
        self.capability = np.ones(model.n_worlds)
        self.kept_per_month = 1.0 - params.depreciation_per_month

    def accepts(self, guarantors: list[Guarantor], patrons: list[Patron]) -> Array:
        """Sign when offered security plus war-weariness meets the guarantee demanded."""
        none_answer = np.ones(self.model.n_worlds)
        for g in guarantors:
            none_answer = none_answer * (1.0 - g.offered_commitment() * g.p.credibility_prior_mean)
        security = 1.0 - none_answer
        for pat in patrons:
            security = security + self.p.aid_security_per_bn_year * pat.p.aid_bn_per_year * pat.p.will_initial
        return security + self.p.war_weariness >= self.p.guarantee_demand

    def step(self) -> None:
        """Capability wears down and is rebuilt by own production and aid.

        capability = capability x (1 - depreciation) + production + aid_absorption_per_bn x aid.
        """
        cap = self.capability
        cap *= self.kept_per_month
        cap += self.p.production_per_month
        if self.model.aid_flowing:
            cap += self.p.aid_absorption_per_bn * self.model.aid_this_month

    def restarts(self, u: Array) -> Array:
        """Worlds in which the defender itself breaks the ceasefire this month."""
        return self.model.alive & (u < self.p.own_restart_per_month)


class Challenger(Actor):
    """The revisionist power (Russia): weighs war against the ceasefire, probes, learns."""

    role = "challenger"
    p: ChallengerParameters

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: ChallengerParameters) -> None:
        super().__init__(model, name, label, params)
        n = model.n_worlds
        self.capability = np.broadcast_to(np.asarray(params.capability, float), (n,)).copy()
        self.kept_per_month = 1.0 - params.depreciation_per_month
        self.rebuilt_per_month = params.regeneration_per_month * (1.0 - params.sanctions_drag)
        # A war stopped before it was decided leaves the challenger expecting more of another
        # round: its aims are unmet and the war has not taught it the balance of power (mutual
        # optimism: Blainey; Fearon 1995). After a decisive war it has won its aims or learned it
        # cannot. The factor is fixed for the ceasefire's life, so it is worked out once here.
        self.optimism = 1.0 + model.constants.undecided_optimism * np.asarray(params.war_undecided, float)
        # Beliefs about each guarantor's resolve: Beta(a, b) counts, starting at the prior.
        # Their mean and sd are kept up to date where a probe changes them (update_beliefs).
        self.belief_a: dict[str, Array] = {}
        self.belief_b: dict[str, Array] = {}
        self._mean: dict[str, Array] = {}
        self._sd: dict[str, Array] = {}
        for g in model.guarantors:
            mean, strength = g.p.credibility_prior_mean, g.p.credibility_prior_strength
            a = self.belief_a[g.name] = np.broadcast_to(np.asarray(mean * strength, float), (n,)).copy()
            b = self.belief_b[g.name] = np.broadcast_to(np.asarray((1 - mean) * strength, float), (n,)).copy()
            self._mean[g.name] = _beta_mean(a, b)
            self._sd[g.name] = _beta_sd(a, b)
        self.last_hazard = np.zeros(n)

    # beliefs ---------------------------------------------------------------------
    def believed_resolve(self, g: Guarantor) -> Array:
        """The challenger's mean belief in ``g``'s resolve, a / (a + b), per world."""
        return self._mean[g.name].copy()

    def belief_sd(self, g: Guarantor) -> Array:
        """The sd of that Beta belief, per world."""
        return self._sd[g.name].copy()

    def update_beliefs(self, g: Guarantor, idx: Array, answered: Array) -> None:
        """Bayesian update of a Beta belief: an answered probe is a success, an ignored one a failure."""
        a = self.belief_a[g.name][idx] + answered
        b = self.belief_b[g.name][idx] + ~answered
        self.belief_a[g.name][idx] = a
        self.belief_b[g.name][idx] = b
        self._mean[g.name][idx] = _beta_mean(a, b)
        self._sd[g.name][idx] = _beta_sd(a, b)

    def mean_belief(self, g: Guarantor, worlds: Array) -> float:
        """Mean over the worlds ``worlds`` (indices, in order) of the believed resolve of ``g`` (NaN if none)."""
        return float(self._mean[g.name].take(worlds).mean()) if worlds.size else float("nan")

    # the decision -----------------------------------------------------------------
    def restart_hazard(self, engaged: list[tuple[int, Guarantor, Array]]) -> Array:
        """Monthly chance of restarting the war, from expected utility (see docs/model.md).

        ``engaged`` lists (index, guarantor, commitment) for the guarantors committed somewhere.
        """
        m = self.model
        c = m.constants
        p = self.p
        # expected intervention 1 - prod(1 - q) and the power expected to join, sum(q x power),
        # with q = commitment x believed resolve (products and sums start from the first term)
        stay_out: Array | None = None
        third_party: Array | None = None
        for _, g, committed in engaged:
            q = committed * self._mean[g.name]
            if stay_out is None:
                stay_out = 1.0 - q
            else:
                stay_out *= 1.0 - q
            q *= g.power()
            if third_party is None:
                third_party = q
            else:
                third_party += q
        # chance of winning: capability / (capability + defender's capability + third-party power)
        denominator = self.capability + m.defender.capability
        if third_party is not None:
            denominator += third_party
        gain = np.divide(self.capability, denominator, out=denominator)
        gain *= p.gains_value
        gain *= self.optimism
        # cost: 1 + expected intervention x intervention_cost + hold_value
        if stay_out is not None:
            cost = np.subtract(1.0, stay_out, out=stay_out)
            cost *= p.intervention_cost
            cost += 1.0
            cost += p.hold_value
        else:
            cost = np.broadcast_to(1.0 + p.hold_value, gain.shape)
        with np.errstate(divide="ignore"):
            log_ratio = np.log(gain, out=gain)
            log_ratio -= np.log(cost)
        logit = log_ratio
        logit *= c.hazard_exponent
        logit += c.hazard_intercept
        logit += c.tension_weight * m.tension
        window = m.window_open()
        if window.any():
            logit += c.window_weight * window
        return expit(logit, out=logit)

    def step(self) -> None:
        """Rebuild; then restart the war, or probe a guarantor and learn from the answer.

        capability = capability x (1 - depreciation) + regeneration x (1 - sanctions_drag).
        """
        m = self.model
        cap = self.capability
        cap *= self.kept_per_month
        cap += self.rebuilt_per_month
        # Commitments do not change within the challenger's turn until a probe hits a force.
        engaged = [(k, g, g.commitment()) for k, g in enumerate(m.guarantors) if g.committed_anywhere()]
        hazard = self.restart_hazard(engaged)
        self.last_hazard = hazard
        restart = m.alive & (m.streams.uniform("event:restart", m.month) < hazard)
        m.end_ceasefire(restart, initiator=m.CHALLENGER)
        m.answer_restart(restart, engaged)
        self._probe(m.alive, engaged)

    def _probe(self, holding: Array, engaged: list[tuple[int, Guarantor, Array]]) -> None:
        m = self.model
        p = self.p
        # What the challenger needs to learn is how likely each guarantor is to intervene,
        # commitment x resolve: its uncertainty is commitment x sd(belief). A guarantor with
        # no commitment (a patron that only sends aid) is not worth testing.
        sd = [committed * self._sd[g.name] for _, g, committed in engaged]
        if sd:
            # a new array: the sd's themselves weigh the targets below
            uncertainty = functools.reduce(np.maximum, sd) / _SD_FLAT
            uncertainty *= p.probe_uncertainty_weight
            uncertainty += 1.0
            uncertainty *= p.probe_rate_per_month
            p_probe = np.minimum(uncertainty, 1.0, out=uncertainty)
        else:
            p_probe = np.minimum(1.0, p.probe_rate_per_month * (1.0 + p.probe_uncertainty_weight * 0.0))
        probe = holding & (m.streams.uniform("event:probe", m.month) < p_probe)
        m.probed_last_month = probe.astype(float)
        m.probes += probe
        m.tension += m.constants.probe_tension * probe
        if not sd:
            return
        # The guarantor whose intervention is most uncertain is the likeliest target: the first
        # whose share of the cumulated uncertainty reaches a uniform.
        idx = np.flatnonzero(probe)
        weights = np.stack([s.take(idx) for s in sd])
        total = weights.sum(axis=0)
        targeted = total > 0  # probes where no guarantor is uncertain test nobody
        if not targeted.all():
            idx, weights, total = idx[targeted], weights.compress(targeted, axis=1), total[targeted]
        if idx.size == 0:
            return
        if len(sd) == 1:
            target = np.zeros(idx.size, dtype=np.intp)  # its share is all of it: 1 >= any uniform
        else:
            cum = np.cumsum(weights, axis=0)
            cum /= total
            u_target = m.streams.uniform("event:probe_target", m.month, idx)
            target = np.minimum(np.count_nonzero(cum < u_target, axis=0), len(sd) - 1)
        for j, (_, g, _) in enumerate(engaged):
            sel = idx[target == j]
            if sel.size == 0:
                continue
            u = m.streams.uniform(g.answer_channel, m.month, sel)
            answered = u < g.answer_probability(sel)
            self.update_beliefs(g, sel, answered)
            m.answered[sel] += answered
            g.on_probed(sel, answered)


def _beta_mean(a: Array, b: Array) -> Array:
    return a / (a + b)


def _beta_sd(a: Array, b: Array) -> Array:
    s = a + b
    return np.sqrt(a * b / (s * s * (s + 1.0)))
