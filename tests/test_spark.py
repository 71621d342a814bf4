"""Spark gives DuckDB's features and score_portfolio's scores, in Spark's local mode.

One SparkSession (two cores, no UI, UTC) serves the module. The feature SQL is the
DuckDB query transpiled by sqlglot (risk.features.spark). The comparisons are exact: the
only floating-point sums over rows (ledger amounts, whose order differs between the
engines) are rounded to the cent inside the query, far from a half cent since amounts
are in cents; everything else is the same IEEE arithmetic on the same row. Scoring reads
one row at a time, so how Spark splits the rows changes nothing either.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip(
        "Spark needs a Java runtime (17 or 21): no `java` on PATH and no JAVA_HOME",
        allow_module_level=True,
    )

from pyspark.sql import SparkSession

from model_bundles import make_bundle
from risk.features import build_features
from risk.features.spark import (
    NOT_UTC,
    register_tables,
    spark_features,
    spark_features_pandas,
    to_feature_frame,
    transpile,
)
from risk.scaleout import VALUE_COLUMNS, score_portfolio_spark, scores_schema, value_text
from risk.scoring import REASON_COLUMNS, SCORE_COLUMNS, score_portfolio
from risk.spark_job import NO_PYSPARK, main

pytestmark = [
    # pyspark 4.3 warns on import that pandas 3 is "not yet fully supported", and its
    # Arrow conversion passes pandas 3's deprecated copy=False: the comparisons below
    # are what tells whether the conversions are right.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

#: A leap day, a month end, a mid-month and a month start (each Spark date costs seconds
#: of query planning: tests/test_features_engines.py covers more dates with SQLite).
SPARK_AS_OF = ["2020-02-29", "2022-03-31", "2022-11-16", "2024-02-01"]
SCORE_AS_OF = "2020-09-01"


@pytest.fixture(scope="module")
def spark():
    previous = os.environ.get("PYSPARK_PYTHON")
    # Local Python workers must run this interpreter, the one with risk installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("risk-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        # Small Arrow batches: each scoring task sees several, as on a cluster.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "256")
        # Halves the planning time of the feature query (see docs/spark.md).
        .config("spark.sql.constraintPropagation.enabled", "false")
        # Adaptive execution re-plans between a dozen tiny shuffle stages per date: a
        # quarter of the time on these small portfolios, nothing to gain.
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if previous is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = previous


# --- features ---------------------------------------------------------------------------


def test_spark_features_equal_duckdb_features_on_a_simulated_portfolio(
    spark, small_simulation, small_export
):
    frame = spark_features(spark, small_export, SPARK_AS_OF)
    types = dict(frame.dtypes)
    assert (types["as_of"], types["guarantee_type"], types["balance_eur"]) == (
        "timestamp_ntz", "int", "double",
    )
    got = to_feature_frame(frame.toPandas())
    expected = build_features(small_simulation.portfolio, SPARK_AS_OF, threads=1)
    assert len(expected) > len(SPARK_AS_OF) * 50
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_a_portfolio_in_memory_gives_the_features_of_its_parquet_export(spark, small_simulation):
    got = spark_features_pandas(spark, small_simulation.portfolio, "2023-07-01")
    expected = build_features(small_simulation.portfolio, "2023-07-01", threads=1)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_a_missing_support_table_reads_as_empty_and_a_missing_ledger_is_refused(
    spark, small_export, tmp_path
):
    for name in ("tenancies", "incomes", "apl", "ledger"):
        shutil.copy(small_export / f"{name}.parquet", tmp_path / f"{name}.parquet")
    got = spark_features_pandas(spark, tmp_path, "2023-07-01")
    pd.testing.assert_frame_equal(got, build_features(tmp_path, "2023-07-01", threads=1))
    (tmp_path / "ledger.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="ledger"):
        spark_features(spark, tmp_path, "2023-07-01")


#: Edge cases of each rewrite, as DuckDB SQL over a few rows of (g, x, a, b, t).
EDGE_ROWS = """
    SELECT * FROM (VALUES
        (1, CAST(10 AS BIGINT), CAST(1 AS INTEGER), CAST(2 AS INTEGER),
            TIMESTAMP '1970-01-01 00:00:02.5'),
        (1, CAST(NULL AS BIGINT), 5, 5, TIMESTAMP '1970-01-01 00:00:03.5'),
        (1, 30, 1, NULL, TIMESTAMP '1969-12-31 23:59:59.5'),
        (1, 40, NULL, NULL, TIMESTAMP '2024-02-29 12:00:00.25'),
        (2, 50, 1, 2, TIMESTAMP '2024-02-29 00:00:00'),
        (2, 60, NULL, 9, NULL)
    ) AS v(g, x, a, b, t)
"""

EDGE_QUERY = f"""
WITH v AS ({EDGE_ROWS})
SELECT g,
       arg_max(x, t) AS max_scalar,
       arg_min(x, t) AS min_scalar,
       arg_max(x, row(a, b)) AS max_row,
       arg_min(x, row(a, b)) AS min_row,
       arg_max(x, CASE WHEN a IS NOT NULL THEN row(a, b) END) AS max_case_row,
       arg_min(x, row(a, -epoch(t))) AS min_epoch_row,
       sum(CAST(epoch(t) AS BIGINT)) AS whole_seconds,
       sum(epoch(t)) AS seconds,
       max(x / 3) AS third,
       max(0.3 / 0.1) AS decimal_division,
       max(0.3 * a + 1.0) AS decimal_product,
       bit_count(bit_or(a)) AS bits,
       max(day(last_day(t))) AS last_day
FROM v
GROUP BY g
ORDER BY g
"""


def test_each_rewrite_computes_what_duckdb_computes_on_its_edge_cases(spark):
    expected = duckdb.sql(EDGE_QUERY).df()
    got = spark.sql(transpile(EDGE_QUERY)).toPandas().sort_values("g", ignore_index=True)
    assert expected["whole_seconds"].tolist()[0] == 2 + 4 + 0 + 1709208000  # half to even
    assert list(got.columns) == list(expected.columns)
    for column in expected.columns:
        left = got[column].to_numpy(dtype=np.float64, na_value=np.nan)
        right = expected[column].to_numpy(dtype=np.float64, na_value=np.nan)
        np.testing.assert_array_equal(left, right, err_msg=column)


def test_a_cast_whose_rounding_is_unknown_is_refused():
    with pytest.raises(NotImplementedError, match="rounding"):
        transpile("SELECT CAST(x * 0.5 AS BIGINT) FROM t")


def test_a_function_spark_lacks_is_refused():
    with pytest.raises(NotImplementedError, match=r"(?i)list_sum"):
        transpile("SELECT list_sum(x) FROM t")


def test_a_session_not_in_utc_is_refused(spark, small_export):
    spark.conf.set("spark.sql.session.timeZone", "Europe/Paris")
    try:
        with pytest.raises(ValueError, match="UTC") as error:
            spark_features(spark, small_export, "2023-07-01")
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert str(error.value) == NOT_UTC.format(zone="Europe/Paris")


def test_a_date_with_nanoseconds_fails_rather_than_being_rounded(spark, small_export, tmp_path):
    for name in ("tenancies", "incomes", "apl", "support"):
        shutil.copy(small_export / f"{name}.parquet", tmp_path / f"{name}.parquet")
    ledger = pd.read_parquet(small_export / "ledger.parquet")
    ledger.loc[0, "event_date"] += pd.Timedelta(1, "ns")
    ledger.to_parquet(tmp_path / "ledger.parquet", index=False)
    register_tables(spark, tmp_path)
    with pytest.raises(Exception, match="nanoseconds"):
        spark.sql("SELECT max(event_date) FROM ledger").collect()


# --- scoring ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scoring_inputs(fitted_model, model_simulation, tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("spark-scoring")
    bundle = make_bundle(fitted_model).write(folder / "bundle")
    export = model_simulation.portfolio.write(folder / "export")
    return export, bundle


@pytest.fixture(scope="module")
def expected_scores(scoring_inputs) -> pd.DataFrame:
    from risk.bundle import ModelBundle

    export, bundle = scoring_inputs
    scores = score_portfolio(export, SCORE_AS_OF, ModelBundle.load(bundle), reasons=True)
    return comparable(scores, spark=False)


def comparable(scores: pd.DataFrame, *, spark: bool) -> pd.DataFrame:
    """Scores in one layout: sorted by tenancy, text as objects with None when missing."""
    out = scores.sort_values("tenancy_id", ignore_index=True)
    out["as_of"] = out["as_of"].astype("datetime64[ns]")
    for column in out.columns:
        if column in VALUE_COLUMNS and not spark:
            out[column] = out[column].map(value_text)
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = [None if v is None or v != v else v for v in out[column]]
            out[column] = out[column].astype(object)
    return out


def test_scoring_through_map_in_pandas_equals_score_portfolio(
    spark, scoring_inputs, expected_scores
):
    export, bundle = scoring_inputs
    scores = score_portfolio_spark(spark, export, SCORE_AS_OF, bundle)
    assert scores.schema == scores_schema()
    got = comparable(scores.toPandas(), spark=True)
    assert list(got.columns) == [*SCORE_COLUMNS, *REASON_COLUMNS]
    assert (~got["eligible"]).any(), "the fixture should hold households in arrears"
    assert got["reason_1_code"].notna().any()
    # Every row is scored alone (LightGBM, SHAP, the counterfactual search): exact.
    pd.testing.assert_frame_equal(got, expected_scores, check_exact=True)


def test_a_reason_value_is_text_that_reads_back_exactly():
    assert value_text(903.0) == "903.0"
    assert float(value_text(np.float64(11.666666666666666))) == 11.666666666666666
    assert value_text("fsl") == "fsl"
    assert value_text(None) is None
    assert value_text(float("nan")) is None
    with pytest.raises(TypeError):
        value_text(True)


def test_the_spark_job_writes_features_and_scores_as_parquet(
    spark, scoring_inputs, expected_scores, model_simulation, tmp_path
):
    export, bundle = scoring_inputs
    out = tmp_path / "out"
    status = main([
        "--portfolio", str(export), "--as-of", SCORE_AS_OF, "--bundle", str(bundle),
        "--out", str(out), "--features", "--no-reasons",
    ])
    assert status == 0
    assert not spark.sparkContext._jsc.sc().isStopped()  # the test's session is kept
    scores = comparable(pd.read_parquet(out / "scores.parquet"), spark=True)
    assert list(scores.columns) == list(SCORE_COLUMNS)
    pd.testing.assert_frame_equal(
        scores, expected_scores[list(SCORE_COLUMNS)], check_exact=True
    )
    features = to_feature_frame(pd.read_parquet(out / "features.parquet"))
    expected = build_features(model_simulation.portfolio, SCORE_AS_OF, threads=1)
    pd.testing.assert_frame_equal(features, expected, check_exact=True)


def test_the_spark_job_needs_something_to_write(scoring_inputs, tmp_path, capsys):
    export, _ = scoring_inputs
    status = main(["--portfolio", str(export), "--as-of", SCORE_AS_OF, "--out", str(tmp_path)])
    assert status == 2
    assert "nothing to write" in capsys.readouterr().err


def test_the_spark_job_says_how_to_install_pyspark_when_it_is_missing(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # import pyspark.sql fails
    assert main(["--portfolio", "p", "--as-of", "2025-01-01", "--out", "o", "--features"]) == 2
    assert NO_PYSPARK in capsys.readouterr().err
