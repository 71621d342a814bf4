"""Income, employment and affordability features.

An income row is in force at as-of when it was posted and took effect before as-of
(:func:`~risk.features.point_in_time.in_force_at`): a change announced before as-of
but effective later is not yet in force. The income at entry is the earliest known row
(by effective date): the export's first view of the household.
"""

from __future__ import annotations

from risk.catalogue import INCOME_BAND_EDGES, INCOME_BANDS
from risk.contract import EMPLOYED_STATUSES, EMPLOYMENT_STATUSES
from risk.features.codes import (
    code_sql,
    decode_sql,
    pack_amount_sql,
    unpack_amount_sql,
    unpack_code_sql,
)
from risk.features.point_in_time import AsOf, in_force_at

#: Effort rates above this are clipped: beyond it the rent is unaffordable anyway, and a
#: near-zero income would otherwise give unbounded values.
EFFORT_RATE_CAP = 2.0
#: OECD-modified scale: weight of the first adult, of each other adult, of each child.
FIRST_ADULT_UNITS = 1.0
OTHER_ADULT_UNITS = 0.5
CHILD_UNITS = 0.3
#: Household types with a second adult. "other" (shared or multi-generation homes) is
#: counted as two adults: one adult would overstate the income left per person.
TWO_ADULT_HOUSEHOLDS = ("couple", "couple_with_children", "other")
#: Statuses that mean the job is gone (retirement and studies are not job losses).
NO_JOB_STATUSES = ("unemployed", "inactive")


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def ctes(as_of: AsOf) -> list[tuple[str, str]]:
    """Return the CTE computing the income in force now and at entry.

    Returns
    -------
    list of (name, sql)
        ``income_now``: one row per tenancy with a known income, with packed
        ``current_row`` and ``entry_row`` (see :func:`base_columns`).
    """
    # The income and the status of a row travel packed in one BIGINT: arg_max on it is
    # several times cheaper than on a struct or on two separate values. Rows for one
    # effective date are corrections: the latest posted before as-of wins (the
    # ordering keys are (effective_date, posted_date)).
    row = pack_amount_sql("i.monthly_income", code_sql("i.employment_status", EMPLOYMENT_STATUSES))
    income_now = f"""
        SELECT i.tenancy_id,
               arg_max({row}, row(i.effective_date, i.posted_date)) AS current_row,
               arg_min({row}, row(i.effective_date, -epoch(i.posted_date))) AS entry_row
        FROM incomes i
        WHERE {in_force_at('i', as_of.sql, as_of)}
        GROUP BY i.tenancy_id"""
    return [("income_now", income_now)]


def base_columns(alias: str) -> str:
    """Return the SELECT list unpacking ``income_now`` (alias ``alias``) for the base CTE."""
    current, entry = f"{alias}.current_row", f"{alias}.entry_row"
    return (
        f"{unpack_amount_sql(current)} AS income, "
        f"{decode_sql(unpack_code_sql(current), EMPLOYMENT_STATUSES)} AS employment_status, "
        f"{unpack_amount_sql(entry)} AS entry_income, "
        f"{decode_sql(unpack_code_sql(entry), EMPLOYMENT_STATUSES)} AS entry_status"
    )


def consumption_units_sql(base: str) -> str:
    """Return SQL for the household's OECD consumption units."""
    return (
        f"({FIRST_ADULT_UNITS} "
        f"+ CASE WHEN {base}.household_type IN {_sql_list(TWO_ADULT_HOUSEHOLDS)} "
        f"THEN {OTHER_ADULT_UNITS} ELSE 0 END "
        f"+ {CHILD_UNITS} * {base}.children)"
    )


def _income_band_sql(income: str) -> str:
    whens = [
        f"WHEN {income} < {edge} THEN '{band}'"
        for edge, band in zip(INCOME_BAND_EDGES, INCOME_BANDS[:-1], strict=True)
    ]
    return f"CASE WHEN {income} IS NULL THEN NULL {' '.join(whens)} ELSE '{INCOME_BANDS[-1]}' END"


def columns(base: str) -> dict[str, str]:
    """Return SQL expressions of the income and affordability features.

    Parameters
    ----------
    base
        Alias of the relation holding, per present tenancy, the tenancy columns,
        ``income_now``'s columns (NULL when no income is known), ``apl_amount`` and
        ``residual_rent``.
    """
    income = f"{base}.income"
    rent_net_of_apl = f"GREATEST({base}.monthly_rent - {base}.apl_amount, 0)"
    return {
        "income_monthly": income,
        "income_band": _income_band_sql(income),
        "income_change_since_entry": f"{income} / NULLIF({base}.entry_income, 0) - 1",
        "employment_status": f"{base}.employment_status",
        "job_lost_since_entry": (
            f"CASE WHEN {income} IS NULL THEN NULL ELSE "
            f"({base}.entry_status IN {_sql_list(EMPLOYED_STATUSES)} "
            f"AND {base}.employment_status IN {_sql_list(NO_JOB_STATUSES)}) END"
        ),
        "monthly_rent": f"{base}.monthly_rent",
        "residual_rent": f"{base}.residual_rent",
        "effort_rate": (
            f"CASE WHEN {income} IS NULL THEN NULL "
            f"WHEN {income} <= 0 THEN CASE WHEN {rent_net_of_apl} > 0 THEN {EFFORT_RATE_CAP} "
            f"ELSE 0 END "
            f"ELSE LEAST({rent_net_of_apl} / {income}, {EFFORT_RATE_CAP}) END"
        ),
        "remaining_income_per_cu": (
            f"({income} - ({base}.monthly_rent - {base}.apl_amount)) "
            f"/ {consumption_units_sql(base)}"
        ),
    }
