"""The benchmark's pandas comparator (bench/pandas_features.py) gives build_features' frame.

The comparator is only honest if it computes the same features: these tests compare it
with the DuckDB builder exactly (same rows, columns, dtypes, categories and values, to
the last bit) on a simulated portfolio, on random edge-case timelines, and on every
hand-written timeline of the feature tests.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import feature_timelines
from feature_timelines import apl, charge, income, ledger_row, payment, portfolio, support, tenancy
from risk.contract import SUPPORT_KINDS, TABLES
from risk.features import build_features
from risk.portfolio import Portfolio
from risk.timeline import as_of_dates

ROOT = Path(__file__).resolve().parents[1]

#: Month starts, mid-months and month ends, a leap day among them (as the engine tests).
AS_OF = [
    "2020-02-29", "2021-01-01", "2022-03-31", "2022-11-16", "2023-07-01", "2024-02-01",
    "2024-12-31",
]


def _load_bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_pandas_features", ROOT / "bench" / "pandas_features.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_features_pandas = _load_bench_module().build_features_pandas


def assert_same_frame(pandas_frame: pd.DataFrame, duckdb_frame: pd.DataFrame) -> None:
    """Exactly equal: every float to the last bit, NaN where NaN, same dtypes and order."""
    pd.testing.assert_frame_equal(pandas_frame, duckdb_frame, check_exact=True)


@pytest.mark.parametrize("as_of", AS_OF)
def test_pandas_reference_equals_the_feature_sql_on_a_simulated_portfolio(
    small_simulation, as_of
):
    p = small_simulation.portfolio
    expected = build_features(p, as_of, threads=1)
    assert len(expected) > 50
    assert_same_frame(build_features_pandas(p, as_of), expected)


def test_pandas_reference_reads_dates_of_any_unit_and_date_objects(small_simulation):
    # pandas may read a Parquet date column as datetime64[us] or as datetime.date objects.
    p = small_simulation.portfolio
    expected = build_features(p, "2023-07-01", threads=1)
    for convert in (
        lambda s: s.astype("datetime64[us]"),
        lambda s: pd.Series([None if pd.isna(v) else v.date() for v in s], dtype=object),
    ):
        frames = {}
        for name, frame in p.tables():
            frame = frame.copy()
            for column in TABLES[name].columns:
                if column.kind == "date":
                    frame[column.name] = convert(frame[column.name])
            frames[name] = frame
        assert_same_frame(build_features_pandas(Portfolio(**frames), "2023-07-01"), expected)


def test_pandas_reference_accepts_a_ledger_without_payment_method_and_no_follow_up():
    p = portfolio(
        [tenancy("A", "2023-01-01"), tenancy("B", "2023-06-15", birth_year=2001)],
        ledger=[charge("A", "2024-01-01"), payment("A", "2024-01-03", 200.0),
                charge("B", "2024-01-01", 420.0)],
    )
    p = Portfolio(
        tenancies=p.tenancies, incomes=p.incomes, apl=p.apl,
        ledger=p.ledger.drop(columns="payment_method"), support=p.support,
    )
    assert_same_frame(build_features_pandas(p, "2024-03-01"), build_features(p, "2024-03-01"))


def test_pandas_reference_gives_an_empty_frame_when_no_tenancy_is_present():
    p = portfolio([tenancy("A", "2023-01-01")], ledger=[charge("A", "2023-01-01")])
    expected = build_features(p, "2022-01-01")
    assert expected.empty
    assert_same_frame(build_features_pandas(p, "2022-01-01"), expected)


# --- random timelines, aimed at the corners of the SQL ---------------------------------

_DAYS = st.dates(dt.date(2021, 12, 25), dt.date(2024, 3, 31))
_LAG = st.sampled_from([0, 0, 0, 1, 2, 31, 90])
_AMOUNT = st.sampled_from([0.0, 0.01, 49.99, 120.0, 250.5, 499.99, 500.0, 733.33])


#: As-of dates drawn often (month ends, a leap day, a month start), so that follow-ups
#: can end exactly on one; any other day in the range is drawn too.
_AS_OF = [dt.date(2024, 2, 29), dt.date(2023, 3, 31), dt.date(2024, 1, 1), dt.date(2023, 6, 1)]
_LAST = dt.date(2024, 6, 30)
#: A failed attempt and the contact made the same day (the attempt is not a failure).
CONTACT_DAY = ("contact_attempt", "contact_made")


def _iso(day: dt.date) -> str:
    return day.isoformat()


@st.composite
def _timeline(draw: st.DrawFn, tid: str) -> dict[str, list[dict[str, Any]]]:
    # Starts on month ends (complete months), rents with cents, same-day rent charges
    # (the latest rent is the largest of its day), corrections of one effective date
    # posted on different days, APL lost then regained, payments at month ends (early)
    # or without method, follow-ups ending on the as-of day, attempts on a contact day.
    start = draw(st.sampled_from([dt.date(2021, 1, 31), dt.date(2022, 5, 15)]) | _DAYS)
    rent = draw(st.sampled_from([350.0, 500.0, 733.33]))
    rows: dict[str, list[dict[str, Any]]] = {
        "tenancies": [tenancy(
            tid, _iso(start),
            draw(st.none() | st.dates(start, dt.date(2024, 6, 30)).map(_iso)),
            rent=rent,
            guarantee=draw(st.sampled_from(["none", "visale", "fsl", "other"])),
            birth_year=draw(st.integers(1950, 2005)),
            household=draw(st.sampled_from(["single", "couple", "couple_with_children"])),
            children=draw(st.integers(0, 4)),
        )],
        "incomes": [], "apl": [], "ledger": [], "support": [],
    }
    for table, make in (
        ("incomes", lambda day, posted: income(
            tid, day, draw(_AMOUNT) * 4, posted=posted,
            status=draw(st.sampled_from(["permanent", "unemployed", "inactive", "retired"])),
        )),
        ("apl", lambda day, posted: apl(
            tid, day, draw(st.sampled_from([0.0, 0.0, 0.004, 0.005, 120.0, 250.5])), posted=posted,
            to_landlord=draw(st.booleans()),
        )),
    ):
        keys = set()
        for _ in range(draw(st.integers(0, 4))):
            day = draw(_DAYS)
            # Half the rows get a correction: same effective date, posted later.
            lags = draw(st.lists(_LAG, min_size=1, max_size=2, unique=True))
            for posted in (day + dt.timedelta(days=lag) for lag in lags):
                if (day, posted) not in keys:  # the contract's key: one row per posting
                    keys.add((day, posted))
                    rows[table].append(make(_iso(day), _iso(posted)))
    for month in range(draw(st.integers(0, 28))):
        first = dt.date(2022 + month // 12, month % 12 + 1, 1)
        rows["ledger"].append(charge(tid, _iso(first), rent))
        if draw(st.integers(0, 9)) == 0:  # a second charge the same day
            rows["ledger"].append(charge(tid, _iso(first), draw(_AMOUNT) or 1.0))
        paid = draw(st.sampled_from([0.0, rent / 3, rent, rent + 10]))
        if paid:
            day = draw(st.sampled_from([1, 4, 23, 24, 25, 26, 27, 28]))
            rows["ledger"].append(payment(
                tid, _iso(first.replace(day=day)), paid,
                posted=_iso(first.replace(day=day) + dt.timedelta(days=draw(_LAG))),
                method=draw(st.sampled_from(["direct_debit", "transfer", "cash"])),
            ))
    for _ in range(draw(st.integers(0, 6))):
        day = draw(_DAYS)
        kind = draw(st.sampled_from(
            ["apl_payment", "charge_adjustment", "other_credit", "other_debit", "tenant_payment"]
        ))
        rows["ledger"].append(ledger_row(
            tid, _iso(day), kind, draw(_AMOUNT) or 0.01,
            posted=_iso(day + dt.timedelta(days=draw(_LAG))),
        ))  # a tenant payment here has no method
    for _ in range(draw(st.integers(0, 4))):
        day = draw(_DAYS)
        # Some follow-ups end on a likely as-of date; some attempts share a contact's day.
        ends = [d for d in _AS_OF if d >= day]
        end = (st.sampled_from(ends) | st.dates(day, _LAST)) if ends else st.dates(day, _LAST)
        kinds = draw(st.sampled_from([(k,) for k in SUPPORT_KINDS] + [CONTACT_DAY]))
        for kind in kinds:
            rows["support"].append(support(
                tid, kind, _iso(day), posted=_iso(day + dt.timedelta(days=draw(_LAG))),
                end=draw(st.none() | end.map(_iso)),
            ))
    return rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    timelines=st.lists(st.integers(0, 999), min_size=1, max_size=8, unique=True).flatmap(
        lambda ids: st.tuples(*(_timeline(f"T{i:03d}") for i in ids))
    ),
    as_of=st.sampled_from(_AS_OF) | st.dates(dt.date(2022, 2, 1), _LAST),
)
def test_pandas_reference_equals_the_feature_sql_on_random_timelines(timelines, as_of):
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for rows in timelines:
        for name, table_rows in rows.items():
            tables[name].extend(table_rows)
    p = portfolio(
        tables["tenancies"], tables["incomes"], tables["apl"], tables["ledger"], tables["support"]
    )
    at = pd.Timestamp(as_of)
    assert_same_frame(build_features_pandas(p, at), build_features(p, at, threads=1))


# --- the hand-written timelines of the feature tests ------------------------------------

#: The feature tests built on tests/feature_timelines.py.
TIMELINE_MODULES = [
    "test_features_tenancy.py", "test_features_income.py", "test_features_benefits.py",
    "test_features_ledger.py", "test_features_support.py", "test_features_point_in_time.py",
]


class _CompareEveryBuild:
    """Pytest plugin: each DuckDB build of a feature test is compared with the reference."""

    def __init__(self) -> None:
        self.compared = 0

    def checked(self, source: Any, as_of: Any, **kwargs: Any) -> pd.DataFrame:
        built = build_features(source, as_of, **kwargs)
        if kwargs.get("engine", "duckdb") == "duckdb" and isinstance(source, Portfolio):
            frames = [build_features_pandas(source, date) for date in as_of_dates(as_of)]
            assert_same_frame(pd.concat(frames, ignore_index=True), built)
            self.compared += 1
        return built

    @pytest.fixture(scope="module", autouse=True)
    def _compare_builds(self, request: pytest.FixtureRequest) -> Iterator[None]:
        # Module-scoped, like feature_timelines' engine fixture, so that hypothesis's
        # check on function-scoped fixtures stays quiet.
        with pytest.MonkeyPatch.context() as patch:
            for module in (feature_timelines, request.module):
                if getattr(module, "build_features", None) is build_features:
                    patch.setattr(module, "build_features", self.checked)
            yield


@pytest.mark.slow
def test_pandas_reference_equals_the_feature_sql_on_every_hand_written_timeline():
    # The feature tests run again (DuckDB engine only, without their two hypothesis
    # tests, which alone take a minute), each of their builds checked against pandas.
    plugin = _CompareEveryBuild()
    paths = [str(ROOT / "tests" / name) for name in TIMELINE_MODULES]
    selection = "not sqlite and not plain_reading and not never_change"
    code = pytest.main(
        [*paths, "-q", "-p", "no:cacheprovider", "-k", selection], plugins=[plugin]
    )
    assert code == pytest.ExitCode.OK, "a feature test's build differs from the pandas reference"
    assert plugin.compared >= 50


def test_the_library_never_imports_the_pandas_reference():
    sources = (ROOT / "src" / "risk").rglob("*.py")
    assert not [s for s in sources if "pandas_features" in s.read_text(encoding="utf-8")]
