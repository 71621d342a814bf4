"""The shared definition of residual rent and of being behind."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from risk.arrears import behind, behind_sql, residual_rent, residual_rent_sql


@pytest.mark.parametrize(
    ("rent", "apl", "to_landlord", "expected"),
    [
        (500.0, 200.0, True, 300.0),  # tiers payant: the landlord receives the APL
        (500.0, 200.0, False, 500.0),  # APL paid to the tenant: the full rent is owed
        (500.0, 490.0, True, 50.0),  # almost fully covered: floored at 10 % of the rent
        (500.0, 0.0, True, 500.0),  # no entitlement
    ],
)
def test_residual_rent_in_numpy_and_sql_agree(
    rent: float, apl: float, to_landlord: bool, expected: float
) -> None:
    assert residual_rent([rent], [apl], [to_landlord])[0] == expected
    sql = residual_rent_sql(f"{rent}", f"{apl}", "TRUE" if to_landlord else "FALSE")
    assert duckdb.sql(f"SELECT {sql}").fetchall() == [(expected,)]


@pytest.mark.parametrize(
    ("balance", "residual", "months", "eur", "expected"),
    [
        (600.0, 300.0, 2.0, None, True),  # exactly two months behind counts
        (599.999, 300.0, 2.0, None, True),  # float noise below the cent still counts
        (599.98, 300.0, 2.0, None, False),  # two cents short does not
        (0.0, 0.0, 2.0, None, False),  # nothing owed is never behind
        (451.0, 300.0, 3.0, 450.0, True),  # above 450 EUR (the 2027 rule)
        (450.0, 300.0, 3.0, 450.0, False),  # exactly 450 EUR is not above it
    ],
)
def test_behind_in_numpy_and_sql_agree(
    balance: float, residual: float, months: float, eur: float | None, expected: bool
) -> None:
    assert bool(behind(np.array([balance]), np.array([residual]), months, eur)[0]) is expected
    sql = behind_sql(f"{balance}::DOUBLE", f"{residual}::DOUBLE", months, eur)
    assert duckdb.sql(f"SELECT {sql}").fetchall() == [(expected,)]
