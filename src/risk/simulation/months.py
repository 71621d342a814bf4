"""The simulator's month grid: calendar facts of every simulated month, as arrays.

Month ``0`` is the first month of the period; burn-in months have negative indices.
Dates are handled as whole days since 1970-01-01 (``int64``) until the frames are
built, which keeps every per-row date computation a vectorised integer operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NS_PER_DAY = 86_400_000_000_000
#: Day number standing for "no date" in day arrays (becomes NaT).
NO_DAY = np.iinfo(np.int64).min

IntArray = npt.NDArray[np.int64]


def month_number(text: str) -> int:
    """Return ``YYYY-MM`` as months since 1970-01."""
    return int(np.datetime64(text[:7], "M").astype(np.int64))


def days_to_datetime(days: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    """Convert day numbers to ``datetime64[ns]``, :data:`NO_DAY` to ``NaT``."""
    days = np.asarray(days, dtype=np.int64)
    ns = days * NS_PER_DAY
    ns[days == NO_DAY] = np.iinfo(np.int64).min
    return ns.view("datetime64[ns]")


def first_days(months: npt.ArrayLike) -> IntArray:
    """Return the day number of the first day of each month (months since 1970-01)."""
    m = np.asarray(months, dtype=np.int64).astype("datetime64[M]")
    return m.astype("datetime64[D]").astype(np.int64)


def month_lengths(months: npt.ArrayLike) -> IntArray:
    """Return the number of days of each month (months since 1970-01)."""
    m = np.asarray(months, dtype=np.int64)
    return first_days(m + 1) - first_days(m)


@dataclass(frozen=True)
class MonthGrid:
    """Calendar of the simulated months ``lo .. n_months - 1``.

    Parameters
    ----------
    origin
        Month of index 0, in months since 1970-01.
    lo
        First index (minus the burn-in length).
    n_months
        Number of months of the period proper (indices ``0 .. n_months - 1``).
    """

    origin: int
    lo: int
    n_months: int

    @classmethod
    def build(cls, start: str, end: str, burn_in: int) -> MonthGrid:
        """Build the grid of ``start .. end`` preceded by ``burn_in`` months."""
        origin = month_number(start)
        return cls(origin=origin, lo=-burn_in, n_months=month_number(end) - origin + 1)

    def absolute(self, m: int) -> int:
        """Return month index ``m`` in months since 1970-01."""
        return self.origin + m

    def index_of(self, text: str) -> int:
        """Return the index of month ``YYYY-MM`` (may fall outside the grid)."""
        return month_number(text) - self.origin

    def first_day(self, m: int) -> int:
        """Return the day number of the first day of month ``m``."""
        return int(first_days([self.origin + m])[0])

    def length(self, m: int) -> int:
        """Return the number of days of month ``m``."""
        return int(month_lengths([self.origin + m])[0])

    def year(self, m: int) -> int:
        """Return the calendar year of month ``m``."""
        return 1970 + (self.origin + m) // 12

    def month_of_year(self, m: int) -> int:
        """Return the calendar month (1-12) of month ``m``."""
        return (self.origin + m) % 12 + 1

    @property
    def end_day(self) -> int:
        """Day number of the last day of the period."""
        return self.first_day(self.n_months) - 1

    @property
    def start_day(self) -> int:
        """Day number of the first day of the period."""
        return self.first_day(0)
