"""Features of a few tenancies in under a millisecond: the feature SQL run by SQLite.

Why two engines run one SQL. Training builds features over millions of ledger rows
with DuckDB (:func:`risk.features.build_features`). The scoring API builds them for one
tenancy, or a few thousand, per request, and must answer in a few milliseconds: DuckDB
alone spends ~80 ms binding and optimising the feature query, whatever the data size.
The API must not use a second implementation of the features either, so this module
runs the *same* query, produced by the same Python functions and translated by sqlglot
(:mod:`risk.features.dialect`), in Python's built-in SQLite on an in-memory database
holding only the request's rows. SQLite prepares the translated query once per as-of
date and per thread (sqlite3's statement cache), then runs it in a fraction of a
millisecond. The tests check both engines give the same frame.

Rows come either as a :class:`~risk.portfolio.Portfolio` or, cheaper, as plain tuples
in contract column order (:data:`risk.contract.TABLES`): Python ``str``, ``float``,
``int``, ``bool`` or ``None``, and dates as ``datetime.date``, ``datetime.datetime``
(``pandas.Timestamp`` included) or ISO text. A ledger row's empty ``posted_date`` falls
back to its ``event_date``, as in DuckDB.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from risk.catalogue import FEATURES
from risk.contract import TABLES, Table
from risk.features.builder import UNKNOWN_CODE
from risk.features.source import select_contract_columns
from risk.portfolio import Portfolio
from risk.timeline import DateLike, as_of_dates

#: Rows of the contract tables, by table name, each row in contract column order.
TableRows = Mapping[str, Iterable[Sequence[Any]]]

#: SQLite column affinity of each contract column kind. Money is REAL so that whole
#: amounts given as ``int`` compute as DuckDB's DOUBLE; dates are ISO text.
_AFFINITY = {"money": "REAL", "count": "INTEGER", "year": "INTEGER", "bool": "INTEGER"}

_CATEGORICAL = [i for i, f in enumerate(FEATURES) if f.dtype == "categorical"]
_CATEGORY_DTYPES = {
    f.name: pd.CategoricalDtype(pd.Index(f.categories))
    for f in FEATURES
    if f.dtype == "categorical"
}


def date_text(value: dt.datetime | dt.date) -> str:
    """Return how the SQLite database stores a date: ISO text, time only if not midnight.

    ``YYYY-MM-DD``, plus `` HH:MM:SS[.ffffff]`` for a time other than midnight: text
    order is then time order (a day is a prefix of its later times), and SQLite's date
    functions read both forms.
    """
    if isinstance(value, dt.datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    return value.isoformat()


#: Translated queries of the latest as-of dates, oldest first (see :func:`query_ready`).
_QUERIES: OrderedDict[pd.Timestamp, str] = OrderedDict()
_QUERIES_LOCK = threading.Lock()


def _query(as_of: pd.Timestamp) -> str:
    with _QUERIES_LOCK:
        query = _QUERIES.get(as_of)
        if query is not None:
            _QUERIES.move_to_end(as_of)
            return query
    # Imported on first use: sqlglot is only needed to translate, once per date.
    from risk.features.dialect import QUERY_CACHE_SIZE, sqlite_feature_query

    translated = sqlite_feature_query(as_of)
    with _QUERIES_LOCK:
        # One string object per date, so that sqlite3's statement cache hits as well.
        query = _QUERIES.setdefault(as_of, translated)
        _QUERIES.move_to_end(as_of)
        while len(_QUERIES) > QUERY_CACHE_SIZE:
            _QUERIES.popitem(last=False)
    return query


def query_ready(as_of: DateLike) -> bool:
    """Tell whether the feature query of ``as_of`` is translated already.

    A first request at a new date pays the translation (a few tenths of a second); the
    API runs such a request off its event loop.
    """
    return as_of_dates(as_of)[0] in _QUERIES


# --- SQLite functions the translated query calls (see risk.features.dialect) ------------


class _NullField:
    """A NULL field of an ``arg_max`` key: above any value, as in DuckDB's structs."""

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return not isinstance(other, _NullField)


_NULL_FIELD = _NullField()


class _ArgMax:
    """``arg_max(value, key...)``: the value at the largest key, as DuckDB's arg_max.

    The key fields compare in order, as DuckDB compares a ``row(...)`` key. Rows with a
    NULL value, or a key whose every field is NULL (a NULL key), are skipped; on a tie
    the first row wins.
    """

    def __init__(self) -> None:
        self.key: tuple[Any, ...] | None = None
        self.value: Any = None

    def _better(self, key: tuple[Any, ...], best: tuple[Any, ...]) -> bool:
        return key > best

    def step(self, value: Any, *key: Any) -> None:
        if value is None:
            return
        if None in key:
            if key.count(None) == len(key):
                return
            key = tuple(_NULL_FIELD if field is None else field for field in key)
        if self.key is None or self._better(key, self.key):
            self.key, self.value = key, value

    def finalize(self) -> Any:
        return self.value


class _ArgMin(_ArgMax):
    """``arg_min(value, key...)``: the value at the smallest key, as DuckDB's arg_min."""

    def _better(self, key: tuple[Any, ...], best: tuple[Any, ...]) -> bool:
        return key < best


class _BitOr:
    """``bit_or(x)``: bitwise OR of the non-NULL values, NULL when there is none."""

    def __init__(self) -> None:
        self.value: int | None = None

    def step(self, value: int | None) -> None:
        if value is not None:
            self.value = value if self.value is None else self.value | value

    def finalize(self) -> int | None:
        return self.value


def _bit_count(value: int | None) -> int | None:
    return None if value is None else int(value).bit_count()


# --- the per-thread database ------------------------------------------------------------


#: MATERIALIZED common table expressions (see risk.features.dialect) appeared in 3.35.
MIN_SQLITE_VERSION = (3, 35, 0)


def _connect() -> sqlite3.Connection:
    if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
        raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is older than 3.35")
    # Autocommit mode: each request opens its own transaction and rolls it back, which
    # empties the tables in one step.
    con = sqlite3.connect(":memory:", isolation_level=None, cached_statements=64)
    con.create_function("bit_count", 1, _bit_count, deterministic=True)
    con.create_aggregate("arg_max", -1, _ArgMax)
    con.create_aggregate("arg_min", -1, _ArgMin)
    con.create_aggregate("bit_or", 1, _BitOr)  # type: ignore[arg-type]  # int | None
    for table in TABLES.values():
        columns = ", ".join(f"{c.name} {_AFFINITY.get(c.kind, 'TEXT')}" for c in table.columns)
        con.execute(f"CREATE TABLE {table.name}_rows ({columns})")
        # The same view as DuckDB's (source.py): contract columns, posted-date fallback.
        names = {c.name for c in table.columns}
        select = select_contract_columns(table, f"{table.name}_rows", names)
        con.execute(f"CREATE VIEW {table.name} AS {select}")
    # The failed-contacts count is a subquery per tenancy: without an index on the
    # tenancy, it would scan every follow-up row for each one.
    con.execute("CREATE INDEX support_rows_tenancy ON support_rows (tenancy_id)")
    return con


_local = threading.local()


def _connection() -> sqlite3.Connection:
    con: sqlite3.Connection | None = getattr(_local, "connection", None)
    if con is None:
        con = _local.connection = _connect()
    return con


def _insert_sql(table: Table) -> str:
    return f"INSERT INTO {table.name}_rows VALUES ({', '.join('?' * len(table.columns))})"


_INSERT = {name: _insert_sql(table) for name, table in TABLES.items()}
_DATE_COLUMNS = {
    name: tuple(i for i, c in enumerate(table.columns) if c.kind == "date")
    for name, table in TABLES.items()
}


# --- input rows ------------------------------------------------------------------------


def _date(value: Any) -> str | None:
    """Return a date value as :func:`date_text`, None if empty."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            dt.date.fromisoformat(value)  # refuses a malformed date
            return value
        return date_text(dt.datetime.fromisoformat(value))
    if value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        value = pd.Timestamp(value).to_pydatetime()
    if isinstance(value, dt.date):
        return date_text(value)
    raise TypeError(f"not a date: {value!r}")


#: Dates spelt ``YYYY-MM-DD``, one per line.
_ISO_DATES = re.compile(r"(?:\d\d\d\d-\d\d-\d\d\n)+")


def _canonical(values: Sequence[Any]) -> bool:
    """Tell whether every value is None or ISO ``YYYY-MM-DD`` text of a real date.

    The fast path of a request whose dates came from JSON: C-level loops only (a join,
    one regular expression, ``fromisoformat`` for the calendar), no Python call per
    value.
    """
    if "" in values:
        return False
    try:
        text = "\n".join(filter(None, values))
    except TypeError:  # a value is not text
        return False
    if not text:
        return True
    if _ISO_DATES.fullmatch(text + "\n") is None:
        return False
    try:
        all(map(dt.date.fromisoformat, text.split("\n")))
    except ValueError:
        return False
    return True


def _tuple_rows(name: str, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """Return ``rows`` ready to insert: as they are when their dates are canonical."""
    if not rows:
        return rows
    width = len(TABLES[name].columns)
    if set(map(len, rows)) != {width}:
        raise ValueError(f"{name}: rows must have the contract's {width} columns")
    dates = _DATE_COLUMNS[name]
    if all(_canonical([row[i] for row in rows]) for i in dates):
        return rows
    converted = [list(row) for row in rows]
    for row in converted:
        for i in dates:
            row[i] = _date(row[i])
    return converted


def _column_values(table: Table, frame: pd.DataFrame, name: str) -> list[Any]:
    column = next(c for c in table.columns if c.name == name)
    if name not in frame.columns:
        if column.required:
            raise ValueError(f"{table.name}: required column {name!r} is missing")
        return [None] * len(frame)
    series = frame[name]
    if column.kind == "date":
        stamps = pd.to_datetime(series).to_numpy(dtype="datetime64[us]")
        days = stamps.astype("datetime64[D]")
        text = np.datetime_as_string(days).tolist()
        exact = (stamps == days).tolist()
        missing = np.isnat(stamps).tolist()
        return [
            None if empty else day if whole else date_text(pd.Timestamp(stamp).to_pydatetime())
            for day, whole, empty, stamp in zip(text, exact, missing, stamps, strict=True)
        ]
    values = series.to_numpy(dtype=object).tolist()
    if series.hasnans:
        values = [None if pd.isna(v) else v for v in values]
    return values


def portfolio_rows(portfolio: Portfolio) -> dict[str, list[tuple[Any, ...]]]:
    """Return the rows of a portfolio's tables as tuples, ready for :func:`feature_rows`.

    Parameters
    ----------
    portfolio
        A portfolio in memory.

    Returns
    -------
    dict
        Table name to its rows in contract column order, dates as ISO text.
    """
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, frame in portfolio.tables():
        table = TABLES[name]
        columns = [_column_values(table, frame, c.name) for c in table.columns]
        out[name] = list(zip(*columns, strict=True))
    return out


# --- features ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureRows:
    """Features of the tenancies present at one as-of date, without pandas.

    Attributes
    ----------
    as_of
        The as-of date.
    tenancy_ids
        Tenancy ids, sorted.
    values
        ``(len(tenancy_ids), len(FEATURES))`` float64 array, catalogue order: NaN when
        unknown; a categorical feature holds its category's position in the catalogue
        (-1 when unknown).
    """

    as_of: pd.Timestamp
    tenancy_ids: list[str]
    values: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Return the rows as :func:`~risk.features.build_features` returns them."""
        n = len(self.tenancy_ids)
        layout = _frame_layout()
        tenancy_id = layout.text(self.tenancy_ids)
        as_of = np.full(n, self.as_of.to_datetime64(), dtype="datetime64[ns]")
        # The categorical codes of every categorical feature at once, one row each.
        # (What np.nan_to_num(nan=-1) gives: the codes are never infinite.)
        codes = self.values[:, _CATEGORICAL]
        codes[np.isnan(codes)] = -1
        codes = codes.astype(np.int64).T.copy()
        categorical = {
            FEATURES[i].name: pd.Categorical.from_codes(
                codes[k], dtype=_CATEGORY_DTYPES[FEATURES[i].name], validate=False
            )
            for k, i in enumerate(_CATEGORICAL)
        }
        if layout.create is not None:
            # The frame's blocks built directly: one 2-D float block for the numeric
            # features (what the constructor below consolidates them into), the ids,
            # the dates and one block per categorical, under the shared column labels.
            blocks: list[tuple[Any, np.ndarray]] = [
                (np.ascontiguousarray(self.values[:, _NUMERIC].T), layout.numeric),
                (tenancy_id, layout.first[0:1]),
                (as_of.reshape(1, n), layout.first[1:2]),
            ]
            blocks += [(categorical[name], layout.categorical[name]) for name in categorical]
            return layout.create(blocks, pd.RangeIndex(n), layout.columns.view())
        columns: dict[str, Any] = {"tenancy_id": tenancy_id, "as_of": as_of}
        for i, feature in enumerate(FEATURES):
            columns[feature.name] = categorical.get(feature.name, self.values[:, i])
        # One dict of 1-d arrays: several times cheaper than filling a frame column by
        # column; the numeric columns are copied into one block.
        return pd.DataFrame(columns)


#: Positions of the numeric features in :data:`FEATURES`.
_NUMERIC = np.array([i for i, f in enumerate(FEATURES) if f.dtype != "categorical"], dtype=np.intp)


@dataclass(frozen=True)
class _Layout:
    """The column labels and block placements of :meth:`FeatureRows.to_frame`'s frame."""

    create: Any  # pandas.api.internals.create_dataframe_from_blocks, or None
    text: Any  # pd.array(..., dtype="str"), with the dtype looked up once
    columns: pd.Index
    first: np.ndarray
    numeric: np.ndarray
    categorical: dict[str, np.ndarray]


@functools.cache
def _frame_layout() -> _Layout:
    """Work out the frame's layout once.

    The labels are those the ``DataFrame`` constructor gives a dict's keys (text labels,
    of pandas' inferred string dtype), built once and shared by every frame through a
    view, so that pandas' lookup table of the labels is built once too. ``create`` is
    None when pandas cannot build a frame from blocks (before 3.0).
    """
    try:
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:  # pandas before 3.0
        create_dataframe_from_blocks = None
    names = ["tenancy_id", "as_of", *(f.name for f in FEATURES)]
    text = pd.array([], dtype="str").dtype
    build = text.construct_array_type()._from_sequence  # type: ignore[attr-defined]
    make_text = functools.partial(build, dtype=text)
    return _Layout(
        create=create_dataframe_from_blocks,
        text=make_text,
        columns=pd.DataFrame(columns=names).columns,
        first=np.array([0, 1], dtype=np.intp),
        numeric=_NUMERIC + 2,
        categorical={FEATURES[i].name: np.array([i + 2], dtype=np.intp) for i in _CATEGORICAL},
    )


def feature_rows(tables: Portfolio | TableRows, as_of: DateLike) -> FeatureRows:
    """Compute the features of the tenancies present at ``as_of`` with SQLite.

    The fast path of the scoring API: no pandas on the way in or out. Same query,
    same point-in-time rules and same values as :func:`~risk.features.build_features`.

    Parameters
    ----------
    tables
        A portfolio, or rows by table name (``tenancies``, ``incomes``, ``apl``,
        ``ledger``, optionally ``support``) as tuples in contract column order.
    as_of
        One as-of date.

    Returns
    -------
    FeatureRows
        One row per tenancy present at ``as_of``, sorted by tenancy id.

    Raises
    ------
    ValueError
        On a row of the wrong width, a date that does not exist, a code outside the
        catalogue's categories, or a required table missing.
    TypeError
        On a date column holding something other than a date, a datetime or text.
    """
    dates = as_of_dates(as_of)
    if len(dates) != 1:
        raise ValueError("feature_rows takes one as-of date")
    date = dates[0]
    rows: TableRows = portfolio_rows(tables) if isinstance(tables, Portfolio) else tables
    unknown = set(rows) - set(TABLES)
    if unknown:
        raise ValueError(f"unknown tables: {sorted(unknown)}")
    query = _query(date)
    con = _connection()
    con.execute("BEGIN")
    try:
        for name, table in TABLES.items():
            if name not in rows:
                if not table.optional:
                    raise ValueError(f"required table {name} missing")
                continue
            table_rows = rows[name]
            if not isinstance(table_rows, Sequence):
                table_rows = list(table_rows)
            con.executemany(_INSERT[name], _tuple_rows(name, table_rows))
        result = con.execute(query).fetchall()
    finally:
        con.execute("ROLLBACK")
    values = np.array([r[1:] for r in result], dtype=np.float64).reshape(len(result), len(FEATURES))
    for i in _CATEGORICAL:
        column = values[:, i]
        if (column == UNKNOWN_CODE).any():
            raise ValueError(f"{FEATURES[i].name}: values outside the catalogue's categories")
    return FeatureRows(as_of=date, tenancy_ids=[r[0] for r in result], values=values)


def build_features_small(
    tables: Portfolio | TableRows, as_of: DateLike | Iterable[DateLike]
) -> pd.DataFrame:
    """Compute the catalogue's features with SQLite: for a few thousand tenancies at most.

    Returns exactly the frame of :func:`~risk.features.build_features` (same columns,
    dtypes, values and order) for small portfolios, such as one API request's.

    Parameters
    ----------
    tables
        A portfolio, or rows by table name as tuples in contract column order (see
        :func:`feature_rows`).
    as_of
        One as-of date or several.

    Returns
    -------
    pandas.DataFrame
        ``tenancy_id``, ``as_of`` and every catalogue feature; rows sorted by ``as_of``
        then ``tenancy_id``.
    """
    rows = portfolio_rows(tables) if isinstance(tables, Portfolio) else tables
    if not isinstance(tables, Portfolio):
        # Tuples may be iterators: read them once for all dates.
        rows = {name: list(table_rows) for name, table_rows in rows.items()}
    frames = [feature_rows(rows, date).to_frame() for date in as_of_dates(as_of)]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
