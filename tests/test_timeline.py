"""As-of dates and the presence rule shared by features, labels and the oracle."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from risk.timeline import add_months, as_of_dates, month_start, presence_sql


def test_as_of_dates_are_sorted_unique_midnight_timestamps() -> None:
    dates = as_of_dates(["2024-06-01", dt.date(2024, 3, 1), pd.Timestamp("2024-06-01 13:00")])
    assert dates == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-06-01")]


def test_a_single_as_of_date_is_accepted() -> None:
    assert as_of_dates("2024-06") == [pd.Timestamp("2024-06-01")]


def test_no_as_of_date_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one as-of date"):
        as_of_dates([])


def test_month_helpers_move_by_calendar_months() -> None:
    assert month_start("2024-02-29") == pd.Timestamp("2024-02-01")
    assert add_months("2024-01-31", 1) == pd.Timestamp("2024-02-29")


@pytest.mark.parametrize(
    ("start", "end", "present"),
    [
        ("2024-05-31", None, True),  # entered the day before, still there
        ("2024-06-01", None, False),  # enters on the as-of day: no history to score
        ("2024-01-01", "2024-06-01", True),  # leaves on the as-of day: still present
        ("2024-01-01", "2024-05-31", False),  # left the day before
    ],
)
def test_presence_at_the_as_of_date(start: str, end: str | None, present: bool) -> None:
    end_sql = "NULL::DATE" if end is None else f"DATE '{end}'"
    condition = presence_sql(f"DATE '{start}'", end_sql, "DATE '2024-06-01'")
    assert duckdb.sql(f"SELECT {condition}").fetchall() == [(present,)]
