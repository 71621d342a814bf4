"""Batch scoring: every household present at a date, ranked for preventive contact.

:func:`score_portfolio` builds the features of every tenancy present at ``as_of`` with
:func:`risk.build_features` (the very code the model was trained on), scores them with a
:class:`~risk.bundle.ModelBundle` and ranks them: rank 1 is the household to contact
first. :func:`worklist` keeps the first ``k`` a team can reach this month.

Households already in arrears at ``as_of`` are marked ``eligible = False`` and ranked
after every eligible household. They are not what the model predicts: its label asks
whether a household *below* the arrears threshold crosses it, and rows already over it
were left out of training (status ``in_arrears_at_as_of``), so their score has no
meaning. They are also not what the work list is for: a household in arrears is a
recovery case, followed by the recovery officers under the landlord's procedure,
whereas this list is for prevention, reaching households before the debt grows. Keeping
them in the output (rather than dropping them) lets a team see the whole portfolio.

Order. Eligible households first; then by calibrated probability, highest first; ties
(an isotonic calibration maps whole ranges of scores to one probability) are broken by
the raw score, then by ``tenancy_id``, so the ranking never depends on row order or on
the number of threads.

Reasons. With ``reasons=True`` every household also gets its reasons (at most four,
each pushing its risk up, with the lever to pull) and, when one exists, the change that
would lower its risk most, in French and English (:mod:`risk.explanation`).
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
import pandas as pd

from risk.arrears import ARREARS_MONTHS, behind
from risk.bundle import ModelBundle
from risk.explanation import (
    MAX_REASONS,
    Explanation,
    Scored,
    explain,
    reasons_frame,
    score_rows,
)
from risk.features import build_features
from risk.features.source import PortfolioSource
from risk.labels import LABELS
from risk.matrix import (
    column_positions,
    column_values,
    float_column,
    frame_of,
    numpy_column,
    text_column,
)
from risk.metrics import Capacity, CapacityLike, parse_capacity
from risk.timeline import DateLike, as_of_dates

#: Columns of the scores frame, in order.
SCORE_COLUMNS = (
    "tenancy_id", "as_of", "probability", "raw_score", "band", "eligible", "rank",
)

#: Columns the reasons add to the scores frame (``reasons=True``), in order.
REASON_COLUMNS = (
    *(
        f"reason_{k}_{field}"
        for k in range(1, MAX_REASONS + 1)
        for field in ("code", "fr", "en", "value", "contribution", "lever")
    ),
    "counterfactual_fr",
    "counterfactual_en",
)

#: Error raised when ``as_of`` is not a single date.
ONE_DATE = "score_portfolio scores one as-of date at a time, got {count}"
#: Error raised when a scores frame lacks a column.
NOT_SCORES = "not a scores frame: it lacks the column(s) {columns}"
#: Error raised when the feature frame lacks a column the eligibility rule reads.
NO_BALANCE = "the feature frame lacks {columns}, needed to tell households in arrears apart"


@overload
def score_portfolio(
    portfolio: PortfolioSource,
    as_of: DateLike,
    bundle: ModelBundle,
    *,
    threads: int | None = ...,
    return_features: Literal[False] = ...,
    reasons: bool = ...,
) -> pd.DataFrame: ...


@overload
def score_portfolio(
    portfolio: PortfolioSource,
    as_of: DateLike,
    bundle: ModelBundle,
    *,
    threads: int | None = ...,
    return_features: Literal[True],
    reasons: bool = ...,
) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def score_portfolio(
    portfolio: PortfolioSource,
    as_of: DateLike,
    bundle: ModelBundle,
    *,
    threads: int | None = None,
    return_features: bool = False,
    reasons: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Score and rank every tenancy present at ``as_of``.

    Parameters
    ----------
    portfolio
        A :class:`~risk.portfolio.Portfolio` or a folder of Parquet files written by
        :meth:`~risk.portfolio.Portfolio.write`.
    as_of
        The scoring date: only facts posted before it are used.
    bundle
        The model (see :meth:`risk.bundle.ModelBundle.load`).
    threads
        DuckDB and LightGBM threads; the result does not depend on it.
    return_features
        Also return the feature frame, row for row with the scores, for the
        explanations stage.
    reasons
        Also give each household its reasons and "what would lower the risk" line
        (:data:`REASON_COLUMNS`, see :func:`risk.explanation.reasons_frame`).

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, pandas.DataFrame)
        The scores (see :func:`score_features`), and the features when asked.

    Raises
    ------
    ValueError
        :data:`ONE_DATE` when ``as_of`` holds several dates.
    """
    dates = as_of_dates(as_of)
    if len(dates) != 1:
        raise ValueError(ONE_DATE.format(count=len(dates)))
    features = build_features(portfolio, dates[0], threads=threads)
    scores = score_features(features, bundle, threads=threads, reasons=reasons)
    if return_features:
        return scores, features
    return scores


def score_features(
    features: pd.DataFrame,
    bundle: ModelBundle,
    *,
    threads: int | None = None,
    reasons: bool = False,
) -> pd.DataFrame:
    """Score and rank an already built feature frame of one as-of date.

    Parameters
    ----------
    features
        Frame from :func:`risk.build_features` (``tenancy_id``, ``as_of`` and the
        bundle's features, plus ``balance_eur`` and ``balance_months`` for eligibility).
    bundle
        The model.
    threads
        LightGBM threads.
    reasons
        Append the :data:`REASON_COLUMNS` (at most four reasons and the "what would
        lower the risk" line, French and English).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SCORE_COLUMNS`, rows in the order of ``features`` (so the feature
        frame lines up with them): ``probability`` (calibrated), ``raw_score``
        (log-odds), ``band``, ``eligible`` (False for households already in arrears) and
        ``rank`` (1 = contact first; ineligible households after every eligible one);
        then the :data:`REASON_COLUMNS` when ``reasons``.
    """
    scored = score_rows(bundle, features, threads=threads, shap=reasons)
    scores = _scores_frame(features, bundle, scored)
    if reasons:
        explained = reasons_frame(bundle, features, threads=threads, scored=scored)
        scores = pd.concat([scores, explained[list(REASON_COLUMNS)]], axis=1)
    return scores


def score_and_explain(
    features: pd.DataFrame,
    bundle: ModelBundle,
    *,
    threads: int | None = None,
    max_reasons: int = MAX_REASONS,
    counterfactual: bool = True,
) -> tuple[pd.DataFrame, list[Explanation]]:
    """Score, rank and explain the rows of a feature frame, computing the model once.

    What the API calls for one tenancy (or a few): the same numbers as
    :func:`score_features` and :func:`risk.explanation.explain`, exactly, with the
    design matrix, the raw scores and the SHAP values computed once and shared.

    Parameters
    ----------
    features
        Frame from :func:`risk.build_features` (``tenancy_id``, ``as_of``, the bundle's
        features, ``balance_eur`` and ``balance_months``).
    bundle
        The model.
    threads
        LightGBM threads; the result does not depend on it.
    max_reasons
        At most this many reasons per household (1 to :data:`MAX_REASONS`).
    counterfactual
        Also look for the change that would lower the risk most.

    Returns
    -------
    (pandas.DataFrame, list of Explanation)
        The scores frame of :func:`score_features` (without reasons; ``rank`` is the
        rank among the given rows) and one :class:`~risk.explanation.Explanation` per
        row, in the frame's order.
    """
    scored = score_rows(bundle, features, threads=threads)
    scores = _scores_frame(features, bundle, scored)
    explanations = explain(
        bundle,
        features,
        max_reasons=max_reasons,
        counterfactual=counterfactual,
        threads=threads,
        scored=scored,
    )
    return scores, explanations


def _scores_frame(features: pd.DataFrame, bundle: ModelBundle, scored: Scored) -> pd.DataFrame:
    probability = scored.probability
    eligible = ~in_arrears(features, bundle.label)
    tenancy_id = text_column(features, "tenancy_id")
    columns = {
        "tenancy_id": tenancy_id,
        "as_of": numpy_column(features, "as_of"),
        "probability": probability,
        "raw_score": scored.raw_score,
        "band": bundle.band(probability).astype(str),
        "eligible": eligible,
        "rank": _rank(tenancy_id, scored.raw_score, probability, eligible),
    }
    return frame_of(columns, features.index)


def in_arrears(features: pd.DataFrame, label: str = "first_arrears") -> np.ndarray:
    """Whether each household is already over the arrears threshold at its as-of date.

    The threshold is the one of the label the model predicts (:data:`risk.labels.LABELS`),
    so that exactly the households the label leaves out are set aside; a label without a
    ledger threshold (``outcomes``) uses :data:`risk.arrears.ARREARS_MONTHS`. The rule is
    :func:`risk.arrears.behind`, the same as the labels'. A household with a monthly rent
    of 0 has no months of rent to count in and is over the threshold only by its euro
    amount, if the label has one.

    Returns
    -------
    numpy.ndarray of bool
    """
    positions = column_positions(features.columns)
    present = features.columns if positions is None else positions
    missing = [c for c in ("balance_eur", "balance_months") if c not in present]
    if missing:
        raise ValueError(NO_BALANCE.format(columns=", ".join(missing)))
    definition = LABELS.get(label)
    months = ARREARS_MONTHS
    eur = None
    if definition is not None and definition.threshold_months is not None:
        months, eur = definition.threshold_months, definition.threshold_eur
    balance, balance_months = (
        float_column(features, name, stored)
        for name, stored in zip(
            ("balance_eur", "balance_months"),
            column_values(features, ("balance_eur", "balance_months")),
            strict=True,
        )
    )
    # The residual rent is not a feature; balance_months = balance / residual gives it back.
    with np.errstate(divide="ignore", invalid="ignore"):
        residual = np.where(balance_months != 0, balance / balance_months, np.nan)
    return np.asarray(behind(np.nan_to_num(balance, nan=0.0), residual, months, eur), dtype=bool)


def contact_rank(scores: pd.DataFrame) -> np.ndarray:
    """Rank 1..n: eligible first, then probability, raw score (both descending), tenancy id.

    Parameters
    ----------
    scores
        Frame with ``tenancy_id``, ``probability``, ``raw_score`` and ``eligible``.

    Returns
    -------
    numpy.ndarray of int64
        The rank of each row, in the frame's row order.
    """
    _require(scores, ("tenancy_id", "probability", "raw_score", "eligible"))
    return _rank(
        scores["tenancy_id"].astype(str).to_numpy(),
        scores["raw_score"].to_numpy(dtype=np.float64),
        scores["probability"].to_numpy(dtype=np.float64),
        scores["eligible"].to_numpy(dtype=bool),
    )


def _rank(
    tenancy_id: np.ndarray, raw: np.ndarray, probability: np.ndarray, eligible: np.ndarray
) -> np.ndarray:
    # np.lexsort sorts by the last key first; negating puts the highest scores first.
    order = np.lexsort((tenancy_id, -raw, -probability, ~eligible))
    rank = np.empty(len(tenancy_id), dtype=np.int64)
    rank[order] = np.arange(1, len(tenancy_id) + 1)
    return rank


def worklist(scores: pd.DataFrame, capacity_k: CapacityLike) -> pd.DataFrame:
    """Return the eligible households a team contacts first, in rank order.

    Parameters
    ----------
    scores
        Output of :func:`score_portfolio` (one as-of date).
    capacity_k
        How many to contact: a number of households (``150``) or a share of the eligible
        households (``"5%"``, rounded half up, at least 1), as in :mod:`risk.metrics`.

    Returns
    -------
    pandas.DataFrame
        The first ``k`` eligible rows by ``rank`` (fewer when fewer are eligible), with a
        fresh index.
    """
    _require(scores, ("rank", "eligible"))
    capacity = capacity_k if isinstance(capacity_k, Capacity) else parse_capacity(capacity_k)
    eligible = scores[scores["eligible"].to_numpy(dtype=bool)]
    k = capacity.k(len(eligible)) if len(eligible) else 0
    return eligible.sort_values("rank", kind="stable").head(k).reset_index(drop=True)


def _require(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(NOT_SCORES.format(columns=", ".join(missing)))
