"""Entries, departures and the final settlement of a tenancy.

An entering household is billed from its entry day; its APL starts the month after.
A household already present at the start of the burn-in arrives with the income and
benefit it had (recorded as rows dated before the period). Departures follow the
residence type's turnover (tripled beyond the FJT stay limit) plus an extra hazard
after months in arrears (eviction, leaving with the debt); the exit month is prorated.
Within a month or two of the exit the account is settled: repairs may be billed, the
deposit is set against the debt, the guarantee may be called, diligent leavers pay off
what they owe and a credit left is refunded. No ledger row follows the settlement.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from risk.simulation.benefit import entitlement
from risk.simulation.economy import household_income, income_source
from risk.simulation.followup import guarantee_table
from risk.simulation.months import first_days
from risk.simulation.payments import cents, sigmoid
from risk.simulation.records import Recorder
from risk.simulation.state import CLOSED, METHOD, PRESENT, SETTLING, Context, State

Idx = npt.NDArray[np.intp]
#: Longest a tenancy already present says nothing new about its income, in days.
STALE_INCOME_DAYS = 365


def activate(
    state: State,
    rows: Idx,
    ctx: Context,
    m: int,
    rng: np.random.Generator,
    rec: Recorder | None,
) -> None:
    """Bring tenancies into the simulation at month ``m`` (entry, or start of burn-in)."""
    if not len(rows):
        return
    a = ctx.config.apl
    post = ctx.config.posting
    k = len(rows)
    entering = state.start_m[rows] == m
    state.phase[rows] = PRESENT
    state.active_m[rows] = m
    base, taxable = household_income(state, rows, ctx, m)
    state.income_base[rows] = base
    state.income[rows] = base
    state.taxable[rows] = taxable
    state.reported_income[rows] = base
    state.reported_emp[rows] = state.emp[rows]
    age = ctx.grid.year(m) - state.birth_year[rows].astype(np.int64)
    young_lo, young_hi = a.young_past_income
    lo, hi = a.past_income
    u = rng.random(k)
    past = taxable * np.where(
        entering & (age < 26), young_lo + (young_hi - young_lo) * u, lo + (hi - lo) * u
    )
    state.history[rows] = past[:, None].astype(np.float32)
    state.past1[rows] = past
    state.past2[rows] = past
    state.year_sum[rows] = past * (ctx.grid.month_of_year(m) - 1)
    state.guarantee_left[rows] = (
        guarantee_table(ctx, "guarantee_cap_rents")[state.guarantee[rows]] * state.rent[rows]
    )

    first = ctx.grid.first_day(m)
    stale = np.maximum(state.start_day[rows], first - rng.integers(0, STALE_INCOME_DAYS, size=k))
    income_day = np.where(entering, state.start_day[rows], stale)
    income_lag = np.where(
        entering, -rng.integers(0, 21, size=k), rng.integers(*post.income_days, size=k)
    )

    apl = entitlement(state, rows, ctx, m)
    january = ctx.grid.absolute(m) - (ctx.grid.month_of_year(m) - 1)
    apl_month = np.where(
        entering,
        state.start_m[rows] + 1,
        np.maximum(state.start_m[rows] + 1, january - ctx.grid.origin),
    )
    state.apl[rows] = apl
    state.apl_m[rows] = apl_month
    delays = np.array(a.start_delay_probs)
    delay = (rng.random(k)[:, None] >= np.cumsum(delays)[None, :]).sum(axis=1)
    state.apl_delay[rows] = np.where(entering, delay, 0)
    entitled = apl > 0
    apl_day = first_days(ctx.grid.origin + apl_month[entitled].astype(np.int64))
    apl_lag = rng.integers(*post.apl_days, size=int(entitled.sum()))
    if rec is not None:
        source = income_source(state, rows, ctx, m)
        rec.income(rows, income_day, income_lag, base, state.emp[rows], source)
        rec.apl(rows[entitled], apl_day, apl_lag, apl[entitled], state.tiers[rows[entitled]])


def departures(state: State, rows: Idx, ctx: Context, m: int, rng: np.random.Generator) -> Idx:
    """Choose who leaves during month ``m`` among ``rows`` (present before ``m``)."""
    f = ctx.config.followup
    t = state.rtype[rows]
    hazard = 1.0 / ctx.per_type("mean_stay_months")[t]
    hazard = np.where(
        m - state.start_m[rows] >= ctx.per_type("max_stay_months")[t], 3 * hazard, hazard
    )
    hazard = hazard + f.arrears_departure_rate * (
        state.arrears_m[rows] >= f.arrears_departure_after
    )
    leaving = rows[rng.random(len(rows)) < hazard]
    first = ctx.grid.first_day(m)
    end = first + rng.integers(0, ctx.grid.length(m), size=len(leaving))
    state.end_day[leaving] = end
    settle = end + rng.integers(*f.settlement_days, endpoint=True, size=len(leaving))
    state.settle_day[leaving] = settle
    absolute = settle.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    state.settle_m[leaving] = absolute - ctx.grid.origin
    return leaving


def leave(state: State, rows: Idx) -> None:
    """Mark tenancies that left this month as waiting for their settlement."""
    state.phase[rows] = SETTLING


def settle(
    state: State, ctx: Context, m: int, rng: np.random.Generator, rec: Recorder | None
) -> None:
    """Settle the accounts of the tenancies whose settlement falls in month ``m``."""
    rows = np.flatnonzero((state.phase == SETTLING) & (state.settle_m == m))
    if not len(rows):
        return
    f = ctx.config.followup
    k = len(rows)
    day = state.settle_day[rows]
    lag = rng.integers(*ctx.config.posting.other_credit_days, endpoint=True, size=k)
    balance = state.balance[rows].copy()
    repairs = cents(
        np.where(rng.random(k) < f.repair_share, rng.uniform(*f.repair_amount, size=k), 0.0)
    )
    balance += repairs
    deposit = cents(np.minimum(f.deposit_months * state.rent[rows], np.maximum(balance, 0.0)))
    balance -= deposit
    g = state.guarantee[rows]
    tenure = m - state.start_m[rows]
    covered = tenure < guarantee_table(ctx, "guarantee_cover_months")[g]
    call = covered & (balance > 0) & (rng.random(k) < min(1.0, 1.5 * f.guarantee_call_rate))
    guarantor = cents(np.where(call, np.minimum(balance, state.guarantee_left[rows]), 0.0))
    balance -= guarantor
    diligent = rng.random(k) < 2 * f.final_payoff_share * sigmoid(-state.propensity[rows])
    payoff = np.where(diligent & (balance > 0), balance, 0.0)
    balance -= payoff
    refund = np.where(balance < -0.005, -balance, 0.0)
    balance += refund
    if rec is not None:
        rec.ledger(rows, day, "other_debit", repairs)
        rec.ledger(rows, day, "other_credit", deposit, lag)
        rec.ledger(rows, day, "other_credit", guarantor, lag)
        rec.ledger(rows, day, "tenant_payment", payoff, lag, METHOD["transfer"])
        rec.ledger(rows, day, "other_debit", refund)
    state.balance[rows] = balance
    state.phase[rows] = CLOSED


def open_balances(state: State, ctx: Context, rec: Recorder) -> None:
    """Summarise the burn-in ledger by one opening-balance row per tenancy present."""
    rows = np.flatnonzero(state.phase == PRESENT)
    balance = state.balance[rows]
    day = ctx.grid.first_day(0)
    rec.ledger(rows, day, "other_debit", balance)
    rec.ledger(rows, day, "other_credit", -balance)
