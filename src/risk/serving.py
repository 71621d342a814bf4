"""Scoring the raw facts of a few tenancies, as the API receives them.

The API hands over validated rows (one tuple per contract row) and an as-of date. The
features are computed by the feature SQL the model was trained with: on SQLite for a
request of a few hundred tenancies (:func:`risk.features.feature_rows`, under a
millisecond for one tenancy, where DuckDB needs a fifth of a second to plan the query),
on DuckDB above :data:`SMALL_REQUEST` (:func:`risk.build_features`, whose fixed cost is
then paid back). Both engines give identical features (``tests/test_features_engines.py``).
The rows are then scored, ranked within the request and explained in one pass
(:func:`risk.scoring.score_and_explain`). Nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from risk.bundle import ModelBundle
from risk.explanation import Explanation, explain
from risk.features import build_features, feature_rows
from risk.holdout import keyed_draws, worklist_with_holdout
from risk.metrics import CapacityLike
from risk.portfolio import ColumnTables, Portfolio
from risk.scoring import score_and_explain, score_features
from risk.timeline import DateLike

#: Requests with at most this many tenancies build their features on SQLite, larger ones
#: on DuckDB. Measured from the API's columns, two years of ledger per tenancy, on a busy
#: 2-core machine: SQLite 1.3 ms a tenancy and growing, DuckDB 0.7 s for 100 tenancies
#: and 0.9 s for 2,000; they meet near 550.
SMALL_REQUEST = 500


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


#: A request's facts: row tuples per contract table, or the tables' columns.
RequestFacts = Mapping[str, Sequence[tuple[Any, ...]]] | ColumnTables


def score_request(
    rows: RequestFacts,
    as_of: DateLike,
    bundle: ModelBundle,
    *,
    threads: int | None = 1,
) -> ScoredRows:
    """Build the features of the given tenancies at ``as_of``, score and explain them.

    Parameters
    ----------
    rows
        Contract rows per table as tuples in contract column order (dates as
        :class:`datetime.date` or ISO text), as for
        :meth:`~risk.portfolio.Portfolio.from_rows`, or the tables' columns (the API's
        :class:`~risk.portfolio.ColumnTables`). Every tenancy must be present at
        ``as_of``.
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
    features = request_features(rows, as_of, threads=threads)
    scores, explanations = score_and_explain(features, bundle, threads=threads)
    return ScoredRows(scores=scores, explanations=explanations)


def request_features(
    rows: RequestFacts, as_of: DateLike, *, threads: int | None = 1
) -> pd.DataFrame:
    """Build the features of a request's tenancies, on the engine that suits its size.

    Parameters are those of :func:`score_request`.

    Returns
    -------
    pandas.DataFrame
        The frame of :func:`risk.build_features`, sorted by ``tenancy_id``.
    """
    if isinstance(rows, ColumnTables):
        if len(rows) <= SMALL_REQUEST:
            return feature_rows(rows.rows(), as_of).to_frame()
        return build_features(rows.portfolio(), as_of, threads=threads)
    if len(rows.get("tenancies", ())) <= SMALL_REQUEST:
        return feature_rows(rows, as_of).to_frame()
    return build_features(Portfolio.from_rows(rows), as_of, threads=threads)


@dataclass(frozen=True)
class ListedRows:
    """A request's work list.

    Attributes
    ----------
    listed
        The listed households in rank order: the scores columns and ``held_out``.
    explanations
        Their explanations, same order.
    scores
        Every household of the request, scored and ranked (not explained).
    """

    listed: pd.DataFrame
    explanations: list[Explanation]
    scores: pd.DataFrame


def worklist_request(
    rows: RequestFacts,
    as_of: DateLike,
    bundle: ModelBundle,
    capacity_k: CapacityLike,
    holdout_share: float,
    *,
    holdout_key: bytes | None = None,
    threads: int | None = 1,
) -> ListedRows:
    """Rank a request's tenancies and explain only the households of the work list.

    Reasons cost most of the scoring time (exact SHAP values), and only the listed
    households need them: the others are scored and ranked, not explained.

    Parameters
    ----------
    rows, as_of, bundle, threads
        As for :func:`score_request`.
    capacity_k
        Households the team can contact (see :func:`risk.scoring.worklist`).
    holdout_share
        The random hold-out's share (see :func:`risk.holdout.worklist_with_holdout`).
    holdout_key
        Secret of the draw (:func:`risk.holdout.keyed_draws`): the same households are
        held out however often the list is asked for in one cycle. A fresh random
        draw when None.

    Returns
    -------
    ListedRows
    """
    features = request_features(rows, as_of, threads=threads)
    scores = score_features(features, bundle, threads=threads)
    draws = None
    if holdout_key is not None and holdout_share > 0:
        draws = keyed_draws(holdout_key, pd.Timestamp(as_of).date(), scores["tenancy_id"])
    listed = worklist_with_holdout(scores, capacity_k, holdout_share, draws=draws)
    position = pd.Series(np.arange(len(scores)), index=scores["tenancy_id"].to_numpy())
    chosen = features.iloc[position.loc[listed["tenancy_id"].to_numpy()].to_numpy()]
    explanations = explain(bundle, chosen.reset_index(drop=True), threads=threads)
    return ListedRows(listed=listed, explanations=explanations, scores=scores)


def warm_up(as_of: DateLike) -> None:
    """Prepare the small-request engine for ``as_of`` (its query is translated once per date).

    The service calls it at start-up for today, so that the first request does not pay
    the translation (a few tenths of a second).
    """
    feature_rows({"tenancies": [], "incomes": [], "apl": [], "ledger": []}, as_of)
