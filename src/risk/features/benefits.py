"""Housing-benefit (APL) features.

An APL row is in force at a date when it was posted before as-of and took effect
before that date (:func:`~risk.features.point_in_time.in_force_at`). The amount three
months ago is read with today's knowledge (rows posted before as-of), which leaks
nothing and includes back-dated recalculations already known. A tenancy without any
known APL row is counted as not entitled (amount 0): the landlord records every
entitlement it is told of.
"""

from __future__ import annotations

from risk.features.codes import CODE_BITS, pack_amount_sql, unpack_amount_sql, unpack_code_sql
from risk.features.point_in_time import AsOf, complete_months_between, in_force_at

#: Look-back of the APL change: benefits are recalculated every quarter since 2021.
APL_CHANGE_MONTHS = 3


def ctes(as_of: AsOf) -> list[tuple[str, str]]:
    """Return the CTEs computing the APL in force now, three months ago, and its loss.

    Returns
    -------
    list of (name, sql)
        ``apl_now``: one row per tenancy with a known APL row, with ``amount``,
        ``paid_to_landlord``, ``amount_before`` (in force ``APL_CHANGE_MONTHS`` earlier)
        and ``lost_date`` (effective date of the first zero row after the last positive
        one, when the amount in force is 0).
    """
    before = as_of.months_before_sql(APL_CHANGE_MONTHS)
    # Amount and tiers-payant flag packed in one BIGINT (cheap arg_max, see codes). Rows
    # for one effective date are corrections: the latest posted before as-of wins.
    row = pack_amount_sql("a.monthly_amount", "CAST(a.paid_to_landlord AS INTEGER)")
    # CASE rather than FILTER: DuckDB's filtered aggregates cost a pass each.
    before_row = in_force_at("a", before, as_of)
    apl_latest = f"""
        SELECT a.tenancy_id,
               arg_max({row}, row(a.effective_date, a.posted_date)) AS current_row,
               arg_max(CASE WHEN {before_row} THEN a.monthly_amount END,
                       CASE WHEN {before_row} THEN row(a.effective_date, a.posted_date) END)
                   AS amount_before,
               max(CASE WHEN a.monthly_amount > 0 THEN a.effective_date END) AS last_positive
        FROM apl a
        WHERE {in_force_at('a', as_of.sql, as_of)}
        GROUP BY a.tenancy_id"""
    # Only tenancies whose APL in force is 0 need the date it was lost: a small join.
    apl_lost = f"""
        SELECT a.tenancy_id, min(a.effective_date) AS lost_date
        FROM apl a JOIN apl_latest n ON n.tenancy_id = a.tenancy_id
        WHERE n.current_row < {2**CODE_BITS} AND {in_force_at('a', as_of.sql, as_of)}
          AND a.monthly_amount = 0 AND a.effective_date > n.last_positive
        GROUP BY a.tenancy_id"""
    apl_now = f"""
        SELECT n.tenancy_id, {unpack_amount_sql('n.current_row')} AS amount,
               {unpack_code_sql('n.current_row')} = 1 AS paid_to_landlord,
               n.amount_before, l.lost_date
        FROM apl_latest n LEFT JOIN apl_lost l ON l.tenancy_id = n.tenancy_id"""
    return [("apl_latest", apl_latest), ("apl_lost", apl_lost), ("apl_now", apl_now)]


def columns(as_of: AsOf, base: str) -> dict[str, str]:
    """Return SQL expressions of the APL features.

    Parameters
    ----------
    as_of
        The as-of date.
    base
        Alias of the relation holding, per present tenancy, the tenancy columns and
        ``apl_now``'s columns prefixed ``apl_`` (``apl_amount`` already 0 when unknown).
    """
    before = as_of.months_before_sql(APL_CHANGE_MONTHS)
    amount = f"{base}.apl_amount"
    return {
        "apl_entitled": f"{amount} > 0",
        "apl_amount": amount,
        "apl_rent_share": f"{amount} / NULLIF({base}.monthly_rent, 0)",
        "apl_change_3m": (
            f"CASE WHEN {base}.start_date >= {before} THEN NULL "
            f"ELSE {amount} - COALESCE({base}.apl_amount_before, 0) END"
        ),
        "apl_months_since_lost": (
            f"CASE WHEN {amount} = 0 AND {base}.apl_lost_date IS NOT NULL "
            f"THEN {complete_months_between(f'{base}.apl_lost_date', as_of)} END"
        ),
        "apl_paid_to_landlord": (
            f"CASE WHEN {amount} > 0 THEN {base}.apl_paid_to_landlord END"
        ),
    }
