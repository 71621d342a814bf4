"""Housing-benefit (APL) features.

Tenancy T entered on 1 January 2023 with a rent of 500 EUR; it is scored on 1 April 2024,
so the quarter looked back on starts on 1 January 2024.
"""

from __future__ import annotations

import math

import pytest

from feature_timelines import (
    apl,
    each_engine,  # noqa: F401 (runs each test on both engines)
    features_of,
    portfolio,
    tenancy,
)
from risk.arrears import RESIDUAL_RENT_FLOOR_SHARE

AS_OF = "2024-04-01"


def test_apl_in_force_and_its_share_of_the_rent():
    p = portfolio([tenancy("T")], apl_rows=[apl("T", "2023-01-01", 200.0)])
    row = features_of(p, AS_OF, "T")
    assert (row["apl_entitled"], row["apl_amount"]) == (1.0, 200.0)
    assert row["apl_rent_share"] == pytest.approx(0.4)
    assert row["apl_paid_to_landlord"] == 1.0
    assert row["residual_rent"] == 300.0
    assert row["apl_change_3m"] == 0.0


def test_an_apl_recalculation_posted_later_for_the_same_date_replaces_the_first():
    p = portfolio(
        [tenancy("T")],
        apl_rows=[
            apl("T", "2024-01-01", 200.0, posted="2024-01-10"),  # first notification
            apl("T", "2024-01-01", 120.0, posted="2024-02-15"),  # recalculated, same date
            apl("T", "2024-01-01", 0.0, posted=AS_OF),  # corrected again: not known yet
        ],
    )
    assert features_of(p, AS_OF, "T")["apl_amount"] == 120.0


def test_no_apl_row_means_not_entitled():
    row = features_of(portfolio([tenancy("T")]), AS_OF, "T")
    assert (row["apl_entitled"], row["apl_amount"]) == (0.0, 0.0)
    assert math.isnan(row["apl_paid_to_landlord"])
    assert math.isnan(row["apl_months_since_lost"])


def test_quarterly_change_compares_with_the_apl_in_force_three_months_earlier():
    p = portfolio(
        [tenancy("T")],
        apl_rows=[
            apl("T", "2023-01-01", 250.0),
            apl("T", "2023-10-01", 220.0),  # in force on 1 January 2024
            apl("T", "2024-02-01", 140.0, to_landlord=False),  # recalculated down
        ],
    )
    row = features_of(p, AS_OF, "T")
    assert row["apl_change_3m"] == -80.0
    assert row["apl_paid_to_landlord"] == 0.0


def test_quarterly_change_is_missing_for_tenancies_younger_than_a_quarter():
    p = portfolio([tenancy("T", "2024-02-01")], apl_rows=[apl("T", "2024-02-01", 100.0)])
    assert math.isnan(features_of(p, AS_OF, "T")["apl_change_3m"])


def test_months_since_lost_counts_from_the_first_zero_after_the_last_positive_amount():
    p = portfolio(
        [tenancy("T")],
        apl_rows=[
            apl("T", "2023-01-01", 0.0),  # not entitled at entry
            apl("T", "2023-04-01", 180.0),  # entitled
            apl("T", "2023-10-01", 0.0),  # lost
            apl("T", "2024-01-01", 0.0),  # still nothing at the next recalculation
        ],
    )
    assert features_of(p, AS_OF, "T")["apl_months_since_lost"] == 6.0


def test_residual_rent_is_floored_at_a_share_of_the_rent():
    p = portfolio([tenancy("T", rent=500.0)], apl_rows=[apl("T", "2023-01-01", 490.0)])
    assert features_of(p, AS_OF, "T")["residual_rent"] == RESIDUAL_RENT_FLOOR_SHARE * 500.0


def test_apl_paid_to_the_tenant_does_not_lower_what_is_owed_to_the_landlord():
    p = portfolio([tenancy("T")], apl_rows=[apl("T", "2023-01-01", 200.0, to_landlord=False)])
    row = features_of(p, AS_OF, "T")
    assert row["residual_rent"] == 500.0
    assert row["apl_amount"] == 200.0  # still the household's benefit
    assert row["apl_paid_to_landlord"] == 0.0
