"""Residences, tenancies and households: everything drawn once, at creation.

The number of tenancies is exact: homes of each residence type are filled at the start
of the period (the stock, with a tenure drawn from the type's departure rate) and the
remaining tenancies enter during the period, as many per type as the type's turnover
implies, so that occupancy stays roughly stable. Identifiers follow entry order.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from risk.contract import HOUSEHOLD_TYPES
from risk.simulation.config import SimulationConfig, year_value
from risk.simulation.months import NO_DAY, MonthGrid, first_days, month_lengths
from risk.simulation.state import EMP, HISTORY, NEVER, WAITING, Context, State

HH = {code: i for i, code in enumerate(HOUSEHOLD_TYPES)}
#: Longest tenure drawn for a tenancy already present at the start, in months.
MAX_TENURE_MONTHS = 40 * 12
#: Oldest age of a main tenant at the end of the period.
OLDEST = 98
#: Entry seasonality of FJT (young workers and apprentices arrive in September).
FJT_SEASON = (1.0, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.1, 1.8, 1.5, 1.1, 0.8)


def _largest_remainder(total: int, weights: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Split ``total`` into integers proportional to ``weights``, summing exactly."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    rest = total - int(out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


def choose(
    rng: np.random.Generator, probs: npt.NDArray[np.float64], rows: npt.NDArray[np.integer]
) -> npt.NDArray[np.int8]:
    """Draw one category per row from ``probs[rows]`` (one probability row per group)."""
    cum = np.cumsum(probs, axis=1)[rows]
    u = rng.random(len(rows))[:, None] * cum[:, -1:]
    return (u >= cum).sum(axis=1).clip(0, probs.shape[1] - 1).astype(np.int8)


def plan_counts(config: SimulationConfig, grid: MonthGrid) -> tuple[npt.NDArray[np.int64], ...]:
    """Tenancies per residence type: ``(total, present at start, entering later)``."""
    params = list(config.residence_types.values())
    mix = config.profile_mix[config.profile]
    share = np.array([mix.get(name, 0.0) for name in config.residence_types])
    hazard = np.array([1.0 / p.mean_stay_months for p in params])
    weights = share * (1.0 + hazard * grid.n_months)
    total = _largest_remainder(config.n_tenancies, weights)
    stock = np.where(total > 0, np.maximum(np.round(total / (1.0 + hazard * grid.n_months)), 1), 0)
    stock = np.minimum(stock, total).astype(np.int64)
    return total, stock, total - stock


def populate(ctx: Context, rng: np.random.Generator) -> tuple[State, list[str]]:
    """Draw every tenancy of the run; return the state and the residence identifiers."""
    config, grid = ctx.config, ctx.grid
    params = ctx.type_params
    total, stock_n, _ = plan_counts(config, grid)
    n = int(total.sum())
    rtype = np.repeat(np.arange(len(params)), total).astype(np.int8)
    stock = np.concatenate([np.arange(t) < s for t, s in zip(total, stock_n, strict=True)])

    # Tenure and entry month.
    hazard = 1.0 / ctx.per_type("mean_stay_months")[rtype]
    tenure = np.minimum(rng.geometric(hazard), MAX_TENURE_MONTHS)
    season = np.tile(np.ones(12), (len(params), 1))
    season[ctx.type_names.index("fjt")] = FJT_SEASON
    month_weights = season[:, (grid.origin + np.arange(grid.n_months)) % 12]
    entry_m = choose(rng, month_weights, rtype).astype(np.int64)
    start_m = np.where(stock, -tenure, entry_m)
    absolute = grid.origin + start_m
    start_day = first_days(absolute) + np.floor(rng.random(n) * month_lengths(absolute)).astype(
        np.int64
    )

    # Residences: sized around the type's mean, rent level per residence.
    res_counts = np.where(total > 0, np.maximum(np.round(stock_n / ctx.per_type("units")), 1), 0)
    res_counts = res_counts.astype(np.int64)
    res_offset = np.concatenate([[0], np.cumsum(res_counts)[:-1]])
    n_res = int(res_counts.sum())
    res_type = np.repeat(np.arange(len(params)), res_counts)
    res_size = rng.gamma(4.0, 1.0, size=n_res)
    res_rent = np.exp(rng.normal(0.0, ctx.per_type("residence_rent_sd")[res_type]))
    res_regul = np.where(ctx.per_type("foyer")[res_type] > 0, 0, rng.integers(4, 8, size=n_res))
    residence = np.empty(n, dtype=np.int32)
    for t in range(len(params)):
        rows = np.flatnonzero(rtype == t)
        if len(rows):
            own = np.arange(res_offset[t], res_offset[t] + res_counts[t])
            w = res_size[own] / res_size[own].sum()
            residence[rows] = rng.choice(own, size=len(rows), p=w)

    # Households.
    age_mean, age_sd, age_min, age_max = (
        np.array([p.age_entry[i] for p in params], dtype=np.float64)[rtype] for i in range(4)
    )
    entry_age = np.clip(np.round(rng.normal(age_mean, age_sd)), age_min, age_max).astype(np.int64)
    entry_year = 1970 + absolute // 12
    # Long tenures started younger: nobody is older than OLDEST at the end of the period.
    years_in = (grid.origin + grid.n_months) // 12 + 1970 - entry_year
    entry_age = np.maximum(np.minimum(entry_age, OLDEST - years_in), age_min).astype(np.int64)
    birth_year = entry_year - entry_age
    households = np.array([p.households for p in params])
    household = choose(rng, households, rtype)
    active_m = np.maximum(start_m, grid.lo)
    age_now = 1970 + (grid.origin + active_m) // 12 - birth_year
    old = age_now >= 62
    household = np.where(old & (household == HH["single_parent"]), HH["single"], household)
    household = np.where(old & (household == HH["couple_with_children"]), HH["couple"], household)
    with_children = np.isin(household, [HH["single_parent"], HH["couple_with_children"]])
    children = np.where(
        with_children, 1 + rng.poisson(np.maximum(ctx.per_type("children_mean")[rtype] - 1, 0)), 0
    ).clip(0, 8)
    adults = np.where(np.isin(household, [HH["single"], HH["single_parent"]]), 1, 2)

    # Employment at activation: entrants' mix, or the stock's for those already present.
    entry_mix = np.array([p.employment_entry for p in params])
    stock_mix = np.array([p.employment_stock for p in params])
    emp = np.where(
        stock & (start_m < grid.lo), choose(rng, stock_mix, rtype), choose(rng, entry_mix, rtype)
    )
    emp = np.where((emp == EMP["retired"]) & (age_now < 57), EMP["permanent"], emp)
    emp = np.where((emp == EMP["student"]) & (age_now >= 30), EMP["unemployed"], emp)
    emp = np.where(age_now >= 67, EMP["retired"], emp).astype(np.int8)

    young = entry_age < 30
    guarantee = np.where(
        young,
        choose(rng, np.array([p.guarantee_young for p in params]), rtype),
        choose(rng, np.array([p.guarantee_older for p in params]), rtype),
    ).astype(np.int8)

    eco = config.economy
    z = rng.standard_normal(n)
    # Households that do not pay are somewhat harder to reach.
    reach = -0.3 * z + np.sqrt(1 - 0.09) * rng.standard_normal(n)
    wage_factor = np.exp(rng.normal(eco.wage_log_mean, eco.wage_log_sd, size=n))
    partner = (adults > 1) & (rng.random(n) < eco.partner_earner_share)
    partner_wage = np.where(
        partner, np.exp(rng.normal(-0.05, eco.partner_wage_log_sd, size=n)), 0.0
    )
    persons = adults + children
    type_rent = ctx.per_type("rent")[rtype]
    rent = (
        (type_rent + ctx.per_type("rent_per_person")[rtype] * (persons - 1))
        * res_rent[residence]
        * np.exp(rng.normal(0.0, ctx.per_type("rent_sd")[rtype]))
    )
    smic = np.array([year_value(eco.smic, int(y)) for y in range(1990, 2040)])
    act_year = np.clip(1970 + (grid.origin + active_m) // 12, 1990, 2039) - 1990

    raw = {
        "rtype": rtype,
        "residence": residence,
        "start_m": start_m,
        "start_day": start_day,
        "birth_year": birth_year,
        "household": household,
        "children": children,
        "adults": adults,
        "guarantee": guarantee,
        "propensity": z,
        "reachability": reach,
        "tiers": rng.random(n) < ctx.per_type("tiers_payant")[rtype],
        "eligible": rng.random(n) < ctx.per_type("apl_eligible")[rtype],
        "disabled": rng.random(n) < ctx.per_type("disability_share")[rtype],
        "wage_factor": wage_factor,
        "partner_wage": partner_wage,
        "youth_income": rng.uniform(*eco.youth_income, size=n),
        "debit_day": np.where(rng.random(n) < 0.5, 5, 10),
        "regularisation_month": res_regul[residence],
        "active_m": active_m,
        "rent": np.round(rent, 2),
        "emp": emp,
        # Entrants out of work were admitted on their unemployment benefit.
        "benefit_left": np.where(emp == EMP["unemployed"], rng.integers(3, 16, size=n), 0),
        "last_wage": smic[act_year] * wage_factor,
        "method": choose(rng, np.array([p.payment_methods for p in params]), rtype),
    }
    order = np.lexsort((rng.random(n), start_day))
    state = _assemble({k: np.asarray(v)[order] for k, v in raw.items()})
    width = max(4, len(str(n_res)))
    return state, [f"R{i + 1:0{width}d}" for i in range(n_res)]


def _assemble(raw: dict[str, npt.NDArray[np.generic]]) -> State:
    """Build the state from the drawn attributes, with every dynamic attribute at rest."""
    n = len(raw["rtype"])
    zeros32 = np.zeros(n, dtype=np.float32)
    return State(
        rtype=raw["rtype"].astype(np.int8),
        residence=raw["residence"].astype(np.int32),
        start_m=raw["start_m"].astype(np.int32),
        start_day=raw["start_day"].astype(np.int64),
        birth_year=raw["birth_year"].astype(np.int16),
        household=raw["household"].astype(np.int8),
        children=raw["children"].astype(np.int8),
        adults=raw["adults"].astype(np.int8),
        guarantee=raw["guarantee"].astype(np.int8),
        propensity=raw["propensity"].astype(np.float32),
        reachability=raw["reachability"].astype(np.float32),
        tiers=raw["tiers"].astype(bool),
        eligible=raw["eligible"].astype(bool),
        disabled=raw["disabled"].astype(bool),
        wage_factor=raw["wage_factor"].astype(np.float32),
        partner_wage=raw["partner_wage"].astype(np.float32),
        youth_income=raw["youth_income"].astype(np.float32),
        debit_day=raw["debit_day"].astype(np.int8),
        regularisation_month=raw["regularisation_month"].astype(np.int8),
        phase=np.full(n, WAITING, dtype=np.int8),
        active_m=raw["active_m"].astype(np.int32),
        end_day=np.full(n, NO_DAY, dtype=np.int64),
        settle_day=np.full(n, NO_DAY, dtype=np.int64),
        settle_m=np.full(n, NEVER, dtype=np.int32),
        rent=raw["rent"].astype(np.float64),
        emp=raw["emp"].astype(np.int8),
        benefit_left=raw["benefit_left"].astype(np.int16),
        last_wage=raw["last_wage"].astype(np.float32),
        income_factor=np.ones(n, dtype=np.float32),
        income_base=zeros32.copy(),
        income=zeros32.copy(),
        taxable=zeros32.copy(),
        reported_income=zeros32.copy(),
        reported_emp=raw["emp"].astype(np.int8),
        drift_m=np.full(n, NEVER, dtype=np.int32),
        history=np.zeros((n, HISTORY), dtype=np.float32),
        year_sum=zeros32.copy(),
        past1=zeros32.copy(),
        past2=zeros32.copy(),
        apl=zeros32.copy(),
        apl_m=np.full(n, NEVER, dtype=np.int32),
        apl_cut_m=np.full(n, NEVER, dtype=np.int32),
        apl_delay=np.zeros(n, dtype=np.int8),
        apl_backpay=zeros32.copy(),
        apl_suspended=np.zeros(n, dtype=bool),
        method=raw["method"].astype(np.int8),
        balance=np.zeros(n, dtype=np.float64),
        arrears_m=np.zeros(n, dtype=np.int16),
        shock=zeros32.copy(),
        support=np.zeros(n, dtype=bool),
        support_start=np.full(n, NO_DAY, dtype=np.int64),
        watched=np.zeros(n, dtype=bool),
        plan=np.zeros(n, dtype=bool),
        plan_start=np.full(n, NO_DAY, dtype=np.int64),
        plan_instalment=zeros32.copy(),
        contact_m=np.full(n, NEVER, dtype=np.int32),
        contacted=np.zeros(n, dtype=bool),
        fsl_m=np.full(n, NEVER, dtype=np.int32),
        guarantee_left=zeros32.copy(),
        p_miss=zeros32.copy(),
        missed=np.zeros(n, dtype=bool),
    )
