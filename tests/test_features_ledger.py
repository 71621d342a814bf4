"""Ledger features on hand-built ledgers with known answers.

Rent is 500 EUR billed on the 1st and there is no APL, so the residual rent is 500 EUR
and a month is short when more than 50 EUR of it stays unpaid (and the tenant ends the
month owing more than 50 EUR).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feature_timelines import (
    apl,
    build,
    charge,
    each_engine,  # noqa: F401 (runs each test on both engines)
    features_of,
    ledger_row,
    monthly_charges,
    payment,
    portfolio,
    tenancy,
)
from risk.contract import CREDIT_KINDS, LEDGER_KINDS, PAYMENT_METHODS
from risk.features.ledger import SHORTFALL_TOLERANCE_SHARE

T = tenancy("T", start="2023-12-15")

EIGHT_MONTHS = [
    *monthly_charges("T", "2024-01", "2024-08"),
    payment("T", "2024-01-05", 500.0, method="direct_debit"),  # Jan: paid in full
    payment("T", "2024-02-05", 500.0, method="direct_debit"),  # Feb: paid in full
    payment("T", "2024-03-10", 200.0),  # Mar: 300 short, partial -> shortfall
    # Apr: nothing paid -> shortfall, owes 800
    payment("T", "2024-05-05", 500.0, method="direct_debit"),  # May: rent paid, debt stays 800
    payment("T", "2024-06-20", 100.0),  # Jun: 400 short, partial -> shortfall
    # Jul: nothing paid -> shortfall, owes 1,700
    payment("T", "2024-08-03", 480.0, method="direct_debit"),  # Aug: 20 short, within tolerance
]


@pytest.fixture(scope="module")
def eight_months() -> pd.Series:
    return features_of(portfolio([T], ledger=EIGHT_MONTHS), "2024-09-01", "T")


def test_balance_is_every_debit_minus_every_credit(eight_months):
    assert eight_months["balance_eur"] == 1720.0
    assert eight_months["balance_months"] == pytest.approx(1720.0 / 500.0)


def test_shortfall_months_are_counted_over_the_last_3_6_and_12_complete_months(eight_months):
    assert eight_months["shortfall_months_3m"] == 2  # Jun, Jul (Aug is within tolerance)
    assert eight_months["shortfall_months_6m"] == 4  # Mar, Apr, Jun, Jul
    assert eight_months["shortfall_months_12m"] == 4


def test_the_longest_run_of_unpaid_months_within_a_year(eight_months):
    assert eight_months["longest_shortfall_run_12m"] == 2  # Mar-Apr and Jun-Jul


def test_months_since_the_last_fully_paid_month(eight_months):
    assert eight_months["months_since_full_payment"] == 0  # August was covered
    one_month_earlier = features_of(portfolio([T], ledger=EIGHT_MONTHS), "2024-08-01", "T")
    assert one_month_earlier["months_since_full_payment"] == 2  # Jun, Jul short; May covered


def test_balance_change_over_3_months_in_months_of_residual_rent(eight_months):
    assert eight_months["balance_change_3m"] == pytest.approx((400 + 500 + 20) / 500)


def test_share_of_partial_payments_over_6_months(eight_months):
    # Months with a payment among Mar-Aug: Mar, May, Jun, Aug; short among them: Mar, Jun.
    assert eight_months["partial_payment_share_6m"] == 0.5


def test_mean_payment_delay_counts_days_from_the_first_of_the_month(eight_months):
    # Payments of Mar-Aug on the 10th, 5th, 20th and 3rd: 9, 4, 19 and 2 days.
    assert eight_months["mean_payment_delay_6m"] == pytest.approx((9 + 4 + 19 + 2) / 4)


def test_direct_debit_share_over_6_months(eight_months):
    assert eight_months["direct_debit_share_6m"] == 0.5  # May and Aug of four payments


def test_a_rent_paid_early_at_the_end_of_the_month_before_is_not_a_shortfall():
    ledger = [
        *monthly_charges("T", "2024-01", "2024-03"),
        payment("T", "2024-01-03", 500.0),  # January's rent
        payment("T", "2024-01-30", 500.0),  # February's rent, paid early
        payment("T", "2024-03-02", 500.0),  # March's rent
    ]
    row = features_of(portfolio([T], ledger=ledger), "2024-04-01", "T")
    assert row["shortfall_months_3m"] == 0
    assert row["balance_eur"] == 0.0


def test_a_month_skipped_on_a_credit_balance_is_not_a_shortfall():
    ledger = [
        *monthly_charges("T", "2024-01", "2024-03"),
        payment("T", "2024-01-03", 1500.0),  # pays ahead
    ]
    row = features_of(portfolio([T], ledger=ledger), "2024-04-01", "T")
    assert row["shortfall_months_3m"] == 0
    assert row["balance_eur"] == 0.0


def test_a_repayment_month_is_never_short():
    ledger = [
        *monthly_charges("T", "2024-01", "2024-03"),
        # January and February unpaid, March pays all three months.
        payment("T", "2024-03-08", 1500.0),
    ]
    row = features_of(portfolio([T], ledger=ledger), "2024-04-01", "T")
    assert row["shortfall_months_3m"] == 2
    assert row["months_since_full_payment"] == 0
    assert row["longest_shortfall_run_12m"] == 2


def test_apl_credits_count_and_shortfall_is_measured_on_the_residual_rent():
    ledger = [
        *monthly_charges("T", "2024-01", "2024-03"),
        ledger_row("T", "2024-01-06", "apl_payment", 400.0),  # APL covers 400 of 500
        ledger_row("T", "2024-02-06", "apl_payment", 400.0),
        ledger_row("T", "2024-03-06", "apl_payment", 400.0),
        payment("T", "2024-01-10", 100.0),  # tenant's share paid in January
        payment("T", "2024-02-10", 95.0),  # 5 short: within 10% of the 100 EUR residual rent
        # March: tenant's share unpaid -> 100 short, over the 10 EUR tolerance
    ]
    p = portfolio([T], apl_rows=[apl("T", "2023-12-15", 400.0)], ledger=ledger)
    row = features_of(p, "2024-04-01", "T")
    assert row["residual_rent"] == 100.0
    assert row["balance_eur"] == 105.0
    assert row["balance_months"] == pytest.approx(1.05)
    assert row["shortfall_months_3m"] == 1


def test_months_older_than_a_year_count_in_the_balance_only():
    ledger = [charge("T", "2023-01-01")]  # 15 months before the as-of month
    row = features_of(portfolio([tenancy("T", "2022-12-01")], ledger=ledger), "2024-04-01", "T")
    assert row["balance_eur"] == 500.0
    assert row["shortfall_months_12m"] == 0
    assert row["months_since_full_payment"] == 0


def test_the_as_of_month_counts_in_the_balance_but_not_in_the_monthly_windows():
    ledger = [*monthly_charges("T", "2024-01", "2024-04"), payment("T", "2024-04-03", 50.0)]
    row = features_of(portfolio([T], ledger=ledger), "2024-04-15", "T")
    assert row["balance_eur"] == 1950.0
    assert row["shortfall_months_3m"] == 3  # Jan-Mar, April is not complete
    assert math.isnan(row["mean_payment_delay_6m"])  # April's payment is outside the window


def test_a_tenancy_without_ledger_rows_has_a_zero_balance_and_no_payment_behaviour():
    row = features_of(portfolio([T]), "2024-04-01", "T")
    assert row["balance_eur"] == 0.0
    assert row["shortfall_months_12m"] == 0
    assert math.isnan(row["partial_payment_share_6m"])
    assert math.isnan(row["mean_payment_delay_6m"])
    assert math.isnan(row["direct_debit_share_6m"])


def test_large_amounts_and_credits_do_not_spill_between_months():
    ledger = [
        charge("T", "2024-01-01", 99_999.99),
        ledger_row("T", "2024-02-10", "other_credit", 99_999.99),  # a large refund
        ledger_row("T", "2024-03-01", "other_debit", 0.01),  # not a rent charge: rent stays 500
    ]
    row = features_of(portfolio([T], ledger=ledger), "2024-04-01", "T")
    assert row["balance_eur"] == pytest.approx(0.01)
    assert row["shortfall_months_3m"] == 1  # January only
    # The rent in force is January's charge, the latest rent charge known.
    assert row["balance_change_3m"] == pytest.approx(0.01 / 99_999.99)


def test_a_row_dated_on_or_after_as_of_is_ignored_even_if_posted_before():
    ledger = [
        *monthly_charges("T", "2024-01", "2024-03"),
        charge("T", "2024-04-01", posted="2024-03-25"),  # April's rent, posted ahead
        payment("T", "2024-04-20", 300.0, posted="2024-03-28"),  # a future-dated payment
        payment("T", "2024-04-05", 100.0),  # a payment of the partial as-of month
    ]
    row = features_of(portfolio([T], ledger=ledger), "2024-04-10", "T")
    assert row["balance_eur"] == 2000.0 - 100.0  # the payment dated the 20th is ignored
    row = features_of(portfolio([T], ledger=ledger), "2024-04-01", "T")
    assert row["balance_eur"] == 1500.0  # April's charge, dated on as-of, is ignored


def test_a_payment_in_the_last_five_days_of_a_month_counts_as_day_0_of_the_next():
    ledger = [
        *monthly_charges("T", "2024-01", "2024-03"),
        payment("T", "2024-01-27", 500.0),  # 27 Jan: last 5 days of January -> delay 0
        payment("T", "2024-02-26", 500.0),  # 26 Feb 2024: 26 > 29 - 5 -> delay 0
        payment("T", "2024-03-26", 500.0),  # 26 Mar: 26 <= 31 - 5 -> 25 days
    ]
    row = features_of(portfolio([T], ledger=ledger), "2024-04-01", "T")
    assert row["mean_payment_delay_6m"] == pytest.approx((0 + 0 + 25) / 3)


# --- property: the packed SQL agrees with a plain reading of the definitions -----------

#: As-of dates of the property test: on the 1st and in the middle of a month.
AS_OFS = ("2024-07-01", "2024-07-16", "2024-06-30")


def _delay(event: pd.Timestamp) -> int:
    """Payment delay: days after the 1st, 0 in the last 5 days of a month (paid early)."""
    return 0 if event.day > event.days_in_month - 5 else event.day - 1


def _plain_reading(
    rows: list[dict[str, object]], fallback_rent: float, as_of: pd.Timestamp
) -> dict[str, float]:
    """The ledger definitions of docs/features.md, month by month in plain Python."""
    month_start = lambda k: (as_of.to_period("M") - k).start_time  # noqa: E731
    known = [
        r for r in rows
        if pd.Timestamp(str(r["posted_date"])) < as_of
        and pd.Timestamp(str(r["event_date"])) < as_of
    ]
    # Rent in force: the latest known rent charge (the largest of its day), else the
    # tenancy's rent; no APL, so the residual rent is the rent.
    charges = sorted(
        (pd.Timestamp(str(r["event_date"])), float(r["amount"]))  # type: ignore[arg-type]
        for r in known if r["kind"] == "rent_charge"
    )
    residual = charges[-1][1] if charges else fallback_rent

    def signed(r: dict[str, object]) -> float:
        return -float(r["amount"]) if r["kind"] in CREDIT_KINDS else float(r["amount"])  # type: ignore[arg-type]

    def in_month(r: dict[str, object], k: int) -> bool:
        return month_start(k) <= pd.Timestamp(str(r["event_date"])) < month_start(k - 1)

    balance = sum(signed(r) for r in known)
    tol = 0.1 * residual
    net = {k: sum(signed(r) for r in known if in_month(r, k)) for k in range(0, 13)}
    end = {1: balance - net[0]}
    for k in range(2, 13):
        end[k] = end[k - 1] - net[k - 1]
    short = {k: net[k] > tol + 1e-9 and end[k] > tol + 1e-9 for k in range(1, 13)}
    pays = [
        r for r in known
        if r["kind"] == "tenant_payment" and any(in_month(r, k) for k in range(1, 7))
    ]
    paid = {k: any(in_month(r, k) for r in pays) for k in range(1, 7)}
    runs, run, longest = 0, 0, 0
    for k in range(1, 13):
        run = run + 1 if short[k] else 0
        longest = max(longest, run)
    for k in range(1, 13):
        if not short[k]:
            break
        runs += 1
    known_method = [r for r in pays if r["payment_method"] is not None]
    n_paid = sum(paid.values())
    return {
        "_residual": residual,
        "balance_eur": balance,
        "shortfall_months_3m": sum(short[k] for k in range(1, 4)),
        "shortfall_months_6m": sum(short[k] for k in range(1, 7)),
        "shortfall_months_12m": sum(short.values()),
        "longest_shortfall_run_12m": longest,
        "months_since_full_payment": runs,
        "balance_change_3m": (net[1] + net[2] + net[3]) / residual,
        "partial_payment_share_6m": (
            sum(short[k] and paid[k] for k in range(1, 7)) / n_paid if n_paid else math.nan
        ),
        "mean_payment_delay_6m": (
            sum(_delay(pd.Timestamp(str(r["event_date"]))) for r in pays) / len(pays)
            if pays else math.nan
        ),
        "direct_debit_share_6m": (
            sum(r["payment_method"] == "direct_debit" for r in known_method) / len(known_method)
            if known_method else math.nan
        ),
    }


@st.composite
def _ledger_rows(draw: st.DrawFn) -> dict[str, object]:
    event = draw(st.dates(dt.date(2022, 12, 1), dt.date(2024, 7, 31)))
    # A negative lag posts a row ahead of its date (an unvalidated export).
    posted = event + dt.timedelta(days=draw(st.sampled_from([0, 0, 0, 1, 5, 40, -20])))
    kind = draw(st.sampled_from(LEDGER_KINDS))
    method = draw(st.sampled_from((None, *PAYMENT_METHODS))) if kind == "tenant_payment" else None
    # Whole cents, so that the comparison with the tolerance is exact on both sides.
    amount = draw(st.integers(1, 9_999_999)) / 100
    return ledger_row("T", str(event), kind, amount, posted=str(posted), method=method)


@st.composite
def _monthly_life(draw: st.DrawFn, rent: float) -> list[dict[str, object]]:
    """A charge every month and, each month, no, a partial, a full or an extra payment."""
    rows: list[dict[str, object]] = []
    for month in pd.period_range("2023-01", "2024-07", freq="M"):
        rows.append(charge("T", str(month.start_time.date()), rent))
        share = draw(st.sampled_from([0.0, 0.0, 0.5, 0.95, 1.0, 1.0, 1.0, 2.0]))
        if share:
            day = month.start_time.date() + dt.timedelta(days=draw(st.integers(0, 27)))
            lag = draw(st.sampled_from([0, 0, 2, 35]))
            method = draw(st.sampled_from((None, *PAYMENT_METHODS)))
            rows.append(
                payment("T", str(day), round(share * rent, 2), method=method or "transfer",
                        posted=str(day + dt.timedelta(days=lag)))
            )
            if method is None:
                rows[-1]["payment_method"] = None
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    rent=st.sampled_from([350.0, 500.0, 733.33]),
    as_of=st.sampled_from(AS_OFS),
)
def test_ledger_features_match_a_plain_reading_of_their_definitions(data, rent, as_of):
    rows = data.draw(_monthly_life(rent)) + data.draw(st.lists(_ledger_rows(), max_size=8))
    # The export's rent is today's: the features must use the charges', when known.
    p = portfolio([tenancy("T", "2022-11-20", rent=rent * 1.1)], ledger=rows)
    at = pd.Timestamp(as_of)
    got = build(p, at).iloc[0]
    expected = _plain_reading(rows, fallback_rent=rent * 1.1, as_of=at)
    expected["residual_rent"] = expected.pop("_residual")
    for name, value in expected.items():
        if math.isnan(value):
            assert math.isnan(got[name]), name
        else:
            assert got[name] == pytest.approx(value, abs=1e-6), name


def test_the_shortfall_tolerance_is_a_tenth_of_the_residual_rent():
    assert SHORTFALL_TOLERANCE_SHARE == 0.10
