"""Guarantee, household and tenure features: facts of the tenancy itself.

These come from the tenancies table, which has no posted date: the entry date, rent,
guarantee, birth year and composition are known from entry. The rows scored at an
as-of date are the tenancies present then (:func:`~risk.features.point_in_time.present_at`).
"""

from __future__ import annotations

from risk.catalogue import AGE_BANDS
from risk.features.point_in_time import AsOf, complete_months_between, present_at

#: Tenancies under this many complete months are new entrants (LogemLoiret's target
#: group: first arrears within 6 months of entry).
NEW_ENTRANT_MONTHS = 6
#: VISALE is not available to tenants aged 30 and over, except some cases.
VISALE_AGE_LIMIT = 30
#: Lower bound (years) of each age band after the first, aligned with AGE_BANDS.
_AGE_BAND_FLOORS = (25, 30, 45, 60)


def present_cte(as_of: AsOf) -> str:
    """Return the SQL of the ``present`` CTE: tenancies present at as-of."""
    return f"SELECT t.* FROM tenancies t WHERE {present_at('t', as_of)}"


def _age_band_sql(age: str) -> str:
    whens = [f"WHEN {age} < {_AGE_BAND_FLOORS[0]} THEN '{AGE_BANDS[0]}'"]
    for floor, band in zip(_AGE_BAND_FLOORS[1:], AGE_BANDS[1:-1], strict=True):
        whens.append(f"WHEN {age} < {floor} THEN '{band}'")
    return f"CASE {' '.join(whens)} ELSE '{AGE_BANDS[-1]}' END"


def columns(as_of: AsOf, base: str) -> dict[str, str]:
    """Return SQL expressions of the tenancy-level features.

    Parameters
    ----------
    as_of
        The as-of date.
    base
        Alias of the one-row-per-present-tenancy relation holding the tenancy columns.
    """
    # Only the birth year is in the contract, so age is "age reached in the as-of year".
    age = f"({as_of.date.year} - {base}.tenant_birth_year)"
    tenure = complete_months_between(f"{base}.start_date", as_of)
    return {
        "guarantee_type": f"{base}.guarantee",
        "has_guarantee": f"{base}.guarantee <> 'none'",
        "aged_30_or_over": f"{age} >= {VISALE_AGE_LIMIT}",
        "age_band": _age_band_sql(age),
        "household_type": f"{base}.household_type",
        "children": f"{base}.children",
        "months_since_entry": tenure,
        "new_entrant": f"{tenure} < {NEW_ENTRANT_MONTHS}",
        "residence_type": f"{base}.residence_type",
        "calendar_month": str(as_of.date.month),
    }
