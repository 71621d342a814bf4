"""Scoring the raw facts of a few tenancies, as the API receives them.

The API hands over validated rows (one tuple per contract row, see
:meth:`risk.portfolio.Portfolio.from_rows`) and an as-of date. The features are built by
:func:`risk.build_features`, the code the model was trained with, then scored, ranked
within the request and explained (:mod:`risk.scoring`, :mod:`risk.explanation`).
Nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from risk.bundle import ModelBundle
from risk.explanation import Explanation, explain
from risk.features import build_features
from risk.portfolio import Portfolio
from risk.scoring import score_features
from risk.timeline import DateLike


@dataclass(frozen=True)
class ScoredRows:
    """Scores and explanations of the tenancies of one request.

    Attributes
    ----------
    scores
        One row per tenancy, sorted by ``tenancy_id``: the columns of
        :data:`risk.scoring.SCORE_COLUMNS` (``rank`` within the request).
    explanations
        One :class:`~risk.explanation.Explanation` per row of ``scores``, same order.
    """

    scores: pd.DataFrame
    explanations: list[Explanation]


def score_rows(
    rows: Mapping[str, Sequence[tuple[Any, ...]]],
    as_of: DateLike,
    bundle: ModelBundle,
    *,
    threads: int | None = 1,
) -> ScoredRows:
    """Build the features of the given tenancies at ``as_of``, score and explain them.

    Parameters
    ----------
    rows
        Contract rows per table, as for :meth:`~risk.portfolio.Portfolio.from_rows`.
        Every tenancy must be present at ``as_of``.
    as_of
        The scoring date: only facts posted strictly before it are used.
    bundle
        The model.
    threads
        Threads for DuckDB and LightGBM (1 in the service: one request per core).

    Returns
    -------
    ScoredRows
    """
    portfolio = Portfolio.from_rows(rows)
    features = build_features(portfolio, as_of, threads=threads)
    scores = score_features(features, bundle, threads=threads)
    explanations = explain(bundle, features, threads=threads)
    return ScoredRows(scores=scores, explanations=explanations)
