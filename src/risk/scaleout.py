"""Batch scoring on Apache Spark: the same bundle, the same numbers, any portfolio size.

:func:`score_spark` scores a feature DataFrame of :func:`risk.features.spark.spark_features`
with ``mapInPandas``: each Spark task hands its rows, in Arrow batches, to
:func:`risk.scoring.score_features` (``reasons=True`` by default), the very function
:func:`risk.scoring.score_portfolio` calls, so probabilities, bands, eligibility,
reasons and the "what would lower the risk" lines are the ones of a single machine. Every
row is scored on its own (LightGBM, SHAP and the counterfactual search read one row at
a time), so how Spark splits the rows changes nothing.

The rank cannot be computed in a task: it orders the whole portfolio. It is computed
afterwards by Spark, reproducing :func:`risk.scoring.contact_rank` exactly: per as-of
date, eligible households first, then probability and raw score (both highest first),
then ``tenancy_id`` (byte order, which is numpy's code-point order for text).

Shipping the model. A bundle folder on the driver is sent to every executor with
``SparkContext.addFile`` (under a name made of its content's hash, so that two bundles
never collide); each Python worker loads it once (:func:`_bundle`, cached) and reuses
it for all its tasks. A folder that every executor can read as a local path (a shared
mount) can be used in place with ``ship=False``.

Spark has one type per column: ``reason_k_value``, which :func:`score_features` gives
as a number or a category code, is text here (:func:`value_text`: a number as Python's
shortest round-trip ``repr``, as the CSV export writes it).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from risk.bundle import ModelBundle
from risk.explanation import MAX_REASONS
from risk.features.spark import SparkSource, iter_feature_frames, spark_features
from risk.scoring import REASON_COLUMNS, SCORE_COLUMNS, score_features
from risk.timeline import DateLike

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

#: Prefix of a bundle reference resolved through ``SparkFiles`` on the executors.
SHIPPED = "sparkfiles:"

#: Columns whose values are numbers or codes in pandas, text in Spark.
VALUE_COLUMNS = tuple(f"reason_{k}_value" for k in range(1, MAX_REASONS + 1))

_SHIPPED_BUNDLES: dict[str, str] = {}


def scores_schema(reasons: bool = True) -> StructType:
    """Return the Spark schema of :func:`score_spark`'s result.

    Parameters
    ----------
    reasons
        Include the :data:`~risk.scoring.REASON_COLUMNS`.

    Returns
    -------
    pyspark.sql.types.StructType
        :data:`~risk.scoring.SCORE_COLUMNS` (``rank`` as LONG), then the reasons:
        ``contribution`` columns as DOUBLE, the others as STRING.
    """
    from pyspark.sql import types as sql_types

    text, number = sql_types.StringType(), sql_types.DoubleType()
    kinds: dict[str, Any] = {
        "tenancy_id": text, "as_of": sql_types.TimestampNTZType(), "probability": number,
        "raw_score": number, "band": text, "eligible": sql_types.BooleanType(),
        "rank": sql_types.LongType(),
    }
    fields = [
        sql_types.StructField(name, kinds[name], nullable=name != "rank") for name in SCORE_COLUMNS
    ]
    if reasons:
        fields += [
            sql_types.StructField(name, number if name.endswith("_contribution") else text)
            for name in REASON_COLUMNS
        ]
    return sql_types.StructType(fields)


def value_text(value: object) -> str | None:
    """Return a reason's value as the text Spark holds (None when there is none).

    Parameters
    ----------
    value
        A ``reason_k_value`` of :func:`risk.scoring.score_features`: a number, a
        category code or None.

    Returns
    -------
    str or None
        A code as it is; a number as ``repr(float(value))`` (it reads back exactly).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return repr(float(value))
    raise TypeError(f"a reason value of unexpected type {type(value).__name__}")


# --- the bundle on the executors --------------------------------------------------------


def _content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ship_bundle(spark: SparkSession, bundle: str | os.PathLike[str]) -> str:
    """Send a bundle folder of the driver to every executor, once per content.

    Parameters
    ----------
    spark
        The session.
    bundle
        The bundle folder on the driver. It is loaded (and so checked) here first.

    Returns
    -------
    str
        A reference for :func:`score_spark` (``sparkfiles:<name>``).
    """
    folder = Path(bundle)
    ModelBundle.load(folder)  # refuse a bad bundle before any task starts
    name = f"risk-bundle-{_content_hash(folder)}"
    if name not in _SHIPPED_BUNDLES:
        # addFile keys files by their last path component: a copy under the content
        # hash makes that key unique per bundle, and adding it again a no-op.
        staging = Path(tempfile.mkdtemp(prefix="risk-spark-")) / name
        shutil.copytree(folder, staging)
        spark.sparkContext.addFile(str(staging), recursive=True)
        _SHIPPED_BUNDLES[name] = str(staging)
    return SHIPPED + name


@functools.lru_cache(maxsize=4)
def _bundle(reference: str) -> ModelBundle:
    """Load a bundle once per Python worker (Spark reuses workers across tasks)."""
    if reference.startswith(SHIPPED):
        from pyspark import SparkFiles

        return ModelBundle.load(SparkFiles.get(reference.removeprefix(SHIPPED)))
    return ModelBundle.load(reference)


# --- scoring ----------------------------------------------------------------------------


def _partition_scores(
    batches: Iterator[pd.DataFrame],
    reference: str,
    reasons: bool,
    threads: int,
    columns: list[str],
) -> Iterator[pd.DataFrame]:
    bundle = _bundle(reference)
    for features in iter_feature_frames(batches):
        scores = score_features(features, bundle, threads=threads, reasons=reasons)
        out = scores[columns].copy()
        for column in out.columns:
            if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
                # Plain Python objects, missing as None: what Arrow turns into STRING.
                values = out[column].to_numpy(dtype=object)
                text = map(value_text, values) if column in VALUE_COLUMNS else values
                out[column] = pd.Series(
                    [None if v is None or v is pd.NA or v != v else v for v in text],
                    index=out.index,
                    dtype=object,
                )
        yield out


def score_spark(
    features: DataFrame,
    bundle: str | os.PathLike[str],
    *,
    reasons: bool = True,
    threads: int = 1,
    ship: bool = True,
) -> DataFrame:
    """Score and rank a Spark feature DataFrame with a bundle, as ``score_portfolio`` does.

    Parameters
    ----------
    features
        :func:`risk.features.spark.spark_features` (one as-of date or several).
    bundle
        A bundle folder: on the driver (``ship=True``, sent with :func:`ship_bundle`), or
        at a path every executor reads locally (``ship=False``), or a reference returned
        by :func:`ship_bundle`.
    reasons
        Also give each household its reasons and "what would lower the risk" line.
    threads
        LightGBM threads per task; Spark already runs one task per core.
    ship
        Send a driver folder to the executors.

    Returns
    -------
    pyspark.sql.DataFrame
        :func:`scores_schema`: the columns of :func:`risk.scoring.score_portfolio` with
        ``rank`` per as-of date over the whole DataFrame. The rows scored are persisted
        (memory and disk) so that the model runs once although the rank reads them
        again; ``unpersist`` is left to the session's end or ``spark.catalog.clearCache()``.
    """
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    reference = os.fspath(bundle)
    if ship and not reference.startswith(SHIPPED):
        reference = ship_bundle(features.sparkSession, reference)
    schema = scores_schema(reasons)
    unranked = type(schema)([f for f in schema.fields if f.name != "rank"])
    scored = features.mapInPandas(
        functools.partial(
            _partition_scores,
            reference=reference,
            reasons=reasons,
            threads=threads,
            columns=unranked.fieldNames(),
        ),
        unranked,
    ).persist(StorageLevel.MEMORY_AND_DISK)
    # contact_rank's order; only the keys travel to the single task ranking a date.
    order = Window.partitionBy("as_of").orderBy(
        sf.col("eligible").desc(), sf.col("probability").desc(), sf.col("raw_score").desc(),
        sf.col("tenancy_id").asc(),
    )
    ranks = scored.select("tenancy_id", "as_of", "probability", "raw_score", "eligible")
    rank = sf.row_number().over(order).cast("long").alias("rank")  # int64, as contact_rank
    ranks = ranks.select("tenancy_id", "as_of", rank)
    joined = scored.join(ranks, on=["tenancy_id", "as_of"], how="inner")
    return joined.select(*(f.name for f in schema.fields))


def score_portfolio_spark(
    spark: SparkSession,
    source: SparkSource,
    as_of: DateLike,
    bundle: str | os.PathLike[str],
    *,
    reasons: bool = True,
    threads: int = 1,
    ship: bool = True,
) -> DataFrame:
    """Build the features of a portfolio on Spark and score them (see :func:`score_spark`).

    Parameters
    ----------
    spark
        The session; its time zone must be UTC.
    source
        The portfolio (see :func:`risk.features.spark.register_tables`).
    as_of
        The scoring date: only facts posted before it are used.
    bundle, reasons, threads, ship
        As for :func:`score_spark`.

    Returns
    -------
    pyspark.sql.DataFrame
        The scores, one row per tenancy present at ``as_of``.
    """
    features = spark_features(spark, source, as_of)
    return score_spark(features, bundle, reasons=reasons, threads=threads, ship=ship)
