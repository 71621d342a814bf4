"""The SQLite engine (risk.features.small) gives DuckDB's features, from frames or tuples.

The hand-written feature tests already run on both engines (see feature_timelines); here
the two are compared on simulated portfolios, on randomised edge cases, and the tuple
input of the scoring API is checked.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feature_timelines import (
    apl,
    charge,
    income,
    ledger_row,
    payment,
    portfolio,
    support,
    tenancy,
)
from risk.catalogue import FEATURES
from risk.contract import LEDGER_KINDS, PAYMENT_METHODS, SUPPORT_KINDS, TABLES
from risk.features import build_features, build_features_small, feature_rows
from risk.features.dialect import transpile
from risk.features.small import portfolio_rows
from risk.portfolio import Portfolio

#: Month starts, mid-months and month ends, a leap day among them.
ENGINE_AS_OF = [
    "2020-02-29", "2021-01-01", "2022-03-31", "2022-11-16", "2023-07-01", "2024-02-01",
    "2024-12-31",
]


def assert_same_features(sqlite: pd.DataFrame, duckdb: pd.DataFrame) -> None:
    """Same columns, dtypes, rows and order; floats equal within 1e-9, NaN where NaN."""
    pd.testing.assert_frame_equal(sqlite, duckdb, check_exact=False, rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def simulated_rows(small_simulation) -> dict[str, list[tuple[Any, ...]]]:
    return portfolio_rows(small_simulation.portfolio)


@pytest.mark.parametrize("as_of", ENGINE_AS_OF)
def test_sqlite_gives_duckdbs_features_on_a_simulated_portfolio(small_simulation, as_of):
    p = small_simulation.portfolio
    duck = build_features(p, as_of, threads=1)
    assert len(duck) > 50
    assert_same_features(build_features_small(p, as_of), duck)


def test_sqlite_gives_duckdbs_features_at_several_dates_in_one_call(small_simulation):
    dates = ENGINE_AS_OF[:3]
    p = small_simulation.portfolio
    assert_same_features(
        build_features(p, dates, engine="sqlite"), build_features(p, dates, threads=1)
    )


def test_tuples_give_the_same_features_as_the_portfolio(small_simulation, simulated_rows):
    from_tuples = build_features_small(simulated_rows, "2023-07-01")
    from_frames = build_features_small(small_simulation.portfolio, "2023-07-01")
    assert_same_features(from_tuples, from_frames)


def _with_dates_as(rows: dict[str, list[tuple[Any, ...]]], convert) -> dict[str, list[list[Any]]]:
    out = {}
    for name, table_rows in rows.items():
        kinds = [c.kind for c in TABLES[name].columns]
        out[name] = [
            [
                convert(v) if k == "date" and v is not None else v
                for v, k in zip(r, kinds, strict=True)
            ]
            for r in table_rows
        ]
    return out


@pytest.mark.parametrize(
    "convert",
    [
        dt.date.fromisoformat,
        lambda d: dt.datetime.fromisoformat(d),
        pd.Timestamp,
        lambda d: f"{d}T00:00:00",
    ],
    ids=["date", "datetime", "timestamp", "iso-datetime-text"],
)
def test_dates_may_be_dates_datetimes_timestamps_or_iso_text(simulated_rows, convert):
    expected = build_features_small(simulated_rows, "2024-01-01")
    converted = _with_dates_as(simulated_rows, convert)
    assert_same_features(build_features_small(converted, "2024-01-01"), expected)


def test_an_empty_posted_date_falls_back_to_the_event_date():
    rows = {
        "tenancies": [tuple(tenancy("T", "2023-01-01").values())],
        "incomes": [],
        "apl": [],
        "ledger": [
            ("T", "2024-01-01", None, "rent_charge", 500.0, None),
            ("T", "2024-02-01", None, "rent_charge", 500.0, None),  # on as-of: not known
        ],
    }
    row = feature_rows(rows, "2024-02-01")
    assert row.tenancy_ids == ["T"]
    assert row.values[0, [f.name for f in FEATURES].index("balance_eur")] == 500.0


def test_feature_rows_hold_codes_for_categories_and_nan_when_unknown():
    rows = {
        "tenancies": [tuple(tenancy("T", guarantee="fsl").values())],
        "incomes": [], "apl": [], "ledger": [],
    }
    got = feature_rows(rows, "2024-02-01")
    names = [f.name for f in FEATURES]
    assert got.values.shape == (1, len(FEATURES))
    assert got.values[0, names.index("guarantee_type")] == 2.0  # fsl
    assert got.values[0, names.index("income_band")] == -1.0  # no income known
    assert np.isnan(got.values[0, names.index("income_monthly")])


def test_rows_of_the_wrong_width_are_refused():
    rows = {"tenancies": [("T", "r1")], "incomes": [], "apl": [], "ledger": []}
    with pytest.raises(ValueError, match="10 columns"):
        feature_rows(rows, "2024-02-01")


@pytest.mark.parametrize("bad", ["2024-02-30", "2024-13-01", "01/02/2024", "", 20240201])
def test_a_value_that_is_not_a_date_is_refused(bad):
    values = tenancy("T")
    values["start_date"] = bad
    rows = {"tenancies": [tuple(values.values())], "incomes": [], "apl": [], "ledger": []}
    with pytest.raises((ValueError, TypeError)):
        feature_rows(rows, "2024-02-01")


def test_a_required_table_missing_is_refused_and_support_may_be_left_out():
    rows: dict[str, list[tuple[Any, ...]]] = {"tenancies": [tuple(tenancy("T").values())]}
    with pytest.raises(ValueError, match="incomes"):
        feature_rows(rows, "2024-02-01")
    rows.update(incomes=[], apl=[], ledger=[])
    assert feature_rows(rows, "2024-02-01").tenancy_ids == ["T"]


def test_a_request_leaves_nothing_behind_for_the_next():
    first = {"tenancies": [tuple(tenancy("A").values())], "incomes": [], "apl": [], "ledger": []}
    second = {"tenancies": [tuple(tenancy("B").values())], "incomes": [], "apl": [], "ledger": []}
    assert feature_rows(first, "2024-02-01").tenancy_ids == ["A"]
    assert feature_rows(second, "2024-02-01").tenancy_ids == ["B"]


def test_threads_each_get_their_own_database(simulated_rows):
    expected = build_features_small(simulated_rows, "2024-01-01")
    results: list[pd.DataFrame] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(build_features_small(simulated_rows, "2024-01-01"))
        )
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    for result in results:
        assert_same_features(result, expected)


def test_the_sqlite_engine_refuses_a_parquet_directory(small_export):
    with pytest.raises(TypeError, match="Portfolio"):
        build_features(small_export, "2024-01-01", engine="sqlite")


def test_the_translation_refuses_a_function_sqlite_lacks():
    with pytest.raises(NotImplementedError, match=r"(?i)list_sum"):
        transpile("SELECT list_sum(x) FROM t")


# --- randomised edge cases --------------------------------------------------------------

_DAYS = st.dates(dt.date(2022, 1, 1), dt.date(2024, 6, 30))
_LAG = st.sampled_from([0, 0, 0, 1, 3, 40])
_AMOUNT = st.sampled_from([0.0, 0.01, 49.99, 100.0, 250.5, 499.99, 500.0, 733.33, 1200.0])


def _iso(day: dt.date) -> str:
    return day.isoformat()


@st.composite
def _tenancy_rows(draw: st.DrawFn, tid: str) -> dict[str, list[dict[str, Any]]]:
    start = draw(st.dates(dt.date(2021, 6, 1), dt.date(2024, 3, 1)))
    end = draw(st.one_of(st.none(), st.dates(start, dt.date(2025, 1, 1))))
    rent = draw(st.sampled_from([350.0, 500.0, 733.33]))
    rows: dict[str, list[dict[str, Any]]] = {
        "tenancies": [
            tenancy(
                tid, _iso(start), None if end is None else _iso(end), rent=rent,
                guarantee=draw(st.sampled_from(["none", "visale", "fsl"])),
                birth_year=draw(st.integers(1950, 2005)),
                household=draw(st.sampled_from(["single", "couple_with_children", "other"])),
                children=draw(st.integers(0, 3)),
            )
        ],
        "incomes": [], "apl": [], "ledger": [], "support": [],
    }
    for _ in range(draw(st.integers(0, 3))):
        day, lag = draw(_DAYS), draw(_LAG)
        rows["incomes"].append(income(
            tid, _iso(day), draw(_AMOUNT) * 3, posted=_iso(day + dt.timedelta(days=lag)),
            status=draw(st.sampled_from(["permanent", "unemployed", "fixed_term"])),
        ))
    for _ in range(draw(st.integers(0, 4))):
        day, lag = draw(_DAYS), draw(_LAG)
        rows["apl"].append(apl(
            tid, _iso(day), draw(st.sampled_from([0.0, 120.0, 250.5])),
            posted=_iso(day + dt.timedelta(days=lag)), to_landlord=draw(st.booleans()),
        ))
    for _ in range(draw(st.integers(0, 25))):
        day, lag = draw(_DAYS), draw(_LAG)
        kind = draw(st.sampled_from(LEDGER_KINDS))
        method = draw(st.sampled_from((None, *PAYMENT_METHODS)))
        rows["ledger"].append(ledger_row(
            tid, _iso(day), kind, draw(_AMOUNT) or 1.0,
            posted=_iso(day + dt.timedelta(days=lag)),
            method=method if kind == "tenant_payment" else None,
        ))
    for month in range(draw(st.integers(0, 30))):
        first = pd.Timestamp("2022-01-01") + pd.DateOffset(months=month)
        rows["ledger"].append(charge(tid, _iso(first.date()), rent))
        paid = draw(st.sampled_from([0.0, rent / 2, rent]))
        if paid:
            day = draw(st.sampled_from([1, 5, 26, 28]))
            rows["ledger"].append(payment(tid, _iso(first.date().replace(day=day)), paid))
    for _ in range(draw(st.integers(0, 3))):
        day, lag = draw(_DAYS), draw(_LAG)
        later = draw(st.one_of(st.none(), st.dates(day, dt.date(2025, 1, 1))))
        rows["support"].append(support(
            tid, draw(st.sampled_from(SUPPORT_KINDS)), _iso(day),
            posted=_iso(day + dt.timedelta(days=lag)),
            end=None if later is None else _iso(later),
        ))
    return rows


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tenancies=st.lists(st.integers(0, 10**6), min_size=1, max_size=12, unique=True).flatmap(
        lambda ids: st.tuples(*(_tenancy_rows(f"T{i:07d}") for i in ids))
    ),
    as_of=st.dates(dt.date(2022, 2, 1), dt.date(2024, 7, 31)),
)
def test_sqlite_gives_duckdbs_features_on_random_timelines(tenancies, as_of):
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for rows in tenancies:
        for name, table_rows in rows.items():
            tables[name].extend(table_rows)
    p: Portfolio = portfolio(
        tables["tenancies"], tables["incomes"], tables["apl"], tables["ledger"], tables["support"]
    )
    at = pd.Timestamp(as_of)
    assert_same_features(build_features(p, at, engine="sqlite"), build_features(p, at, threads=1))


def test_a_date_is_ready_once_its_query_is_translated_and_until_it_is_evicted() -> None:
    from risk.features.dialect import QUERY_CACHE_SIZE
    from risk.features.small import feature_rows, query_ready

    empty = {"tenancies": [], "incomes": [], "apl": [], "ledger": []}
    assert not query_ready("1999-03-01")
    feature_rows(empty, "1999-03-01")
    assert query_ready("1999-03-01")
    for month in range(1, QUERY_CACHE_SIZE + 1):  # later dates push the first one out
        feature_rows(empty, f"{1990 + month}-01-01")
    assert not query_ready("1999-03-01")
