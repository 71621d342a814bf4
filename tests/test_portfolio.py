"""Portfolios built from a request's facts: columns give the same rows and frames as rows do."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from risk.contract import TABLES
from risk.portfolio import ColumnTables, Portfolio, date_column


def test_date_column_turns_dates_into_days_and_none_into_nat():
    days = date_column([dt.date(2024, 2, 29), None, dt.date(1900, 1, 1), dt.date(2199, 12, 31)])
    assert days.dtype == np.dtype("datetime64[D]")
    assert days.astype(str).tolist() == ["2024-02-29", "NaT", "1900-01-01", "2199-12-31"]


def test_date_column_of_no_dates_is_empty():
    assert date_column([]).shape == (0,)


# Two tenancies, as the API validates them: one with an empty end date, one ended.
TENANCY_ROWS = [
    ("T1", "R1", "collective", "2019-03-01", None, 520.0, "none", 1980, "single", 0),
    ("T2", "R2", "individual", "2020-02-29", "2024-01-31", 610.5, "visale", 1991, "couple", 2),
]
# T1 pays late once (posted the day after), T2's APL row has no posted date.
LEDGER_ROWS = [
    ("T1", "2024-01-01", "2024-01-01", "rent", 520.0, None),  # rent call
    ("T1", "2024-01-05", "2024-01-06", "payment", -520.0, "transfer"),  # paid, posted late
    ("T2", "2023-12-01", "2023-12-01", "rent", 610.5, None),  # rent call
]


def contract_rows():
    """Rows of every table in contract column order; the other tables empty."""
    rows = {name: [] for name in TABLES}
    rows["tenancies"] = TENANCY_ROWS
    rows["ledger"] = LEDGER_ROWS
    return rows


def test_columns_give_back_the_rows_with_iso_dates_and_none():
    rows = contract_rows()
    assert ColumnTables.from_rows(rows).rows() == rows


def test_columns_give_the_frames_that_rows_give():
    rows = contract_rows()
    from_columns = ColumnTables.from_rows(rows).portfolio()
    from_rows = Portfolio.from_rows(rows)
    for name, frame in from_rows.tables():
        pd.testing.assert_frame_equal(getattr(from_columns, name), frame, check_dtype=True)


def test_a_missing_table_or_optional_column_is_empty():
    rows = contract_rows()
    columns = ColumnTables.from_rows(rows).columns
    ledger = {k: v for k, v in columns["ledger"].items() if k != "payment_method"}
    partial = ColumnTables({"tenancies": columns["tenancies"], "ledger": ledger})
    assert len(partial) == 2
    assert partial.rows()["incomes"] == []
    assert partial.portfolio().ledger["payment_method"].isna().all()
    assert len(partial.portfolio().support) == 0
