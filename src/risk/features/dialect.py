"""The feature SQL in SQLite's dialect: DuckDB's query, transpiled by sqlglot.

There is one definition of the features: the DuckDB query of
:func:`risk.features.builder.feature_query`. Training runs it in DuckDB on millions of
rows; the scoring API runs the *same* query, transpiled by `sqlglot
<https://github.com/tobymao/sqlglot>`_, in SQLite on the few rows of one request
(DuckDB spends ~80 ms binding this query; SQLite runs a prepared statement in well under
a millisecond). This module only translates; :mod:`risk.features.small` runs it.

sqlglot translates most of the query itself (division, ``GREATEST``, casts). The
rest is rewritten here on sqlglot's syntax tree, each time into an exact equivalent:

- dates are ISO text in SQLite (see :func:`risk.features.small.date_text`): ``'YYYY-MM-DD'``, with
  ``' HH:MM:SS'`` only for a time other than midnight, so that text order is time order
  and DuckDB's ``TIMESTAMP '...'`` literals become plain strings;
- ``year``, ``month`` and ``day`` read their digits from that text; ``last_day`` and
  ``epoch`` become SQLite's ``date``/``strftime`` calls;
- ``arg_max(x, row(a, b))`` and ``arg_min`` become ``arg_max(x, a, b)``, an aggregate
  registered from Python (:mod:`risk.features.small`) that compares the keys as DuckDB
  compares structs; ``bit_or`` and ``bit_count`` are registered the same way.

Anything else that SQLite cannot run makes the translation fail, never run wrong.
Finally every CTE and subquery is computed once (:func:`_materialize`), which SQLite
does not do by itself.
"""

from __future__ import annotations

import pandas as pd
import sqlglot
from sqlglot import exp

from risk.features.builder import feature_query
from risk.features.small import date_text

#: Functions the SQLite engine registers from Python (name: number of arguments, -1 any).
PYTHON_FUNCTIONS = {"bit_count": 1}
PYTHON_AGGREGATES = {"arg_max": -1, "arg_min": -1, "bit_or": 1}

#: How many as-of dates keep their translated query (the service scores today).
QUERY_CACHE_SIZE = 16


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _as_integer(expression: exp.Expression) -> exp.Expression:
    return exp.Cast(this=expression, to=exp.DataType.build("INTEGER"))


def _strftime(fmt: str, date: exp.Expression) -> exp.Expression:
    return _as_integer(_call("strftime", exp.Literal.string(fmt), date))


def _date_part(date: exp.Expression, start: int, length: int) -> exp.Expression:
    # A field of the ISO text: exact for date_text's format, and several times cheaper
    # than strftime, which parses the whole date at every call.
    position = (exp.Literal.number(start), exp.Literal.number(length))
    return _as_integer(exp.Substring(this=date, start=position[0], length=position[1]))


def _is_row(node: exp.Expr) -> bool:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower() == "row"
    return isinstance(node, (exp.Struct, exp.Tuple))


def _key_parts(key: exp.Expression) -> list[exp.Expression]:
    """Return the fields of an ``arg_max`` key: ``row(a, b)`` gives ``[a, b]``.

    ``CASE WHEN c THEN row(a, b) END`` gives ``[CASE WHEN c THEN a END, CASE WHEN c
    THEN b END]``: all fields NULL, which the Python aggregate reads as a NULL key.
    """
    if _is_row(key):
        return list(key.expressions)
    if isinstance(key, exp.Case) and key.args.get("default") is None and key.this is None:
        branches = key.args["ifs"]
        if all(_is_row(b.args["true"]) for b in branches):
            widths = {len(b.args["true"].expressions) for b in branches}
            if len(widths) == 1:
                return [
                    exp.Case(
                        ifs=[
                            exp.If(this=b.this.copy(), true=b.args["true"].expressions[i].copy())
                            for b in branches
                        ]
                    )
                    for i in range(widths.pop())
                ]
    if any(_is_row(n) for n in key.find_all(exp.Anonymous, exp.Struct, exp.Tuple)):
        raise NotImplementedError(f"arg_max key not translatable to SQLite: {key.sql()}")
    return [key]


def _rewrite(node: exp.Expression) -> exp.Expression:
    # sqlglot's transform does not revisit a replaced node: translate its children here.
    def sub(child: exp.Expression) -> exp.Expression:
        return child.transform(_rewrite)

    if isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.TEMPORAL_TYPES):
        if isinstance(node.this, exp.Literal) and node.this.is_string:
            return exp.Literal.string(date_text(pd.Timestamp(node.this.this).to_pydatetime()))
        raise NotImplementedError(f"cast to a date type: {node.sql('duckdb')}")
    if isinstance(node, exp.Year):
        return _date_part(sub(node.this), 1, 4)
    if isinstance(node, exp.Month):
        return _date_part(sub(node.this), 6, 2)
    if isinstance(node, exp.Day):
        return _date_part(sub(node.this), 9, 2)
    if isinstance(node, exp.LastDay):
        modifiers = ("start of month", "+1 month", "-1 day")
        return _call("date", sub(node.this), *map(exp.Literal.string, modifiers))
    if isinstance(node, exp.TimeToUnix):
        return _strftime("%s", sub(node.this))
    if isinstance(node, (exp.ArgMax, exp.ArgMin)):
        name = "arg_max" if isinstance(node, exp.ArgMax) else "arg_min"
        return _call(name, sub(node.this), *map(sub, _key_parts(node.expression)))
    if isinstance(node, exp.BitwiseOrAgg):
        return _call("bit_or", sub(node.this))
    return node


def _check(tree: exp.Expression) -> None:
    allowed = set(PYTHON_FUNCTIONS) | set(PYTHON_AGGREGATES) | {"strftime", "date"}
    for call in tree.find_all(exp.Anonymous):
        if str(call.this).lower() not in allowed:
            raise NotImplementedError(f"no SQLite translation for {call.sql('duckdb')}")


def _materialize(tree: exp.Expression) -> None:
    """Make SQLite compute each CTE and each subquery in FROM once, row by row.

    SQLite otherwise flattens them into their reader and evaluates their expressions at
    every reference: ``ledger_features``' masks are read about a hundred times, and the
    ledger window's month number twenty times a row. ``MATERIALIZED`` keeps a CTE apart;
    an ``OFFSET`` keeps a subquery apart (SQLite never flattens one), and ``LIMIT -1``
    is SQLite's "no limit".
    """
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", True)
    for subquery in tree.find_all(exp.Subquery):
        select = subquery.this
        in_from = isinstance(subquery.parent, exp.From) and isinstance(select, exp.Select)
        if in_from and not (select.args.get("limit") or select.args.get("offset")):
            select.set("limit", exp.Limit(expression=exp.Literal.number(-1)))
            select.set("offset", exp.Offset(expression=exp.Literal.number(0)))


def transpile(duckdb_sql: str) -> str:
    """Return ``duckdb_sql`` (a feature query) in SQLite's dialect.

    Parameters
    ----------
    duckdb_sql
        A query in DuckDB's dialect using only the constructs listed in the module
        docstring.

    Returns
    -------
    str
        The SQLite query, expecting dates as
        :func:`~risk.features.small.date_text` and the Python
        functions of :data:`PYTHON_FUNCTIONS` and :data:`PYTHON_AGGREGATES`.

    Raises
    ------
    NotImplementedError
        When the query uses a construct this translation does not cover.
    """
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb").transform(_rewrite)
    _check(tree)
    _materialize(tree)
    return tree.sql(dialect="sqlite", unsupported_level=sqlglot.ErrorLevel.RAISE)


def sqlite_feature_query(as_of: pd.Timestamp) -> str:
    """Return :func:`~risk.features.builder.feature_query` at ``as_of`` for SQLite.

    Translating takes ~0.2 s: :mod:`risk.features.small` keeps the last
    :data:`QUERY_CACHE_SIZE` dates' queries.

    Parameters
    ----------
    as_of
        One as-of date (a midnight ``Timestamp``).
    """
    return transpile(feature_query(as_of))
