"""Support-history features. Tenancy T is scored on 1 April 2024."""

from __future__ import annotations

from feature_timelines import (
    each_engine,  # noqa: F401 (runs each test on both engines)
    features_of,
    portfolio,
    support,
    tenancy,
)

AS_OF = "2024-04-01"
T = tenancy("T", "2022-01-01")
SUPPORT_FEATURES = (
    "social_support_active",
    "payment_plan_active",
    "solidarity_aid_12m",
    "social_watch_referral_12m",
    "failed_contacts_6m",
)


def test_without_a_support_table_every_support_feature_is_zero():
    row = features_of(portfolio([T]), AS_OF, "T")
    assert [row[name] for name in SUPPORT_FEATURES] == [0.0] * 5


def test_a_follow_up_is_active_from_its_start_until_it_ends():
    p = portfolio([T], support_rows=[
        support("T", "social_support", "2023-06-01"),  # open-ended
        support("T", "payment_plan", "2023-09-01", end="2024-03-31"),  # ended the day before
    ])
    row = features_of(p, AS_OF, "T")
    assert row["social_support_active"] == 1.0
    assert row["payment_plan_active"] == 0.0
    assert features_of(p, "2024-03-31", "T")["payment_plan_active"] == 1.0


def test_aid_and_referrals_count_within_the_last_12_months():
    p = portfolio([T], support_rows=[
        support("T", "solidarity_fund_aid", "2023-04-01"),  # exactly 12 months before
        support("T", "social_watch_referral", "2023-03-31"),  # one day too old
    ])
    row = features_of(p, AS_OF, "T")
    assert row["solidarity_aid_12m"] == 1.0
    assert row["social_watch_referral_12m"] == 0.0


def test_failed_contacts_are_attempts_since_the_last_contact_made():
    p = portfolio([T], support_rows=[
        support("T", "contact_attempt", "2023-11-10"),
        support("T", "contact_attempt", "2023-12-01"),
        support("T", "contact_made", "2023-12-01"),  # the attempt of that day succeeded
        support("T", "contact_attempt", "2024-01-15"),  # unanswered
        support("T", "contact_attempt", "2024-03-02"),  # unanswered
        support("T", "contact_attempt", "2024-03-20", posted="2024-04-02"),  # not known yet
    ])
    assert features_of(p, AS_OF, "T")["failed_contacts_6m"] == 2.0
