"""Build the point-in-time feature frame of a portfolio at one or several as-of dates.

One SQL query per as-of date, run by DuckDB over the portfolio's tables, returns one
row per tenancy present at that date with every catalogue feature. The dates are run
in turn on a single connection; each run reads the ledger once. For request-sized
inputs the same query runs in SQLite instead (``engine="sqlite"``, see
:mod:`risk.features.small`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from risk.arrears import residual_rent_sql
from risk.catalogue import FEATURES, Feature, feature_names
from risk.contract import TENANCIES
from risk.features import benefits, income, ledger, support, tenancy
from risk.features.point_in_time import AsOf
from risk.features.source import PortfolioSource, connect
from risk.portfolio import Portfolio
from risk.timeline import DateLike, as_of_dates

_BASE = "b"
_LEDGER = "lf"
_SUPPORT = "sf"


def _base_cte() -> str:
    # One row per present tenancy with everything the feature expressions share. The
    # rent is the one in force at as-of (latest known rent charge), not the export's.
    rent = ledger.rent_in_force_sql("lh", "lr", "p.monthly_rent")
    residual = residual_rent_sql(rent, "a.amount", "a.paid_to_landlord")
    # The tenancy columns listed one by one (not DuckDB's ``p.* REPLACE``), so that the
    # query stays plain SQL that sqlglot can transpile (see risk.features.dialect).
    tenancy_columns = ", ".join(
        f"{rent} AS monthly_rent" if c.name == "monthly_rent" else f"p.{c.name}"
        for c in TENANCIES.columns
    )
    return f"""
        SELECT {tenancy_columns},
               {income.base_columns("i")},
               COALESCE(a.amount, 0) AS apl_amount, a.amount_before AS apl_amount_before,
               a.paid_to_landlord AS apl_paid_to_landlord, a.lost_date AS apl_lost_date,
               {residual} AS residual_rent,
               {ledger.base_columns("lh", "lr")}
        FROM present p
        LEFT JOIN income_now i ON i.tenancy_id = p.tenancy_id
        LEFT JOIN apl_now a ON a.tenancy_id = p.tenancy_id
        LEFT JOIN ledger_history lh ON lh.tenancy_id = p.tenancy_id
        LEFT JOIN ledger_recent lr ON lr.tenancy_id = p.tenancy_id"""


def _feature_expressions(as_of: AsOf) -> dict[str, str]:
    expressions = {
        **tenancy.columns(as_of, _BASE),
        **income.columns(_BASE),
        **benefits.columns(as_of, _BASE),
        **ledger.columns(_BASE, _LEDGER),
        **support.columns(_SUPPORT),
    }
    names = feature_names()
    missing = [n for n in names if n not in expressions]
    extra = [n for n in expressions if n not in set(names)]
    if missing or extra:
        # The catalogue is the single source of truth; a drift is a programming error.
        raise RuntimeError(f"feature SQL out of step with the catalogue: {missing=} {extra=}")
    return expressions


#: Code of a categorical value outside the catalogue's categories (NULL is -1).
UNKNOWN_CODE = -2


def _cast(feature: Feature, expression: str) -> str:
    if feature.dtype != "categorical":
        return f"CAST({expression} AS DOUBLE) AS {feature.name}"
    # Categories travel as their position in the catalogue: building a pandas
    # Categorical from codes is far cheaper than from hundreds of thousands of strings.
    whens = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(feature.categories))
    return (
        f"CASE WHEN ({expression}) IS NULL THEN -1 "
        f"ELSE CASE ({expression}) {whens} ELSE {UNKNOWN_CODE} END END AS {feature.name}"
    )


def feature_query(as_of: DateLike) -> str:
    """Return the SQL computing every feature at ``as_of`` (for audit and debugging).

    The query reads views named ``tenancies``, ``incomes``, ``apl``, ``ledger`` and
    ``support`` (see :func:`risk.features.source.connect`).

    Parameters
    ----------
    as_of
        One as-of date.

    Returns
    -------
    str
        A DuckDB query returning ``tenancy_id`` and the features in catalogue order.
    """
    dates = as_of_dates(as_of)
    if len(dates) != 1:
        raise ValueError("feature_query takes one as-of date")
    at = AsOf(dates[0])
    ctes: list[tuple[str, str]] = [
        ("present", tenancy.present_cte(at)),
        *income.ctes(at),
        *benefits.ctes(at),
        *ledger.totals_ctes(at),
        ("base", _base_cte()),
        *ledger.ctes(at, "base"),
        *support.ctes(at),
    ]
    expressions = _feature_expressions(at)
    selected = ",\n       ".join(_cast(f, expressions[f.name]) for f in FEATURES)
    with_clause = ",\n".join(f"{name} AS ({sql}\n)" for name, sql in ctes)
    return f"""WITH {with_clause}
SELECT {_BASE}.tenancy_id,
       {selected}
FROM base {_BASE}
LEFT JOIN ledger_features {_LEDGER} ON {_LEDGER}.tenancy_id = {_BASE}.tenancy_id
LEFT JOIN support_features {_SUPPORT} ON {_SUPPORT}.tenancy_id = {_BASE}.tenancy_id
ORDER BY {_BASE}.tenancy_id"""


def build_features(
    portfolio: PortfolioSource,
    as_of: DateLike | Iterable[DateLike],
    *,
    threads: int | None = None,
    progress: Callable[[list[pd.Timestamp]], Iterable[pd.Timestamp]] | None = None,
    engine: Literal["duckdb", "sqlite"] = "duckdb",
) -> pd.DataFrame:
    """Compute the catalogue's features for every tenancy present at each as-of date.

    A tenancy is present at ``as_of`` when ``start_date < as_of`` and ``end_date`` is
    empty or ``>= as_of``. Only facts posted strictly before ``as_of`` are used (see
    :mod:`risk.features.point_in_time`), so the frame is what the landlord could have
    computed on the morning of ``as_of``.

    Parameters
    ----------
    portfolio
        A :class:`~risk.portfolio.Portfolio`, or a directory of Parquet files as written
        by :meth:`~risk.portfolio.Portfolio.write` (read lazily: best for large ledgers).
    as_of
        One as-of date or several (see :func:`risk.timeline.as_of_dates`).
    threads
        DuckDB worker threads; all cores by default.
    progress
        Wraps the sorted as-of dates as they are built, e.g. ``rich.progress.track``;
        the dates share one connection either way.
    engine
        ``"duckdb"`` (any size, Parquet directories included) or ``"sqlite"``: the same
        query translated for SQLite (:mod:`risk.features.small`), much faster for a few
        thousand tenancies or fewer, from a :class:`~risk.portfolio.Portfolio` only.

    Returns
    -------
    pandas.DataFrame
        Columns ``tenancy_id`` (str), ``as_of`` (datetime64[ns]), then every catalogue
        feature in catalogue order: numeric and bool features as float64 (bools 1.0/0.0,
        NaN when unknown), categorical ones as ``category`` with the catalogue's
        categories. Rows sorted by ``as_of`` then ``tenancy_id``.
    """
    dates = as_of_dates(as_of)
    if engine == "sqlite":
        from risk.features.small import build_features_small  # imports this module

        if not isinstance(portfolio, Portfolio):
            raise TypeError("the sqlite engine reads a Portfolio in memory, not a directory")
        chosen = dates if progress is None else list(progress(dates))
        return build_features_small(portfolio, chosen)
    if engine != "duckdb":
        raise ValueError(f"unknown feature engine {engine!r}")
    con = connect(portfolio, threads=threads)
    try:
        steps = dates if progress is None else progress(dates)
        frames = [_build_one(con, date) for date in steps]
    finally:
        con.close()
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return apply_feature_dtypes(out)


def _build_one(con: duckdb.DuckDBPyConnection, date: pd.Timestamp) -> pd.DataFrame:
    # Arrow hands numeric columns to pandas without a row-by-row conversion.
    frame = con.sql(feature_query(date)).to_arrow_table().to_pandas()
    frame.insert(1, "as_of", np.full(len(frame), date.to_datetime64(), dtype="datetime64[ns]"))
    return frame


def apply_feature_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a feature query's result the dtypes of :func:`build_features`' frame.

    Numeric and bool features arrive as float64 (NULL as NaN) from any engine: only the
    categorical codes need converting, in place, without rebuilding the frame.

    Parameters
    ----------
    frame
        ``tenancy_id``, ``as_of`` and the features, categorical ones as their codes.

    Returns
    -------
    pandas.DataFrame
        ``frame``, its categorical features as ``category`` with the catalogue's
        categories.

    Raises
    ------
    ValueError
        When a code is outside the catalogue's categories.
    """
    for f in FEATURES:
        if f.dtype != "categorical":
            continue
        codes = frame[f.name].to_numpy(dtype=np.int64)
        if (codes == UNKNOWN_CODE).any():
            raise ValueError(f"{f.name}: values outside the catalogue's categories")
        frame[f.name] = pd.Categorical.from_codes(codes, categories=pd.Index(f.categories))
    return frame
