"""Where the feature builder reads a portfolio from: frames in memory or Parquet files.

Either way the tables reach DuckDB as views named after the contract tables, holding
exactly the contract columns, so the feature SQL never depends on the source. Frames
are scanned in place (no copy); a Parquet directory, as written by
:meth:`risk.portfolio.Portfolio.write`, is read lazily, which keeps a 30-million-row
ledger out of Python memory.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb
import pandas as pd

from risk.contract import LEDGER, TABLES, Table
from risk.portfolio import Portfolio, empty_table

#: A portfolio in memory, or a directory holding ``<table>.parquet`` files.
PortfolioSource = Portfolio | str | os.PathLike[str]


def select_contract_columns(table: Table, relation: str, present: set[str]) -> str:
    """Return a SELECT keeping the contract columns of ``table`` from ``relation``.

    Columns keep their source types (no per-row cast: dates are compared with literals).
    Optional columns absent from the source come back as typed NULLs, and the ledger's
    empty posted date falls back to the event date (as :class:`Portfolio` does), so
    Parquet files that skipped that step stay correct.
    """
    null_types = {"code": "VARCHAR", "id": "VARCHAR", "date": "TIMESTAMP", "money": "DOUBLE"}
    exprs = []
    for column in table.columns:
        if column.name not in present:
            if column.required:
                raise ValueError(f"{table.name}: required column {column.name!r} is missing")
            null_type = null_types.get(column.kind, "VARCHAR")
            exprs.append(f"CAST(NULL AS {null_type}) AS {column.name}")
        elif table is LEDGER and column.name == "posted_date":
            exprs.append("COALESCE(posted_date, event_date) AS posted_date")
        else:
            exprs.append(column.name)
    return f"SELECT {', '.join(exprs)} FROM {relation}"


def connect(source: PortfolioSource, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection exposing the portfolio's tables as views.

    Parameters
    ----------
    source
        A :class:`Portfolio`, or a directory with ``tenancies.parquet``,
        ``incomes.parquet``, ``apl.parquet``, ``ledger.parquet`` and optionally
        ``support.parquet``.
    threads
        DuckDB worker threads; DuckDB's default (all cores) when None.

    Returns
    -------
    duckdb.DuckDBPyConnection
        A connection with one view per contract table. The caller closes it.
    """
    con = duckdb.connect()
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    # Insertion order is irrelevant for every feature; letting DuckDB drop it saves
    # memory and time on the large aggregations.
    con.execute("SET preserve_insertion_order = false")
    # In a Jupyter kernel without ipywidgets DuckDB refuses the change, and the bar is
    # off there already.
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("SET enable_progress_bar = false")
    if isinstance(source, Portfolio):
        for name, frame in source.tables():
            _register_frame(con, TABLES[name], frame)
    else:
        directory = Path(source)
        if not directory.is_dir():
            raise FileNotFoundError(f"no portfolio directory at {directory}")
        for name, table in TABLES.items():
            path = directory / f"{name}.parquet"
            if path.exists():
                relation = f"read_parquet('{_sql_string(str(path))}')"
                described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
                columns = {str(row[0]) for row in described}
                con.execute(
                    f"CREATE VIEW {name} AS {select_contract_columns(table, relation, columns)}"
                )
            elif table.optional:
                _register_frame(con, table, empty_table(name))
            else:
                raise FileNotFoundError(f"required table {name} missing: {path}")
    return con


def _register_frame(con: duckdb.DuckDBPyConnection, table: Table, frame: pd.DataFrame) -> None:
    raw = f"{table.name}_frame"
    con.register(raw, frame)
    select = select_contract_columns(table, raw, set(map(str, frame.columns)))
    con.execute(f"CREATE VIEW {table.name} AS {select}")


def _sql_string(text: str) -> str:
    return text.replace("'", "''")
