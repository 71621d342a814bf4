"""The simulator's configuration: one frozen object holding every parameter.

Each default cites the figure it comes from (``DOMAIN.md`` and the French sources it
summarises: ALFI study 2025, LogemLoiret/AHU project 2014, USH webinar 2020, "Logement
toujours" 2020) or, when the documents give no figure, the reasoning behind it. Figures
the documents give as *outcomes* (APL share, profile of households in arrears) are not
inputs: the behavioural parameters below were tuned so that a mid-size run reproduces
them (see :mod:`risk.simulation.calibration` and ``docs/simulation.md``).

Per residence type parameters (rents, tenant profiles, tenure) live in
:mod:`risk.simulation.profiles`; this module holds the economy, the housing benefit,
payment behaviour, follow-up and recording delays, and the run itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from risk.contract import EMPLOYMENT_STATUSES
from risk.simulation.profiles import PROFILES, RESIDENCE_TYPE_PARAMS, ResidenceTypeParams

YearTable = tuple[tuple[int, float], ...]


def year_value(table: YearTable, year: int) -> float:
    """Return the value of a by-year table in force in ``year``.

    The value of a year holds until the next year listed; before the first year the
    first value holds. An empty table means 0.
    """
    value = table[0][1] if table else 0.0
    for y, v in table:
        if y <= year:
            value = v
    return value


def _transitions() -> tuple[tuple[float, ...], ...]:
    # Monthly probabilities of moving from the row status to the column status, in the
    # order of contract.EMPLOYMENT_STATUSES (permanent, fixed_term, temporary_agency,
    # unemployed, retired, student, inactive); the diagonal is filled in by the engine.
    # Job loss: ~6%/year for permanent contracts, a fixed-term contract ends after ~2
    # years on average, agency work after ~18 months; unemployment lasts ~11 months on
    # average (return ~8.5%/month). Retirement is driven by age, not by this table.
    return (
        (0.0, 0.0, 0.0, 0.0050, 0.0, 0.0, 0.0005),
        (0.018, 0.0, 0.006, 0.036, 0.0, 0.0, 0.001),
        (0.012, 0.020, 0.0, 0.046, 0.0, 0.0, 0.001),
        (0.020, 0.035, 0.030, 0.0, 0.0, 0.0, 0.004),
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (0.020, 0.030, 0.010, 0.012, 0.0, 0.0, 0.0),
        (0.0, 0.002, 0.0, 0.002, 0.0, 0.0, 0.0),
    )


@dataclass(frozen=True)
class EconomyParams:
    """Employment, incomes and shocks.

    Amounts are monthly net EUR; by-year tables hold the first/last value outside them.
    """

    #: Monthly employment transitions (see :func:`_transitions`), rows and columns in
    #: the order of :data:`risk.contract.EMPLOYMENT_STATUSES`.
    transitions: tuple[tuple[float, ...], ...] = field(default_factory=_transitions)
    #: Factor on every job-loss probability, by year: the growing precariousness of
    #: tenants the sources describe ("paupérisation croissante", Isère; rising arrears,
    #: ALFI), which makes unemployment more frequent among tenants over the period.
    job_loss_trend: YearTable = (
        (2019, 1.0),
        (2020, 1.05),
        (2021, 1.1),
        (2022, 1.15),
        (2023, 1.25),
        (2024, 1.3),
    )
    #: Net monthly SMIC (35 h), yearly average: 2019 1,204 EUR ... 2024 1,399 EUR.
    smic: YearTable = (
        (2017, 1153.0), (2018, 1173.0), (2019, 1204.0), (2020, 1219.0),
        (2021, 1231.0), (2022, 1303.0), (2023, 1383.0), (2024, 1399.0),
    )  # fmt: skip
    #: RSA for a single adult after the housing deduction (forfait logement, ~12%):
    #: 2024 RSA 635.71 EUR before it, which is where the ALFI threshold of 636 EUR comes
    #: from; after the deduction every RSA-only single is below it.
    minimum_income: YearTable = (
        (2017, 482.0), (2018, 485.0), (2019, 493.0), (2020, 497.0),
        (2021, 498.0), (2022, 518.0), (2023, 535.0), (2024, 559.0),
    )  # fmt: skip
    #: Allocation aux adultes handicapés (AAH), full rate: 2019 ~890 EUR ... 2024 1,016 EUR.
    disability_benefit: YearTable = (
        (2017, 815.0), (2018, 830.0), (2019, 890.0), (2020, 902.0),
        (2021, 904.0), (2022, 930.0), (2023, 971.0), (2024, 1016.0),
    )  # fmt: skip
    #: Minimum old-age income (ASPA), floor of pensions: 2019 868 EUR ... 2024 1,012 EUR.
    minimum_pension: YearTable = (
        (2017, 803.0), (2018, 833.0), (2019, 868.0), (2020, 903.0),
        (2021, 907.0), (2022, 930.0), (2023, 961.0), (2024, 1012.0),
    )  # fmt: skip
    #: Consumer prices (2019 = 1): the 2022-2023 inflation raises what a household needs
    #: to live faster than most incomes, one reason the ALFI study sees arrears rising.
    prices: YearTable = (
        (2017, 0.979), (2018, 0.990), (2019, 1.000), (2020, 1.005),
        (2021, 1.021), (2022, 1.074), (2023, 1.128), (2024, 1.151),
    )  # fmt: skip
    #: Spread of a tenant's wage around the SMIC (log scale, mean and sd): social-housing
    #: applicants mostly earn 1 to 1.3 SMIC.
    wage_log_mean: float = 0.08
    wage_log_sd: float = 0.22
    #: Unemployment benefit (ARE) as a share of the last wage (57-75% in the rules, the
    #: upper end for wages near the SMIC).
    unemployment_replacement: float = 0.75
    #: ARE duration in months after a permanent job, after a short contract, and from 53.
    benefit_months_permanent: tuple[int, int] = (12, 24)
    benefit_months_short: tuple[int, int] = (8, 24)
    benefit_months_senior: int = 27
    #: Under 25 there is no RSA; an unemployed young adult lives on family help or the
    #: youth-guarantee allowance (CEJ, up to ~520 EUR): uniform between these bounds.
    youth_income: tuple[float, float] = (150.0, 560.0)
    #: Apprentices earn 43-100% of the SMIC depending on age and year (FJT residents
    #: mostly 53-78%); students in FJT work alongside their studies.
    student_wage_share: float = 0.7
    #: A pension is this share of the former wage, floored at the minimum pension.
    pension_replacement: float = 0.72
    #: Share of couples with a second earner; the partner's wage spread (log sd).
    partner_earner_share: float = 0.6
    partner_wage_log_sd: float = 0.25
    #: Family benefits per dependent child, EUR a month (allocations familiales, ARS...).
    child_benefit: float = 110.0
    #: Monthly wage noise (hours) for fixed-term and agency workers, log sd: hidden from
    #: the landlord, who only learns of lasting changes.
    hours_noise_fixed_term: float = 0.10
    hours_noise_agency: float = 0.22
    #: Lasting income changes (reduced hours, separation, new job within the status):
    #: monthly probability and multiplicative range, down and up.
    income_drop_rate: float = 0.007
    income_drop_range: tuple[float, float] = (0.55, 0.9)
    income_rise_rate: float = 0.006
    income_rise_range: tuple[float, float] = (1.05, 1.3)
    #: Expense shocks (illness, family event, car, debt): monthly onset probability,
    #: probability of lasting one more month, and cost range, EUR a month.
    shock_rate: float = 0.016
    shock_persistence: float = 0.5
    shock_cost: tuple[float, float] = (150.0, 600.0)
    #: Retirement: monthly hazard from each age (the last one is certain).
    retirement_hazard: tuple[tuple[int, float], ...] = (
        (60, 0.006),
        (62, 0.035),
        (64, 0.06),
        (67, 1.0),
    )
    #: First 2020 lockdown (USH: arrears rose by 150 MEUR between end February and end
    #: April 2020, then eased as "material" payment difficulties were solved): months
    #: during which short contracts end more often and cash/cheque payers cannot pay.
    lockdown_months: tuple[str, ...] = ("2020-03", "2020-04", "2020-05")
    lockdown_job_loss_factor: float = 2.5
    #: Short-time work (activité partielle) paid 84% of the net wage during the lockdown.
    lockdown_income_factor: float = 0.84


@dataclass(frozen=True)
class AplParams:
    """Housing benefit (APL), a simplified formula in the spirit of the official one.

    ``APL = min(rent, ceiling) + charges allowance - contribution``, where the tenant's
    contribution is ``max(p0_min, p0_share * (min(rent, ceiling) + allowance))`` plus
    ``rate * (income - allowance_income)``; nothing is paid under ``min_paid``. For
    ordinary homes the rent is the bill without charges (80% of it), for foyers the
    whole bill under one ceiling. The income is the taxable one (minimum income,
    disability benefit, apprentice wages and family benefits are left out). Ceilings
    are 2019 EUR and are indexed by ``index``. ``rate`` and the income allowances were
    tuned, with the residence types' ``apl_eligible`` shares, on the ALFI entitled
    shares (63% end 2020, 37.38% end 2024).
    """

    #: Rent ceilings for ordinary homes (zone 1 order of magnitude): single, couple,
    #: first dependent, each further dependent.
    ceiling_single: float = 296.0
    ceiling_couple: float = 357.0
    ceiling_first_child: float = 403.0
    ceiling_per_child: float = 58.0
    #: Charges allowance (forfait charges) for ordinary homes: base and per dependent.
    charges_allowance: float = 54.0
    charges_per_child: float = 12.0
    #: Foyers (APL-foyer) have one ceiling "equivalent rent and charges"; couple adds.
    foyer_ceiling_single: float = 430.0
    foyer_ceiling_couple_extra: float = 80.0
    #: Personal contribution: floor, share of the covered cost, marginal rate on income
    #: above an income allowance (single, couple, per child).
    p0_min: float = 36.0
    p0_share: float = 0.085
    rate: float = 0.48
    allowance_income_single: float = 250.0
    allowance_income_couple: float = 400.0
    allowance_income_per_child: float = 150.0
    #: Nothing is paid under this amount (the official rule: 10 EUR).
    min_paid: float = 10.0
    #: Yearly revaluation of the scales (2019 = 1).
    index: YearTable = (
        (2019, 1.0),
        (2020, 1.003),
        (2021, 1.004),
        (2022, 1.03),
        (2023, 1.065),
        (2024, 1.08),
    )
    #: First month of the contemporaneity reform: from then the benefit is recalculated
    #: every quarter on the last 12 months of income; before it, once a year (January) on
    #: the income of two years before (N-2).
    reform_month: str = "2021-01"
    #: Before the reform the N-2 income was reduced by allowances (abatements for
    #: unemployment, neutralisation for minimum-income recipients and others); this
    #: multiplier stands for them. Tuned so that the entitled share falls from 63% at the
    #: end of 2020 to 37.4% at the end of 2024 (ALFI, residences profile).
    former_income_factor: float = 0.85
    #: Former abatement on the income of an unemployed tenant receiving benefits (30%).
    #: In both regimes the earned income of a tenant out of work without benefits, or
    #: inactive, is neutralised (only a partner's wage counts).
    former_unemployed_factor: float = 0.7
    #: Before entry, young tenants (under 26) were often students or apprentices: their
    #: past income is this range of the entry income; older ones earned about the same.
    young_past_income: tuple[float, float] = (0.2, 0.8)
    past_income: tuple[float, float] = (0.85, 1.05)
    #: Months between the entry and the first APL credit (first month never paid: the
    #: benefit starts the month after entry), with their probabilities; back pay follows.
    start_delay_probs: tuple[float, float, float] = (0.5, 0.35, 0.15)
    #: APL paid to the landlord is suspended, with this monthly probability, once the
    #: tenant has been in arrears (two months of residual rent) for this many month-ends
    #: without a payment plan; it resumes with a plan or below the threshold.
    suspension_after_months: int = 3
    suspension_rate: float = 0.25


@dataclass(frozen=True)
class PaymentParams:
    """Monthly payment behaviour: the true probability of missing a payment.

    ``logit p = intercept(type) + propensity * z + effort * clip((e - 0.25) / 0.1, -3, 2.5)
    + deficit * clip(d / 100, 0, 6) + shock + unemployed + retired + APL cut + new tenant
    + direct debit + in arrears + support + plan + lockdown + young``
    where ``z`` is the hidden individual propensity (standard normal), ``e`` the effort
    rate (the tenant's share of the rent over its income) and ``d`` the monthly budget
    deficit (what the household needs to live on minus what is left after paying its
    share of the rent). The effort rate is what squeezes workers earning 1,000-1,500 EUR
    who lost their APL (ALFI: 48% of households in arrears earn that much).
    """

    #: Weight of the hidden propensity: no single field shows it, the history does.
    propensity: float = 1.05
    #: Per 10 points of effort rate above 25%.
    effort: float = 1.0
    #: Per 100 EUR of budget deficit.
    deficit: float = 0.15
    #: What a household cannot do without, 2019 EUR a month: first adult, each further
    #: adult, each child (the floor of the "reste à vivre" used by solidarity funds).
    living_single: float = 300.0
    living_extra_adult: float = 150.0
    living_child: float = 120.0
    #: While an expense shock runs.
    shock: float = 1.3
    #: Out of work: benefit gaps (waiting days, ARE paid after the rent is due), the
    #: end of rights in sight (ALFI: 30% of households in arrears are unemployed).
    #: Tuned with ``repay_share`` so that about half the households in arrears are in
    #: work (USH) while 30% are unemployed (ALFI).
    unemployed: float = 0.4
    #: Retired: a regular pension, and older tenants put the rent first.
    retired: float = -0.8
    #: In the three months after the APL was cut by at least ``apl_cut_eur`` (the
    #: quarterly recalculations since 2021 often cut it: ALFI).
    apl_cut: float = 1.6
    apl_cut_eur: float = 30.0
    apl_cut_months: int = 3
    #: Length of the first months after entry during which the residence type's
    #: ``new_tenant_risk`` applies.
    new_tenant_months: int = 6
    #: Direct debit takes the rent before the rest is spent.
    direct_debit: float = -0.9
    #: Already owing two months: discouragement, the debt becomes hard to face.
    in_arrears: float = 0.5
    #: Social support and a running payment plan lower the risk once they start.
    support: float = -0.55
    plan: float = -0.45
    #: Cash and cheque payers during the first lockdown (offices closed).
    lockdown_cash: float = 1.8
    #: Tenants under 25.
    young: float = 0.25
    #: When a payment is missed it is partial with this probability, paying this range
    #: of the amount due; otherwise nothing is paid that month.
    partial_share: float = 0.4
    partial_range: tuple[float, float] = (0.2, 0.8)
    #: When a payment is made, this share (range, from the least to the most diligent)
    #: of the usual monthly rent share or half the surplus, whichever is larger, also
    #: goes to the debt, times
    #: ``repay_without_surplus`` when nothing is left after living costs; a debt the
    #: surplus covers is paid off at once with probability ``payoff_rate``.
    #: ``repay_share`` is tuned on the USH lockdown figure: of the 150 MEUR of debt
    #: added in March-April 2020, 65 MEUR were still owed in the autumn, so a debt is
    #: repaid over many months, not at once.
    repay_share: tuple[float, float] = (0.03, 0.35)
    repay_without_surplus: float = 0.3
    payoff_rate: float = 0.12
    #: Switching away from direct debit after a rejected debit, monthly probability.
    debit_cancel_rate: float = 0.3


@dataclass(frozen=True)
class FollowUpParams:
    """Contacts, social support, payment plans, solidarity fund, guarantees, departures."""

    #: A contact attempt is made each month with this probability once the tenant owes
    #: a month of residual rent; it succeeds with ``sigmoid(a + b * r)``, ``r`` a hidden
    #: reachability (LogemLoiret: some tenants never answer, out of shame or distrust).
    contact_rate: float = 0.55
    contact_success: tuple[float, float] = (0.9, 1.3)
    #: Social support: monthly start hazard once in arrears, multiplied when contact
    #: was made; the base hazard outside arrears is per residence type.
    support_arrears_rate: float = 0.2
    support_contact_factor: float = 2.5
    #: Monthly end hazard of support, outside and inside arrears.
    support_end_rate: float = 0.05
    support_end_rate_arrears: float = 0.015
    #: Referral to the monthly social watch of a followed household in arrears (ALFI:
    #: 45% of those followed are presented), monthly probability.
    watch_rate: float = 0.12
    #: Payment plan: monthly start probability after contact with at least this many
    #: months of residual rent owed; duration bounds; share of the surplus devoted.
    plan_rate: float = 0.3
    plan_min_months_owed: float = 1.5
    plan_duration: tuple[int, int] = (3, 36)
    plan_surplus_share: float = 0.5
    #: A missed payment breaks a running plan with this probability.
    plan_break_on_miss: float = 0.6
    #: Solidarity fund (FSL) aid for a followed household owing two months: monthly
    #: probability, amount range, minimum months between two grants.
    fsl_rate: float = 0.07
    fsl_amount: tuple[float, float] = (500.0, 2000.0)
    fsl_gap_months: int = 24
    #: Guarantee call: monthly probability once in arrears (two months of residual
    #: rent): landlords call late or not at all, which is why ALFI still finds 48% of its
    #: households in arrears with a guarantee. Coverage in months of tenancy and cap in
    #: monthly rents, per guarantee (VISALE covers the whole tenancy up to 36 rents;
    #: Loca-Pass 9 rents in the first 3 years; FSL ~18 months).
    guarantee_call_rate: float = 0.12
    guarantee_cover_months: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType(
            {"visale": 600, "action_logement": 36, "fsl": 18, "other": 600, "none": 0}
        )
    )
    guarantee_cap_rents: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"visale": 36.0, "action_logement": 9.0, "fsl": 6.0, "other": 12.0, "none": 0.0}
        )
    )
    #: Departures: extra monthly hazard after this many months in arrears (eviction,
    #: leaving with the debt), and the settlement: days after the exit, share of exits
    #: billed for repairs and their range, deposit in months of rent.
    arrears_departure_after: int = 4
    arrears_departure_rate: float = 0.03
    settlement_days: tuple[int, int] = (10, 55)
    repair_share: float = 0.25
    repair_amount: tuple[float, float] = (80.0, 600.0)
    deposit_months: float = 0.8
    #: Share of leavers who pay what they owe at the settlement (the most diligent).
    final_payoff_share: float = 0.5
    #: Yearly charge regularisation (ordinary homes): debit range; refund probability and
    #: range (a credit instead); a larger one in 2023 after the 2022 energy prices.
    regularisation_debit: tuple[float, float] = (40.0, 350.0)
    regularisation_refund_share: float = 0.25
    regularisation_refund: tuple[float, float] = (20.0, 150.0)
    regularisation_factor: YearTable = ((2019, 1.0), (2022, 1.2), (2023, 1.9), (2024, 1.3))


@dataclass(frozen=True)
class PostingParams:
    """Delays between a fact and the day the landlord's system records it (days)."""

    #: Tenant payments: share posted 1-10 days late (bank reconciliation), share of
    #: back-dated payments posted weeks later (cheques, late bank files).
    payment_late_share: float = 0.10
    payment_late_days: tuple[int, int] = (1, 10)
    payment_backdated_share: float = 0.03
    payment_backdated_days: tuple[int, int] = (14, 45)
    #: APL credits arrive with the CAF file, a few days after the value date.
    apl_payment_days: tuple[int, int] = (0, 3)
    #: Guarantor and solidarity-fund credits, settlement rows.
    other_credit_days: tuple[int, int] = (3, 30)
    #: Income changes: probability a lasting change is reported at all in a month (the
    #: rest stays hidden until a later report), delay after effect; a change of status
    #: is reported more often.
    income_report_rate: float = 0.5
    status_report_rate: float = 0.85
    income_material_change: float = 0.10
    income_days: tuple[int, int] = (14, 70)
    #: APL notifications (CAF files) after the date of effect.
    apl_days: tuple[int, int] = (10, 60)
    #: Follow-up events recorded by caseworkers.
    support_days: tuple[int, int] = (0, 14)


@dataclass(frozen=True)
class SimulationConfig:
    """Everything the simulator needs, in one frozen object.

    Parameters
    ----------
    n_tenancies
        Number of tenancies (rows of the tenancies table), 100 to 500,000.
    start, end
        First and last simulated month, ``YYYY-MM``.
    seed
        Seed of the random generator: one seed, one portfolio, byte for byte.
    profile
        ``residences`` (the ALFI population: social residences, FJT, pensions de
        famille, résidences accueil) or ``hlm`` (ordinary HLM homes).
    burn_in_months
        Months simulated before ``start`` for the tenancies already present, so that
        they begin with a plausible balance, employment and follow-up (their ledger rows
        are summarised by one opening-balance row).
    residence_types
        Per residence type parameters (see :mod:`risk.simulation.profiles`).
    profile_mix
        Share of homes of each residence type, per profile.
    rent_revision
        Yearly rent revision applied each January, ``((year, rate), ...)``; none by
        default, so that the ledger's rent equals the tenancies' ``monthly_rent`` (the
        HLM revisions 2019-2024 were +1.25%, +1.53%, +0.66%, +0.42%, +3.5%, +3.5%).
    keep_truth
        Whether the truth table is kept (an empty frame otherwise): about 70 bytes per
        tenancy-month, worth dropping for the largest ``hlm`` runs.
    """

    n_tenancies: int = 10_000
    start: str = "2019-01"
    end: str = "2024-12"
    seed: int = 0
    profile: str = "residences"
    burn_in_months: int = 24
    residence_types: Mapping[str, ResidenceTypeParams] = field(
        default_factory=lambda: RESIDENCE_TYPE_PARAMS
    )
    profile_mix: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: PROFILES)
    rent_revision: YearTable = ()
    keep_truth: bool = True
    economy: EconomyParams = field(default_factory=EconomyParams)
    apl: AplParams = field(default_factory=AplParams)
    payment: PaymentParams = field(default_factory=PaymentParams)
    followup: FollowUpParams = field(default_factory=FollowUpParams)
    posting: PostingParams = field(default_factory=PostingParams)

    def __post_init__(self) -> None:
        if not 1 <= self.n_tenancies <= 5_000_000:
            raise ValueError(f"n_tenancies must be positive, got {self.n_tenancies}")
        if self.profile not in self.profile_mix:
            raise ValueError(f"unknown profile {self.profile!r}; known: {sorted(self.profile_mix)}")
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        if len(self.economy.transitions) != len(EMPLOYMENT_STATUSES):
            raise ValueError("economy.transitions must have one row per employment status")

    def with_(self, **changes: Any) -> SimulationConfig:
        """Return a copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)
