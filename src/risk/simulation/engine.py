"""The month step and the driver that runs it over the period.

:func:`step` advances every tenancy present by one month, in a fixed order: departures
decided, rent revision, employment and incomes, income reports, APL recalculation and
credits, billing, payments, follow-up, exits and settlements. It reads and writes only
the :class:`~risk.simulation.state.State` arrays and draws only from the generator it
is given, so it can be replayed from any state (``state.subset(rows)``) without a
recorder, which is what Monte Carlo roll-outs need.

:func:`run` creates the population, runs the burn-in (no departures, ledger summarised
by an opening balance) and the period, and assembles the contract frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from risk.arrears import residual_rent
from risk.contract import GUARANTEES, HOUSEHOLD_TYPES, TENANCIES
from risk.portfolio import Portfolio
from risk.simulation.benefit import apl_credit, apl_step, record_income
from risk.simulation.config import SimulationConfig, year_value
from risk.simulation.economy import employment_step, income_step, report_incomes
from risk.simulation.followup import close_episodes, follow_up, open_episodes
from risk.simulation.months import NO_DAY, MonthGrid, days_to_datetime
from risk.simulation.payments import bill, pay
from risk.simulation.population import populate
from risk.simulation.records import Recorder, strings
from risk.simulation.state import PRESENT, WAITING, Context, State
from risk.simulation.tenure import activate, departures, leave, open_balances, settle
from risk.simulation.truth import truth_frame

Idx = npt.NDArray[np.intp]
#: Called after each month with ``(month, state, context)``: lets a caller snapshot the
#: state (e.g. ``state.subset(rows)``) to roll it forward later.
MonthHook = Callable[[int, State, Context], None]


@dataclass(frozen=True)
class StepResult:
    """Rows present during the month and their month-end arrears measure.

    ``balance`` is what each row owes once the month's facts are in, before any exit
    settlement: the month-end balance of a tenancy that stays, the balance at its exit
    date for one that leaves (every fact of its last month is dated on or before it).
    ``residual`` is the residual rent of the month (:func:`risk.arrears.residual_rent`)
    and ``months_owed`` their ratio; ``leaving`` marks the rows that left this month.
    """

    rows: Idx
    months_owed: npt.NDArray[np.float64]
    balance: npt.NDArray[np.float64]
    residual: npt.NDArray[np.float64]
    leaving: npt.NDArray[np.bool_]


def step(
    state: State,
    ctx: Context,
    m: int,
    rng: np.random.Generator,
    rec: Recorder | None = None,
    *,
    allow_departures: bool = True,
) -> StepResult:
    """Advance every tenancy present by month ``m``.

    Parameters
    ----------
    state
        Simulation state, modified in place.
    ctx
        Configuration and calendar.
    m
        Month index on the grid.
    rng
        Random generator; the step draws from nothing else.
    rec
        Where rows are recorded; ``None`` for silent roll-outs.
    allow_departures
        Whether tenancies may leave (not during the burn-in).

    Returns
    -------
    StepResult
        The rows present and their month-end balance in months of residual rent.
    """
    idx = np.flatnonzero(state.phase == PRESENT)
    old = idx[state.active_m[idx] != m]
    leaving = departures(state, old, ctx, m, rng) if allow_departures else idx[:0]

    if ctx.grid.month_of_year(m) == 1 and ctx.config.rent_revision:
        rate = year_value(ctx.config.rent_revision, ctx.grid.year(m))
        state.rent[old] = np.round(state.rent[old] * (1.0 + rate), 2)

    changed = employment_step(state, old, ctx, m, rng)
    income_step(state, idx, ctx, m, rng)
    report_incomes(state, old, ctx, m, rng, rec, changed)
    apl_step(state, old, ctx, m, rng, rec, changed)
    record_income(state, idx, m)
    landlord, tenant = apl_credit(state, idx, ctx, m, rng, rec)
    charge, adjustment = bill(state, idx, ctx, m, rng, rec)
    month = pay(state, idx, ctx, m, rng, rec, charge, adjustment, landlord, tenant)
    owed = follow_up(state, idx, ctx, m, rng, rec, month)
    balance = state.balance[idx]
    residual = residual_rent(state.rent[idx], month.apl_in_force, state.tiers[idx])
    left = state.end_day[idx] != NO_DAY
    close_episodes(state, leaving, rng, ctx, rec)
    leave(state, leaving)
    settle(state, ctx, m, rng, rec)

    if rec is not None:
        rec.truth(
            idx=idx.astype(np.int32),
            month=np.full(len(idx), m, dtype=np.int16),
            propensity=state.propensity[idx],
            reachability=state.reachability[idx],
            employment_status=state.emp[idx],
            income=state.income[idx],
            shock_cost=state.shock[idx],
            apl_in_force=month.apl_in_force.astype(np.float32),
            apl_credited=landlord.astype(np.float32),
            apl_suspended=state.apl_suspended[idx],
            rent_billed=charge.astype(np.float32),
            due=month.due.astype(np.float32),
            surplus=month.surplus.astype(np.float32),
            p_miss=state.p_miss[idx],
            missed=state.missed[idx],
            balance=state.balance[idx],
            months_owed=owed.astype(np.float32),
            support=state.support[idx],
            plan=state.plan[idx],
            leaving=left,
        )
    return StepResult(
        rows=idx,
        months_owed=owed,
        balance=balance,
        residual=residual,
        leaving=left,
    )


@dataclass(frozen=True)
class RunOutput:
    """What :func:`run` produces."""

    portfolio: Portfolio
    truth: pd.DataFrame
    state: State
    context: Context


def tenancy_ids(n: int) -> pa.Array:
    """Return identifiers ``T0000001`` ... in state order (wider beyond 9,999,999)."""
    width = max(7, len(str(n)))
    return pa.array([f"T{i + 1:0{width}d}" for i in range(n)], type=pa.large_string())


def month_generators(seed: int, m: int, lo: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Return the two generators of month ``m``: entries, then the step.

    Each month draws from its own streams (derived from the seed and the month), so a
    month can be replayed from a snapshot of the state taken at the end of the month
    before: see :func:`advance`.
    """
    return (
        np.random.default_rng([seed, 1, m - lo]),
        np.random.default_rng([seed, 2, m - lo]),
    )


def advance(
    state: State,
    ctx: Context,
    m: int,
    rec: Recorder | None = None,
    entering: Idx | None = None,
) -> StepResult:
    """Run month ``m`` of the simulation proper: entries, then the step.

    Parameters
    ----------
    state
        Full state at the end of month ``m - 1`` (modified in place).
    ctx
        Configuration and calendar.
    m
        Month index.
    rec
        Recorder, or ``None`` to replay silently.
    entering
        Rows entering this month; by default those whose activation month is ``m``.
    """
    grid = ctx.grid
    entry_rng, step_rng = month_generators(ctx.config.seed, m, grid.lo)
    if entering is None:
        entering = np.flatnonzero((state.active_m == m) & (state.phase == WAITING))
    activate(state, entering, ctx, m, entry_rng, rec)
    return step(state, ctx, m, step_rng, rec, allow_departures=m >= 0)


def replay(config: SimulationConfig, last_month: int, on_month: MonthHook) -> Context:
    """Run the simulation silently (no rows recorded) up to month ``last_month``.

    Every draw is the same with or without a recorder, so the state passed to
    ``on_month`` after each month ``0 .. last_month`` is the state :func:`run` had then,
    at the cost of the state arrays only (no ledger is kept).

    Parameters
    ----------
    config
        The run's configuration.
    last_month
        Last month index to simulate (``0`` is the first month of the period).
    on_month
        Called after each month of the period with ``(month, state, context)``.

    Returns
    -------
    Context
        The run's context.
    """
    grid = MonthGrid.build(config.start, config.end, config.burn_in_months)
    ctx = Context(config=config, grid=grid)
    state, _ = populate(ctx, np.random.default_rng([config.seed, 0]))
    bounds = np.searchsorted(state.active_m, np.arange(grid.lo, grid.n_months + 1))
    for m in range(grid.lo, min(last_month, grid.n_months - 1) + 1):
        rows = np.arange(bounds[m - grid.lo], bounds[m - grid.lo + 1])
        advance(state, ctx, m, None, entering=rows)
        if m >= 0:
            on_month(m, state, ctx)
    return ctx


def run(config: SimulationConfig, on_month: MonthHook | None = None) -> RunOutput:
    """Simulate a whole portfolio.

    Parameters
    ----------
    config
        The run's configuration.
    on_month
        Optional hook called after each month of the period with the state.
    """
    grid = MonthGrid.build(config.start, config.end, config.burn_in_months)
    ctx = Context(config=config, grid=grid)
    state, residence_ids = populate(ctx, np.random.default_rng([config.seed, 0]))
    rec = Recorder(
        ledger_from_day=grid.start_day,
        ledger_to_day=grid.end_day,
        facts_to_day=grid.end_day,
        keep_truth=config.keep_truth,
    )
    # Tenancies are ordered by entry, so each month's arrivals are a contiguous slice.
    bounds = np.searchsorted(state.active_m, np.arange(grid.lo, grid.n_months + 1))
    for m in range(grid.lo, grid.n_months):
        if m == 0:
            open_balances(state, ctx, rec)
            rec.truth_on = True
        rows = np.arange(bounds[m - grid.lo], bounds[m - grid.lo + 1])
        advance(state, ctx, m, rec, entering=rows)
        if on_month is not None and m >= 0:
            on_month(m, state, ctx)
    open_episodes(
        state,
        np.flatnonzero(state.phase == PRESENT),
        ctx,
        np.random.default_rng([config.seed, 3]),
        rec,
    )

    ids = tenancy_ids(len(state))
    portfolio = Portfolio.from_frames(
        tenancies=tenancies_frame(state, ctx, ids, residence_ids),
        incomes=rec.incomes_frame(ids),
        apl=rec.apl_frame(ids),
        ledger=rec.ledger_frame(ids),
        support=rec.support_frame(ids),
    )
    truth = truth_frame(rec, ids, grid.origin)
    return RunOutput(portfolio=portfolio, truth=truth, state=state, context=ctx)


def tenancies_frame(
    state: State, ctx: Context, ids: pa.Array, residence_ids: list[str]
) -> pd.DataFrame:
    """Build the contract tenancies table (``monthly_rent``: the last rent billed)."""
    frame = pd.DataFrame(
        {
            "tenancy_id": strings(np.arange(len(state)), ids),
            "residence_id": strings(state.residence, residence_ids),
            "residence_type": strings(state.rtype, ctx.type_names),
            "start_date": days_to_datetime(state.start_day),
            "end_date": days_to_datetime(state.end_day),
            "monthly_rent": state.rent.astype(np.float64),
            "guarantee": strings(state.guarantee, GUARANTEES),
            "tenant_birth_year": state.birth_year.astype(np.int64),
            "household_type": strings(state.household, HOUSEHOLD_TYPES),
            "children": state.children.astype(np.int64),
        }
    )
    return frame[list(TENANCIES.column_names)]


@dataclass(frozen=True)
class RollOut:
    """Month-end outcomes of a roll-out: one row per rolled tenancy, one column per month.

    ``months_owed`` is the balance in months of residual rent at each month-end (NaN
    once the tenancy has left); ``balance`` the balance in EUR (after the settlement
    for those who left); ``present`` whether the tenancy was present during the month.
    """

    months_owed: npt.NDArray[np.float64]
    balance: npt.NDArray[np.float64]
    present: npt.NDArray[np.bool_]


def roll_out(
    state: State, ctx: Context, first_month: int, n_months: int, rng: np.random.Generator
) -> RollOut:
    """Roll a copy of ``state`` forward ``n_months`` months from ``first_month``, silently.

    The building block of Monte Carlo estimates from the simulator's hidden state (the
    oracle): repeat rows to draw several paths at once, e.g.
    ``roll_out(state.subset(np.repeat(rows, 100)), ctx, m + 1, 3, rng)``. No tenancy
    enters during a roll-out.
    """
    work = state.subset(np.arange(len(state)))
    n = len(work)
    owed = np.full((n, n_months), np.nan)
    balance = np.zeros((n, n_months))
    present = np.zeros((n, n_months), dtype=bool)
    for j in range(n_months):
        result = step(work, ctx, first_month + j, rng, None, allow_departures=first_month + j >= 0)
        owed[result.rows, j] = result.months_owed
        present[result.rows, j] = True
        balance[:, j] = work.balance
    return RollOut(months_owed=owed, balance=balance, present=present)
