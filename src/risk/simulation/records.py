"""Collecting the rows the simulation emits and turning them into contract frames.

Rows are gathered month by month as small arrays of integer codes, day numbers and
amounts, and converted once at the end: identifiers and codes become ``str`` columns
through Arrow ``take`` (no Python object per row), day numbers become
``datetime64[ns]``. This is where the 30 M ledger rows of a large run are assembled, so
everything here is vectorised.
"""

from __future__ import annotations

import ctypes
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from risk.contract import (
    APL,
    EMPLOYMENT_STATUSES,
    INCOME_SOURCES,
    INCOMES,
    LEDGER,
    LEDGER_KINDS,
    PAYMENT_METHODS,
    SUPPORT,
    SUPPORT_KINDS,
)
from risk.simulation.months import NO_DAY, days_to_datetime

KIND = {code: i for i, code in enumerate(LEDGER_KINDS)}
SUPPORT_KIND = {code: i for i, code in enumerate(SUPPORT_KINDS)}
SOURCE = {code: i for i, code in enumerate(INCOME_SOURCES)}
NO_METHOD = -1

_STR = pd.StringDtype("pyarrow", na_value=np.nan)
#: Arrays of any dtype gathered month by month.
Array = npt.NDArray[Any]


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Hand the freed heap pages back to the operating system (glibc; no-op elsewhere).

    The rows of a run arrive as thousands of small monthly arrays, which glibc serves
    from its heap; once they are concatenated and freed, glibc keeps the pages for
    reuse, so a large run would hold the memory of its parts and of its frames at once
    (about 2 GB of the 500,000-tenancy HLM run). Trimming after each column is built
    keeps the peak close to the size of the frames themselves.
    """
    if _TRIM is not None:
        _TRIM(0)


def strings(codes: Array, dictionary: Sequence[str] | pa.Array) -> pd.Series:
    """Return a ``str`` series with ``dictionary[code]`` per row, missing for codes < 0."""
    codes = np.asarray(codes)
    values = dictionary if isinstance(dictionary, pa.Array) else pa.array(list(dictionary))
    # pandas holds strings as large_string: taking from a large_string dictionary gives
    # the final buffers directly, without a copy of tens of millions of rows.
    values = values.cast(pa.large_string())
    indices = pa.array(codes.astype(np.int32, copy=False), mask=codes < 0)
    return pd.Series(pd.array(pc.take(values, indices), dtype=_STR))


def _broadcast(value: npt.ArrayLike, n: int, dtype: npt.DTypeLike) -> Array:
    return np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()


class Recorder:
    """Accumulates the rows of every table, month after month.

    Parameters
    ----------
    ledger_from_day
        Ledger rows whose event is before this day are dropped (the burn-in ledger is
        summarised by one opening-balance row per tenancy).
    ledger_to_day, facts_to_day
        Rows whose event (ledger) or effect (incomes, APL, support) is after this day
        are dropped: the export is taken at the end of the period.
    keep_truth
        Whether per-month truth rows are kept.
    """

    def __init__(
        self, ledger_from_day: int, ledger_to_day: int, facts_to_day: int, keep_truth: bool = True
    ) -> None:
        self.ledger_from_day = ledger_from_day
        self.ledger_to_day = ledger_to_day
        self.facts_to_day = facts_to_day
        self.keep_truth = keep_truth
        self.truth_on = False
        self._parts: dict[str, defaultdict[str, list[Array]]] = {
            name: defaultdict(list) for name in ("ledger", "incomes", "apl", "support", "truth")
        }

    def _add(self, table: str, **cols: Array) -> None:
        parts = self._parts[table]
        for name, values in cols.items():
            parts[name].append(values)

    def ledger(
        self,
        idx: npt.NDArray[np.integer],
        day: npt.ArrayLike,
        kind: str,
        amount: npt.ArrayLike,
        lag: npt.ArrayLike = 0,
        method: npt.ArrayLike = NO_METHOD,
    ) -> None:
        """Record ledger rows (amounts are rounded to the cent; non-positive ones dropped)."""
        n = len(idx)
        if n == 0:
            return
        amount = np.round(_broadcast(amount, n, np.float64), 2)
        day = _broadcast(day, n, np.int64)
        keep = (amount > 0) & (day >= self.ledger_from_day) & (day <= self.ledger_to_day)
        if not keep.any():
            return
        self._add(
            "ledger",
            idx=np.asarray(idx, dtype=np.int32)[keep],
            day=day[keep].astype(np.int32),
            lag=_broadcast(lag, n, np.int16)[keep],
            kind=np.full(int(keep.sum()), KIND[kind], dtype=np.int8),
            amount=amount[keep],
            method=_broadcast(method, n, np.int8)[keep],
        )

    def income(
        self,
        idx: npt.NDArray[np.integer],
        day: npt.ArrayLike,
        lag: npt.ArrayLike,
        amount: npt.ArrayLike,
        emp: npt.ArrayLike,
        source: npt.ArrayLike,
    ) -> None:
        """Record income rows (one per tenancy and effective day, by construction)."""
        n = len(idx)
        if n == 0:
            return
        day = _broadcast(day, n, np.int64)
        keep = day <= self.facts_to_day
        self._add(
            "incomes",
            idx=np.asarray(idx, dtype=np.int32)[keep],
            day=day[keep],
            lag=_broadcast(lag, n, np.int32)[keep],
            amount=np.round(_broadcast(amount, n, np.float64), 2)[keep],
            emp=_broadcast(emp, n, np.int8)[keep],
            source=_broadcast(source, n, np.int8)[keep],
        )

    def apl(
        self,
        idx: npt.NDArray[np.integer],
        day: npt.ArrayLike,
        lag: npt.ArrayLike,
        amount: npt.ArrayLike,
        tiers: npt.ArrayLike,
    ) -> None:
        """Record APL entitlement rows (changes only)."""
        n = len(idx)
        if n == 0:
            return
        day = _broadcast(day, n, np.int64)
        keep = day <= self.facts_to_day
        self._add(
            "apl",
            idx=np.asarray(idx, dtype=np.int32)[keep],
            day=day[keep],
            lag=_broadcast(lag, n, np.int32)[keep],
            amount=np.round(_broadcast(amount, n, np.float64), 2)[keep],
            tiers=_broadcast(tiers, n, np.bool_)[keep],
        )

    def support(
        self,
        idx: npt.NDArray[np.integer],
        kind: str,
        start: npt.ArrayLike,
        end: npt.ArrayLike,
        lag: npt.ArrayLike,
    ) -> None:
        """Record follow-up rows; ``end`` is :data:`NO_DAY` while running or one-off."""
        n = len(idx)
        if n == 0:
            return
        start = _broadcast(start, n, np.int64)
        end = _broadcast(end, n, np.int64)
        keep = start <= self.facts_to_day
        end = np.where(end > self.facts_to_day, NO_DAY, end)
        self._add(
            "support",
            idx=np.asarray(idx, dtype=np.int32)[keep],
            kind=np.full(int(keep.sum()), SUPPORT_KIND[kind], dtype=np.int8),
            start=start[keep],
            end=end[keep],
            lag=_broadcast(lag, n, np.int32)[keep],
        )

    def truth(self, **cols: Array) -> None:
        """Record one month of truth rows (when truth is switched on)."""
        if self.keep_truth and self.truth_on:
            self._add("truth", **cols)

    def _cat(self, table: str) -> dict[str, Array]:
        return {name: np.concatenate(parts) for name, parts in self._parts[table].items()}

    def _pop(self, table: str, name: str) -> Array:
        """Concatenate one column and release its parts (keeps the peak memory low)."""
        return np.concatenate(self._parts[table].pop(name))

    # --- frames --------------------------------------------------------------------------

    def ledger_frame(self, ids: pa.Array) -> pd.DataFrame:
        """Build the ledger, sorted by tenancy then event day (emission order on ties).

        Built one column at a time, releasing each source column as soon as it is
        used: the ledger of a large run is tens of millions of rows.
        """
        if not self._parts["ledger"]:
            return _empty(LEDGER.column_names)
        idx = self._pop("ledger", "idx")
        day = self._pop("ledger", "day")
        key = (idx.astype(np.int64) << 20) | (day - day.min()).astype(np.int64)
        order = np.argsort(key, kind="stable")
        del key
        release_memory()
        cols: dict[str, object] = {"tenancy_id": strings(idx[order], ids)}
        del idx
        day = day[order].astype(np.int64)
        cols["event_date"] = days_to_datetime(day)
        day += self._pop("ledger", "lag")[order]
        cols["posted_date"] = days_to_datetime(day)
        del day
        release_memory()
        cols["kind"] = strings(self._pop("ledger", "kind")[order], LEDGER_KINDS)
        release_memory()
        cols["amount"] = self._pop("ledger", "amount")[order]
        release_memory()
        cols["payment_method"] = strings(self._pop("ledger", "method")[order], PAYMENT_METHODS)
        self._parts["ledger"].clear()
        release_memory()
        return pd.DataFrame(cols, columns=list(LEDGER.column_names), copy=False)

    def incomes_frame(self, ids: pa.Array) -> pd.DataFrame:
        """Income changes, sorted by tenancy then effective date."""
        if not self._parts["incomes"]:
            return _empty(INCOMES.column_names)
        c = self._cat("incomes")
        order = np.lexsort((c["day"], c["idx"]))
        day = c["day"][order]
        return pd.DataFrame(
            {
                "tenancy_id": strings(c["idx"][order], ids),
                "effective_date": days_to_datetime(day),
                "posted_date": days_to_datetime(day + c["lag"][order]),
                "monthly_income": c["amount"][order],
                "employment_status": strings(c["emp"][order], EMPLOYMENT_STATUSES),
                "income_source": strings(c["source"][order], INCOME_SOURCES),
            },
            columns=list(INCOMES.column_names),
            copy=False,
        )

    def apl_frame(self, ids: pa.Array) -> pd.DataFrame:
        """APL entitlement changes, sorted by tenancy then effective date."""
        if not self._parts["apl"]:
            return _empty(APL.column_names)
        c = self._cat("apl")
        order = np.lexsort((c["day"], c["idx"]))
        day = c["day"][order]
        return pd.DataFrame(
            {
                "tenancy_id": strings(c["idx"][order], ids),
                "effective_date": days_to_datetime(day),
                "posted_date": days_to_datetime(day + c["lag"][order]),
                "monthly_amount": c["amount"][order],
                "paid_to_landlord": c["tiers"][order],
            },
            columns=list(APL.column_names),
            copy=False,
        )

    def support_frame(self, ids: pa.Array) -> pd.DataFrame:
        """Follow-up events, sorted by tenancy then start date."""
        if not self._parts["support"]:
            return _empty(SUPPORT.column_names)
        c = self._cat("support")
        order = np.lexsort((c["kind"], c["start"], c["idx"]))
        start = c["start"][order]
        return pd.DataFrame(
            {
                "tenancy_id": strings(c["idx"][order], ids),
                "kind": strings(c["kind"][order], SUPPORT_KINDS),
                "start_date": days_to_datetime(start),
                "end_date": days_to_datetime(c["end"][order]),
                "posted_date": days_to_datetime(start + c["lag"][order]),
            },
            columns=list(SUPPORT.column_names),
            copy=False,
        )

    def truth_columns(self) -> list[str]:
        """Names of the truth arrays gathered so far."""
        return list(self._parts["truth"])

    def pop_truth(self, name: str) -> Array:
        """One truth column, concatenated over the months (its parts are released)."""
        return self._pop("truth", name)


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    from risk.contract import TABLES
    from risk.portfolio import empty_table

    for table in TABLES.values():
        if table.column_names == columns:
            return empty_table(table.name)
    raise KeyError(columns)
