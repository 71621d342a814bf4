"""A portfolio: the contract's tables, typed and validated, held together.

A :class:`Portfolio` is what every stage after validation receives. Its frames follow
the contract (:mod:`risk.contract`) with these dtypes:

- ``id`` and ``code`` columns: strings;
- ``date`` columns: ``datetime64`` (never Python ``date`` objects, which refuse to be
  compared with timestamps under pandas 3); empty dates are ``NaT``;
- ``money``: ``float64`` EUR; ``count`` and ``year``: ``int64``; ``bool``: ``bool``.

The ledger's empty ``posted_date`` is filled with ``event_date`` when the portfolio is
built, so that every later stage can trust it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from risk.contract import SUPPORT, TABLES

#: The dtype of each contract column kind in a portfolio's frames.
PORTFOLIO_DTYPES: dict[str, str] = {
    "id": "str",
    "code": "str",
    "date": "datetime64[ns]",
    "money": "float64",
    "count": "int64",
    "year": "int64",
    "bool": "bool",
}


def empty_table(name: str) -> pd.DataFrame:
    """Return an empty frame with the contract columns and dtypes of table ``name``."""
    table = TABLES[name]
    return pd.DataFrame({c.name: pd.Series(dtype=PORTFOLIO_DTYPES[c.kind]) for c in table.columns})


@dataclass(frozen=True)
class Portfolio:
    """The contract tables of one landlord's portfolio, already validated.

    Build one with :func:`risk.ingestion.read_portfolio` (which validates) or
    :func:`risk.simulation.simulate`; inside the library the data is trusted.

    Parameters
    ----------
    tenancies, incomes, apl, ledger
        Required contract tables.
    support
        Optional follow-up table; an empty frame when the export has none.
    """

    tenancies: pd.DataFrame
    incomes: pd.DataFrame
    apl: pd.DataFrame
    ledger: pd.DataFrame
    support: pd.DataFrame

    @classmethod
    def from_frames(
        cls,
        tenancies: pd.DataFrame,
        incomes: pd.DataFrame,
        apl: pd.DataFrame,
        ledger: pd.DataFrame,
        support: pd.DataFrame | None = None,
    ) -> Portfolio:
        """Assemble a portfolio, filling an absent support table and empty posted dates."""
        if support is None:
            support = empty_table(SUPPORT.name)
        if ledger["posted_date"].isna().any():
            ledger = ledger.assign(posted_date=ledger["posted_date"].fillna(ledger["event_date"]))
        return cls(tenancies=tenancies, incomes=incomes, apl=apl, ledger=ledger, support=support)

    @classmethod
    def from_rows(cls, rows: Mapping[str, Sequence[tuple[Any, ...]]]) -> Portfolio:
        """Assemble a portfolio from already validated row tuples (the API's requests).

        Parameters
        ----------
        rows
            For each contract table, its rows as tuples in the contract's column order;
            dates as :class:`datetime.date` or Timestamps, absent values as None. A
            missing table is empty.

        Returns
        -------
        Portfolio
            Frames with the :data:`PORTFOLIO_DTYPES` of their columns.
        """
        frames = {}
        for name, table in TABLES.items():
            columns = list(zip(*rows.get(name, ()), strict=True)) or [()] * len(table.columns)
            frames[name] = pd.DataFrame(
                {
                    c.name: pd.Series(values, dtype=PORTFOLIO_DTYPES[c.kind])
                    if c.kind != "date"
                    else pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[ns]")
                    for c, values in zip(table.columns, columns, strict=True)
                }
            )
        return cls.from_frames(**frames)

    def tables(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """Yield ``(name, frame)`` for every contract table, in contract order."""
        for name in TABLES:
            yield name, getattr(self, name)

    def write(self, directory: str | Path, fmt: Literal["parquet", "csv"] = "parquet") -> Path:
        """Write one file per table into ``directory`` (created if needed).

        Parameters
        ----------
        directory
            Target folder.
        fmt
            ``parquet`` (default, exact dtypes) or ``csv`` (UTF-8, comma, ISO dates).

        Returns
        -------
        Path
            The folder written.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables():
            if fmt == "parquet":
                frame.to_parquet(out / f"{name}.parquet", index=False)
            else:
                frame.to_csv(out / f"{name}.csv", index=False, date_format="%Y-%m-%d")
        return out

    def summary(self) -> dict[str, int]:
        """Return the number of rows of each table."""
        return {name: len(frame) for name, frame in self.tables()}


#: ``date.toordinal()`` of 1970-01-01: ordinals minus this are datetime64 days.
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def date_column(values: Sequence[dt.date | None]) -> np.ndarray:
    """Return dates as a ``datetime64[D]`` array, ``NaT`` for None.

    Through each date's ordinal, an integer: numpy converts a list of ``date`` objects
    about ten times slower.

    Parameters
    ----------
    values
        :class:`datetime.date` objects (a time of day would be dropped) or None.

    Returns
    -------
    numpy.ndarray
    """
    ordinals = np.array([0 if v is None else v.toordinal() for v in values], dtype=np.int64)
    days = (ordinals - _EPOCH_ORDINAL).astype("datetime64[D]")
    days[ordinals == 0] = np.datetime64("NaT")
    return days


@dataclass(frozen=True)
class ColumnTables:
    """Contract tables held as columns: the facts of a scoring request once validated.

    The API turns a request into columns rather than rows: a thousand tenancies bring
    about 75,000 rows, which become frames (for DuckDB) several times faster column by
    column, and become rows (for SQLite) by one transposition.

    Attributes
    ----------
    columns
        Table name to column name to values, for the contract tables (a missing table
        is empty, a missing optional column empty): date columns as ``datetime64[D]``
        arrays (see :func:`date_column`), the others as lists with None when empty.
    """

    columns: Mapping[str, Mapping[str, Sequence[Any] | np.ndarray]]

    @classmethod
    def from_rows(cls, rows: Mapping[str, Sequence[tuple[Any, ...]]]) -> ColumnTables:
        """Return the columns of row tuples (the inverse of :meth:`rows`).

        Parameters
        ----------
        rows
            For each contract table, its rows as tuples in contract column order;
            dates as :class:`datetime.date` or ISO text, empty values None.

        Returns
        -------
        ColumnTables
        """
        columns: dict[str, dict[str, Sequence[Any] | np.ndarray]] = {}
        for name, table in TABLES.items():
            values = list(zip(*rows.get(name, ()), strict=True)) or [()] * len(table.columns)
            columns[name] = {
                c.name: np.array(v, dtype="datetime64[D]") if c.kind == "date" else list(v)
                for c, v in zip(table.columns, values, strict=True)
            }
        return cls(columns)

    def __len__(self) -> int:
        """Return the number of tenancies."""
        return len(self.columns.get("tenancies", {}).get("tenancy_id", ()))

    def _table(self, name: str) -> tuple[int, Mapping[str, Sequence[Any] | np.ndarray]]:
        columns = self.columns.get(name, {})
        return len(next(iter(columns.values()), ())), columns

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Return the rows of each table as tuples in contract column order.

        Dates are ISO ``YYYY-MM-DD`` text, empty values None: what
        :func:`risk.features.feature_rows` takes.
        """
        out: dict[str, list[tuple[Any, ...]]] = {}
        for name, table in TABLES.items():
            n, columns = self._table(name)
            values: list[Sequence[Any] | np.ndarray] = []
            for column in table.columns:
                given = columns.get(column.name)
                if given is None:
                    values.append([None] * n)
                elif column.kind == "date":
                    days = np.asarray(given, dtype="datetime64[D]")
                    text: list[Any] = np.datetime_as_string(days, unit="D").tolist()
                    for i in np.flatnonzero(np.isnat(days)).tolist():
                        text[i] = None
                    values.append(text)
                else:
                    values.append(given)
            out[name] = list(zip(*values, strict=True))
        return out

    def portfolio(self) -> Portfolio:
        """Return the tables as a :class:`Portfolio` (frames with :data:`PORTFOLIO_DTYPES`)."""
        frames: dict[str, pd.DataFrame] = {}
        for name, table in TABLES.items():
            n, columns = self._table(name)
            frame: dict[str, Any] = {}
            for column in table.columns:
                given = columns.get(column.name)
                if column.kind == "date":
                    days = (
                        np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
                        if given is None
                        else np.asarray(given, dtype="datetime64[D]")
                    )
                    frame[column.name] = days.astype("datetime64[ns]")
                else:
                    values = [None] * n if given is None else given
                    frame[column.name] = pd.Series(values, dtype=PORTFOLIO_DTYPES[column.kind])
            frames[name] = pd.DataFrame(frame)
        return Portfolio.from_frames(**frames)
