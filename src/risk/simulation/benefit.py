"""Housing benefit (APL): entitlement, the 2021 reform, credits to the landlord.

The amount follows a simplified version of the official formula (``AplParams``): the
rent up to a ceiling that depends on the household, plus a charges allowance, minus a
personal contribution that rises with income; nothing is paid under 10 EUR.

Before January 2021 the benefit was set once a year (and on a change of situation) on
the income of two years before, reduced by the former allowances; from January 2021
(réforme de la contemporanéité) it is recalculated every quarter on the last twelve
months of income, lagged by two months. Incomes that rose since N-2 (young workers who
were students, former allowances gone) lose all or part of it: ALFI measured the
entitled share of its residents falling from 63% (end 2020) to 37.38% (end 2024).

Only changes of entitlement are recorded (``apl`` table), posted weeks after effect.
The benefit is credited to the landlord (``apl_payment`` ledger rows, tiers payant) or
paid to the tenant; the first credit comes one to three months after entry with back
pay; a tenant owing two months without a payment plan can see it suspended.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from risk.simulation.config import AplParams
from risk.simulation.months import NO_DAY
from risk.simulation.records import Recorder
from risk.simulation.state import EMP, HISTORY, Context, State

Idx = npt.NDArray[np.intp]
F = npt.NDArray[np.float64]

#: Months of the year in which the benefit is recalculated after the reform.
QUARTER_MONTHS = (1, 4, 7, 10)
#: Day of the month (first..last) the CAF credits the benefit.
CREDIT_DAYS = (5, 8)


def apl_amount(
    income: npt.ArrayLike,
    rent: npt.ArrayLike,
    adults: npt.ArrayLike,
    children: npt.ArrayLike,
    foyer: npt.ArrayLike,
    index: float,
    p: AplParams,
) -> F:
    """Monthly APL for a household, EUR (whole euros, 0 under the minimum paid).

    Parameters
    ----------
    income
        Monthly income the benefit is based on.
    rent
        Monthly rent and charges billed.
    adults, children
        Household composition.
    foyer
        Whether the APL-foyer scale applies (rent and charges under one ceiling).
    index
        Revaluation of the scales for the year (2019 = 1).
    p
        Scale parameters.
    """
    income = np.asarray(income, dtype=np.float64)
    rent = np.asarray(rent, dtype=np.float64)
    children = np.asarray(children, dtype=np.float64)
    couple = np.asarray(adults) > 1
    foyer = np.asarray(foyer, dtype=bool)
    ordinary = np.where(
        children > 0,
        p.ceiling_first_child + p.ceiling_per_child * np.maximum(children - 1, 0),
        np.where(couple, p.ceiling_couple, p.ceiling_single),
    )
    foyer_ceiling = (
        p.foyer_ceiling_single
        + p.foyer_ceiling_couple_extra * couple
        + p.ceiling_per_child * children
    )
    ceiling = np.where(foyer, foyer_ceiling, ordinary) * index
    # Ordinary homes: the ceiling applies to the rent without charges (~80% of the bill).
    rent_part = np.where(foyer, rent, 0.8 * rent)
    allowance = np.where(foyer, 0.0, p.charges_allowance + p.charges_per_child * children) * index
    covered = np.minimum(rent_part, ceiling) + allowance
    income_allowance = (
        np.where(couple, p.allowance_income_couple, p.allowance_income_single)
        + p.allowance_income_per_child * children
    ) * index
    contribution = np.maximum(p.p0_min, p.p0_share * covered) + p.rate * np.maximum(
        income - income_allowance, 0.0
    )
    amount = np.floor(np.maximum(covered - contribution, 0.0))
    return np.where(amount < p.min_paid, 0.0, amount)


def benefit_base(state: State, idx: Idx, ctx: Context, m: int) -> F:
    """Income the benefit of rows ``idx`` is computed on in month ``m``.

    Earned income of a tenant out of work without unemployment benefit (or inactive)
    is neutralised: only a partner's wage counts, so households on the RSA get the full
    benefit at once, in both regimes.
    """
    p = ctx.config.apl
    emp = state.emp[idx]
    unemployed = emp == EMP["unemployed"]
    on_benefit = state.benefit_left[idx] > 0
    neutralised = (unemployed & ~on_benefit) | (emp == EMP["inactive"])
    if m >= ctx.reform_m:
        # Last twelve months lagged by two: the ring holds months m-14 .. m-1 here.
        hist = state.history[idx].astype(np.float64)
        recent = hist[:, m % HISTORY] + hist[:, (m - 1) % HISTORY]
        base = (hist.sum(axis=1) - recent) / 12.0
    else:
        base = state.past2[idx].astype(np.float64) * p.former_income_factor
        base = np.where(unemployed & on_benefit, base * p.former_unemployed_factor, base)
    smic = ctx.by_year(ctx.config.economy.smic, m)
    partner = smic * state.partner_wage[idx].astype(np.float64)
    return np.where(neutralised, np.minimum(base, partner), base)


def entitlement(state: State, idx: Idx, ctx: Context, m: int) -> F:
    """APL entitlement of rows ``idx`` computed in month ``m``."""
    amount = apl_amount(
        benefit_base(state, idx, ctx, m),
        state.rent[idx],
        state.adults[idx],
        state.children[idx],
        ctx.per_type("foyer")[state.rtype[idx]] > 0,
        ctx.by_year(ctx.config.apl.index, m),
        ctx.config.apl,
    )
    return np.where(state.eligible[idx], amount, 0.0)


def apl_step(
    state: State,
    idx: Idx,
    ctx: Context,
    m: int,
    rng: np.random.Generator,
    rec: Recorder | None,
    changed_status: npt.NDArray[np.bool_],
) -> None:
    """Yearly income roll, recalculation of the entitlement, this month's income kept.

    Rows ``idx`` exclude tenancies activated this month (their entitlement was just set).
    """
    month_of_year = ctx.grid.month_of_year(m)
    if month_of_year == 1:
        state.past2[idx] = state.past1[idx]
        state.past1[idx] = state.year_sum[idx] / 12.0
        state.year_sum[idx] = 0.0
    if m >= ctx.reform_m:
        due = np.full(len(idx), month_of_year in QUARTER_MONTHS)
    else:
        due = changed_status | (month_of_year == 1)
    due &= state.apl_m[idx] < m
    rows = idx[due]
    if len(rows):
        new = entitlement(state, rows, ctx, m)
        old = state.apl[rows].astype(np.float64)
        change = np.abs(new - old) >= 1.0
        changed = rows[change]
        # Draws never depend on whether rows are recorded, so that a replay without a
        # recorder follows the same random path.
        lag = rng.integers(*ctx.config.posting.apl_days, size=len(changed))
        if rec is not None:
            rec.apl(changed, ctx.grid.first_day(m), lag, new[change], state.tiers[changed])
        state.apl[changed] = new[change]
        state.apl_m[changed] = m
        cut = rows[new < old - ctx.config.payment.apl_cut_eur]
        state.apl_cut_m[cut] = m


def record_income(state: State, idx: Idx, m: int) -> None:
    """Keep this month's taxable income in the ring buffer and the calendar-year sum."""
    income = state.taxable[idx]
    state.history[idx, m % HISTORY] = income
    state.year_sum[idx] += income


def apl_credit(
    state: State, idx: Idx, ctx: Context, m: int, rng: np.random.Generator, rec: Recorder | None
) -> tuple[F, F]:
    """Credit this month's APL; return ``(to the landlord, to the tenant)`` for rows ``idx``.

    The benefit starts the month after entry; the first credit may come one or two
    months late, with the months missed paid back. A suspended benefit is not paid.
    """
    apl = np.where(state.apl_m[idx] <= m, state.apl[idx], 0.0).astype(np.float64)
    entitled = (apl > 0) & (state.start_m[idx] < m)
    waiting = entitled & (state.apl_delay[idx] > 0)
    state.apl_delay[idx[waiting]] -= 1
    state.apl_backpay[idx[waiting]] += apl[waiting]
    pay = np.where(entitled & ~waiting, apl + state.apl_backpay[idx], 0.0)
    state.apl_backpay[idx[entitled & ~waiting]] = 0.0
    tiers = state.tiers[idx]
    landlord = np.where(tiers & ~state.apl_suspended[idx], pay, 0.0)
    tenant = np.where(tiers, 0.0, pay)
    credited = landlord > 0
    rows = idx[credited]
    day = ctx.grid.first_day(m) - 1 + rng.integers(*CREDIT_DAYS, endpoint=True, size=len(rows))
    # A tenant leaving early in the month is credited on the exit day at the latest.
    end = state.end_day[rows]
    day = np.where(end != NO_DAY, np.minimum(day, end), day)
    lag = rng.integers(*ctx.config.posting.apl_payment_days, endpoint=True, size=len(rows))
    if rec is not None:
        rec.ledger(rows, day, "apl_payment", landlord[credited], lag)
    return landlord, tenant
