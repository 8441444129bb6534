"""Every parameter the model reads: its role, meaning, unit, range, default and source.

This registry is the single list of the model's knobs. Scenario files may set any of
them (plainly or as a distribution); what they leave out takes the default here, whose
``source`` says where the number came from. ``docs/model.md`` is written from it.

Utilities are measured in *war-cost units*: 1 is what the challenger expects a renewed
full-scale war to cost it, before any third party joins. Capabilities are measured in
*defender units*: 1 is the defender's fighting power on the day of the ceasefire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["real", "prob", "count", "bool"]
Role = Literal["challenger", "defender", "patron", "force_contributor", "alliance"]
ROLES: tuple[Role, ...] = ("challenger", "defender", "patron", "force_contributor", "alliance")
GUARANTOR_ROLES: tuple[Role, ...] = ("patron", "force_contributor", "alliance")


@dataclass(frozen=True)
class ParamDef:
    """One model parameter."""

    name: str
    kind: Kind
    default: float | bool
    meaning: str
    source: str
    low: float | None = None
    high: float | None = None

    def bounds(self) -> tuple[float | None, float | None]:
        if self.kind == "prob":
            return (0.0, 1.0)
        if self.kind == "bool":
            return (0.0, 1.0)
        if self.kind == "count":
            return (0.0 if self.low is None else self.low, self.high)
        return (self.low, self.high)


def _p(name: str, kind: Kind, default: float | bool, meaning: str, source: str,
       low: float | None = None, high: float | None = None) -> ParamDef:
    return ParamDef(name, kind, default, meaning, source, low, high)


J = "judgement: "

# Parameters every guarantor (patron, force contributor, alliance) has.
_GUARANTOR = [
    _p("resolve", "prob", 0.5,
       "true (hidden) probability that this guarantor answers a probe or a renewed attack it is committed against",
       J + "an even chance when nothing better is known; scenarios draw it from a Beta"),
    _p("credibility_prior_mean", "prob", 0.3,
       "the challenger's prior belief in this guarantor's resolve",
       "cite: Berkemeier and Fuhrmann (2018): post-1945 allies honoured commitments in 22% of cases"),
    _p("credibility_prior_strength", "real", 4.0,
       "weight of that prior, in pseudo-observations (Beta a + b)",
       J + "a few observations' worth: the challenger learns from the first handful of probes", low=0.1, high=10_000),
    _p("power", "real", 0.5,
       "fighting power this guarantor brings if it joins a renewed war, in defender units",
       J + "half the defender's strength for a middle power", low=0.0, high=100),
]

REGISTRY: dict[Role, dict[str, ParamDef]] = {
    "challenger": {d.name: d for d in [
        _p("gains_value", "real", 1.0,
           "value the challenger places on what renewed war could win, in war-cost units",
           J + "gains worth about the war's cost; scenarios draw it widely (lognormal)", low=0.0, high=1e9),
        _p("hold_value", "real", 0.5,
           "value of keeping the ceasefire (sanctions relief, trade, regime safety), in war-cost units",
           J + "half a war's cost", low=0.0, high=1e9),
        _p("intervention_cost", "real", 3.0,
           "extra cost if a guarantor joins the war, in war-cost units",
           J + "war with a Western power costs several times a war with the defender alone", low=0.0, high=1e9),
        _p("capability", "real", 2.0,
           "fighting power at the ceasefire, in defender units",
           J + "about twice the defender", low=0.0, high=100),
        _p("regeneration_per_month", "real", 0.025,
           "capability rebuilt per month before sanctions, in defender units (gross: wear is taken off separately)",
           J + "a challenger at the default strength rebuilds what wears out (2 x 1% a month after a 20% "
           "sanctions drag), so without a scenario's figures the balance holds still", low=0.0, high=10),
        _p("sanctions_drag", "prob", 0.2,
           "share of regeneration lost to sanctions",
           J + "sanctions slow but do not stop rearmament"),
        _p("depreciation_per_month", "prob", 0.01,
           "share of capability that wears out each month",
           J + "equipment and readiness half-life of about 6 years"),
        _p("probe_rate_per_month", "prob", 0.15,
           "chance of a probe (a violation short of war) in a month, before uncertainty",
           J + "a serious test every half-year or so"),
        _p("war_undecided", "prob", 1.0,
           "1 if the ceasefire stopped a war neither side had won, 0 after a decisive victory or with no war before it",
           J + "most ceasefires stop a war nobody has won (75 of Fortna's 96 civil-war ceasefires followed no "
           "decisive victory: data/fortna_civil_ceasefires.csv), so a scenario that says nothing is treated as "
           "one; set 0 after a decisive war"),
        _p("refusal_log_odds", "real", -3.0,
           "log-odds that the challenger refuses to sign a bare ceasefire when fighting on promises exactly "
           "what the ceasefire is worth",
           J + "a challenger at the table signs unless it expects much more from fighting on: about one in "
           "twenty refuses at even prospects", low=-50.0, high=50.0),
        _p("probe_uncertainty_weight", "real", 1.0,
           "how much the challenger's uncertainty about a guarantor raises its probing",
           J + "doubles probing when belief is as vague as a flat prior", low=0.0, high=100),
    ]},
    "defender": {d.name: d for d in [
        _p("production_per_month", "real", 0.01,
           "capability the defender adds itself each month, in defender units",
           J + "own production sustains half its ceasefire strength at 2% monthly wear", low=0.0, high=10),
        _p("depreciation_per_month", "prob", 0.02,
           "share of capability that wears out each month",
           J + "hard-used wartime equipment, half-life under 3 years"),
        _p("aid_absorption_per_bn", "real", 0.0024,
           "capability added per billion dollars of aid, in defender units",
           J + "aid at about 50bn a year sustains the other half of the defender's strength", low=0.0, high=1),
        _p("guarantee_demand", "prob", 0.1,
           "expected intervention (0..1) the defender wants before it signs a ceasefire",
           "seed:zelenskyy_guarantees_needed"),
        _p("war_weariness", "prob", 0.3,
           "security the defender forgoes because it needs the fighting to stop (added to what it is offered)",
           J + "a war-weary defender signs weaker deals than it wants"),
        _p("aid_security_per_bn_year", "real", 0.002,
           "how much each billion dollars a year of promised aid counts, in the defender's eyes, as guarantee",
           J + "50bn a year of aid counts like a tenth of a sure guarantee", low=0.0, high=1),
        _p("own_restart_per_month", "prob", 0.0005,
           "monthly chance the defender itself restarts the war, without guarantees",
           J + "rare: about 3% over five years"),
        _p("moral_hazard", "real", 1.0,
           "how much a guarantee emboldens the defender: its own restart chance is multiplied by "
           "(1 + this x the protection it believes it has, 0..1)",
           J + "protection emboldens the protected (Kuperman 2008 on intervention; Benson 2012 on alliances; "
           "Georgia 2008): a sure guarantee doubles the defender's own rare breaks; the literature gives "
           "the direction, not the size", low=0.0, high=100),
    ]},
    "patron": {d.name: d for d in _GUARANTOR + [
        _p("aid_bn_per_year", "real", 0.0, "military and budget aid at full political will, bn USD a year",
           J + "none unless a scenario says so", low=0.0, high=10_000),
        _p("will_initial", "prob", 0.8, "political will at the ceasefire (0..1)", J + "high but not unconditional"),
        _p("fatigue_per_bn", "real", 0.004, "will lost per billion dollars of aid delivered",
           J + "50bn a year wears away a fifth of full will each year", low=0.0, high=1),
        _p("outrage_per_probe", "real", 0.02, "will gained when the challenger probes",
           J + "violations revive support a little", low=0.0, high=1),
        _p("stake", "prob", 0.0, "economic stake in the defender (0 none, 1 a full minerals partnership)",
           J + "none unless a scenario says so"),
        _p("stake_will_per_month", "real", 0.01, "will restored per month by a full stake",
           J + "a stake offsets about the fatigue of 30bn a year of aid", low=0.0, high=1),
        _p("stake_resolve", "prob", 0.1, "resolve added by a full stake",
           J + "interests make answering violations likelier, modestly"),
        _p("cutoff_will", "prob", 0.2, "below this will the aid stops", J + "a fifth of full will"),
        _p("commitment", "prob", 0.0, "treaty-like commitment to fight if the war restarts (0 none)",
           J + "none unless a scenario says so"),
        _p("backstop", "bool", False, "whether the patron backs a deployed force (air cover, intelligence)",
           J + "none unless a scenario says so"),
        _p("backstop_commitment", "prob", 0.5, "commitment while backing a deployed force",
           J + "a backstop is a real but limited promise"),
    ]},
    "force_contributor": {d.name: d for d in _GUARANTOR + [
        _p("troops_offered", "count", 0, "troops offered for a force on the ceasefire line",
           J + "none unless a scenario says so", high=2_000_000),
        _p("deploy_month", "real", 3.0, "months after the ceasefire until the force is in place",
           J + "missions take months to reach strength", low=0.0, high=1_200),
        _p("needs_backstop", "prob", 0.0, "chance the contributor will not deploy without a patron's backstop",
           J + "none unless a scenario says so"),
        _p("tripwire_half_troops", "real", 20000.0,
           "troops at which the force's commitment is half of certain",
           "cite: Reiter and Poast (2021): small tripwires do not deter; a force must shift the local balance",
           low=1.0, high=2_000_000),
        _p("power_per_1000_troops", "real", 0.004, "local fighting power of 1,000 deployed troops, in defender units",
           J + "a NATO-standard brigade is worth about three times its size in the defender's ranks", low=0.0, high=10),
        _p("incident_control", "prob", 0.5,
           "share of incidents a full-strength force prevents (patrols, liaison, buffer)",
           "cite: Fortna (2004): peacekeepers reduce accidents and incidents that spiral"),
        _p("casualty_tolerance_per_1000", "real", 10.0,
           "deaths per 1,000 troops deployed that the contributor accepts before it withdraws",
           J + "1% of the force: 200 deaths for 20,000 troops, well below Afghanistan levels; a larger force is "
           "a larger commitment and accepts proportionally more", low=0.0, high=1_000),
        _p("deaths_per_probe_per_1000", "real", 0.5, "expected deaths per 1,000 troops when a probe hits the force",
           J + "probes are limited violations", low=0.0, high=1_000),
        _p("rally_per_death", "real", 0.002, "resolve gained per death suffered (rally round the flag)",
           J + "small", low=0.0, high=1),
        _p("objection", "prob", 0.0,
           "share of the ceasefire's value to the challenger that this contributor's troops on the line take away",
           J + "none unless a scenario says so (troops the challenger accepts, such as neutral peacekeepers)"),
    ]},
    "alliance": {d.name: d for d in _GUARANTOR + [
        _p("invited", "bool", False, "whether the defender is invited to join", J + "no unless a scenario says so"),
        _p("accession_delay_months", "real", 24.0, "months from invitation to membership",
           J + "recent accessions took 1 to 2 years", low=0.0, high=1_200),
        _p("veto_members", "count", 0, "members that might block accession",
           J + "none unless a scenario says so", high=100),
        _p("veto_probability_each", "prob", 0.1, "chance that each such member blocks accession",
           J + "a reluctant member usually relents"),
        _p("pending_commitment", "prob", 0.05, "commitment while accession is pending",
           J + "an invitation is a weak promise (Bucharest 2008)"),
        _p("member_commitment", "prob", 0.9, "commitment once a member (collective defence clause)",
           J + "a treaty obligation, though each member chooses how to respond"),
        _p("objection", "prob", 0.0,
           "share of the ceasefire's value to the challenger that inviting the defender into this alliance takes away",
           J + "none unless a scenario says so"),
    ]},
}

_CALIBRATED = (
    "calibrated: geosim calibrate --worlds 400 --workers 2 (seed 20251130): maximum likelihood of the 13 "
    "historical ceasefires in data/historical_ceasefires.csv (war outcomes coded in data/war_outcomes.csv) "
    "and of Fortna's 96 civil-war ceasefires in data/fortna_civil_ceasefires.csv one by one (mapped by "
    "mission type and victory), on a generic base world, weak prior; posterior draws in "
    "data/posterior_constants.csv (docs/validation.md)"
)

# Model constants shared by all actors: the mechanisms' strengths. Calibrated (see
# docs/validation.md); scenarios may override them under `constants:`.
CONSTANTS: dict[str, ParamDef] = {d.name: d for d in [
    _p("hazard_intercept", "real", -6.49, "log-odds of restarting the war in a month when gains equal costs",
       (_CALIBRATED + "; sets the level of the hazard (-6.528 fitted to the interstate cases and Fortna's aggregate "
        "figures; -6.671 before the mechanisms of issue 13; -5.98 before the "
        "war-outcome lever; -4.8 hand-tuned at first)"), low=-20, high=5),
    _p("hazard_exponent", "real", 2.564, "how sharply the ratio of expected gains to costs moves the hazard",
       (_CALIBRATED + "; how strongly levers and the spread of aims move the hazard (1.851 fitted to Fortna's aggregate figures; 1.607 before the mechanisms "
        "of issue 13; 2.129 before the war-outcome lever; 1.5 at first)"),
       low=0.0, high=10),
    _p("tension_weight", "real", 3.25, "log-odds added per unit of tension",
       (_CALIBRATED + "; with the decay, the front-loaded hazard and incident control's effect (3.729 fitted to Fortna's aggregate figures; 3.75 before the "
        "mechanisms of issue 13; 4.415 before the war-outcome lever; 3.5 at first)"), low=0.0, high=10),
    _p("undecided_optimism", "real", 1.727,
       "how much more the challenger expects from another round after an undecided war: "
       "gains x (1 + this x war_undecided)",
       (_CALIBRATED + "; with Fortna's decided and undecided wars (1.518 fitted to Fortna's aggregate figures; 1.555 before the mechanisms of issue "
        "13; first value 1: twice as much)"),
       low=0.0, high=20),
    _p("preventive_weight", "real", 1.0,
       "weight of the preventive motive: how much of the loss of prospects that a pending accession would bring "
       "(times the chance it completes, discounted by the months left) the challenger adds to its present "
       "prospects",
       J + "preventive-war theory (Levy 1987; Fearon 1995; Powell 2006) gives the form, not the size: at 1 a "
       "certain and imminent loss counts like the same change in present prospects; explore 0 to 2", low=0.0, high=5),
    _p("discount_per_month", "prob", 0.02,
       "how much less a promise or a threat counts for each month before it takes effect",
       J + "a guarantee due in three years counts about half of one in force today (0.98^36 = 0.48)"),
    _p("optimism_fade_per_month", "prob", 0.0,
       "share of the optimism left by an undecided war that fades each month the ceasefire holds",
       J + "no evidence that the hopes an undecided war leaves fade while a ceasefire holds (Minsk II broke "
       "after seven years, Lebanon 2006 holds after seventeen with its aims unmet); explore 0 to 0.05"),
    _p("tension_initial", "real", 1.0, "tension on the day of the ceasefire", J + "the unit of tension", low=0.0, high=100),
    _p("tension_decay_per_month", "prob", 0.1006, "share of tension that fades each month",
       (_CALIBRATED + "; the front-loading of the hazard (Fortna 2004: 55% of failures in the first year; "
        "0.1131 fitted to Fortna's aggregate figures; 0.1177 before the mechanisms of issue 13; 0.1067 before the war-outcome lever; 0.2 at first)")),
    _p("incident_rate_per_month", "prob", 0.2, "chance of an incident in a month at zero tension",
       J + "incidents are common on a long line of contact"),
    _p("incident_tension", "real", 0.15, "tension added by an incident", J + "an incident adds a sixth of post-war tension",
       low=0.0, high=100),
    _p("probe_tension", "real", 0.1, "tension added by a probe", J + "a little less than an incident", low=0.0, high=100),
]}
