"""Guarantee, household and tenure features, and which tenancies are scored."""

from __future__ import annotations

import pandas as pd

from feature_timelines import (
    build,
    each_engine,  # noqa: F401 (runs each test on both engines)
    features_of,
    portfolio,
    tenancy,
)

AS_OF = "2024-04-01"


def test_only_tenancies_present_at_as_of_get_a_row():
    p = portfolio([
        tenancy("present", "2023-01-01"),
        tenancy("enters_on_as_of", "2024-04-01"),  # no history yet: not scored
        tenancy("enters_later", "2024-05-01"),
        tenancy("left_the_day_before", "2022-01-01", "2024-03-31"),
        tenancy("leaves_on_as_of", "2022-01-01", "2024-04-01"),  # still there that day
        tenancy("leaves_later", "2022-01-01", "2024-09-30"),
    ])
    scored = build(p, AS_OF)["tenancy_id"].tolist()
    assert scored == ["leaves_later", "leaves_on_as_of", "present"]


def test_guarantee_features():
    p = portfolio([tenancy("V", guarantee="visale"), tenancy("N", guarantee="none")])
    visale, none = features_of(p, AS_OF, "V"), features_of(p, AS_OF, "N")
    assert visale["guarantee_type"] == "visale"
    assert visale["has_guarantee"] == 1.0
    assert none["has_guarantee"] == 0.0


def test_age_enters_only_as_30_or_over_and_as_a_band():
    p = portfolio([
        tenancy("young", birth_year=2000),  # 24 in 2024
        tenancy("thirty", birth_year=1994),  # reaches 30 in 2024
        tenancy("senior", birth_year=1960),
    ])
    young, thirty, senior = (features_of(p, AS_OF, t) for t in ("young", "thirty", "senior"))
    assert (young["aged_30_or_over"], young["age_band"]) == (0.0, "under_25")
    assert (thirty["aged_30_or_over"], thirty["age_band"]) == (1.0, "30_to_44")
    assert senior["age_band"] == "60_and_over"


def test_tenure_counts_complete_months_and_flags_new_entrants():
    p = portfolio([
        tenancy("new", "2023-10-02"),  # 5 complete months on 1 April (6 on 2 April)
        tenancy("settled", "2023-10-01"),  # exactly 6 months
    ])
    new, settled = features_of(p, AS_OF, "new"), features_of(p, AS_OF, "settled")
    assert (new["months_since_entry"], new["new_entrant"]) == (5.0, 1.0)
    assert (settled["months_since_entry"], settled["new_entrant"]) == (6.0, 0.0)


def test_a_month_ends_on_the_next_day_when_its_day_does_not_exist():
    p = portfolio([tenancy("T", "2024-01-31")])
    assert features_of(p, "2024-02-29", "T")["months_since_entry"] == 0.0
    assert features_of(p, "2024-03-01", "T")["months_since_entry"] == 1.0


def test_context_features():
    p = portfolio([tenancy("T", residence="pension_de_famille", household="couple", children=2)])
    row = features_of(p, "2024-11-15", "T")
    assert row["residence_type"] == "pension_de_famille"
    assert row["household_type"] == "couple"
    assert row["children"] == 2.0
    assert row["calendar_month"] == 11.0


def test_categorical_features_carry_every_catalogue_category():
    frame = build(portfolio([tenancy("T")]), AS_OF)
    assert list(frame["guarantee_type"].cat.categories) == [
        "visale", "action_logement", "fsl", "none", "other"
    ]
    assert isinstance(frame["age_band"].dtype, pd.CategoricalDtype)


def test_a_rent_raised_after_as_of_does_not_change_the_features_before_the_raise():
    from feature_timelines import charge, features_of, income, portfolio, tenancy

    t = tenancy("R", "2023-01-01", rent=535.0)  # the export's rent: today's, after the raise
    ledger = [
        charge("R", "2024-05-01", 500.0),  # May: rent in force 500
        charge("R", "2024-06-01", 500.0),  # June: still 500, the last charge before as-of
        charge("R", "2024-07-01", 535.0),  # July: raised after as-of, unknown on 15 June
    ]
    incomes = [income("R", "2023-01-01", 1000.0)]  # 1,000 EUR a month, no APL
    row = features_of(portfolio([t], incomes=incomes, ledger=ledger), "2024-06-15", "R")
    assert row["monthly_rent"] == 500.0
    assert row["residual_rent"] == 500.0
    assert row["effort_rate"] == 0.5
    assert row["balance_months"] == 1000.0 / 500.0
    after = features_of(portfolio([t], incomes=incomes, ledger=ledger), "2024-07-02", "R")
    assert after["monthly_rent"] == 535.0  # the raise is in force once charged


def test_without_a_known_rent_charge_the_tenancy_rent_is_used():
    from feature_timelines import features_of, portfolio, tenancy

    row = features_of(portfolio([tenancy("R", rent=480.0)]), "2024-06-15", "R")
    assert row["monthly_rent"] == 480.0
