"""The feature SQL on Apache Spark: DuckDB's query, transpiled by sqlglot, for big ledgers.

There is one definition of the features: the DuckDB query of
:func:`risk.features.builder.feature_query`. A portfolio too large for one machine (a
federation's ten years of ledger) runs the *same* query on a Spark cluster through
pyspark, translated by `sqlglot <https://github.com/tobymao/sqlglot>`_ as
:mod:`risk.features.dialect` translates it for SQLite. No feature is written by hand
here: this module only translates, loads the tables and converts the result.

sqlglot translates most of the query itself (``TIMESTAMP`` literals become
``TIMESTAMP_NTZ``, DuckDB's naive timestamps; ``>>`` becomes ``SHIFTRIGHT``; ``bit_or``,
``bit_count``, ``last_day``, ``year``, ``month``, ``day``, ``GREATEST``, ``CASE``, the
correlated ``count(*)`` subquery need nothing). The rest is rewritten here on sqlglot's
syntax tree, each time into an exact equivalent of what DuckDB computes:

- ``a / b``: DuckDB divides in DOUBLE whatever the operand types (``0.3 / 0.1`` is
  ``2.9999999999999996``); Spark divides DECIMAL operands in DECIMAL with a bounded
  scale. Both operands are cast to DOUBLE.
- ``CAST(x AS <integer>)``: DuckDB rounds a DOUBLE half to even (``CAST(2.5::DOUBLE AS
  BIGINT)`` is 2); Spark truncates. A DOUBLE operand goes through ``bround`` first (half
  to even). Operands that are integers or booleans, or ``round(x)`` (already whole),
  keep a plain cast; any other operand makes the translation fail.
- ``epoch(t)``: seconds as DOUBLE, microseconds included, as DuckDB: ``unix_micros`` over
  a million. (sqlglot's ``UNIX_TIMESTAMP`` drops the fraction.)
- ``arg_max(x, key)`` / ``arg_min``: Spark's ``max_by`` / ``min_by`` keep a row whose
  ``x`` is NULL, DuckDB skips it: the key is set to NULL on such rows (a NULL key is
  skipped by both). A ``row(a, b)`` key becomes ``struct(a IS NULL, a, b IS NULL, b)``:
  DuckDB orders a NULL field of a struct above any value, Spark below, and ``false <
  true`` restores DuckDB's order.
- the final ``ORDER BY`` is dropped: a Spark DataFrame has no row order worth a global
  sort; :func:`to_feature_frame` sorts as :func:`~risk.features.build_features` does.

Anything else Spark cannot run the same way makes the translation fail, never run wrong.
The query never divides by zero (every divisor is ``NULLIF``-guarded); under Spark's
ANSI mode (the default since Spark 4) a division by zero or an overflow would raise,
as DuckDB raises on overflow.

Dates. Spark reads the tables as temp views named after the contract tables (as
DuckDB does, :mod:`risk.features.source`), date columns as ``TIMESTAMP_NTZ``. Parquet
nanosecond timestamps (what pandas writes) are read as integers and converted exactly,
refusing a date with a sub-microsecond part, which Spark cannot hold. The session time
zone must be UTC (``spark.sql.session.timeZone``): naive timestamps then convert to and
from Spark's instants, and ``epoch`` is DuckDB's.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from risk.catalogue import FEATURES
from risk.contract import TABLES, Table
from risk.features.builder import apply_feature_dtypes, feature_query
from risk.features.source import select_contract_columns
from risk.portfolio import Portfolio, empty_table
from risk.timeline import DateLike, as_of_dates

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: A portfolio in memory, or a directory (local, ``hdfs://``, ``s3a://``...) holding
#: ``<table>.parquet`` files or folders of Parquet parts.
SparkSource = Portfolio | str | os.PathLike[str]

#: Session time zones under which naive timestamps convert exactly.
UTC_ZONES = frozenset({"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "+00:00"})

#: Error raised when the session time zone is not UTC.
NOT_UTC = (
    "the Spark session time zone is {zone!r}: set spark.sql.session.timeZone=UTC "
    "(e.g. spark-submit --conf spark.sql.session.timeZone=UTC) so that dates are read "
    "as DuckDB reads them"
)

#: SQL types of the contract column kinds, as DuckDB's views hold them (for the
#: annotation of the query's types, see :func:`_integer_cast`).
_KIND_TYPES = {
    "id": "VARCHAR", "code": "VARCHAR", "date": "TIMESTAMP", "money": "DOUBLE",
    "count": "BIGINT", "year": "BIGINT", "bool": "BOOLEAN",
}
_SCHEMA: dict[str, object] = {
    t.name: {c.name: _KIND_TYPES[c.kind] for c in t.columns} for t in TABLES.values()
}


# --- translation ------------------------------------------------------------------------


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _double(expression: exp.Expression) -> exp.Expression:
    return exp.Cast(this=expression, to=exp.DataType.build("DOUBLE"))


def _is_row(node: exp.Expr) -> bool:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower() == "row"
    return isinstance(node, (exp.Struct, exp.Tuple))


def _ordered_struct(fields: list[exp.Expression]) -> exp.Expression:
    """Return ``struct(a IS NULL, a, ...)``: Spark's struct order equal to DuckDB's."""
    parts: list[exp.Expression] = []
    for field in fields:
        parts += [exp.Is(this=field.copy(), expression=exp.Null()), field]
    return _call("struct", *parts)


def _key(key: exp.Expression) -> exp.Expression:
    """Return an ``arg_max`` key with every ``row(...)`` ordered as DuckDB orders it."""

    def rows(node: exp.Expression) -> exp.Expression:
        return _ordered_struct(list(node.expressions)) if _is_row(node) else node

    # Rows sit directly in the key or in a CASE branch; transform reaches both. The
    # second pass translates everything else in the key, the rows' fields included.
    return key.transform(rows).transform(_rewrite)


def _rewrite(node: exp.Expression) -> exp.Expression:
    # sqlglot's transform does not revisit a replaced node: translate its children here.
    def sub(child: exp.Expression) -> exp.Expression:
        return child.transform(_rewrite)

    if isinstance(node, exp.Div):
        if node.args.get("typed") or node.args.get("safe"):
            raise NotImplementedError(f"no Spark translation for {node.sql('duckdb')}")
        return exp.Div(this=_double(sub(node.this)), expression=_double(sub(node.expression)))
    if isinstance(node, exp.TimeToUnix):
        instant = exp.Cast(this=sub(node.this), to=exp.DataType.build("TIMESTAMP"))
        micros = _call("unix_micros", instant)
        return exp.Div(this=_double(micros), expression=_double(exp.Literal.number(1_000_000)))
    if isinstance(node, (exp.ArgMax, exp.ArgMin)):
        value = sub(node.this)
        keep = exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))
        key = exp.Case(ifs=[exp.If(this=keep, true=_key(node.expression))])
        return _call("max_by" if isinstance(node, exp.ArgMax) else "min_by", value, key)
    return node


def _integer_cast(node: exp.Cast, operand_type: exp.DataType | None) -> exp.Expression:
    """Return a cast to an integer type that rounds as DuckDB's (see the module docstring)."""
    operand = node.this
    if isinstance(operand, exp.Paren):
        operand = operand.unnest()
    whole = isinstance(operand, exp.Round) and operand.args.get("decimals") is None
    if whole or isinstance(operand, exp.Null) or (
        operand_type is not None
        and operand_type.is_type(*exp.DataType.INTEGER_TYPES, exp.DataType.Type.BOOLEAN)
    ):
        return node
    if isinstance(operand, exp.TimeToUnix) or (
        isinstance(operand, exp.Neg) and isinstance(operand.this, exp.TimeToUnix)
    ):
        # epoch() is a DOUBLE: DuckDB rounds it half to even, as Spark's bround does.
        node.set("this", _call("bround", node.this))
        return node
    raise NotImplementedError(f"integer cast of an operand of unknown rounding: {node.sql()}")


def _integer_casts(tree: exp.Expr) -> None:
    """Rewrite every cast to an integer type, using the types sqlglot infers."""
    # The types are inferred on a qualified copy (qualify resolves the columns of CTEs
    # and subqueries); qualify adds no cast, so the casts pair up in document order.
    typed = annotate_types(
        qualify(tree.copy(), schema=_SCHEMA, dialect="duckdb", validate_qualify_columns=False),
        schema=_SCHEMA,
        dialect="duckdb",
    )
    casts = [c for c in tree.find_all(exp.Cast) if c.to.is_type(*exp.DataType.INTEGER_TYPES)]
    types = [c for c in typed.find_all(exp.Cast) if c.to.is_type(*exp.DataType.INTEGER_TYPES)]
    if len(casts) != len(types):
        raise NotImplementedError("the query's casts could not be typed")
    for cast, typed_cast in zip(casts, types, strict=True):
        _integer_cast(cast, typed_cast.this.type)


def _check(tree: exp.Expression) -> None:
    # bit_count counts the bits of the operand's width in both engines (32 for INTEGER).
    allowed = {"struct", "max_by", "min_by", "unix_micros", "bround", "bit_count"}
    for call in tree.find_all(exp.Anonymous):
        if str(call.this).lower() not in allowed:
            raise NotImplementedError(f"no Spark translation for {call.sql('duckdb')}")
    # Integer division and struct literals (Spark orders a struct's NULL fields first)
    # are not used by the features: refused rather than checked.
    for node in tree.find_all(exp.IntDiv, exp.Struct):
        raise NotImplementedError(f"no Spark translation for {node.sql('duckdb')}")


def transpile(duckdb_sql: str) -> str:
    """Return ``duckdb_sql`` (a feature query) in Spark SQL's dialect.

    Parameters
    ----------
    duckdb_sql
        A query in DuckDB's dialect using only the constructs listed in the module
        docstring.

    Returns
    -------
    str
        The Spark SQL query, expecting the tables as temp views with dates as
        ``TIMESTAMP_NTZ`` (see :func:`register_tables`), without a final ``ORDER BY``.

    Raises
    ------
    NotImplementedError
        When the query uses a construct this translation does not cover.
    """
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    if isinstance(tree, exp.Query):
        tree.set("order", None)
    _integer_casts(tree)
    tree = tree.transform(_rewrite)
    _check(tree)
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


@functools.lru_cache(maxsize=64)
def spark_feature_query(as_of: pd.Timestamp) -> str:
    """Return :func:`~risk.features.builder.feature_query` at ``as_of`` for Spark SQL.

    Parameters
    ----------
    as_of
        One as-of date (a midnight ``Timestamp``).
    """
    return transpile(feature_query(as_of))


# --- the tables as Spark views ----------------------------------------------------------


def _check_time_zone(spark: SparkSession) -> None:
    zone = spark.conf.get("spark.sql.session.timeZone")
    if zone not in UTC_ZONES:
        raise ValueError(NOT_UTC.format(zone=zone))


def _date_expression(name: str, data_type: Any) -> str:
    """Return Spark SQL reading a date column of the raw table as ``TIMESTAMP_NTZ``."""
    from pyspark.sql import types as sql_types

    quoted = f"`{name}`"
    if isinstance(data_type, sql_types.TimestampNTZType):
        return quoted
    if isinstance(data_type, (sql_types.TimestampType, sql_types.DateType)):
        return f"CAST({quoted} AS TIMESTAMP_NTZ)"
    if isinstance(data_type, sql_types.LongType):
        # Nanoseconds since 1970 (Parquet TIMESTAMP(NANOS), which Spark cannot type).
        # A sub-microsecond part fails the query rather than being dropped.
        return (
            f"CASE WHEN {quoted} % 1000 <> 0 THEN raise_error('{name}: a timestamp with "
            "nanoseconds, which Spark cannot hold') "
            f"ELSE CAST(timestamp_micros({quoted} DIV 1000) AS TIMESTAMP_NTZ) END"
        )
    raise TypeError(f"date column {name!r} has Spark type {data_type.simpleString()}")


def _view(spark: SparkSession, table: Table, frame: DataFrame) -> None:
    """Register ``frame`` as the view ``table.name`` with exactly the contract columns."""
    kinds = {c.name: c.kind for c in table.columns}
    present = {f.name for f in frame.schema.fields if f.name in kinds}
    exprs = [
        _date_expression(f.name, f.dataType) + f" AS `{f.name}`"
        if kinds[f.name] == "date"
        else f"`{f.name}`"
        for f in frame.schema.fields
        if f.name in present
    ]
    raw = f"risk_{table.name}_source"
    frame.createOrReplaceTempView(raw)
    typed = f"risk_{table.name}_typed"
    spark.sql(f"SELECT {', '.join(exprs)} FROM {raw}").createOrReplaceTempView(typed)
    # select_contract_columns writes DuckDB SQL (typed NULLs, COALESCE): transpiled too.
    select = sqlglot.transpile(
        select_contract_columns(table, typed, present), read="duckdb", write="spark"
    )[0]
    spark.sql(select).createOrReplaceTempView(table.name)


def _arrow_frame(frame: pd.DataFrame, table: Table) -> pa.Table:
    """Return the contract columns of ``frame`` as Arrow, dates at microseconds."""
    columns: dict[str, pa.Array] = {}
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        values = pa.array(frame[column.name], from_pandas=True)
        if pa.types.is_dictionary(values.type):  # a pandas categorical: its values
            values = values.dictionary_decode()
        if column.kind == "date":
            # safe: a sub-microsecond part raises instead of being dropped.
            values = values.cast(pa.timestamp("us"), safe=True)
        elif pa.types.is_large_string(values.type):
            values = values.cast(pa.string())
        columns[column.name] = values
    return pa.table(columns)


def _read_parquet(spark: SparkSession, path: str) -> DataFrame:
    """Read a Parquet file or folder, nanosecond timestamps as integers."""
    key = "spark.sql.legacy.parquet.nanosAsLong"
    previous = spark.conf.get(key, None)
    # Spark refuses TIMESTAMP(NANOS) unless told to read it as a long; only the schema
    # is inferred under that setting, which is then restored: the read itself follows
    # the explicit schema.
    spark.conf.set(key, "true")
    try:
        schema = spark.read.parquet(path).schema
    finally:
        if previous is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, previous)
    return spark.read.schema(schema).parquet(path)


def _missing(error: Exception) -> bool:
    condition = getattr(error, "getCondition", None) or getattr(error, "getErrorClass", None)
    return condition is not None and condition() == "PATH_NOT_FOUND"


def register_tables(spark: SparkSession, source: SparkSource) -> None:
    """Expose a portfolio's tables to Spark SQL as temp views named after the contract.

    Each view (``tenancies``, ``incomes``, ``apl``, ``ledger``, ``support``) holds
    exactly the contract columns, dates as ``TIMESTAMP_NTZ``, like DuckDB's views of
    :func:`risk.features.source.connect`: optional columns absent from the source are
    typed NULLs and the ledger's empty posted date falls back to the event date. Views
    of the same names already in the session are replaced.

    Parameters
    ----------
    spark
        The session; its time zone must be UTC.
    source
        A :class:`~risk.portfolio.Portfolio` (small, e.g. tests), or a directory as
        written by :meth:`~risk.portfolio.Portfolio.write` holding
        ``<table>.parquet`` files or folders of Parquet parts, on any file system Spark
        reads (a shared one on a cluster). ``support.parquet`` may be missing.

    Raises
    ------
    ValueError
        When the session time zone is not UTC, or a required column is missing.
    FileNotFoundError
        When a required table is missing from the directory.
    TypeError
        When a date column holds something other than dates or timestamps.
    """
    _check_time_zone(spark)
    for name, table in TABLES.items():
        if isinstance(source, Portfolio):
            frame = spark.createDataFrame(_arrow_frame(getattr(source, name), table))
        else:
            path = f"{os.fspath(source).rstrip('/')}/{name}.parquet"
            try:
                frame = _read_parquet(spark, path)
            except Exception as error:
                if not _missing(error):
                    raise
                if not table.optional:
                    raise FileNotFoundError(f"required table {name} missing: {path}") from None
                frame = spark.createDataFrame(_arrow_frame(empty_table(name), table))
        _view(spark, table, frame)


# --- features ---------------------------------------------------------------------------


def spark_features(
    spark: SparkSession, source: SparkSource | None, as_of: DateLike | Iterable[DateLike]
) -> DataFrame:
    """Compute the catalogue's features on Spark, with the feature SQL of DuckDB.

    Parameters
    ----------
    spark
        The session; its time zone must be UTC.
    source
        The portfolio (see :func:`register_tables`), or None when the views are
        registered already.
    as_of
        One as-of date or several.

    Returns
    -------
    pyspark.sql.DataFrame
        ``tenancy_id``, ``as_of`` (``TIMESTAMP_NTZ``), then every catalogue feature in
        catalogue order: numeric features as DOUBLE (NULL when unknown), categorical ones
        as their position in the catalogue's categories (INT; -1 when NULL, -2 outside
        the categories), as DuckDB's query returns them. Rows in no particular order.
        :func:`to_feature_frame` turns it into :func:`~risk.features.build_features`'
        frame.
    """
    from pyspark.sql import functions as sf

    if source is not None:
        register_tables(spark, source)
    else:
        _check_time_zone(spark)
    frames = []
    for date in as_of_dates(as_of):
        features = spark.sql(spark_feature_query(date))
        stamp = sf.expr(f"TIMESTAMP_NTZ '{date:%Y-%m-%d %H:%M:%S}'").alias("as_of")
        frames.append(features.select("tenancy_id", stamp, *(f.name for f in FEATURES)))
    return functools.reduce(lambda a, b: a.unionByName(b), frames)


def to_feature_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return Spark's features (:func:`spark_features`, in pandas) as ``build_features``'.

    Parameters
    ----------
    frame
        Rows of :func:`spark_features`, e.g. from ``toPandas()`` or one batch of
        ``mapInPandas``.

    Returns
    -------
    pandas.DataFrame
        Exactly :func:`~risk.features.build_features`' frame: ``tenancy_id`` (str),
        ``as_of`` (datetime64[ns]), numeric features as float64, categorical ones as
        ``category`` with the catalogue's categories; rows sorted by ``as_of`` then
        ``tenancy_id``.

    Raises
    ------
    ValueError
        When a categorical feature holds a value outside the catalogue's categories.
    """
    n = len(frame)
    columns: dict[str, Any] = {
        "tenancy_id": pd.array(frame["tenancy_id"].to_numpy(dtype=object), dtype="str"),
        "as_of": frame["as_of"].to_numpy(dtype="datetime64[ns]"),
    }
    for f in FEATURES:
        values = frame[f.name]
        if f.dtype == "categorical":
            columns[f.name] = values.fillna(-1).to_numpy(dtype=np.int64)
        else:
            columns[f.name] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    out = pd.DataFrame(columns, index=pd.RangeIndex(n))
    # Spark's strings order as their UTF-8 bytes, pandas' as code points: the same order.
    out = out.sort_values(["as_of", "tenancy_id"], kind="stable", ignore_index=True)
    return apply_feature_dtypes(out)


def spark_features_pandas(
    spark: SparkSession, source: SparkSource | None, as_of: DateLike | Iterable[DateLike]
) -> pd.DataFrame:
    """Compute the features on Spark and collect them as ``build_features`` returns them.

    For tests and for portfolios whose features fit in the driver's memory; otherwise
    write :func:`spark_features` to Parquet.

    Parameters
    ----------
    spark, source, as_of
        As for :func:`spark_features`.

    Returns
    -------
    pandas.DataFrame
        The frame of :func:`~risk.features.build_features` (see :func:`to_feature_frame`).
    """
    return to_feature_frame(spark_features(spark, source, as_of).toPandas())


def iter_feature_frames(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Turn ``mapInPandas`` batches of :func:`spark_features` into feature frames.

    Parameters
    ----------
    batches
        The batches a ``mapInPandas`` function receives.

    Yields
    ------
    pandas.DataFrame
        Each non-empty batch as :func:`to_feature_frame` returns it.
    """
    for batch in batches:
        if len(batch):
            yield to_feature_frame(batch)


__all__ = [
    "NOT_UTC",
    "SparkSource",
    "iter_feature_frames",
    "register_tables",
    "spark_feature_query",
    "spark_features",
    "spark_features_pandas",
    "to_feature_frame",
    "transpile",
]
