"""Dates as the library handles them: as-of dates and calendar months.

The as-of date is always an explicit argument. A fact counts as known at ``as_of``
only if it was posted strictly before it; these helpers only normalise dates, the
point-in-time rules themselves live beside the code that applies them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

DateLike = str | dt.date | pd.Timestamp


def as_of_dates(values: DateLike | Iterable[DateLike]) -> list[pd.Timestamp]:
    """Normalise one or several as-of dates to sorted, unique midnight timestamps.

    Parameters
    ----------
    values
        A date, an ISO string (``YYYY-MM-DD`` or ``YYYY-MM`` for the first of the month),
        or an iterable of them.

    Returns
    -------
    list of pandas.Timestamp
        Sorted unique dates at midnight, without time zone.
    """
    if isinstance(values, str | dt.date | pd.Timestamp):
        values = [values]
    out = {pd.Timestamp(v).normalize() for v in values}
    if not out:
        raise ValueError("at least one as-of date is needed")
    return sorted(out)


def month_start(value: DateLike) -> pd.Timestamp:
    """Return the first day of the month of ``value``."""
    ts = pd.Timestamp(value)
    return pd.Timestamp(year=ts.year, month=ts.month, day=1)


def add_months(value: DateLike, months: int) -> pd.Timestamp:
    """Return ``value`` shifted by a whole number of calendar months."""
    return pd.Timestamp(value) + pd.DateOffset(months=months)


def presence_sql(start: str, end: str, at: str) -> str:
    """Return a SQL condition: the tenancy is present at date ``at``.

    A tenancy is present when it started strictly before ``at`` (a tenant entering on
    that day has no history to score) and its end date is empty or on or after ``at``.
    The feature builder, the labels and the oracle all use this rule, so that every
    scored row has a label.

    Parameters
    ----------
    start, end, at
        SQL expressions of the start date, the end date (NULL while present) and the date.
    """
    return f"({start} < {at} AND ({end} IS NULL OR {end} >= {at}))"
