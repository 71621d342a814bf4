"""Income, employment and affordability features.

Tenancy T entered on 1 January 2023 with a rent of 500 EUR; it is scored on 1 April 2024.
"""

from __future__ import annotations

import math

import pytest

from feature_timelines import (
    apl,
    each_engine,  # noqa: F401 (runs each test on both engines)
    features_of,
    income,
    portfolio,
    tenancy,
)
from risk.features.income import EFFORT_RATE_CAP

AS_OF = "2024-04-01"


def test_income_in_force_is_the_latest_effective_known_row():
    p = portfolio(
        [tenancy("T")],
        incomes=[
            income("T", "2023-01-01", 1300.0),  # at entry
            income("T", "2023-09-01", 900.0, status="fixed_term"),  # later change
        ],
    )
    row = features_of(p, AS_OF, "T")
    assert row["income_monthly"] == 900.0
    assert row["income_band"] == "636_to_1000"
    assert row["employment_status"] == "fixed_term"
    assert row["income_change_since_entry"] == pytest.approx(900 / 1300 - 1)
    assert row["job_lost_since_entry"] == 0.0  # still in work


def test_a_correction_posted_before_as_of_replaces_the_row_it_corrects():
    p = portfolio(
        [tenancy("T")],
        incomes=[
            income("T", "2023-01-01", 1300.0),  # at entry
            income("T", "2023-09-01", 900.0, posted="2023-09-05"),  # first declaration
            income("T", "2023-09-01", 1000.0, posted="2023-10-02"),  # its correction
            income("T", "2023-09-01", 700.0, posted=AS_OF),  # a later correction: unknown yet
        ],
    )
    assert features_of(p, AS_OF, "T")["income_monthly"] == 1000.0


def test_a_corrected_entry_income_is_read_at_its_latest_known_posting():
    p = portfolio(
        [tenancy("T")],
        incomes=[
            income("T", "2023-01-01", 1300.0, posted="2023-01-03"),  # at entry, declared
            income("T", "2023-01-01", 1200.0, posted="2023-02-01"),  # at entry, corrected
            income("T", "2023-09-01", 900.0),  # later change
        ],
    )
    row = features_of(p, AS_OF, "T")
    assert row["income_change_since_entry"] == pytest.approx(900 / 1200 - 1)


@pytest.mark.parametrize(
    ("amount", "band"),
    [(0.0, "below_636"), (635.99, "below_636"), (636.0, "636_to_1000"),
     (1000.0, "1000_to_1500"), (1499.99, "1000_to_1500"), (1500.0, "1500_and_above")],
)
def test_income_bands_follow_the_alfi_thresholds(amount, band):
    p = portfolio([tenancy("T")], incomes=[income("T", "2023-01-01", amount)])
    assert features_of(p, AS_OF, "T")["income_band"] == band


def test_job_lost_means_in_work_at_entry_and_unemployed_or_inactive_now():
    p = portfolio(
        [tenancy("lost"), tenancy("retired")],
        incomes=[
            income("lost", "2023-01-01", 1400.0, status="temporary_agency"),
            income("lost", "2024-01-01", 700.0, status="unemployed"),
            income("retired", "2023-01-01", 1400.0, status="permanent"),
            income("retired", "2024-01-01", 1100.0, status="retired"),  # not a job loss
        ],
    )
    assert features_of(p, AS_OF, "lost")["job_lost_since_entry"] == 1.0
    assert features_of(p, AS_OF, "retired")["job_lost_since_entry"] == 0.0


def test_unknown_income_leaves_income_features_missing():
    row = features_of(portfolio([tenancy("T")]), AS_OF, "T")
    for name in ("income_monthly", "income_change_since_entry", "job_lost_since_entry",
                 "effort_rate", "remaining_income_per_cu"):
        assert math.isnan(row[name]), name
    assert row["income_band"] != row["income_band"]  # NaN category


def test_effort_rate_is_rent_net_of_apl_over_income():
    p = portfolio(
        [tenancy("T", rent=500.0)],
        incomes=[income("T", "2023-01-01", 1000.0)],
        apl_rows=[apl("T", "2023-01-01", 200.0)],
    )
    assert features_of(p, AS_OF, "T")["effort_rate"] == pytest.approx(0.3)


def test_effort_rate_is_capped_and_a_zero_income_gives_the_cap():
    p = portfolio(
        [tenancy("low"), tenancy("zero")],
        incomes=[income("low", "2023-01-01", 100.0), income("zero", "2023-01-01", 0.0)],
    )
    assert features_of(p, AS_OF, "low")["effort_rate"] == EFFORT_RATE_CAP
    assert features_of(p, AS_OF, "zero")["effort_rate"] == EFFORT_RATE_CAP


def test_remaining_income_per_consumption_unit_uses_the_oecd_scale():
    # Couple with two children: 1 + 0.5 + 2 x 0.3 = 2.1 consumption units.
    p = portfolio(
        [tenancy("T", rent=700.0, household="couple_with_children", children=2)],
        incomes=[income("T", "2023-01-01", 2200.0)],
        apl_rows=[apl("T", "2023-01-01", 150.0)],
    )
    expected = (2200.0 - (700.0 - 150.0)) / 2.1
    assert features_of(p, AS_OF, "T")["remaining_income_per_cu"] == pytest.approx(expected)
