"""Only facts posted strictly before the as-of date reach the features.

Every case scores tenancy T (entered 1 January 2023, rent 500 EUR billed on the 1st,
no APL unless stated) as of 1 April 2024.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feature_timelines import (
    apl,
    build,
    each_engine,  # noqa: F401 (runs each test on both engines)
    features_of,
    income,
    ledger_row,
    monthly_charges,
    payment,
    portfolio,
    support,
    tenancy,
)
from risk.contract import EMPLOYMENT_STATUSES, LEDGER_KINDS, PAYMENT_METHODS, SUPPORT_KINDS

AS_OF = "2024-04-01"
T = tenancy("T", start="2023-01-01")
CHARGES = monthly_charges("T", "2024-01", "2024-03")  # 1,500 EUR owed before payments


def test_a_payment_posted_the_day_after_as_of_is_ignored():
    p = portfolio(
        [T],
        ledger=[
            *CHARGES,
            payment("T", "2024-03-05", 500.0),  # posted the same day: counts
            payment("T", "2024-04-02", 500.0),  # posted the day after as-of: ignored
        ],
    )
    assert features_of(p, AS_OF, "T")["balance_eur"] == 1000.0


def test_a_payment_posted_on_the_as_of_day_is_not_yet_known():
    p = portfolio([T], ledger=[*CHARGES, payment("T", "2024-04-01", 500.0)])
    assert features_of(p, AS_OF, "T")["balance_eur"] == 1500.0


def test_a_back_dated_payment_posted_after_as_of_is_ignored():
    late = payment("T", "2024-03-15", 500.0, posted="2024-04-10")  # made in March, known in April
    p = portfolio([T], ledger=[*CHARGES, late])
    before = features_of(p, AS_OF, "T")
    after = features_of(p, "2024-04-15", "T")
    assert before["balance_eur"] == 1500.0
    assert before["shortfall_months_3m"] == 3  # March still looks unpaid on 1 April
    assert after["balance_eur"] == 1000.0
    assert after["shortfall_months_3m"] == 2  # once posted, it counts in March, its event month


def test_an_apl_cut_posted_before_as_of_counts():
    p = portfolio(
        [T],
        apl_rows=[
            apl("T", "2023-12-01", 200.0),  # entitled before the quarter began
            apl("T", "2024-03-01", 0.0, posted="2024-03-05"),  # cut, known on 5 March
        ],
    )
    row = features_of(p, AS_OF, "T")
    assert row["apl_amount"] == 0.0
    assert row["apl_entitled"] == 0.0
    assert row["apl_change_3m"] == -200.0
    assert row["apl_months_since_lost"] == 1.0
    assert row["residual_rent"] == 500.0


def test_an_apl_cut_posted_after_as_of_does_not_count_yet():
    p = portfolio(
        [T],
        apl_rows=[
            apl("T", "2023-12-01", 200.0),
            apl("T", "2024-03-01", 0.0, posted="2024-04-03"),  # back-dated cut, known later
        ],
    )
    row = features_of(p, AS_OF, "T")
    assert row["apl_amount"] == 200.0
    assert pd.isna(row["apl_months_since_lost"])
    assert row["residual_rent"] == 300.0


def test_an_income_change_posted_before_as_of_but_effective_after_is_not_in_force():
    p = portfolio(
        [T],
        incomes=[
            income("T", "2023-01-01", 1200.0),  # at entry
            income("T", "2024-04-15", 600.0, posted="2024-03-20", status="unemployed"),  # announced
        ],
    )
    now = features_of(p, AS_OF, "T")
    later = features_of(p, "2024-05-01", "T")
    assert now["income_monthly"] == 1200.0
    assert now["income_band"] == "1000_to_1500"
    assert now["job_lost_since_entry"] == 0.0
    assert later["income_monthly"] == 600.0
    assert later["job_lost_since_entry"] == 1.0


def test_support_recorded_after_as_of_is_ignored():
    p = portfolio(
        [T],
        support_rows=[
            support("T", "payment_plan", "2024-03-01", posted="2024-04-05"),  # typed in late
            support("T", "solidarity_fund_aid", "2024-02-01"),  # known at once
        ],
    )
    row = features_of(p, AS_OF, "T")
    assert row["payment_plan_active"] == 0.0
    assert row["solidarity_aid_12m"] == 1.0


# --- property: facts posted on or after as-of never change a feature -------------------

IDS = ("A", "B", "C")
PROPERTY_AS_OF = pd.Timestamp("2024-04-01")


def _base_portfolio_rows() -> dict[str, list[dict[str, object]]]:
    return {
        "tenancies": [
            tenancy("A", "2022-06-15", rent=480.0, guarantee="visale", birth_year=1998),
            tenancy("B", "2023-11-01", rent=620.0, household="couple_with_children", children=2),
            tenancy("C", "2021-01-01", "2024-06-30", rent=350.0, guarantee="fsl"),
        ],
        "incomes": [
            income("A", "2022-06-15", 1100.0),
            income("A", "2023-09-01", 700.0, status="unemployed"),
            income("B", "2023-11-01", 1900.0, status="fixed_term"),
        ],
        "apl": [apl("A", "2022-06-15", 150.0), apl("B", "2023-11-01", 90.0, to_landlord=False)],
        "ledger": [
            *monthly_charges("A", "2023-01", "2024-03", 480.0),
            *monthly_charges("B", "2023-11", "2024-03", 620.0),
            *monthly_charges("C", "2023-01", "2024-03", 350.0),
            payment("A", "2023-02-06", 330.0, method="direct_debit"),
            payment("A", "2023-12-20", 200.0),
            payment("B", "2024-01-03", 530.0),
            payment("C", "2024-03-28", 1000.0, method="cheque"),
            ledger_row("A", "2024-01-06", "apl_payment", 150.0),
        ],
        "support": [
            support("A", "contact_attempt", "2024-02-01"),
            support("A", "social_support", "2023-06-01", end="2024-05-01"),
        ],
    }


def _days(lo: str, hi: str) -> st.SearchStrategy[dt.date]:
    return st.dates(dt.date.fromisoformat(lo), dt.date.fromisoformat(hi))


def _posted_from_as_of() -> st.SearchStrategy[dt.date]:
    return _days(str(PROPERTY_AS_OF.date()), "2025-06-30")


@st.composite
def _late_ledger(draw: st.DrawFn) -> dict[str, object]:
    posted = draw(_posted_from_as_of())
    event = draw(_days("2022-01-01", str(posted)))  # event on or before posting (contract)
    kind = draw(st.sampled_from(LEDGER_KINDS))
    method = draw(st.sampled_from((None, *PAYMENT_METHODS))) if kind == "tenant_payment" else None
    amount = draw(st.floats(0.01, 99_999.0).map(lambda x: round(x, 2)))
    return ledger_row(draw(st.sampled_from(IDS)), str(event), kind, amount, posted=str(posted),
                      method=method)


@st.composite
def _late_income(draw: st.DrawFn) -> dict[str, object]:
    return income(
        draw(st.sampled_from(IDS)),
        str(draw(_days("2021-01-01", "2025-06-30"))),
        draw(st.floats(0.0, 9_000.0).map(lambda x: round(x, 2))),
        posted=str(draw(_posted_from_as_of())),
        status=draw(st.sampled_from(EMPLOYMENT_STATUSES)),
    )


@st.composite
def _late_apl(draw: st.DrawFn) -> dict[str, object]:
    return apl(
        draw(st.sampled_from(IDS)),
        str(draw(_days("2021-01-01", "2025-06-30"))),
        draw(st.floats(0.0, 900.0).map(lambda x: round(x, 2))),
        posted=str(draw(_posted_from_as_of())),
        to_landlord=draw(st.booleans()),
    )


@st.composite
def _late_support(draw: st.DrawFn) -> dict[str, object]:
    start = draw(_days("2021-01-01", "2025-06-30"))
    end = draw(st.one_of(st.none(), _days(str(start), "2025-12-31").map(str)))
    return support(
        draw(st.sampled_from(IDS)),
        draw(st.sampled_from(SUPPORT_KINDS)),
        str(start),
        posted=str(draw(_posted_from_as_of())),
        end=end,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ledger=st.lists(_late_ledger(), max_size=6),
    incomes=st.lists(_late_income(), max_size=3),
    apl_rows=st.lists(_late_apl(), max_size=3),
    support_rows=st.lists(_late_support(), max_size=3),
)
def test_rows_posted_on_or_after_as_of_never_change_any_feature(
    ledger, incomes, apl_rows, support_rows
):
    base = _base_portfolio_rows()
    before = build(
        portfolio(base["tenancies"], base["incomes"], base["apl"], base["ledger"], base["support"]),
        PROPERTY_AS_OF,
    )
    after = build(
        portfolio(
            base["tenancies"],
            base["incomes"] + incomes,
            base["apl"] + apl_rows,
            base["ledger"] + ledger,
            base["support"] + support_rows,
        ),
        PROPERTY_AS_OF,
    )
    pd.testing.assert_frame_equal(before, after)
