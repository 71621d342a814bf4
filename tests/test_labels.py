"""Labels on hand-built portfolios.

Every case uses a monthly rent of 500 EUR billed on the 1st unless it says otherwise, an
as-of date of 1 January 2024 and a horizon of 3 months, so the month-ends watched are
31 January, 29 February and 31 March (balances of the events dated before 1 February,
1 March and 1 April).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk import labels as lbl
from risk.arrears import CENT_TOLERANCE, RESIDUAL_RENT_FLOOR_SHARE
from risk.contract import CREDIT_KINDS, DEBIT_KINDS
from risk.outcomes import read_outcomes
from risk.portfolio import Portfolio, empty_table

AS_OF = "2024-01-01"
KNOWN = "2025-01-01"  # far enough for every 3- or 4-month horizon of these cases


def tenancy(tid: str, start: str = "2023-06-01", end: str | None = None, rent: float = 500.0):
    return {
        "tenancy_id": tid,
        "residence_id": "r1",
        "residence_type": "fjt",
        "start_date": start,
        "end_date": end,
        "monthly_rent": rent,
        "guarantee": "none",
        "tenant_birth_year": 1990,
        "household_type": "single",
        "children": 0,
    }


def row(tid: str, event: str, kind: str, amount: float, posted: str | None = None):
    return {
        "tenancy_id": tid,
        "event_date": event,
        "posted_date": posted or event,
        "kind": kind,
        "amount": amount,
    }


def apl(
    tid: str, effective: str, amount: float, posted: str | None = None, to_landlord: bool = True
):
    return {
        "tenancy_id": tid,
        "effective_date": effective,
        "posted_date": posted or effective,
        "monthly_amount": amount,
        "paid_to_landlord": to_landlord,
    }


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{c: pd.to_datetime(frame[c]).astype("datetime64[ns]") for c in columns})


def make_portfolio(tenancies: list[dict], ledger: list[dict], apls: list[dict] = ()) -> Portfolio:
    t = _dates(pd.DataFrame(tenancies), "start_date", "end_date")
    led = (
        _dates(pd.DataFrame(ledger), "event_date", "posted_date")
        if ledger
        else empty_table("ledger")
    )
    a = (
        _dates(pd.DataFrame(list(apls)), "effective_date", "posted_date")
        if apls
        else empty_table("apl")
    )
    return Portfolio.from_frames(t, empty_table("incomes"), a, led)


def status_of(portfolio: Portfolio, tid: str = "t1", **kwargs) -> tuple[object, str]:
    kwargs.setdefault("known_until", KNOWN)
    out = lbl.build_labels(portfolio, kwargs.pop("as_of", AS_OF), **kwargs)
    r = out.loc[out["tenancy_id"] == tid].iloc[0]
    return r["label"], r["status"]


# --- first_arrears -------------------------------------------------------------------


def test_a_tenant_who_falls_two_months_behind_in_the_second_month_is_positive():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2023-12-01", "rent_charge", 500),  # December billed...
            row("t1", "2023-12-03", "tenant_payment", 500),  # ...and paid: clean at as_of
            row("t1", "2024-01-01", "rent_charge", 500),  # January unpaid: 500 at end of Jan
            row("t1", "2024-02-01", "rent_charge", 500),  # February unpaid: 1000 at end of Feb
        ],
    )
    assert status_of(p) == (1, lbl.STATUS_POSITIVE)


def test_a_tenant_already_two_months_behind_at_as_of_is_not_eligible():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2023-11-01", "rent_charge", 500),  # November unpaid
            row("t1", "2023-12-01", "rent_charge", 500),  # December unpaid: 1000 before as_of
        ],
    )
    label, status = status_of(p)
    assert label is pd.NA
    assert status == lbl.STATUS_IN_ARREARS


def test_a_tenant_who_pays_every_month_is_negative():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January billed
            row("t1", "2024-01-05", "tenant_payment", 500),  # paid by direct debit
            row("t1", "2024-02-01", "rent_charge", 500),  # February billed
            row("t1", "2024-02-05", "tenant_payment", 500),  # paid
            row("t1", "2024-03-01", "rent_charge", 500),  # March billed
            row("t1", "2024-03-05", "tenant_payment", 500),  # paid
        ],
    )
    assert status_of(p) == (0, lbl.STATUS_NEGATIVE)


def test_a_tenant_leaving_with_a_month_of_debt_counts_as_arrears():
    p = make_portfolio(
        [tenancy("t1", end="2024-02-15")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January unpaid: 500 at end of Jan
            row("t1", "2024-02-01", "rent_charge", 500),  # February billed...
            row("t1", "2024-02-03", "tenant_payment", 500),  # ...paid: 500 owed at exit
        ],
    )
    assert status_of(p) == (1, lbl.STATUS_DEPARTED_WITH_DEBT)


def test_a_tenant_leaving_without_debt_is_negative():
    p = make_portfolio(
        [tenancy("t1", end="2024-02-15")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January billed
            row("t1", "2024-01-05", "tenant_payment", 500),  # paid
            row("t1", "2024-02-01", "rent_charge", 500),  # February billed
            row("t1", "2024-02-03", "tenant_payment", 500),  # paid: nothing owed at exit
        ],
    )
    assert status_of(p) == (0, lbl.STATUS_DEPARTED_WITHOUT_DEBT)


def test_the_exit_debt_threshold_is_configurable():
    p = make_portfolio(
        [tenancy("t1", end="2024-02-15")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January unpaid: 500 owed at exit
        ],
    )
    assert status_of(p) == (1, lbl.STATUS_DEPARTED_WITH_DEBT)
    assert status_of(p, exit_debt_months=2.0) == (0, lbl.STATUS_DEPARTED_WITHOUT_DEBT)


def test_the_exit_balance_includes_facts_dated_on_the_exit_day():
    p = make_portfolio(
        [tenancy("t1", end="2024-02-15")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January unpaid...
            row("t1", "2024-02-15", "tenant_payment", 500),  # ...settled on the exit day
        ],
    )
    assert status_of(p) == (0, lbl.STATUS_DEPARTED_WITHOUT_DEBT)


def test_a_tenant_behind_at_a_month_end_before_leaving_is_positive_not_departed():
    p = make_portfolio(
        [tenancy("t1", end="2024-03-10")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January unpaid
            row("t1", "2024-02-01", "rent_charge", 500),  # February unpaid: 1000 at end of Feb
            row("t1", "2024-03-05", "tenant_payment", 1000),  # cleared before leaving
        ],
    )
    assert status_of(p) == (1, lbl.STATUS_POSITIVE)


def test_the_horizon_is_configurable():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January billed
            row("t1", "2024-01-05", "tenant_payment", 500),  # paid
            row("t1", "2024-02-01", "rent_charge", 500),  # February billed
            row("t1", "2024-02-05", "tenant_payment", 500),  # paid
            row("t1", "2024-03-01", "rent_charge", 500),  # March unpaid: 500 at end of Mar
            row("t1", "2024-04-01", "rent_charge", 500),  # April unpaid: 1000 at end of Apr
        ],
    )
    assert status_of(p, horizon_months=3) == (0, lbl.STATUS_NEGATIVE)
    assert status_of(p, horizon_months=4) == (1, lbl.STATUS_POSITIVE)


def test_apl_lowers_the_residual_rent_so_the_same_debt_means_more_months():
    p = make_portfolio(
        [tenancy("with_apl"), tenancy("without_apl")],
        [
            row("with_apl", "2024-01-01", "rent_charge", 500),  # January billed
            row("with_apl", "2024-01-01", "apl_payment", 250),  # APL covers half
            row("with_apl", "2024-02-01", "rent_charge", 500),  # February billed
            row("with_apl", "2024-02-01", "apl_payment", 250),  # APL: 500 owed at end of Feb
            row("without_apl", "2024-01-01", "rent_charge", 500),  # January billed
            row("without_apl", "2024-01-10", "tenant_payment", 250),  # half paid
            row("without_apl", "2024-02-01", "rent_charge", 500),  # February billed
            row("without_apl", "2024-02-10", "tenant_payment", 250),  # half: 500 owed too
        ],
        [apl("with_apl", "2023-06-01", 250)],  # residual rent 250: 500 owed is two months
    )
    assert status_of(p, "with_apl") == (1, lbl.STATUS_POSITIVE)
    assert status_of(p, "without_apl") == (0, lbl.STATUS_NEGATIVE)


def test_apl_paid_to_the_tenant_does_not_lower_the_residual_rent():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January billed
            row("t1", "2024-01-10", "tenant_payment", 250),  # half paid
            row("t1", "2024-02-01", "rent_charge", 500),  # February billed
            row("t1", "2024-02-10", "tenant_payment", 250),  # half paid: 500 owed
            row("t1", "2024-03-01", "rent_charge", 500),  # March billed
            row("t1", "2024-03-10", "tenant_payment", 500),  # paid: still 500 owed
        ],
        # APL of 250 paid to the tenant: the tenant owes the full 500 a month, so 500
        # owed is one month, not the two it would be under tiers payant.
        [apl("t1", "2023-06-01", 250, to_landlord=False)],
    )
    assert status_of(p, "t1") == (0, lbl.STATUS_NEGATIVE)


def test_the_apl_of_the_month_just_ended_sets_the_residual_rent_at_a_month_end():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January billed, APL paid to tenant
            row("t1", "2024-01-10", "tenant_payment", 250),  # 250 owed at end of Jan: 1 month
            row("t1", "2024-02-01", "rent_charge", 500),  # February billed
            row("t1", "2024-02-10", "tenant_payment", 250),  # 500 owed at end of Feb: 2 months
            row("t1", "2024-03-01", "rent_charge", 500),  # March billed...
            row("t1", "2024-03-10", "tenant_payment", 500),  # ...paid: 500 owed, 1 month
        ],
        [
            apl("t1", "2023-06-01", 250),  # residual rent 250 through February
            apl("t1", "2024-03-01", 0),  # APL stops in March: not the February month-end's
        ],
    )
    assert status_of(p) == (1, lbl.STATUS_POSITIVE)


def test_a_mid_month_as_of_watches_the_end_of_its_own_month():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January unpaid: 500 at as_of
            row("t1", "2024-01-20", "other_debit", 500),  # repair billed: 1000 at end of Jan
            row("t1", "2024-02-03", "tenant_payment", 1000),  # caught up early February
        ],
    )
    assert status_of(p, as_of="2024-01-15", horizon_months=1) == (1, lbl.STATUS_POSITIVE)


def test_a_tenancy_is_labelled_when_it_started_before_as_of_and_has_not_left_before_it():
    p = make_portfolio(
        [
            tenancy("starts_on_as_of", start="2024-01-01"),
            tenancy("leaves_on_as_of", end="2024-01-01"),
            tenancy("left_before", end="2023-12-31"),
            tenancy("present"),
        ],
        [],
    )
    out = lbl.build_labels(p, AS_OF, known_until=KNOWN)
    assert out["tenancy_id"].tolist() == ["leaves_on_as_of", "present"]
    assert out["status"].tolist() == [lbl.STATUS_DEPARTED_WITHOUT_DEBT, lbl.STATUS_NEGATIVE]


def test_several_as_of_dates_give_one_row_per_present_tenancy_and_date():
    p = make_portfolio([tenancy("a"), tenancy("b", start="2024-01-15")], [])
    out = lbl.build_labels(p, ["2024-02-01", "2024-01-01"], known_until=KNOWN)
    assert list(out.columns) == list(lbl.OUTPUT_COLUMNS)
    assert out[["tenancy_id", "as_of"]].astype(str).values.tolist() == [
        ["a", "2024-01-01"],
        ["a", "2024-02-01"],
        ["b", "2024-02-01"],
    ]
    assert str(out["as_of"].dtype) == "datetime64[ns]"
    assert str(out["label"].dtype) == "Int8"


def test_an_as_of_date_with_no_tenancy_present_gives_an_empty_frame_with_the_same_columns():
    p = make_portfolio([tenancy("t1", start="2024-06-01")], [])
    out = lbl.build_labels(p, AS_OF, known_until=KNOWN)
    assert out.empty
    assert list(out.columns) == list(lbl.OUTPUT_COLUMNS)
    assert str(out["label"].dtype) == "Int8"


# --- decree_2027 ---------------------------------------------------------------------


def test_decree_2027_counts_a_debt_above_450_eur_that_first_arrears_does_not():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January unpaid: 500 at end of Jan
            row("t1", "2024-02-01", "rent_charge", 500),  # February billed
            row("t1", "2024-02-10", "tenant_payment", 1000),  # both paid: 0 at end of Feb
        ],
    )
    assert status_of(p, label="decree_2027") == (1, lbl.STATUS_POSITIVE)
    assert status_of(p, label="first_arrears") == (0, lbl.STATUS_NEGATIVE)


def test_decree_2027_needs_strictly_more_than_450_eur():
    p = make_portfolio(
        [tenancy("t1", rent=450.0)],
        [
            row("t1", "2024-01-01", "rent_charge", 450),  # January unpaid: exactly 450
            row("t1", "2024-02-01", "rent_charge", 450),  # February billed
            row("t1", "2024-02-10", "tenant_payment", 900),  # both paid
        ],
    )
    assert status_of(p, label="decree_2027") == (0, lbl.STATUS_NEGATIVE)


def test_decree_2027_also_counts_three_months_of_residual_rent():
    p = make_portfolio(
        [tenancy("t1", rent=400.0)],
        [
            row("t1", "2024-01-01", "rent_charge", 400),  # January billed
            row("t1", "2024-01-01", "apl_payment", 300),  # APL: 100 residual, unpaid
            row("t1", "2024-02-01", "rent_charge", 400),  # February billed
            row("t1", "2024-02-01", "apl_payment", 300),  # 200 owed at end of Feb
            row("t1", "2024-03-01", "rent_charge", 400),  # March billed
            row("t1", "2024-03-01", "apl_payment", 300),  # 300 owed at end of Mar: 3 months
        ],
        [apl("t1", "2023-06-01", 300)],  # residual rent 100
    )
    assert status_of(p, label="decree_2027") == (1, lbl.STATUS_POSITIVE)


def test_decree_2027_excludes_a_household_already_above_450_eur_at_as_of():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2023-12-01", "rent_charge", 500),  # December unpaid: 500 at as_of
        ],
    )
    assert status_of(p, label="decree_2027") == (pd.NA, lbl.STATUS_IN_ARREARS)
    assert status_of(p, label="first_arrears")[1] != lbl.STATUS_IN_ARREARS


# --- knowledge cut-off ---------------------------------------------------------------


def test_known_until_leaves_the_labels_whose_horizon_ends_after_it_incomplete():
    p = make_portfolio([tenancy("t1")], [])
    out = lbl.build_labels(p, ["2024-01-01", "2024-02-01", "2024-03-01"], known_until="2024-04-01")
    assert out["status"].tolist() == [
        lbl.STATUS_NEGATIVE,
        lbl.STATUS_INCOMPLETE,
        lbl.STATUS_INCOMPLETE,
    ]
    assert out["label"].tolist() == [0, pd.NA, pd.NA]


def test_known_until_ignores_facts_posted_after_it():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January unpaid
            row("t1", "2024-02-01", "rent_charge", 500),  # February billed
            # paid 20 Feb but recorded in May: before that, 1000 owed at end of Feb
            row("t1", "2024-02-20", "tenant_payment", 1000, posted="2024-05-02"),
        ],
    )
    assert status_of(p, known_until="2024-04-01") == (1, lbl.STATUS_POSITIVE)
    assert status_of(p, known_until="2024-06-01") == (0, lbl.STATUS_NEGATIVE)


def test_known_until_also_applies_to_apl_changes():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January billed
            row("t1", "2024-01-20", "tenant_payment", 250),  # 250 owed at end of Jan
            row("t1", "2024-02-01", "rent_charge", 500),  # February billed
            row("t1", "2024-02-20", "tenant_payment", 250),  # 500 owed at end of Feb
        ],
        # APL of 250 granted from January, but only recorded in May (retroactive)
        [apl("t1", "2024-01-01", 250, posted="2024-05-02")],
    )
    assert status_of(p, known_until="2024-04-01") == (0, lbl.STATUS_NEGATIVE)
    assert status_of(p, known_until="2024-06-01") == (1, lbl.STATUS_POSITIVE)


def test_without_known_until_the_last_posting_ends_the_observation():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January billed
            row("t1", "2024-01-05", "tenant_payment", 500),  # paid
            row("t1", "2024-03-31", "other_credit", 0.0),  # last fact of the export
        ],
    )
    assert lbl.observed_until(p) == pd.Timestamp("2024-04-01")
    out = lbl.build_labels(p, ["2024-01-01", "2024-02-01"])
    assert out["status"].tolist() == [lbl.STATUS_NEGATIVE, lbl.STATUS_INCOMPLETE]


def test_without_known_until_every_fact_is_read_even_if_posted_late():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-01-01", "rent_charge", 500),  # January unpaid
            row("t1", "2024-02-01", "rent_charge", 500),  # February billed
            # paid 20 Feb, recorded in May: counted when nothing is cut off
            row("t1", "2024-02-20", "tenant_payment", 1000, posted="2024-05-02"),
            row("t1", "2024-03-01", "rent_charge", 500),  # March billed...
            row("t1", "2024-03-03", "tenant_payment", 500),  # ...paid
            row("t1", "2024-04-01", "rent_charge", 500),  # last event: observed to 2 April
        ],
    )
    assert status_of(p, known_until=None) == (0, lbl.STATUS_NEGATIVE)
    assert status_of(p, known_until="2024-04-01") == (1, lbl.STATUS_POSITIVE)


def test_without_known_until_late_postings_do_not_extend_the_observation_past_the_events():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2024-03-01", "rent_charge", 500),  # last month of the extract
            row("t1", "2024-03-05", "tenant_payment", 500, posted="2024-05-20"),  # late
        ],
    )
    assert lbl.observed_until(p) == pd.Timestamp("2024-03-06")


def test_an_as_of_after_known_until_is_incomplete_even_for_a_household_in_arrears():
    p = make_portfolio(
        [tenancy("t1")],
        [
            row("t1", "2023-11-01", "rent_charge", 500),  # November unpaid
            row("t1", "2023-12-01", "rent_charge", 500),  # December unpaid
        ],
    )
    assert status_of(p, known_until="2023-12-15") == (pd.NA, lbl.STATUS_INCOMPLETE)


# --- outcomes ------------------------------------------------------------------------


def _outcome_portfolio() -> Portfolio:
    return make_portfolio([tenancy("t1"), tenancy("t2"), tenancy("t3")], [])


def test_outcomes_are_read_from_csv_and_joined_on_tenancy_and_date(tmp_path: Path):
    path = tmp_path / "outcomes.csv"
    path.write_text(
        "tenancy_id,as_of,label,comment\n"
        "t1,2024-01-01,1,went to the social watch\n"
        "t2,2024-01-01,0,\n"
        "gone,2024-01-01,1,not present at as_of: ignored\n"
    )
    out = lbl.build_labels(
        _outcome_portfolio(), AS_OF, label="outcomes", outcomes=read_outcomes(path)
    )
    assert out["label"].tolist() == [1, 0, pd.NA]
    assert out["status"].tolist() == [
        lbl.STATUS_POSITIVE,
        lbl.STATUS_NEGATIVE,
        lbl.STATUS_NO_OUTCOME,
    ]


def test_outcomes_are_read_from_parquet(tmp_path: Path):
    path = tmp_path / "outcomes.parquet"
    frame = pd.DataFrame({"tenancy_id": ["t3"], "as_of": [dt.date(2024, 1, 1)], "label": [1]})
    frame.to_parquet(path)
    outcomes = read_outcomes(path)
    assert str(outcomes["as_of"].dtype) == "datetime64[ns]"
    out = lbl.build_labels(_outcome_portfolio(), AS_OF, label="outcomes", outcomes=outcomes)
    assert out.set_index("tenancy_id").loc["t3", "status"] == lbl.STATUS_POSITIVE


def test_outcomes_keep_text_ids_intact(tmp_path: Path):
    path = tmp_path / "outcomes.csv"
    path.write_text("tenancy_id,as_of,label\n007,2024-01-01,1\n")
    assert read_outcomes(path)["tenancy_id"].tolist() == ["007"]


def test_outcomes_after_known_until_are_incomplete():
    outcomes = pd.DataFrame({"tenancy_id": ["t1"], "as_of": ["2024-01-01"], "label": [1]})
    out = lbl.build_labels(
        _outcome_portfolio(), AS_OF, label="outcomes", outcomes=outcomes, known_until="2024-03-01"
    )
    assert set(out["status"]) == {lbl.STATUS_INCOMPLETE}


# --- arguments and registry ----------------------------------------------------------


def test_wrong_arguments_are_refused_with_a_clear_message():
    p = _outcome_portfolio()
    with pytest.raises(ValueError, match="unknown label"):
        lbl.build_labels(p, AS_OF, label="eviction")
    with pytest.raises(ValueError, match="horizon_months"):
        lbl.build_labels(p, AS_OF, horizon_months=0)
    with pytest.raises(ValueError, match="outcomes table"):
        lbl.build_labels(p, AS_OF, label="outcomes")
    outcomes = pd.DataFrame({"tenancy_id": ["t1"], "as_of": [AS_OF], "label": [1]})
    with pytest.raises(ValueError, match="outcomes table"):
        lbl.build_labels(p, AS_OF, outcomes=outcomes)


def test_every_registered_label_is_described_in_both_languages_and_in_the_docs():
    docs = (Path(__file__).parents[1] / "docs" / "labels.md").read_text(encoding="utf-8")
    for name, definition in lbl.LABELS.items():
        assert definition.name == name
        assert definition.description_en and definition.description_fr
        assert f"`{name}`" in docs
        assert definition.description_en in docs
        assert definition.description_fr in docs


def test_every_status_has_a_label_value():
    statuses = {v for k, v in vars(lbl).items() if k.startswith("STATUS_") and isinstance(v, str)}
    assert statuses == set(lbl.STATUS_LABEL)


# --- the SQL agrees with a plain reading of the definition ---------------------------

TOL = CENT_TOLERANCE


def reference_status(
    p: Portfolio, tid: str, as_of: pd.Timestamp, horizon: int, known: str | None, name: str
) -> str:
    """The definition of docs/labels.md, written as plainly as possible."""
    d = lbl.LABELS[name]
    t = p.tenancies.set_index("tenancy_id").loc[tid]
    cut = pd.Timestamp.max if known is None else pd.Timestamp(known)
    if known is not None:
        observed = cut
    elif p.ledger.empty:
        observed = pd.Timestamp.max
    else:  # the day after the last day both lived and recorded in the ledger
        last = min(p.ledger["event_date"].max(), p.ledger["posted_date"].max())
        observed = last + pd.Timedelta(days=1)
    led = p.ledger[(p.ledger["tenancy_id"] == tid) & (p.ledger["posted_date"] < cut)]
    aid = p.apl[(p.apl["tenancy_id"] == tid) & (p.apl["posted_date"] < cut)]

    def balance(at: pd.Timestamp) -> float:
        rows = led[led["event_date"] < at]
        debits = rows.loc[rows["kind"].isin(DEBIT_KINDS), "amount"].sum()
        return float(debits - rows.loc[rows["kind"].isin(CREDIT_KINDS), "amount"].sum())

    def residual(at: pd.Timestamp) -> float:
        rows = aid[aid["effective_date"] < at].sort_values("effective_date")
        amount = rows["monthly_amount"].iloc[-1] if len(rows) else 0.0
        if len(rows) and not rows["paid_to_landlord"].iloc[-1]:
            amount = 0.0  # APL paid to the tenant does not lower what the landlord is owed
        return max(t["monthly_rent"] - amount, RESIDUAL_RENT_FLOOR_SHARE * t["monthly_rent"])

    def behind(at: pd.Timestamp) -> bool:
        b, r = balance(at), residual(at)
        over_eur = d.threshold_eur is not None and b > d.threshold_eur + TOL
        return b > TOL and (b >= d.threshold_months * r - TOL or over_eur)

    start = pd.Timestamp(year=as_of.year, month=as_of.month, day=1)
    checks = [start + pd.DateOffset(months=k) for k in range(1, horizon + 1)]
    end = t["end_date"]
    if as_of > observed:
        return lbl.STATUS_INCOMPLETE
    if behind(as_of):
        return lbl.STATUS_IN_ARREARS
    if checks[-1] > observed:
        return lbl.STATUS_INCOMPLETE
    if any(behind(c) for c in checks if pd.isna(end) or end >= c):
        return lbl.STATUS_POSITIVE
    if pd.notna(end) and end < checks[-1]:
        after = end + pd.Timedelta(days=1)
        b = balance(after)
        if b > TOL and b >= lbl.EXIT_DEBT_MONTHS * residual(after) - TOL:
            return lbl.STATUS_DEPARTED_WITH_DEBT
        return lbl.STATUS_DEPARTED_WITHOUT_DEBT
    return lbl.STATUS_NEGATIVE


DAYS = st.dates(dt.date(2023, 9, 1), dt.date(2024, 8, 31)).map(str)
LAG = st.sampled_from([0, 0, 0, 3, 70])  # days between a fact and its recording


def _later(day: str, days: int) -> str:
    return str((pd.Timestamp(day) + pd.Timedelta(days=days)).date())


@st.composite
def portfolios(draw):
    """Up to three tenancies billed every month, with random credits and other debits."""
    tenancies, ledger, apls = [], [], {}
    for i in range(draw(st.integers(1, 3))):
        tid = f"t{i}"
        start, end = draw(DAYS), draw(st.none() | DAYS)
        if end is not None and end < start:
            start, end = end, start
        rent = draw(st.sampled_from([300.0, 500.0, 612.37]))
        tenancies.append(tenancy(tid, start, end, rent))
        for month in pd.date_range(start, end or "2024-08-31", freq="MS"):
            day = str(month.date())
            ledger.append(row(tid, day, "rent_charge", rent, _later(day, draw(LAG))))
            paid_on = draw(st.sampled_from([None, 4, 4, 4, 4, 12, 40]))  # None: not paid
            if paid_on is not None:
                day = _later(day, paid_on)
                ledger.append(row(tid, day, "tenant_payment", rent, _later(day, draw(LAG))))
        for _ in range(draw(st.integers(0, 6))):
            day = draw(DAYS)
            kind = draw(st.sampled_from(DEBIT_KINDS + CREDIT_KINDS))
            amount = draw(st.sampled_from([100.0, 250.0, 300.0, 500.0, 612.37, 1000.0]))
            ledger.append(row(tid, day, kind, amount, _later(day, draw(LAG))))
        for _ in range(draw(st.integers(0, 3))):
            day = draw(DAYS)
            amount = draw(st.sampled_from([0.0, 150.0, 280.0]))
            apls[(tid, day)] = apl(
                tid,
                day,
                amount,
                posted=_later(day, draw(st.integers(-40, 60))),
                to_landlord=draw(st.booleans()),
            )
    return make_portfolio(tenancies, ledger, list(apls.values()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    p=portfolios(),
    as_of=st.dates(dt.date(2023, 10, 1), dt.date(2024, 6, 30)).map(str),
    horizon=st.integers(1, 4),
    known=st.none() | st.dates(dt.date(2024, 1, 1), dt.date(2025, 3, 31)).map(str),
    name=st.sampled_from(["first_arrears", "decree_2027"]),
)
def test_the_labels_agree_with_a_plain_reading_of_the_definition(p, as_of, horizon, known, name):
    out = lbl.build_labels(p, as_of, label=name, horizon_months=horizon, known_until=known)
    at = pd.Timestamp(as_of)
    expected = {
        tid: reference_status(p, tid, at, horizon, known, name) for tid in out["tenancy_id"]
    }
    assert dict(zip(out["tenancy_id"], out["status"], strict=True)) == expected
    present = lbl.present_tenancies(p.tenancies, as_of)
    assert sorted(out["tenancy_id"]) == sorted(present["tenancy_id"])
