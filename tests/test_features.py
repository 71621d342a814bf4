"""The feature frame: its layout, its dates, its sources."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from feature_timelines import ENGINES, charge, frame, payment, portfolio, tenancy
from risk.catalogue import FEATURES, feature_names
from risk.features import build_features, feature_query
from risk.portfolio import Portfolio

SIMULATED_AS_OF = ["2023-01-01", "2023-07-01", "2024-01-01", "2024-07-01"]


@pytest.fixture(scope="module")
def two_tenancies() -> Portfolio:
    return portfolio(
        [tenancy("B", "2023-01-01"), tenancy("A", "2023-06-01", "2024-02-15")],
        ledger=[charge("A", "2024-01-01"), payment("B", "2024-01-05", 100.0)],
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_columns_are_the_keys_then_every_catalogue_feature_in_order(two_tenancies, engine):
    built = build_features(two_tenancies, "2024-02-01", engine=engine)
    assert list(built.columns) == ["tenancy_id", "as_of", *feature_names()]


@pytest.mark.parametrize("engine", ENGINES)
def test_dtypes_are_str_datetime_float_and_catalogue_categories(two_tenancies, engine):
    built = build_features(two_tenancies, "2024-02-01", engine=engine)
    assert built["tenancy_id"].dtype == "str"
    assert built["as_of"].dtype == "datetime64[ns]"
    for f in FEATURES:
        if f.dtype == "categorical":
            assert list(built[f.name].cat.categories) == list(f.categories), f.name
        else:
            assert built[f.name].dtype == "float64", f.name


@pytest.mark.parametrize("engine", ENGINES)
def test_several_as_of_dates_stack_one_frame_sorted_by_date_then_tenancy(two_tenancies, engine):
    built = build_features(two_tenancies, ["2024-03-01", "2024-02-01", "2024-02-01"], engine=engine)
    assert list(zip(built["as_of"].dt.date, built["tenancy_id"], strict=True)) == [
        (dt.date(2024, 2, 1), "A"),
        (dt.date(2024, 2, 1), "B"),
        (dt.date(2024, 3, 1), "B"),  # A left on 15 February
    ]
    one = build_features(two_tenancies, "2024-03-01", engine=engine)
    pd.testing.assert_frame_equal(built.iloc[2:].reset_index(drop=True), one)


@pytest.mark.parametrize("engine", ENGINES)
def test_as_of_accepts_strings_dates_and_timestamps(two_tenancies, engine):
    as_string = build_features(two_tenancies, "2024-02-01", engine=engine)
    as_date = build_features(two_tenancies, dt.date(2024, 2, 1), engine=engine)
    as_timestamp = build_features(two_tenancies, pd.Timestamp("2024-02-01"), engine=engine)
    pd.testing.assert_frame_equal(as_string, as_date)
    pd.testing.assert_frame_equal(as_string, as_timestamp)


@pytest.mark.parametrize("engine", ENGINES)
def test_no_tenancy_present_gives_an_empty_frame_with_every_column(two_tenancies, engine):
    built = build_features(two_tenancies, "2020-01-01", engine=engine)
    assert built.empty
    assert list(built.columns) == ["tenancy_id", "as_of", *feature_names()]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_ledger_without_payment_method_column_is_accepted(engine):
    rows = [charge("T", "2024-01-01"), payment("T", "2024-01-03", 500.0)]
    p = portfolio([tenancy("T")], ledger=rows)
    ledger = p.ledger.drop(columns="payment_method")
    p = Portfolio.from_frames(p.tenancies, p.incomes, p.apl, ledger)
    row = build_features(p, "2024-02-01", engine=engine).iloc[0]
    assert row["balance_eur"] == 0.0
    assert pd.isna(row["direct_debit_share_6m"])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_code_outside_the_catalogue_is_refused(engine):
    p = portfolio([tenancy("T")])
    p = Portfolio.from_frames(
        p.tenancies.assign(residence_type="castle"), p.incomes, p.apl, p.ledger
    )
    with pytest.raises(ValueError, match="residence_type"):
        build_features(p, "2024-02-01", engine=engine)


def test_feature_query_is_inspectable_sql():
    sql = feature_query("2024-02-01")
    assert "TIMESTAMP '2024-02-01'" in sql
    assert sql.lstrip().startswith("WITH")


@pytest.fixture(scope="module")
def simulated_features(small_simulation) -> pd.DataFrame:
    return build_features(small_simulation.portfolio, SIMULATED_AS_OF)


def test_a_parquet_export_gives_the_same_features_as_the_frames(
    small_simulation, small_export: Path, simulated_features, tmp_path: Path
):
    pd.testing.assert_frame_equal(build_features(small_export, SIMULATED_AS_OF), simulated_features)
    # The support table is optional in an export.
    no_support = tmp_path / "no_support"
    shutil.copytree(small_export, no_support)
    (no_support / "support.parquet").unlink()
    built = build_features(no_support, SIMULATED_AS_OF)
    assert (built["failed_contacts_6m"] == 0).all()


def test_simulated_features_stay_within_their_definitions(simulated_features):
    f = simulated_features
    assert len(f) > 0 and f.groupby("as_of").size().min() > 0
    assert f[["tenancy_id", "as_of"]].duplicated().sum() == 0
    for n in (3, 6, 12):
        assert f[f"shortfall_months_{n}m"].between(0, n).all()
    assert (f["longest_shortfall_run_12m"] <= f["shortfall_months_12m"]).all()
    assert (f["months_since_full_payment"] <= f["longest_shortfall_run_12m"]).all()
    for share in ("partial_payment_share_6m", "direct_debit_share_6m", "apl_rent_share"):
        assert f[share].dropna().between(0, 1).all(), share
    assert f["effort_rate"].dropna().between(0, 2).all()
    for name in (c.name for c in FEATURES if c.dtype == "bool"):
        assert f[name].dropna().isin([0.0, 1.0]).all(), name
    assert (f["residual_rent"] > 0).all()
    assert f["mean_payment_delay_6m"].dropna().between(0, 30).all()


def test_frames_helper_matches_the_contract():
    # The test timelines build frames with the Portfolio dtypes.
    assert frame("ledger", [charge("T", "2024-01-01")])["event_date"].dtype == "datetime64[ns]"



def test_progress_sees_every_as_of_date_in_order_and_changes_nothing() -> None:
    p = portfolio([tenancy("T")])
    dates = ["2024-06-01", "2024-04-01", "2024-05-01"]
    seen: list[pd.Timestamp] = []

    def record(steps: list[pd.Timestamp]) -> list[pd.Timestamp]:
        seen.extend(steps)
        return steps

    with_progress = build_features(p, dates, progress=record)
    assert seen == sorted(pd.Timestamp(d) for d in dates)
    pd.testing.assert_frame_equal(with_progress, build_features(p, dates))
