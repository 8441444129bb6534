"""The guarantors: patrons, force contributors and alliances.

Each is someone whose intervention the challenger must weigh: a hidden resolve, the power
it would bring, an observable commitment, and a prior in the challenger's head
(docs/model.md). Every step acts on all worlds at once; what is fixed for the ceasefire's
life, or changes only when troops move, is worked out once and kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.model.actor import Actor, Array, at, nonzero_somewhere, read_only
from simulator.model.parameters import (
    AllianceParameters,
    ForceContributorParameters,
    PatronParameters,
    RoleParameters,
)
from simulator.model.poisson import poisson_quantile

if TYPE_CHECKING:
    from simulator.model.model import CeasefireModel


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
        return nonzero_somewhere(self.commitment())

    def power(self) -> Any:
        """Fighting power it brings if it joins, in defender units."""
        return self.p.power

    def resolve(self, worlds: Array | None = None) -> Any:
        """True probability of answering a probe or an attack it is committed against.

        In the worlds ``worlds`` (indices) if given, else in all worlds.
        """
        return self.p.resolve if worlds is None else at(self.p.resolve, worlds)

    def answer_probability(self, worlds: Array) -> Any:
        """Chance of answering a probe in the worlds ``worlds`` (indices)."""
        return self.resolve(worlds)

    def offered_commitment(self) -> Any:
        """What the defender expects of this guarantor's commitment when it decides whether to sign.

        The offer at its expected value: what is promised, times the chance it comes about,
        discounted by the months before it takes effect (``discount_per_month``).
        """
        return self.commitment()

    def objection_on_offer(self) -> Any:
        """Share of the ceasefire's value to the challenger that this guarantor's part of the deal takes away."""
        return 0.0

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
        self.plain_commitment = np.minimum(1.0, p.commitment + p.backstop_commitment * False)
        self.sends_aid = nonzero_somewhere(p.aid_bn_per_year)
        self.aid_per_month_at_full_will = p.aid_bn_per_year / 12.0
        self.stake_will = p.stake_will_per_month * p.stake
        self.has_stake = nonzero_somewhere(self.stake_will)
        self._may_commit_alone = nonzero_somewhere(self.plain_commitment)
        self._may_back = nonzero_somewhere(self.backstop) and nonzero_somewhere(p.backstop_commitment)
        # backing and commitment change only when troops move: worked out again then
        self._backing_at = -1
        self._backing = np.zeros(n, bool)
        self._commitment = np.zeros(n)
        self._backs_anywhere = False

    def resolve(self, worlds: Array | None = None) -> Any:
        """Resolve, raised by an economic stake: min(1, resolve + stake_resolve x stake)."""
        return self.true_resolve if worlds is None else at(self.true_resolve, worlds)

    def answer_probability(self, worlds: Array) -> Any:
        # a probe is answered with sanctions, arms or force: it takes both resolve and will
        return self.resolve(worlds) * self.will[worlds]

    def _follow_troops(self) -> None:
        m = self.model
        if self._backing_at != m.troop_moves:
            share = m.tripwire_on_the_line()
            self._backing = read_only(self.backstop & (share > 0))
            backed = np.where(self._backing, share, 0.0)
            self._commitment = read_only(np.minimum(1.0, self.p.commitment + self.p.backstop_commitment * backed))
            self._backs_anywhere = bool(self._backing.any())
            self._backing_at = m.troop_moves

    def backing(self) -> Array:
        """Worlds where this patron backs a deployed force (read-only)."""
        self._follow_troops()
        return self._backing

    def commitment(self) -> Array:
        """min(1, commitment + backstop_commitment x tripwire of the force it backs) (read-only).

        A backstop is as credible as the stake it backs: the backed force's tripwire,
        ``troops / (troops + tripwire_half_troops)`` (the largest if several are on the line), so
        backing a token force commits the patron to almost nothing (Reiter and Poast 2021).
        """
        self._follow_troops()
        return self._commitment

    def committed_anywhere(self) -> bool:
        if self._may_commit_alone:
            return True
        self._follow_troops()
        return self._may_back and self._backs_anywhere

    def offered_commitment(self) -> Any:
        """min(1, commitment + backstop_commitment x the expected tripwire of the force it would back).

        Per world, from the offers in *that* world (a block-wide any() here would make one
        world's signing depend on the other worlds run with it).
        """
        expected = np.zeros(self.model.n_worlds)
        for f in self.model.forces:
            np.maximum(expected, f.expected_tripwire(backed=True), out=expected)
        backed = np.where(self.backstop, expected, 0.0)
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
        return np.minimum(1.0, at(self.p.resolve, worlds) + self.rally[worlds])

    def on_the_line(self) -> TroopsOnTheLine:
        """What the troops now on the line give."""
        if self._line is None:
            d, p = self.deployed, self.p
            present = read_only(d > 0)
            self._line = TroopsOnTheLine(
                present=present,
                anywhere=bool(present.any()),
                tripwire=read_only(d / (d + p.tripwire_half_troops)),
                power=read_only(p.power + p.power_per_1000_troops * d / 1000.0),
                # full effect for a force as large as the tripwire scale
                control=read_only(p.incident_control * np.minimum(1.0, d / p.tripwire_half_troops)),
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

    def expected_tripwire(self, backed: Any) -> Any:
        """The offered force's tripwire x the chance it deploys x the discount for the months before it does.

        ``backed``: whether a patron's backstop is offered (per world); without it, a contributor
        that insists on one (``needs_backstop``) does not come.
        """
        offered = self.p.troops_offered
        tripwire = offered / (offered + self.p.tripwire_half_troops)
        return tripwire * self.deploy_chance(backed) * (1.0 - self.model.constants.discount_per_month) ** self.p.deploy_month

    def deploy_chance(self, backed: Any) -> Any:
        """1 - needs_backstop x [no backstop]: the chance the offered force comes (``backed`` per world)."""
        return 1.0 - self.p.needs_backstop * (1.0 - np.asarray(backed, float))

    def offered_commitment(self) -> Any:
        return self.expected_tripwire(backed=self.model.backstop_available())

    def objection_on_offer(self) -> Any:
        """The contributor's ``objection`` wherever it offers troops, times the chance the force comes.

        A contributor that insists on a backstop nobody offers deploys only with probability
        1 - needs_backstop: the challenger objects to the troops it expects, as the defender
        counts them (``expected_tripwire``).
        """
        comes = self.deploy_chance(self.model.backstop_available())
        return np.where(np.asarray(self.p.troops_offered) > 0, self.p.objection * comes, 0.0)

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
            troops = at(self.p.troops_offered, go)
            if nonzero_somewhere(troops):  # deploying no troops moves nothing
                self.deployed[go] = troops
                np.maximum(self.max_deployed, self.deployed, out=self.max_deployed)
                self._troops_moved()

    def on_probed(self, idx: Array, answered: Array) -> None:
        """A probe on the force causes deaths; they rally resolve or, past tolerance, end the mission.

        Deaths ~ Poisson(deaths_per_probe_per_1000 x troops / 1000) where troops are deployed; the
        force withdraws once its deaths reach casualty_tolerance_per_1000 x troops / 1000.
        """
        troops = self.deployed[idx]
        hit = troops > 0
        if not hit.any():
            return
        idx, troops = idx[hit], troops[hit]
        mean_deaths = at(self.p.deaths_per_probe_per_1000, idx) * troops / 1000.0
        u = self.model.streams.uniform(self.deaths_channel, self.model.month, idx)
        deaths = poisson_quantile(u, np.maximum(mean_deaths, 1e-12))
        self.deaths[idx] += deaths
        self.rally[idx] += at(self.p.rally_per_death, idx) * deaths
        # tolerance scales with the force: a larger force is a larger commitment
        tolerance = at(self.p.casualty_tolerance_per_1000, idx) * troops / 1000.0
        out = idx[self.deaths[idx] >= tolerance]
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

    def completion_chance(self) -> Any:
        """Chance that accession completes, as everyone sees it: no member of ``veto_members`` vetoes.

        (1 - veto_probability_each)^veto_members: the veto draws themselves are hidden.
        """
        return (1.0 - self.p.veto_probability_each) ** self.p.veto_members

    def months_to_accession(self) -> Array:
        """Months from now until the accession falls due (0 once due)."""
        return np.maximum(0.0, self.accession_due - self.model.month)

    def offered_commitment(self) -> Any:
        """member_commitment x the chance accession completes x the discount for the months before it."""
        discount = (1.0 - self.model.constants.discount_per_month) ** self.accession_due
        return np.where(self.pending, self.p.member_commitment * self.completion_chance() * discount, 0.0)

    def objection_on_offer(self) -> Any:
        """The alliance's ``objection`` wherever the defender is invited."""
        return np.where(self.pending, self.p.objection, 0.0)

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
