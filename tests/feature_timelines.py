"""Hand-written timelines for the feature tests: one dict per row, a Portfolio on demand.

Defaults describe an ordinary household: a single tenant born in 1990, no guarantee,
500 EUR of rent and charges, in an FJT. Dates are ISO strings.

Both feature engines run the same SQL (see :mod:`risk.features.small`), so the feature
tests run on both: a test module importing :func:`each_engine` runs each of its tests
once per engine, and :func:`build` and :func:`features_of` use the engine of the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pandas as pd
import pytest

from risk.contract import TABLES
from risk.features import build_features
from risk.portfolio import Portfolio, empty_table

Row = dict[str, Any]

#: The feature engines, and the one the running test uses (see :func:`each_engine`).
ENGINES = ("duckdb", "sqlite")
_engine = {"name": "duckdb"}


@pytest.fixture(scope="module", params=ENGINES, autouse=True)
def each_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run every test of the importing module once per feature engine.

    Module-scoped (tests are grouped by engine), which also keeps hypothesis's check on
    function-scoped fixtures quiet.
    """
    _engine["name"] = request.param
    try:
        yield request.param
    finally:
        _engine["name"] = "duckdb"


def build(p: Portfolio, as_of: Any) -> pd.DataFrame:
    """Return :func:`build_features` of ``p`` at ``as_of`` with the running test's engine."""
    return build_features(p, as_of, engine=_engine["name"])


def tenancy(
    tid: str,
    start: str = "2023-01-01",
    end: str | None = None,
    *,
    rent: float = 500.0,
    guarantee: str = "none",
    birth_year: int = 1990,
    household: str = "single",
    children: int = 0,
    residence: str = "fjt",
) -> Row:
    return {
        "tenancy_id": tid,
        "residence_id": "r1",
        "residence_type": residence,
        "start_date": start,
        "end_date": end,
        "monthly_rent": rent,
        "guarantee": guarantee,
        "tenant_birth_year": birth_year,
        "household_type": household,
        "children": children,
    }


def income(
    tid: str,
    effective: str,
    amount: float,
    *,
    posted: str | None = None,
    status: str = "permanent",
    source: str = "salary",
) -> Row:
    return {
        "tenancy_id": tid,
        "effective_date": effective,
        "posted_date": posted or effective,
        "monthly_income": amount,
        "employment_status": status,
        "income_source": source,
    }


def apl(
    tid: str, effective: str, amount: float, *, posted: str | None = None, to_landlord: bool = True
) -> Row:
    return {
        "tenancy_id": tid,
        "effective_date": effective,
        "posted_date": posted or effective,
        "monthly_amount": amount,
        "paid_to_landlord": to_landlord,
    }


def ledger_row(
    tid: str,
    event: str,
    kind: str,
    amount: float,
    *,
    posted: str | None = None,
    method: str | None = None,
) -> Row:
    return {
        "tenancy_id": tid,
        "event_date": event,
        "posted_date": posted or event,
        "kind": kind,
        "amount": amount,
        "payment_method": method,
    }


def charge(tid: str, event: str, amount: float = 500.0, *, posted: str | None = None) -> Row:
    return ledger_row(tid, event, "rent_charge", amount, posted=posted)


def payment(
    tid: str, event: str, amount: float, *, posted: str | None = None, method: str = "transfer"
) -> Row:
    return ledger_row(tid, event, "tenant_payment", amount, posted=posted, method=method)


def monthly_charges(tid: str, first: str, last: str, amount: float = 500.0) -> list[Row]:
    """Rent charged on the 1st of every month from ``first`` to ``last`` (YYYY-MM)."""
    months = pd.period_range(first, last, freq="M")
    return [charge(tid, str(m.start_time.date()), amount) for m in months]


def support(
    tid: str, kind: str, start: str, *, posted: str | None = None, end: str | None = None
) -> Row:
    return {
        "tenancy_id": tid,
        "kind": kind,
        "start_date": start,
        "end_date": end,
        "posted_date": posted or start,
    }


def frame(table: str, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Return ``rows`` as a frame with the contract columns and Portfolio dtypes."""
    empty = empty_table(table)
    rows = list(rows)
    if not rows:
        return empty
    out = pd.DataFrame(rows, columns=list(empty.columns))
    for column in TABLES[table].columns:
        if column.kind == "date":
            out[column.name] = pd.to_datetime(out[column.name]).astype("datetime64[ns]")
        else:
            out[column.name] = out[column.name].astype(empty[column.name].dtype)
    return out


def portfolio(
    tenancies: Iterable[Row],
    incomes: Iterable[Row] = (),
    apl_rows: Iterable[Row] = (),
    ledger: Iterable[Row] = (),
    support_rows: Iterable[Row] = (),
) -> Portfolio:
    return Portfolio.from_frames(
        tenancies=frame("tenancies", tenancies),
        incomes=frame("incomes", incomes),
        apl=frame("apl", apl_rows),
        ledger=frame("ledger", ledger),
        support=frame("support", support_rows),
    )


def features_of(p: Portfolio, as_of: str, tid: str) -> pd.Series:
    """Return the feature row of tenancy ``tid`` at ``as_of`` (fails if it has none)."""
    built = build(p, as_of)
    rows = built[built["tenancy_id"] == tid]
    assert len(rows) == 1, f"{tid} has {len(rows)} rows at {as_of}"
    return rows.iloc[0]
