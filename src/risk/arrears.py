"""What "in arrears" means, shared by the features, the labels and the simulator.

Practitioners count arrears in months of *residual rent* (loyer résiduel): what the
tenant has to pay the landlord each month, that is the rent and charges billed minus
the housing benefit (APL) when the landlord receives it directly (tiers payant). APL
paid to the tenant does not lower what the tenant owes the landlord, so it is not
subtracted. A household whose APL covers almost all the rent would otherwise be "two
months behind" for a few euros, so the residual rent is floored at a share of the
full rent.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Residual rent never counts for less than this share of the full monthly rent.
RESIDUAL_RENT_FLOOR_SHARE = 0.10
#: Unpaid balance, in months of residual rent, from which a household is in arrears
#: (LogemLoiret's alert: two unpaid monthly rents).
ARREARS_MONTHS = 2.0
#: Amounts are compared to the cent: sums of float euros are off by 1e-13 at times, and
#: "exactly two months behind" must count as two months.
CENT_TOLERANCE = 0.005


def residual_rent_sql(rent: str, apl: str, paid_to_landlord: str | None = None) -> str:
    """Return a SQL expression for the residual rent, EUR a month.

    Parameters
    ----------
    rent
        SQL expression of the monthly rent and charges.
    apl
        SQL expression of the monthly APL amount in force (NULL counts as 0).
    paid_to_landlord
        SQL boolean expression: whether that APL is paid to the landlord. APL paid to
        the tenant is not subtracted. ``None`` treats every APL as paid to the landlord.
    """
    deducted = f"COALESCE({apl}, 0)"
    if paid_to_landlord is not None:
        deducted = f"CASE WHEN COALESCE({paid_to_landlord}, FALSE) THEN {deducted} ELSE 0 END"
    return f"GREATEST({rent} - {deducted}, {RESIDUAL_RENT_FLOOR_SHARE} * {rent})"


def residual_rent(
    rent: npt.ArrayLike, apl: npt.ArrayLike, paid_to_landlord: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Residual rent, EUR a month, for arrays of rents and APL in force (see module doc).

    Parameters
    ----------
    rent
        Monthly rent and charges.
    apl
        Monthly APL amount in force (0 when not entitled).
    paid_to_landlord
        Whether that APL is paid to the landlord; APL paid to the tenant is not deducted.
    """
    rent_arr = np.asarray(rent, dtype=np.float64)
    deducted = np.where(np.asarray(paid_to_landlord, dtype=bool), np.asarray(apl, np.float64), 0.0)
    return np.maximum(rent_arr - deducted, RESIDUAL_RENT_FLOOR_SHARE * rent_arr)


def behind_sql(balance: str, residual: str, months: float, eur: float | None = None) -> str:
    """Return a SQL condition: ``balance`` owed is at or above the arrears threshold.

    The threshold is ``months`` of ``residual`` rent or, when ``eur`` is given, a debt
    above that many euros. Compared to the cent; a balance of zero or less never counts.

    Parameters
    ----------
    balance, residual
        SQL expressions of the unpaid balance and of the residual rent, EUR.
    months
        Threshold in months of residual rent.
    eur
        Optional threshold in euros (strictly above).
    """
    tol = CENT_TOLERANCE
    hit = f"{balance} >= {months!r} * {residual} - {tol}"
    if eur is not None:
        hit += f" OR {balance} > {eur!r} + {tol}"
    return f"({balance} > {tol} AND ({hit}))"


def behind(
    balance: npt.ArrayLike, residual: npt.ArrayLike, months: float, eur: float | None = None
) -> npt.NDArray[np.bool_]:
    """Whether each ``balance`` is at or above the arrears threshold (see :func:`behind_sql`).

    Parameters
    ----------
    balance, residual
        Unpaid balances and residual rents, EUR.
    months
        Threshold in months of residual rent.
    eur
        Optional threshold in euros (strictly above).
    """
    bal = np.asarray(balance, dtype=np.float64)
    hit = bal >= months * np.asarray(residual, dtype=np.float64) - CENT_TOLERANCE
    if eur is not None:
        hit |= bal > eur + CENT_TOLERANCE
    return (bal > CENT_TOLERANCE) & hit
