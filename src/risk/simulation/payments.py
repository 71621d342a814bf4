"""The rent ledger month by month: what is billed, and what the tenant pays.

Each month a tenancy is billed its rent (prorated in the months of entry and exit)
and, for ordinary homes, once a year the charge regularisation. What the tenant pays
is driven by the income left after paying its share of the rent (the budget deficit),
expense shocks, APL cuts and suspensions (which raise the share to pay), the payment
method (direct debit takes the rent first), the first months of a tenancy, follow-up
(social support, a running payment plan) and a persistent individual propensity that
no single field shows but the payment history reveals. The true monthly probability of
missing a payment (``p_miss``) is kept in the state and in the truth table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from risk.simulation.months import NO_DAY
from risk.simulation.records import Recorder
from risk.simulation.state import EMP, METHOD, Context, State

Idx = npt.NDArray[np.intp]
F = npt.NDArray[np.float64]

_CASH_LIKE = np.array([METHOD["cash"], METHOD["cheque"]])


@dataclass
class Month:
    """Per-row amounts of one month, shared by the payment and follow-up rules."""

    charge: F  # rent billed
    due: F  # tenant's share of this month's rent (after APL paid to the landlord)
    surplus: F  # income left after the rent share and living costs (negative: deficit)
    apl_in_force: F


def cents(x: npt.ArrayLike) -> F:
    """Round amounts to the cent, as the ledger records them."""
    return np.asarray(x, dtype=np.float64).round(2)


def sigmoid(x: npt.ArrayLike) -> F:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def living_costs(state: State, idx: Idx, ctx: Context, m: int) -> F:
    """Return what the household needs to live on in month ``m`` (reste à vivre), EUR."""
    p = ctx.config.payment
    prices = ctx.by_year(ctx.config.economy.prices, m)
    adults = state.adults[idx].astype(np.float64)
    children = state.children[idx].astype(np.float64)
    return prices * (
        p.living_single + p.living_extra_adult * (adults - 1) + p.living_child * children
    )


def bill(
    state: State, idx: Idx, ctx: Context, m: int, rng: np.random.Generator, rec: Recorder | None
) -> tuple[F, F]:
    """Bill the month's rent and the yearly charge regularisation.

    Returns
    -------
    charge, adjustment
        Rent billed and the net regularisation (debit positive, refund negative).
    """
    first = ctx.grid.first_day(m)
    length = ctx.grid.length(m)
    start = state.start_day[idx]
    end = state.end_day[idx]
    from_day = np.maximum(start, first)
    to_day = np.where(end != NO_DAY, end, first + length - 1)
    charge = cents(state.rent[idx] * (to_day - from_day + 1) / length)
    if rec is not None:
        rec.ledger(idx, from_day, "rent_charge", charge)

    k = len(idx)
    adjustment = np.zeros(k)
    due = (state.regularisation_month[idx] == ctx.grid.month_of_year(m)) & (
        m - state.start_m[idx] >= 6
    )
    due &= end == NO_DAY
    if due.any():
        f = ctx.config.followup
        factor = ctx.by_year(f.regularisation_factor, m)
        refund = rng.random(k) < f.regularisation_refund_share
        debit = rng.uniform(*f.regularisation_debit, size=k) * factor
        credit = rng.uniform(*f.regularisation_refund, size=k)
        adjustment = cents(np.where(due, np.where(refund, -credit, debit), 0.0))
        day = first + rng.integers(9, 20, size=k)
        if rec is not None:
            up = adjustment > 0
            rec.ledger(idx[up], day[up], "charge_adjustment", adjustment[up])
            down = adjustment < 0
            rec.ledger(idx[down], day[down], "other_credit", -adjustment[down])
    return charge, adjustment


def miss_logit(state: State, idx: Idx, ctx: Context, m: int, surplus: F, effort: F) -> F:
    """Logit of the true probability that rows ``idx`` miss this month's payment."""
    p = ctx.config.payment
    deficit = np.clip(-surplus / 100.0, 0.0, 6.0)
    tenure = m - state.start_m[idx]
    method = state.method[idx]
    age = ctx.grid.year(m) - state.birth_year[idx].astype(np.int64)
    logit = (
        ctx.per_type("risk_intercept")[state.rtype[idx]]
        + p.propensity * state.propensity[idx]
        + p.effort * np.clip((effort - 0.25) / 0.1, -3.0, 2.5)
        + p.deficit * deficit
        + p.shock * (state.shock[idx] > 0)
        + p.unemployed * (state.emp[idx] == EMP["unemployed"])
        + p.retired * (state.emp[idx] == EMP["retired"])
        + p.apl_cut * (m - state.apl_cut_m[idx] < p.apl_cut_months)
        + ctx.per_type("new_tenant_risk")[state.rtype[idx]] * (tenure < p.new_tenant_months)
        + p.direct_debit * (method == METHOD["direct_debit"])
        + p.in_arrears * (state.arrears_m[idx] > 0)
        + p.support * state.support[idx]
        + p.plan * state.plan[idx]
        + p.young * (age < 25)
    )
    if ctx.is_lockdown(m):
        logit = logit + p.lockdown_cash * np.isin(method, _CASH_LIKE)
    return logit


def pay(
    state: State,
    idx: Idx,
    ctx: Context,
    m: int,
    rng: np.random.Generator,
    rec: Recorder | None,
    charge: F,
    adjustment: F,
    apl_landlord: F,
    apl_tenant: F,
) -> Month:
    """Decide and record this month's tenant payments; update the balances."""
    p = ctx.config.payment
    k = len(idx)
    in_force = np.where(state.apl_m[idx] <= m, state.apl[idx], 0.0).astype(np.float64)
    regular = np.where(state.tiers[idx] & ~state.apl_suspended[idx], in_force, 0.0)
    due = np.maximum(charge - np.minimum(apl_landlord, regular), 0.0)
    owed = state.balance[idx] + charge + adjustment - apl_landlord
    resources = state.income[idx].astype(np.float64) + apl_tenant
    surplus = resources - due - living_costs(state, idx, ctx, m) - state.shock[idx]

    effort = due / np.maximum(resources, 100.0)
    prob = sigmoid(miss_logit(state, idx, ctx, m, surplus, effort))
    miss = rng.random(k) < prob
    method = state.method[idx]
    debit = method == METHOD["direct_debit"]
    z = state.propensity[idx].astype(np.float64)

    # Debt is repaid in proportion to the usual rent share or half the budget left,
    # whichever is larger (a household paying 40 EUR a month can still put 80 EUR on a
    # debt), more by the diligent, less without any budget left; a debt the surplus
    # covers is sometimes paid off at once.
    lo, hi = p.repay_share
    share = lo + (hi - lo) * sigmoid(-1.2 * z)
    spare = np.maximum(surplus, 0.0)
    backlog = np.maximum(owed - due, 0.0)
    usual = np.maximum(np.maximum(due, 0.1 * state.rent[idx]), 0.5 * spare)
    effort_left = np.where(surplus > 0, 1.0, p.repay_without_surplus)
    plan = state.plan_instalment[idx] * state.plan[idx]
    # A charge regularisation the budget can take is paid with the month's rent; a
    # larger one is repaid like a debt.
    regularisation = np.maximum(adjustment, 0.0)
    regularisation = np.where(debit | (regularisation <= spare), regularisation, 0.0)
    extra = np.minimum(backlog, regularisation + plan + share * usual * effort_left)
    payoff = (rng.random(k) < p.payoff_rate) & (backlog <= spare)
    extra = np.where(payoff, backlog, extra)
    # Direct debit takes the rent, the regularisation and a plan's instalment only.
    extra = np.where(debit, np.minimum(backlog, regularisation + plan), extra)
    partial = rng.random(k) < p.partial_share
    fraction = rng.uniform(*p.partial_range, size=k)
    amount = np.where(miss, np.where(partial & ~debit, fraction * due, 0.0), due + extra)
    amount = cents(np.clip(amount, 0.0, np.maximum(owed, 0.0)))

    # A rejected direct debit often ends the mandate.
    cancel = miss & debit & (rng.random(k) < p.debit_cancel_rate)
    state.method[idx[cancel]] = METHOD["transfer"]

    # Payment day: the debit day, or earlier for the diligent and later under strain.
    first = ctx.grid.first_day(m)
    length = ctx.grid.length(m)
    stressed = (surplus < 0) | miss
    shape = np.exp(-0.6 * z - 0.8 * stressed)
    day = first + np.floor(length * rng.random(k) ** shape).astype(np.int64)
    day = np.where(debit, first + state.debit_day[idx].astype(np.int64) - 1, day)
    day = np.maximum(day, state.start_day[idx])
    end = state.end_day[idx]
    day = np.where(end != NO_DAY, np.minimum(day, end), day)
    post = ctx.config.posting
    u = rng.random(k)
    lag = np.where(
        u < post.payment_backdated_share,
        rng.integers(*post.payment_backdated_days, endpoint=True, size=k),
        np.where(
            u < post.payment_backdated_share + post.payment_late_share,
            rng.integers(*post.payment_late_days, endpoint=True, size=k),
            0,
        ),
    )
    if rec is not None:
        paid = amount >= 0.01
        rec.ledger(idx[paid], day[paid], "tenant_payment", amount[paid], lag[paid], method[paid])

    state.balance[idx] = owed - amount
    state.p_miss[idx] = prob
    state.missed[idx] = miss & (owed > 0.005)
    return Month(charge=charge, due=due, surplus=surplus, apl_in_force=in_force)
