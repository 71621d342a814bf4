"""What "in arrears" means, shared by the features and the labels.

Practitioners count arrears in months of *residual rent*: the rent and charges billed
minus the housing benefit (APL) that covers part of them. A household whose APL covers
almost all the rent would otherwise be "two months behind" for a few euros, so the
residual rent is floored at a share of the full rent.
"""

from __future__ import annotations

#: Residual rent never counts for less than this share of the full monthly rent.
RESIDUAL_RENT_FLOOR_SHARE = 0.10
#: Unpaid balance, in months of residual rent, from which a household is in arrears
#: (LogemLoiret's alert: two unpaid monthly rents).
ARREARS_MONTHS = 2.0


def residual_rent_sql(rent: str, apl: str) -> str:
    """Return a SQL expression for the residual rent, EUR a month.

    Parameters
    ----------
    rent
        SQL expression of the monthly rent and charges.
    apl
        SQL expression of the monthly APL amount in force (NULL counts as 0).
    """
    return f"GREATEST({rent} - COALESCE({apl}, 0), {RESIDUAL_RENT_FLOOR_SHARE} * {rent})"
