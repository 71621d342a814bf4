"""Employment, incomes and expense shocks of the households, month by month.

Employment follows a monthly Markov chain (job loss, return to work, retirement with
age); an unemployed tenant lives on unemployment benefit for a limited time and then on
the RSA (or, under 25, on family help or the youth allowance). Entry requires
resources, so entrants are more often in work than the stationary mix: unemployment and
incomes below 636 EUR become more frequent with time spent in the residence, which is
what the ALFI study measured between entry and 31 August 2024 (unemployed 14% -> 30%,
income < 636 EUR 4% -> 17% among households in arrears).

The landlord learns of a lasting change only when it is reported, weeks after it took
effect; month-to-month wage noise of short contracts is never reported.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from risk.simulation.months import first_days
from risk.simulation.records import SOURCE, Recorder
from risk.simulation.state import EMP, NEVER, Context, State

Idx = npt.NDArray[np.intp]
F = npt.NDArray[np.float64]

_WORK = np.array([EMP["permanent"], EMP["fixed_term"], EMP["temporary_agency"]])
_NO_RSA_AGE = 25


def ages(state: State, idx: Idx, ctx: Context, m: int) -> npt.NDArray[np.int64]:
    """Age of the main tenant of rows ``idx`` during month ``m``."""
    return ctx.grid.year(m) - state.birth_year[idx].astype(np.int64)


def household_income(state: State, idx: Idx, ctx: Context, m: int) -> tuple[F, F]:
    """Monthly household income of rows ``idx`` in month ``m``, before wage noise.

    The main tenant's income follows from the employment status; a partner's wage and
    family benefits are added; lasting changes scale the earned part.

    Returns
    -------
    total, taxable
        The whole income, and the part the APL counts: minimum income, disability
        benefit, apprentice wages and family benefits are not taxable and are left out,
        which is why households on the RSA receive the full benefit.
    """
    eco = ctx.config.economy
    smic = ctx.by_year(eco.smic, m)
    rsa = ctx.by_year(eco.minimum_income, m)
    emp = state.emp[idx]
    wage = smic * state.wage_factor[idx].astype(np.float64)
    age = ages(state, idx, ctx, m)
    children = state.children[idx].astype(np.float64)
    couple = state.adults[idx] > 1
    # RSA scale: +50% for a second adult, +30% per child.
    rsa_household = rsa * (1.0 + 0.5 * couple + 0.3 * children)
    youth = state.youth_income[idx].astype(np.float64)
    no_work = np.where(age >= _NO_RSA_AGE, rsa_household, youth)
    on_benefit = state.benefit_left[idx] > 0
    unemployed = emp == EMP["unemployed"]
    inactive = emp == EMP["inactive"]
    main = np.select(
        [
            emp == EMP["permanent"],
            emp == EMP["fixed_term"],
            emp == EMP["temporary_agency"],
            unemployed,
            emp == EMP["retired"],
            emp == EMP["student"],
            inactive,
        ],
        [
            wage,
            0.95 * wage,
            0.9 * wage,
            np.where(on_benefit, eco.unemployment_replacement * state.last_wage[idx], no_work),
            np.maximum(eco.pension_replacement * wage, ctx.by_year(eco.minimum_pension, m)),
            eco.student_wage_share * wage,
            np.where(state.disabled[idx], ctx.by_year(eco.disability_benefit, m), no_work),
        ],
    )
    untaxed = (unemployed & ~on_benefit) | inactive | (emp == EMP["student"])
    # Lasting changes (hours, bonuses, a second job) move earned income, not benefits.
    factor = state.income_factor[idx].astype(np.float64)
    partner = smic * state.partner_wage[idx] * factor
    earning = np.isin(emp, _WORK) | (emp == EMP["student"])
    main = np.where(earning, main * factor, main)
    total = main + partner + eco.child_benefit * children
    taxable = np.where(untaxed, 0.0, main) + partner
    return total, taxable


def income_source(state: State, idx: Idx, ctx: Context, m: int) -> npt.NDArray[np.int8]:
    """Contract income source code of rows ``idx`` (main source of the income)."""
    emp = state.emp[idx]
    adult = ages(state, idx, ctx, m) >= _NO_RSA_AGE
    no_work = np.where(adult, SOURCE["minimum_income"], SOURCE["other"])
    source = np.select(
        [
            np.isin(emp, _WORK) | (emp == EMP["student"]),
            emp == EMP["unemployed"],
            emp == EMP["retired"],
            emp == EMP["inactive"],
        ],
        [
            SOURCE["salary"],
            np.where(state.benefit_left[idx] > 0, SOURCE["unemployment_benefit"], no_work),
            SOURCE["pension"],
            np.where(state.disabled[idx], SOURCE["disability_benefit"], no_work),
        ],
        default=SOURCE["other"],
    )
    return source.astype(np.int8)


def employment_step(
    state: State, idx: Idx, ctx: Context, m: int, rng: np.random.Generator
) -> npt.NDArray[np.bool_]:
    """Move rows ``idx`` along the employment chain; return which changed status."""
    eco = ctx.config.economy
    emp = state.emp[idx]
    probs = np.asarray(eco.transitions, dtype=np.float64)[emp]
    # Return to work is rarer far from employment (pensions de famille, accueil).
    employability = ctx.per_type("employability")[state.rtype[idx]]
    probs[:, _WORK] *= employability[:, None]
    probs[:, EMP["unemployed"]] *= ctx.by_year(eco.job_loss_trend, m)
    if ctx.is_lockdown(m):
        short = np.isin(emp, [EMP["fixed_term"], EMP["temporary_agency"]])
        probs[short, EMP["unemployed"]] *= eco.lockdown_job_loss_factor
    age = ages(state, idx, ctx, m)
    hazard = np.zeros(len(idx))
    for from_age, rate in eco.retirement_hazard:
        hazard[age >= from_age] = rate
    not_retired = emp != EMP["retired"]
    probs[not_retired] *= (1.0 - hazard[not_retired])[:, None]
    probs[not_retired, EMP["retired"]] = hazard[not_retired]
    probs[np.arange(len(idx)), emp] = 0.0
    probs[np.arange(len(idx)), emp] = np.clip(1.0 - probs.sum(axis=1), 0.0, 1.0)
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(idx)) * cum[:, -1]
    new = (u[:, None] >= cum).sum(axis=1).clip(0, len(eco.transitions) - 1).astype(np.int8)
    changed = new != emp

    # Benefit rights at job loss: longer after a permanent job or from 53.
    lost = changed & (new == EMP["unemployed"])
    draw_long = rng.integers(*eco.benefit_months_permanent, endpoint=True, size=len(idx))
    draw_short = rng.integers(*eco.benefit_months_short, endpoint=True, size=len(idx))
    months = np.where(emp == EMP["permanent"], draw_long, draw_short)
    months = np.where(age >= 53, eco.benefit_months_senior, months)
    months = np.where(emp == EMP["student"], draw_short // 3, months)
    months = np.where(np.isin(emp, np.append(_WORK, EMP["student"])), months, 0)
    left = state.benefit_left[idx].astype(np.int64) - 1
    left = np.where(lost, months, left).clip(0, None)
    state.benefit_left[idx] = left.astype(np.int16)
    # A new job or retirement starts from the tenant's usual level.
    state.income_factor[idx[changed & (new != EMP["unemployed"])]] = 1.0
    state.emp[idx] = new
    return changed


def income_step(state: State, idx: Idx, ctx: Context, m: int, rng: np.random.Generator) -> None:
    """Lasting income changes, this month's income with wage noise, expense shocks."""
    eco = ctx.config.economy
    k = len(idx)
    factor = state.income_factor[idx]
    u = rng.random(k)
    drop = u < eco.income_drop_rate
    rise = (u >= eco.income_drop_rate) & (u < eco.income_drop_rate + eco.income_rise_rate)
    factor = np.where(drop, factor * rng.uniform(*eco.income_drop_range, size=k), factor)
    factor = np.where(rise, factor * rng.uniform(*eco.income_rise_range, size=k), factor)
    state.income_factor[idx] = np.clip(factor, 0.3, 1.6)

    base, taxable = household_income(state, idx, ctx, m)
    emp = state.emp[idx]
    working = np.isin(emp, _WORK)
    smic = ctx.by_year(eco.smic, m)
    wage = smic * state.wage_factor[idx] * np.where(emp == EMP["permanent"], 1.0, 0.93)
    state.last_wage[idx] = np.where(working, wage, state.last_wage[idx])
    sd = np.select(
        [emp == EMP["fixed_term"], emp == EMP["temporary_agency"]],
        [eco.hours_noise_fixed_term, eco.hours_noise_agency],
        0.0,
    )
    noise = np.exp(sd * rng.standard_normal(k) - 0.5 * sd**2)
    if ctx.is_lockdown(m):
        noise = np.where(working, noise * eco.lockdown_income_factor, noise)
    state.income_base[idx] = base
    state.income[idx] = base * noise
    state.taxable[idx] = taxable * noise

    shock = state.shock[idx]
    goes_on = rng.random(k) < eco.shock_persistence
    families = 1.0 + 0.4 * (state.children[idx] > 0)
    starts = rng.random(k) < eco.shock_rate * families
    cost = rng.uniform(*eco.shock_cost, size=k)
    state.shock[idx] = np.where(
        shock > 0, np.where(goes_on, shock, 0.0), np.where(starts, cost, 0.0)
    )


def report_incomes(
    state: State,
    idx: Idx,
    ctx: Context,
    m: int,
    rng: np.random.Generator,
    rec: Recorder | None,
    changed: npt.NDArray[np.bool_],
) -> None:
    """Record the income changes the landlord learns of this month.

    A change of status is usually reported; a lasting change of level (beyond
    ``income_material_change``) only sometimes, so that the landlord's income lags the
    truth. The row takes effect on the first day of the month the change began and is
    posted weeks later.
    """
    post = ctx.config.posting
    base = state.income_base[idx]
    reported = state.reported_income[idx]
    material = (state.emp[idx] != state.reported_emp[idx]) | (
        np.abs(base - reported) > post.income_material_change * np.maximum(reported, 50.0)
    )
    drift = state.drift_m[idx]
    drift = np.where(material, np.where(drift == NEVER, m, drift), NEVER)
    u = rng.random(len(idx))
    report = material & ((changed & (u < post.status_report_rate)) | (u < post.income_report_rate))
    rows = idx[report]
    day = first_days(ctx.grid.origin + drift[report].astype(np.int64))
    lag = ctx.grid.first_day(m) - day + rng.integers(*post.income_days, size=len(rows))
    if rec is not None:
        rec.income(
            rows,
            day,
            lag,
            base[report],
            state.emp[rows],
            income_source(state, rows, ctx, m),
        )
    state.reported_income[rows] = base[report]
    state.reported_emp[rows] = state.emp[rows]
    state.drift_m[idx] = np.where(report, NEVER, drift)
