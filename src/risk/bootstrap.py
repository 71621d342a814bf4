"""The tenancy-clustered Poisson bootstrap, and the one sort every replicate reuses.

:mod:`risk.metrics` and :mod:`risk.groups` put intervals on out-of-time metrics. Their rows
are (tenancy, test month) pairs, and a tenancy appears in many test months: its rows are
not independent (a household in arrears in March is likely to be in April too), so
resampling rows would make the intervals too narrow. The bootstrap therefore resamples
**tenancies**: each replicate draws one Poisson(1) weight per tenancy (how many times the
tenancy is drawn) and gives it to all its rows.

Why Poisson weights rather than drawing ``n`` tenancies with replacement: for a large
portfolio the two agree, and weights need no resampled frame. The rows are validated and
sorted once (:func:`rank_predictions`); a replicate is then a vector of weights, and every
statistic is read from cumulative sums of weights over the sorted rows
(:func:`cumulative_weights`, :func:`positive_weight_at`, :func:`top_k_cut`), so it costs
a few passes over the data and no sort. With all weights 1 the same code gives the point
value. Replicates are processed in blocks (:func:`weight_chunks`) to bound memory.

Order. Within a month rows are ranked by ``rank_score`` descending; equal scores are
broken by ``tenancy_id`` ascending, so the result never depends on the frame's row order.

Determinism. Weights depend on the seed and the sorted set of tenancy ids only: models
scored on the same households get the same draws, so their intervals are comparable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Integral
from typing import Protocol

import numpy as np
import pandas as pd

MISSING_COLUMNS = "the predictions frame lacks the column(s) {columns}"
NO_ROWS = "the predictions frame has no rows"
BAD_LABEL = "label must be 0 or 1 on every row (drop the rows without a label first)"
BAD_SCORE = "rank_score must be a finite number on every row"
BAD_PROBABILITY = "probability must be all NaN (ranking-only model) or lie in [0, 1] on every row"
BAD_MONTH = "as_of must be a date on every row"
DUPLICATE_ROWS = "the predictions frame has {count} repeated (tenancy_id, as_of) pair(s)"
BAD_N_BOOT = "n_boot must be a whole number >= 0, got {value!r}"

PREDICTION_COLUMNS = ("tenancy_id", "as_of", "label", "probability", "rank_score")
#: Replicates are processed in chunks of about this many (replicate, row) cells, to bound
#: memory (a float64 array of this size is 64 MB).
CHUNK_CELLS = 8_000_000


class MonthlyCapacity(Protocol):
    """How many households of a month a team selects (:class:`risk.metrics.Capacity`)."""

    def k_many(self, totals: np.ndarray) -> np.ndarray:
        """Households selected in months of ``totals`` (whole, possibly weighted) rows."""
        ...


# --- sorted rows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ordering:
    """Rows in one order, cut into segments, with the tie groups holding positives.

    Parameters
    ----------
    tenancy
        Tenancy code of each row, in this order.
    label
        Label of each row, in this order.
    bounds
        Segment ``s`` spans rows ``bounds[s]:bounds[s + 1]``.
    positive_tenancy
        Tenancy code of each positive row, in this order.
    positives_before
        For each position ``0..n``, the number of positive rows before it.
    group_start, group_stop, group_segment
        Tie groups (rows of one segment with equal scores) holding at least one positive
        row: first row, row after the last, segment. Only they move the ranking metrics.
    """

    tenancy: np.ndarray
    label: np.ndarray
    bounds: np.ndarray
    positive_tenancy: np.ndarray
    positives_before: np.ndarray
    group_start: np.ndarray
    group_stop: np.ndarray
    group_segment: np.ndarray


def _ordering(tenancy: np.ndarray, label: np.ndarray, score: np.ndarray, bounds: np.ndarray):
    """Build an :class:`Ordering` from rows already sorted by segment, then score."""
    n = len(label)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = score[1:] != score[:-1]
    new_group[bounds[:-1][bounds[:-1] < n]] = True
    starts = np.flatnonzero(new_group)
    stops = np.append(starts[1:], n)
    group_positives = np.add.reduceat(label, starts) if n else np.zeros(0)
    keep = group_positives > 0
    return Ordering(
        tenancy=tenancy,
        label=label,
        bounds=bounds,
        positive_tenancy=tenancy[label == 1],
        positives_before=np.concatenate([[0], np.cumsum(label)]).astype(np.intp),
        group_start=starts[keep],
        group_stop=stops[keep],
        group_segment=np.searchsorted(bounds, starts[keep], side="right") - 1,
    )


@dataclass(frozen=True)
class RankedPredictions:
    """A validated predictions frame, sorted by month, then score, then tenancy.

    Parameters
    ----------
    months
        The test months, in date order.
    source_rows
        Position in the input frame of each sorted row.
    n_tenancies
        Number of distinct tenancies; codes are ranks of ``tenancy_id`` in sorted order.
    by_month
        Rows by month, then score descending, then tenancy id; one segment per month.
    pooled
        The same rows by score alone (one segment), for the pooled ranking metrics.
    probability
        Probability of each row in month order, or ``None`` for a ranking-only model.
    """

    months: tuple[pd.Timestamp, ...]
    source_rows: np.ndarray
    n_tenancies: int
    by_month: Ordering
    pooled: Ordering
    probability: np.ndarray | None


def rank_predictions(predictions: pd.DataFrame) -> RankedPredictions:
    """Validate a predictions frame and sort it once for every metric and replicate.

    Raises
    ------
    ValueError
        With one of the module's error constants.
    """
    missing = [c for c in PREDICTION_COLUMNS if c not in predictions.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(columns=", ".join(missing)))
    if predictions.empty:
        raise ValueError(NO_ROWS)
    label_in = pd.to_numeric(predictions["label"], errors="coerce").to_numpy(np.float64)
    if not ((label_in == 0.0) | (label_in == 1.0)).all():
        raise ValueError(BAD_LABEL)
    score_in = pd.to_numeric(predictions["rank_score"], errors="coerce").to_numpy(np.float64)
    if not np.isfinite(score_in).all():
        raise ValueError(BAD_SCORE)
    prob_in = pd.to_numeric(predictions["probability"], errors="coerce").to_numpy(np.float64)
    has_probability = not np.isnan(prob_in).all()
    if has_probability and not ((prob_in >= 0.0) & (prob_in <= 1.0)).all():
        raise ValueError(BAD_PROBABILITY)
    tenancy_in, tenancies = pd.factorize(predictions["tenancy_id"].astype(str), sort=True)
    month_in, months = pd.factorize(pd.to_datetime(predictions["as_of"]), sort=True)
    if (month_in < 0).any():
        raise ValueError(BAD_MONTH)
    order = np.lexsort((tenancy_in, -score_in, month_in))
    # A repeated pair would sit next to itself if sorted by month then tenancy.
    key = np.sort(month_in.astype(np.int64) * len(tenancies) + tenancy_in)
    repeated = int(np.count_nonzero(key[1:] == key[:-1]))
    if repeated:
        raise ValueError(DUPLICATE_ROWS.format(count=repeated))
    tenancy, label, score = tenancy_in[order], label_in[order].astype(np.int8), score_in[order]
    bounds = np.searchsorted(month_in[order], np.arange(len(months) + 1)).astype(np.intp)
    # Pooled order: by score; ties keep the month order (irrelevant: ties share credit).
    pooled = np.argsort(-score, kind="stable")
    return RankedPredictions(
        months=tuple(pd.Timestamp(m) for m in months),
        source_rows=order,
        n_tenancies=len(tenancies),
        by_month=_ordering(tenancy, label, score, bounds),
        pooled=_ordering(
            tenancy[pooled], label[pooled], score[pooled], np.array([0, len(order)], np.intp)
        ),
        probability=prob_in[order] if has_probability else None,
    )


# --- replicates ---------------------------------------------------------------------------


def tenancy_weights(n_tenancies: int, n_boot: int, seed: int) -> np.ndarray:
    """Draw one Poisson(1) weight per replicate and tenancy, shape ``(n_boot, n_tenancies)``.

    A Poisson bootstrap: each tenancy enters a replicate 0, 1, 2, ... times, independently,
    which is what resampling tenancies with replacement does for large portfolios and lets
    every replicate be computed without building a resampled frame.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, Integral) or n_boot < 0:
        raise ValueError(BAD_N_BOOT.format(value=n_boot))
    rng = np.random.default_rng(seed)
    # Poisson(1) draws above 255 do not happen in practice (P < 1e-500).
    return rng.poisson(1.0, size=(int(n_boot), n_tenancies)).astype(np.uint8)


def weight_chunks(weights: np.ndarray, n_rows: int) -> Iterator[np.ndarray]:
    """Yield consecutive blocks of replicates of ``weights``, small enough for memory."""
    step = max(1, CHUNK_CELLS // max(n_rows, 1))
    for first in range(0, len(weights), step):
        yield weights[first : first + step]


def cumulative_weights(ordering: Ordering, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the weight and the positive weight before each position, per replicate.

    Returns
    -------
    cw, tp
        ``cw[r, i]`` is the total weight of rows ``0..i-1`` in replicate ``r`` (shape
        ``(b, n + 1)``); ``tp[r, j]`` the weight of the first ``j`` positive rows, so the
        positive weight before position ``i`` is ``tp[r, positives_before[i]]``. Positives
        are few, so only their weights are gathered for ``tp``.
    """
    n = len(ordering.tenancy)
    # Whole weights: integer sums are exact and several times faster than float ones.
    dtype = np.int32 if (n + 1) * 255 < np.iinfo(np.int32).max else np.int64
    cw = np.zeros((len(chunk), n + 1), dtype=dtype)
    np.cumsum(np.take(chunk, ordering.tenancy, axis=1), axis=1, dtype=dtype, out=cw[:, 1:])
    tp = np.zeros((len(chunk), len(ordering.positive_tenancy) + 1), dtype=dtype)
    positive = np.take(chunk, ordering.positive_tenancy, axis=1)
    np.cumsum(positive, axis=1, dtype=dtype, out=tp[:, 1:])
    return cw, tp


def top_k_cut(
    ordering: Ordering, cw: np.ndarray, capacity: MonthlyCapacity
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Find each month's top-k in each replicate, shape ``(b, months)`` for every output.

    In a replicate a row of weight ``w`` stands for ``w`` copies of the household: a month
    holds ``sum(w)`` households, ``k`` follows from that size, and the selection runs down
    the ranking until the weights add up to ``k``; the last row may be partly selected.

    Returns
    -------
    k, boundary, partial
        Households selected; the last row reached (rows from the month's start to it are
        selected); how much of that row's weight is selected (0 when ``k`` is 0).
    """
    starts, ends = ordering.bounds[:-1], ordering.bounds[1:]
    before = cw[:, starts]
    k = capacity.k_many(cw[:, ends] - before)
    target = (before + k).astype(cw.dtype)  # whole numbers: no float copy of ``cw``
    boundary = np.empty(k.shape, dtype=np.intp)
    for r in range(len(cw)):
        # First row whose cumulative weight (itself included) reaches the target.
        boundary[r] = np.searchsorted(cw[r, 1:], target[r], side="left")
    boundary = np.where(k > 0, np.minimum(boundary, ends - 1), starts)
    partial = np.where(k > 0, target - np.take_along_axis(cw, boundary, axis=1), 0.0)
    return k, boundary, partial


def positive_weight_at(ordering: Ordering, tp: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Positive weight before ``positions`` (shape ``(n,)`` or ``(b, n)``), per replicate."""
    index = ordering.positives_before[positions]
    if index.ndim == 1:
        return tp[:, index]
    return np.take_along_axis(tp, index, axis=1)


def percentile_interval(replicates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the 2.5 and 97.5 percentiles of each column, ignoring NaN replicates."""
    low = np.full(replicates.shape[1:], np.nan)
    high = low.copy()
    defined = ~np.isnan(replicates).all(axis=0) if len(replicates) else np.zeros_like(low, bool)
    if defined.any():
        low[defined], high[defined] = np.nanpercentile(replicates[:, defined], [2.5, 97.5], axis=0)
    return low, high
