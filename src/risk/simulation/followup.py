"""Follow-up of households falling behind: contacts, support, plans, aid, guarantees.

Once a household owes a month of residual rent the landlord tries to reach it; some
never answer (a hidden reachability: LogemLoiret's "locataires qui ne se manifestent
pas"). Social support starts more often once arrears appear, sooner after a contact,
and lowers the risk once it runs (payment rule); a followed household in arrears may be
presented at the monthly social watch (ALFI: 45% of those followed) and receive
solidarity-fund (FSL) aid. After a contact a payment plan may be agreed; a missed
payment often breaks it. A guarantee, when the landlord calls it, pays part of the debt
(an ``other_credit``), which shortens the arrears episode. APL paid to the landlord is
suspended when two months are owed for a while without a plan.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from risk.arrears import ARREARS_MONTHS, residual_rent
from risk.contract import GUARANTEES
from risk.simulation.months import NO_DAY
from risk.simulation.payments import Month, cents, sigmoid
from risk.simulation.records import Recorder
from risk.simulation.state import Context, State

Idx = npt.NDArray[np.intp]
F = npt.NDArray[np.float64]


def months_owed(state: State, idx: Idx, apl_in_force: F) -> F:
    """Balance in months of residual rent (the shared arrears measure of the labels).

    APL paid to the tenant does not lower the residual rent (:func:`risk.arrears.residual_rent`),
    and a suspension does not either: the landlord's export still shows the entitlement.
    """
    return state.balance[idx] / residual_rent(state.rent[idx], apl_in_force, state.tiers[idx])


def guarantee_table(ctx: Context, name: str) -> F:
    """Return a per-guarantee follow-up parameter as an array indexed by guarantee code."""
    table = getattr(ctx.config.followup, name)
    return np.array([table[g] for g in GUARANTEES], dtype=np.float64)


def follow_up(
    state: State,
    idx: Idx,
    ctx: Context,
    m: int,
    rng: np.random.Generator,
    rec: Recorder | None,
    month: Month,
) -> F:
    """Apply the month's follow-up to rows ``idx``; return their months owed at month-end."""
    f = ctx.config.followup
    k = len(idx)
    first = ctx.grid.first_day(m)
    length = ctx.grid.length(m)
    day = first + rng.integers(0, length, size=k)
    day = np.maximum(day, state.start_day[idx])
    end = state.end_day[idx]
    day = np.where(end != NO_DAY, np.minimum(day, end), day)
    lag = rng.integers(*ctx.config.posting.support_days, endpoint=True, size=k)
    owed = months_owed(state, idx, month.apl_in_force)
    u = rng.random((9, k))

    # Contacts.
    attempt = (owed >= 1.0) & (m - state.contact_m[idx] >= 2) & (u[0] < f.contact_rate)
    a, b = f.contact_success
    success = attempt & (u[1] < sigmoid(a + b * state.reachability[idx]))
    if rec is not None:
        rec.support(idx[attempt], "contact_attempt", day[attempt], NO_DAY, lag[attempt])
        rec.support(idx[success], "contact_made", day[success], NO_DAY, lag[success])
    state.contact_m[idx[attempt]] = m
    contacted = (state.contacted[idx] | success) & (state.balance[idx] > 0.005)
    state.contacted[idx] = contacted

    # Social support: starts (more often in arrears, after a contact), ends.
    support = state.support[idx]
    rtype = state.rtype[idx]
    hazard = ctx.per_type("support_base_rate")[rtype] + (owed >= 1.0) * (
        f.support_arrears_rate
        * ctx.per_type("support_arrears_factor")[rtype]
        * np.where(contacted, f.support_contact_factor, 1.0)
    )
    starts = ~support & (u[2] < hazard)
    in_arrears = owed >= ARREARS_MONTHS
    stops = support & (u[2] < np.where(in_arrears, f.support_end_rate_arrears, f.support_end_rate))
    stop_day = np.maximum(day, state.support_start[idx])
    if rec is not None:
        rows = idx[stops]
        rec.support(rows, "social_support", state.support_start[rows], stop_day[stops], lag[stops])
    state.support_start[idx[starts]] = day[starts]
    state.support[idx] = (support & ~stops) | starts
    state.watched[idx[stops]] = False
    support = state.support[idx]

    watch = support & in_arrears & ~state.watched[idx] & (u[3] < f.watch_rate)
    if rec is not None:
        rec.support(idx[watch], "social_watch_referral", day[watch], NO_DAY, lag[watch])
    state.watched[idx[watch]] = True

    # Payment plans: broken by a missed payment, completed when the debt is cleared,
    # agreed after a contact.
    plan = state.plan[idx]
    broken = plan & state.missed[idx] & (u[4] < f.plan_break_on_miss)
    done = plan & (state.balance[idx] <= 0.005)
    closes = broken | done
    if rec is not None:
        rows = idx[closes]
        close_day = np.maximum(day[closes], state.plan_start[rows])
        rec.support(rows, "payment_plan", state.plan_start[rows], close_day, lag[closes])
    plan &= ~closes
    agree = ~plan & contacted & (owed >= f.plan_min_months_owed) & (u[8] < f.plan_rate)
    debt = np.maximum(state.balance[idx], 0.0)
    lo, hi = f.plan_duration
    capacity = np.maximum(f.plan_surplus_share * month.surplus, 30.0)
    duration = np.clip(np.ceil(debt / capacity), lo, hi)
    state.plan_instalment[idx[agree]] = (debt / duration)[agree]
    state.plan_start[idx[agree]] = day[agree]
    state.plan[idx] = plan | agree

    # Solidarity fund aid for a followed household owing two months.
    fsl = support & in_arrears & (m - state.fsl_m[idx] >= f.fsl_gap_months) & (u[5] < f.fsl_rate)
    aid = cents(np.where(fsl, np.minimum(debt, rng.uniform(*f.fsl_amount, size=k)), 0.0))
    _credit(state, idx, fsl, aid, day, ctx, rng, rec)
    if rec is not None:
        rec.support(idx[fsl], "solidarity_fund_aid", day[fsl], NO_DAY, lag[fsl])
    state.fsl_m[idx[fsl]] = m

    # Guarantee call.
    g = state.guarantee[idx]
    covered = (m - state.start_m[idx]) < guarantee_table(ctx, "guarantee_cover_months")[g]
    left = state.guarantee_left[idx].astype(np.float64)
    call = covered & (left > 0) & in_arrears & (u[6] < f.guarantee_call_rate)
    paid = cents(np.where(call, np.minimum(np.maximum(state.balance[idx], 0.0), left), 0.0))
    _credit(state, idx, call, paid, day, ctx, rng, rec)
    state.guarantee_left[idx] = left - paid

    # APL suspension while two months are owed for a while without a plan.
    benefit = ctx.config.apl
    plan = state.plan[idx]
    owed = months_owed(state, idx, month.apl_in_force)
    suspended = state.apl_suspended[idx]
    suspend = (
        ~suspended
        & state.tiers[idx]
        & (month.apl_in_force > 0)
        & (state.arrears_m[idx] >= benefit.suspension_after_months)
        & ~plan
        & (u[7] < benefit.suspension_rate)
    )
    resume = suspended & (plan | (owed < ARREARS_MONTHS))
    state.apl_suspended[idx] = (suspended & ~resume) | suspend
    state.arrears_m[idx] = np.where(owed >= ARREARS_MONTHS, state.arrears_m[idx] + 1, 0)
    return owed


def _credit(
    state: State,
    idx: Idx,
    mask: npt.NDArray[np.bool_],
    amount: F,
    day: npt.NDArray[np.int64],
    ctx: Context,
    rng: np.random.Generator,
    rec: Recorder | None,
) -> None:
    """Credit third-party payments (guarantor, solidarity fund) to the ledger."""
    rows = idx[mask]
    if not len(rows):
        return
    state.balance[rows] -= amount[mask]
    lag = rng.integers(*ctx.config.posting.other_credit_days, endpoint=True, size=len(rows))
    if rec is not None:
        rec.ledger(rows, day[mask], "other_credit", amount[mask], lag)


def close_episodes(
    state: State, rows: Idx, rng: np.random.Generator, ctx: Context, rec: Recorder | None
) -> None:
    """End the support and plan of tenancies leaving, on their exit day."""
    end = state.end_day[rows]
    lag = rng.integers(*ctx.config.posting.support_days, endpoint=True, size=len(rows))
    sup = state.support[rows]
    pln = state.plan[rows]
    if rec is not None:
        rec.support(
            rows[sup],
            "social_support",
            state.support_start[rows[sup]],
            np.maximum(end[sup], state.support_start[rows[sup]]),
            lag[sup],
        )
        rec.support(
            rows[pln],
            "payment_plan",
            state.plan_start[rows[pln]],
            np.maximum(end[pln], state.plan_start[rows[pln]]),
            lag[pln],
        )
    state.support[rows] = False
    state.plan[rows] = False


def open_episodes(
    state: State, idx: Idx, ctx: Context, rng: np.random.Generator, rec: Recorder
) -> None:
    """Record the support and plans still running at the end of the period (no end date)."""
    lag = rng.integers(*ctx.config.posting.support_days, endpoint=True, size=len(idx))
    sup = state.support[idx]
    pln = state.plan[idx]
    rec.support(idx[sup], "social_support", state.support_start[idx[sup]], NO_DAY, lag[sup])
    rec.support(idx[pln], "payment_plan", state.plan_start[idx[pln]], NO_DAY, lag[pln])
