"""Point-in-time rules: which facts the feature builder may see at an as-of date.

Each rule is a small function returning a SQL predicate, so that every query states
its rule by name (as feast's offline stores do) and a test can target it. The rules:

- a fact is *known* at ``as_of`` if it was posted strictly before it
  (:func:`posted_before`); nothing recorded on the as-of day itself counts, because
  a score computed that morning could not have seen it;
- an income or APL row is *in force* at a date if it is known at ``as_of`` and took
  effect strictly before that date (:func:`in_force_at`);
- a tenancy is *present* at ``as_of`` if it started strictly before it and has not
  ended before it (:func:`present_at`); a tenant leaving on the as-of day is still
  present that day;
- a follow-up (support, payment plan) is *running* at ``as_of`` if it is known, started
  before ``as_of`` and has not ended before it (:func:`running_at`).

Ledger rows are placed in time by their ``event_date`` (when the money moved) but
filtered by their ``posted_date`` (when the landlord knew): a payment made before the
as-of date but posted after it is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from risk.timeline import add_months, month_start, presence_sql


def sql_timestamp(value: pd.Timestamp) -> str:
    """Return a SQL timestamp literal for ``value`` (built from a Timestamp, never user text).

    Portfolio dates are ``datetime64`` (TIMESTAMP or TIMESTAMP_NS in DuckDB). DuckDB
    casts this literal to the column's type once, so a comparison stays an integer test
    that the Parquet reader can push into its scan; a cast column would cost per row.
    """
    return f"TIMESTAMP '{pd.Timestamp(value).strftime('%Y-%m-%d')}'"


def month_index_sql(date: str) -> str:
    """Return a SQL expression numbering calendar months (consecutive integers)."""
    return f"(year({date}) * 12 + month({date}))"


def epoch_seconds_sql(date: str) -> str:
    """Return a SQL BIGINT of whole seconds since 1970-01-01 for timestamp ``date``.

    The one dialect-specific function of the feature SQL (Spark SQL: ``unix_seconds``).
    """
    return f"CAST(epoch({date}) AS BIGINT)"


@dataclass(frozen=True)
class AsOf:
    """One as-of date and the SQL literals derived from it.

    Parameters
    ----------
    date
        The as-of date (midnight). Facts posted on this day are not yet known.
    """

    date: pd.Timestamp

    @property
    def sql(self) -> str:
        """The as-of date as a SQL timestamp literal."""
        return sql_timestamp(self.date)

    @property
    def month_index(self) -> int:
        """Calendar-month number of the as-of date, comparable to :func:`month_index_sql`."""
        return self.date.year * 12 + self.date.month

    def month_start_before_sql(self, months: int) -> str:
        """Return the first day of the calendar month ``months`` before the as-of month."""
        return sql_timestamp(add_months(month_start(self.date), -months))

    def months_before_sql(self, months: int) -> str:
        """Return the date ``months`` calendar months before as-of, as a SQL timestamp literal."""
        return sql_timestamp(add_months(self.date, -months))


def posted_before(alias: str, as_of: AsOf) -> str:
    """Return the predicate "row ``alias`` was posted strictly before as-of"."""
    return f"{alias}.posted_date < {as_of.sql}"


def in_force_at(alias: str, at: str, as_of: AsOf) -> str:
    """Return the predicate "row ``alias`` (income or APL) is in force at ``at``".

    Parameters
    ----------
    alias
        Table alias of an ``incomes`` or ``apl`` row.
    at
        SQL date expression at which the value is wanted (as-of itself or earlier).
    as_of
        The as-of date: the row must be known then, whatever ``at`` is.
    """
    return f"({posted_before(alias, as_of)} AND {alias}.effective_date < {at})"


def present_at(alias: str, as_of: AsOf) -> str:
    """Return the predicate "tenancy ``alias`` is present at as-of".

    A tenancy is present when it started strictly before as-of (a tenant entering on
    the as-of day has no history to score) and its end date is empty or on/after as-of.
    """
    return presence_sql(f"{alias}.start_date", f"{alias}.end_date", as_of.sql)


def running_at(alias: str, as_of: AsOf) -> str:
    """Return the predicate "follow-up ``alias`` is known and running at as-of"."""
    return (
        f"({posted_before(alias, as_of)} AND {alias}.start_date < {as_of.sql} "
        f"AND ({alias}.end_date IS NULL OR {alias}.end_date >= {as_of.sql}))"
    )


def happened_within(alias: str, as_of: AsOf, months: int) -> str:
    """Return the predicate "one-off event ``alias`` is known and started in the window".

    The window is ``[as_of - months, as_of)``, day for day.
    """
    return (
        f"({posted_before(alias, as_of)} AND {alias}.start_date < {as_of.sql} "
        f"AND {alias}.start_date >= {as_of.months_before_sql(months)})"
    )


def complete_months_between(start: str, as_of: AsOf) -> str:
    """Return SQL for the complete calendar months elapsed from ``start`` to as-of.

    A month is complete once the same day of the month is reached again: from 15 Jan,
    one month has elapsed on 15 Feb. When that day does not exist (31 Jan to 29 Feb),
    the month completes on the next day, the 1 Mar.
    """
    d = as_of.date
    return (
        f"({as_of.month_index} - {month_index_sql(start)} "
        f"- CASE WHEN day({start}) > {d.day} THEN 1 ELSE 0 END)"
    )
