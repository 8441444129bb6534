"""The belligerents: a challenger and a defender (the guarantors are in ``guarantors.py``).

The challenger signs (or refuses), weighs war against the ceasefire, strikes before an
accession shifts the balance, probes and learns; the defender signs (or refuses), rebuilds
and rarely restarts the war itself. Every step acts on all worlds at once.

The monthly loop is the hot path of every run, so what is fixed for the ceasefire's life is
worked out once when an actor is built, and work on a few worlds (answering probes, deaths,
interventions) is done on those worlds only. Each world's numbers are computed by the same
operations in the same order as the plain formulas in the docstrings, so results do not
depend on these shortcuts.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit

from simulator.model.actor import Actor, Array, nonzero_somewhere
from simulator.model.guarantors import Alliance, ForceContributor, Guarantor, Patron
from simulator.model.parameters import ChallengerParameters, DefenderParameters

if TYPE_CHECKING:
    from simulator.model.model import CeasefireModel

__all__ = ["Actor", "Alliance", "Challenger", "Defender", "ForceContributor", "Guarantor", "Patron"]

_SD_FLAT = np.sqrt(1.0 / 12.0)  # sd of a flat Beta(1, 1) belief


# ------------------------------------------------------------------------- belligerents


class Defender(Actor):
    """The state defended (Ukraine): signs or refuses, rebuilds with aid, rarely strikes first."""

    role = "defender"
    p: DefenderParameters

    def __init__(self, model: "CeasefireModel", name: str, label: str, params: DefenderParameters) -> None:
        super().__init__(model, name, label, params)
        self.capability = np.ones(model.n_worlds)
        self.kept_per_month = 1.0 - params.depreciation_per_month
        self.last_restart_chance: Any = params.own_restart_per_month

    def accepts(self, guarantors: list[Guarantor], patrons: list[Patron]) -> Array:
        """Sign when the offer's expected security plus war-weariness meets the guarantee demanded.

        Each guarantor counts at its offer's expected value (``offered_commitment``: the chance
        an accession completes or a force deploys, discounted by the months before it does),
        weighted by the same prior credibility the challenger starts with.
        """
        security = _believed_protection(self.model.n_worlds,
                                        [(g.offered_commitment(), g.p.credibility_prior_mean) for g in guarantors])
        for pat in patrons:
            security = security + self.p.aid_security_per_bn_year * pat.p.aid_bn_per_year * pat.p.will_initial
        return security + self.p.war_weariness >= self.p.guarantee_demand

    def protection(self) -> Array:
        """The protection the defender believes it has now: 1 - prod(1 - c_g x credibility_prior_mean_g)."""
        return _believed_protection(self.model.n_worlds, [(g.commitment(), g.p.credibility_prior_mean)
                                                          for g in self.model.guarantors if g.committed_anywhere()])

    def step(self) -> None:
        """Capability wears down and is rebuilt by own production and aid.

        capability = capability x (1 - depreciation) + production + aid_absorption_per_bn x aid.
        """
        cap = self.capability
        cap *= self.kept_per_month
        cap += self.p.production_per_month
        if self.model.aid_flowing:
            cap += self.p.aid_absorption_per_bn * self.model.aid_this_month

    def restart_chance(self) -> Any:
        """own_restart_per_month x (1 + moral_hazard x protection): guarantees embolden the protected."""
        p = self.p
        if not (nonzero_somewhere(p.moral_hazard) and nonzero_somewhere(p.own_restart_per_month)):
            return p.own_restart_per_month
        return np.minimum(1.0, p.own_restart_per_month * (1.0 + p.moral_hazard * self.protection()))

    def restarts(self, u: Array) -> Array:
        """Worlds in which the defender itself breaks the ceasefire this month."""
        self.last_restart_chance = self.restart_chance()
        return self.model.alive & (u < self.last_restart_chance)


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
        self._optimism_extra = model.constants.undecided_optimism * np.asarray(params.war_undecided, float)
        self.optimism = 1.0 + self._optimism_extra
        # It fades only if optimism_fade_per_month says so (by default it does not: docs/model.md).
        self._fades = nonzero_somewhere(model.constants.optimism_fade_per_month)
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
        self._exponent_may_be_zero = not bool(np.all(np.asarray(model.constants.hazard_exponent) > 0))
        self.last_preventive: Array | None = None
        self.refuse_chance: Array = np.zeros(n)
        # mean hazard over the worlds holding when the month's decision was made (the reporter)
        self.mean_hazard_at_risk = 0.0

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

    # the decisions ----------------------------------------------------------------
    def optimism_now(self) -> Any:
        """1 + undecided_optimism x war_undecided x (1 - optimism_fade_per_month)^month."""
        if self._fades:
            fade = (1.0 - self.model.constants.optimism_fade_per_month) ** self.model.month
            return 1.0 + self._optimism_extra * fade
        return self.optimism

    def consents(self, guarantors: list[Guarantor]) -> Array:
        """Sign when the ceasefire, with the arrangement on offer, is worth enough against fighting on.

        Fighting on promises p_win x gains_value x optimism, with p_win = capability / (capability
        + the defender's capability): no guarantor is bound while the war goes on. The ceasefire is
        worth 1 + hold_value (the war's cost saved and what holding brings), less the share each
        guarantor's part of the deal takes away from what the challenger fights for (an
        invitation to an alliance, foreign troops on the line: ``objection``). The challenger
        refuses with probability expit(refusal_log_odds + hazard_exponent x log(fight / deal)):
        the same sensitivity to prospects as its monthly choice between war and peace. A world's
        uniform decides, so an option that takes away more is refused in every world where a
        lesser one is.
        """
        m = self.model
        p = self.p
        fight = self.capability / (self.capability + m.defender.capability) * p.gains_value * self.optimism
        deal = np.broadcast_to(np.asarray(1.0 + p.hold_value, float), (m.n_worlds,)).copy()
        for g in guarantors:
            deal *= 1.0 - g.objection_on_offer()
        with np.errstate(divide="ignore", invalid="ignore"):
            logit = p.refusal_log_odds + m.constants.hazard_exponent * (np.log(fight) - np.log(deal))
        # nothing to fight for: it signs (also where the deal is worth nothing too)
        refuse_chance = np.where(fight > 0, expit(np.nan_to_num(logit, nan=np.inf)), 0.0)
        self.refuse_chance = refuse_chance
        return ~(m.streams.uniform(f"draw:{self.name}.refuses") < refuse_chance)

    def log_prospects(self, engaged: list[tuple[int, Guarantor, Array]]) -> Array:
        """log(gain / cost) of renewed war with the commitments ``engaged`` (see docs/model.md).

        ``engaged`` lists (index, guarantor, commitment) for the guarantors committed somewhere.
        gain = capability / (capability + defender's capability + sum_g q_g power_g) x gains_value x
        optimism, cost = 1 + (1 - prod_g (1 - q_g)) x intervention_cost + hold_value, with
        q_g = commitment_g x believed resolve_g. A new array.
        """
        m = self.model
        p = self.p
        # expected intervention 1 - prod(1 - q) and the power expected to join, sum(q x power)
        # (products and sums start from the first term)
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
        gain *= self.optimism_now()
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
        return log_ratio

    def preventive_motive(self, engaged: list[tuple[int, Guarantor, Array]], now: Array) -> Array | None:
        """The expected loss of prospects that pending accessions would bring (``None`` if none is pending).

        For each alliance with an accession pending: L = max(0, log prospects now - log prospects
        with the defender a member, everything else as now), times the chance the accession
        completes, times (1 - discount_per_month)^(months until it falls due). Zero where
        membership would change nothing (no commitment and no power). ``now`` is
        ``log_prospects(engaged)``.
        """
        m = self.model
        motive: Array | None = None
        for k, a in enumerate(engaged):
            _, g, committed = a
            if not isinstance(g, Alliance) or not g.pending.any():
                continue
            as_member = np.where(g.pending, g.p.member_commitment, committed)
            after = self.log_prospects([*engaged[:k], (a[0], g, as_member), *engaged[k + 1:]])
            with np.errstate(invalid="ignore"):
                loss = np.where(g.pending & np.isfinite(now), np.maximum(now - after, 0.0), 0.0)
            discount = (1.0 - m.constants.discount_per_month) ** g.months_to_accession()
            loss *= g.completion_chance() * discount
            motive = loss if motive is None else motive + loss
        return motive

    def restart_hazard(self, engaged: list[tuple[int, Guarantor, Array]]) -> Array:
        """Monthly chance of restarting the war, from expected utility (see docs/model.md).

        hazard = expit(hazard_intercept + hazard_exponent x (log prospects + preventive_weight x
        preventive motive) + tension_weight x tension).
        """
        m = self.model
        c = m.constants
        logit = self.log_prospects(engaged)
        motive = self.preventive_motive(engaged, logit) if m.alliances else None
        self.last_preventive = motive
        if motive is not None:
            logit += c.preventive_weight * motive
        if self._exponent_may_be_zero:  # 0 x log(0) is NaN: a challenger that wants nothing still never strikes
            nothing_to_gain = np.isneginf(logit)
            with np.errstate(invalid="ignore"):
                logit *= c.hazard_exponent
            logit[nothing_to_gain] = -np.inf
        else:
            logit *= c.hazard_exponent
        logit += c.hazard_intercept
        logit += c.tension_weight * m.tension
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
        if m.datacollector is not None:  # the reporter's value, before this month's restarts end any world
            holding = m.holding_worlds()
            self.mean_hazard_at_risk = float(hazard.take(holding).mean()) if holding.size else float("nan")
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


def _believed_protection(n: int, commitments: list[tuple[Any, Any]]) -> Array:
    """1 - prod(1 - commitment x credibility_prior_mean): the chance, as the defender sees it, that some
    guarantor fights for it; ``commitments`` lists (commitment, credibility_prior_mean) per guarantor."""
    none_answer = np.ones(n)
    for commitment, credibility in commitments:
        none_answer = none_answer * (1.0 - commitment * credibility)
    return 1.0 - none_answer


def _beta_mean(a: Array, b: Array) -> Array:
    return a / (a + b)


def _beta_sd(a: Array, b: Array) -> Array:
    s = a + b
    return np.sqrt(a * b / (s * s * (s + 1.0)))
