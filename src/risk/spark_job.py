r"""The Spark job: features and scores of a Parquet portfolio, written as Parquet.

Run it on a cluster with ``spark-submit`` (see ``docs/spark.md``)::

    spark-submit --conf spark.sql.session.timeZone=UTC \\
        "$(python -c 'import risk.spark_job as j; print(j.__file__)')" \\
        --portfolio hdfs:///landlord/export --as-of 2025-01-01 \\
        --bundle /models/2024-12 --out hdfs:///landlord/scores/2025-01

or locally with ``python -m risk.spark_job --master 'local[4]' ...``. It writes
``<out>/features.parquet`` (:func:`risk.features.spark.spark_features`, with
``--features``) and ``<out>/scores.parquet`` (:func:`risk.scaleout.score_spark`, when a
bundle is given), each a folder of Parquet parts.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from risk.features.spark import spark_features
from risk.scaleout import score_spark
from risk.timeline import as_of_dates

#: Printed when pyspark is missing.
NO_PYSPARK = "pyspark is not installed: pip install 'risk[spark]' (Java 17 or 21 needed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="risk.spark_job",
        description="Build the features of a portfolio on Spark and score them.",
    )
    parser.add_argument(
        "--portfolio", required=True,
        help="folder of <table>.parquet (as Portfolio.write writes), on storage Spark reads",
    )
    parser.add_argument(
        "--as-of", required=True, nargs="+", help="as-of date(s), e.g. 2025-01-01",
    )
    parser.add_argument(
        "--bundle", help="model bundle folder on the driver (shipped to the executors)",
    )
    parser.add_argument(
        "--bundle-on-executors", action="store_true",
        help="the bundle path is readable on every executor (a shared mount): do not ship",
    )
    parser.add_argument("--out", required=True, help="output folder (Spark's file systems)")
    parser.add_argument(
        "--features", action="store_true", help="also write features.parquet",
    )
    parser.add_argument(
        "--no-reasons", action="store_true", help="scores without reasons (faster)",
    )
    parser.add_argument(
        "--master", help="Spark master when run without spark-submit, e.g. 'local[4]'",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job.

    Parameters
    ----------
    argv
        Command-line arguments (``sys.argv[1:]`` when None); ``--help`` lists them.

    Returns
    -------
    int
        The exit status: 0 on success, 2 when there is nothing to do or no pyspark.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        print(NO_PYSPARK, file=sys.stderr)
        return 2

    args = _parser().parse_args(argv)
    if args.bundle is None and not args.features:
        print("nothing to write: give --bundle, --features or both", file=sys.stderr)
        return 2
    dates = as_of_dates(args.as_of)
    created = SparkSession.getActiveSession() is None
    builder = (
        SparkSession.builder.appName("risk")
        .config("spark.sql.session.timeZone", "UTC")
        # Inferring filters from constraints is most of the planning time of the
        # feature query (huge CASE expressions) and filters nothing it needs.
        .config("spark.sql.constraintPropagation.enabled", "false")
    )
    if args.master is not None:
        builder = builder.master(args.master)
        if args.master.startswith("local"):
            # Local Python workers must run this interpreter (the one with risk installed).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = builder.getOrCreate()
    try:
        features = spark_features(spark, args.portfolio, dates)
        out = args.out.rstrip("/")
        if args.features:
            features.write.mode("overwrite").parquet(f"{out}/features.parquet")
            # Scoring reads the features back rather than building them a second time.
            features = spark.read.parquet(f"{out}/features.parquet")
        if args.bundle is not None:
            scores = score_spark(
                features,
                args.bundle,
                reasons=not args.no_reasons,
                ship=not args.bundle_on_executors,
            )
            scores.write.mode("overwrite").parquet(f"{out}/scores.parquet")
    finally:
        if created:
            spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
