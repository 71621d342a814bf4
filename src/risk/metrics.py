"""Out-of-time evaluation metrics, with tenancy-clustered bootstrap intervals.

The training stage scores test months the model never saw and hands this module a
predictions frame: one row per tenancy and test month with ``tenancy_id``, ``as_of``,
``label`` (0/1), ``probability`` (all NaN for a ranking-only model) and ``rank_score``
(higher means contact first). :func:`evaluate` turns it into a long table of metrics per
test month and pooled over the months:

- ranking: ``roc_auc`` and ``pr_auc`` (average precision), read from ``rank_score``;
- calibration: ``brier`` and ``ece``, read from ``probability``;
- capacity: for each :class:`Capacity` (a share such as ``"2%"`` or a number of households
  per month such as ``150``), the top ``k`` rows of each month are the households a team
  would contact. ``precision@`` is captured / selected, ``capture@`` (recall) is captured
  / positives and ``lift@`` is precision / base rate. Selection happens per month (a team
  contacts households every month); pooled values add the months' counts up.

Order. Within a month rows are ranked by ``rank_score`` descending; equal scores are
broken by ``tenancy_id`` ascending, so the result never depends on the frame's row order.
The ranking metrics treat equal scores as ties (half credit), as scikit-learn does.

Bootstrap. A tenancy appears in many test months, so rows are not independent: each
replicate draws one Poisson(1) weight per tenancy (how many times the tenancy is drawn)
and gives it to all its rows. Every statistic is computed from cumulative sums of weights
over rows sorted once, so a replicate costs a few passes over the data and no sort; with
all weights 1 the same code gives the point value. Weights depend on the seed and the
sorted set of tenancy ids only: models scored on the same households get the same draws.
:mod:`risk.groups` reuses this machinery.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Union

import numpy as np
import pandas as pd

BAD_CAPACITY = (
    "capacity must be a share like '5%' or a whole number of households per month, got {value!r}"
)
MISSING_COLUMNS = "the predictions frame lacks the column(s) {columns}"
NO_ROWS = "the predictions frame has no rows"
BAD_LABEL = "label must be 0 or 1 on every row (drop the rows without a label first)"
BAD_SCORE = "rank_score must be a finite number on every row"
BAD_PROBABILITY = "probability must be all NaN (ranking-only model) or lie in [0, 1] on every row"
BAD_MONTH = "as_of must be a date on every row"
DUPLICATE_ROWS = "the predictions frame has {count} repeated (tenancy_id, as_of) pair(s)"
BAD_N_BOOT = "n_boot must be a whole number >= 0, got {value!r}"

#: Anything :func:`numpy.asarray` reads as one value per row.
ArrayLike = np.ndarray | Sequence[float] | pd.Series
#: A :class:`Capacity` or what :func:`parse_capacity` reads.
CapacityLike = Union["Capacity", str, int]

PREDICTION_COLUMNS = ("tenancy_id", "as_of", "label", "probability", "rank_score")
TABLE_COLUMNS = ("model", "month", "metric", "value", "low", "high", "rows", "positives")
POOLED = "pooled"
DEFAULT_MODEL = "model"
ECE_BINS = 10
#: Replicates are processed in chunks of about this many (replicate, row) cells, to bound
#: memory (a float64 array of this size is 64 MB).
CHUNK_CELLS = 8_000_000


@dataclass(frozen=True)
class Capacity:
    """How many households a team can contact each month.

    Parameters
    ----------
    label
        Display form, used in metric names: ``"2%"`` or ``"150"``.
    percent
        Share of the month's households, in percent; ``None`` for an absolute capacity.
    count
        Households per month; ``None`` for a share.
    """

    label: str
    percent: float | None = None
    count: int | None = None

    def k(self, n_rows_in_month: int) -> int:
        """Return how many of a month's ``n_rows_in_month`` households are selected.

        A share is rounded half up and is at least 1; an absolute capacity is capped at the
        month's size.
        """
        return int(self.k_many(np.array([n_rows_in_month], dtype=np.float64))[0])

    def k_many(self, totals: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`k` over month sizes (whole, possibly weighted, counts)."""
        if self.percent is not None:
            # percent * n / 100 is exact on x.5 boundaries for a percent with one decimal.
            k = np.maximum(np.floor(self.percent * totals / 100.0 + 0.5), 1.0)
        else:
            k = np.full(np.shape(totals), float(self.count or 0))
        return np.minimum(k, totals)


def parse_capacity(value: str | int) -> Capacity:
    """Read a capacity: ``"2%"`` (a share of each month) or ``150`` / ``"150"`` (per month).

    Raises
    ------
    ValueError
        :data:`BAD_CAPACITY` for anything else (zero, negative, over 100 %, decimals
        without a percent sign, booleans).
    """
    error = ValueError(BAD_CAPACITY.format(value=value))
    if isinstance(value, bool):
        raise error
    if isinstance(value, Integral):
        if value < 1:
            raise error
        return Capacity(label=str(int(value)), count=int(value))
    if not isinstance(value, str):
        raise error
    text = value.strip()
    if text.endswith("%"):
        try:
            percent = float(text[:-1])
        except ValueError:
            raise error from None
        if not (0.0 < percent <= 100.0):  # also refuses NaN
            raise error
        return Capacity(label=f"{percent:g}%", percent=percent)
    if text.isascii() and text.isdigit() and int(text) >= 1:
        return Capacity(label=str(int(text)), count=int(text))
    raise error


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


# --- bootstrap machinery --------------------------------------------------------------------


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
    ordering: Ordering, cw: np.ndarray, capacity: Capacity
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


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Divide, giving NaN where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(denominator > 0, denominator, 1.0)
        return np.where(denominator > 0, numerator / safe, np.nan)


def _segment_sums(values: np.ndarray, segment: np.ndarray, n_segments: int) -> np.ndarray:
    """Sum the columns of ``values`` by ``segment`` (sorted), giving 0 to empty segments."""
    summed = np.zeros((len(values), values.shape[1] + 1))
    np.cumsum(values, axis=1, out=summed[:, 1:])
    edges = np.searchsorted(segment, np.arange(n_segments + 1))
    return summed[:, edges[1:]] - summed[:, edges[:-1]]


def _ranking(ordering: Ordering, cw: np.ndarray, tp: np.ndarray) -> dict[str, np.ndarray]:
    """Weighted ROC AUC and average precision of each segment, shape ``(b, segments)``.

    For a tie group ``g`` adding positive weight ``dtp`` and negative weight ``dfp`` after
    ``fp`` negatives ranked above it, the AUC gains ``dtp * (N - fp - dfp / 2)`` (pairs
    with every negative ranked below, half of the tied ones) and the average precision
    ``dtp * precision`` at the group's threshold; groups without positives add nothing.
    """
    o = ordering
    n_segments = len(o.bounds) - 1
    seg = o.group_segment
    cw0, tp0 = cw[:, o.bounds[:-1]], positive_weight_at(o, tp, o.bounds[:-1])
    positives = positive_weight_at(o, tp, o.bounds[1:]) - tp0
    negatives = cw[:, o.bounds[1:]] - cw0 - positives
    tp_above = positive_weight_at(o, tp, o.group_start)
    d_tp = positive_weight_at(o, tp, o.group_stop) - tp_above
    fp_above = cw[:, o.group_start] - cw0[:, seg] - (tp_above - tp0[:, seg])
    d_fp = cw[:, o.group_stop] - cw[:, o.group_start] - d_tp
    auc_terms = d_tp * (negatives[:, seg] - fp_above - d_fp / 2.0)
    tp_through = tp_above - tp0[:, seg] + d_tp
    precision = _divide(tp_through, tp_through + fp_above + d_fp)
    ap_terms = np.where(d_tp > 0, d_tp * precision, 0.0)
    return {
        "roc_auc": _divide(_segment_sums(auc_terms, seg, n_segments), positives * negatives),
        "pr_auc": _divide(_segment_sums(ap_terms, seg, n_segments), positives),
    }


def _quantile_bins(probability: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-frequency bin of each probability (fewer bins when values repeat)."""
    inner = np.unique(np.quantile(probability, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    return np.searchsorted(inner, probability, side="right")


@dataclass(frozen=True)
class _Calibration:
    """Rows re-sorted so that every calibration bin is a contiguous run.

    ``by_month_bin`` orders rows by month then bin of the month's probabilities (months stay
    contiguous too); ``by_pooled_bin`` by bin of all probabilities. Bins are fixed on the
    unweighted rows; a replicate only reweights them.
    """

    by_month_bin: tuple[np.ndarray, np.ndarray, np.ndarray]  # tenancy, error, bin starts
    bin_month: np.ndarray  # month of each (month, bin) run
    month_starts: np.ndarray  # first row of each month in ``by_month_bin``
    by_pooled_bin: tuple[np.ndarray, np.ndarray, np.ndarray]


def _runs(tenancy: np.ndarray, error: np.ndarray, key: np.ndarray) -> tuple:
    """Sort rows by ``key``; return tenancy, error and the start of each run of one key."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    return tenancy[order], error[order], starts


def _calibration(ranked: RankedPredictions, n_bins: int) -> _Calibration | None:
    """Prepare Brier and ECE for every replicate; None without probabilities."""
    if ranked.probability is None:
        return None
    o, p = ranked.by_month, ranked.probability
    month = np.repeat(np.arange(len(ranked.months)), np.diff(o.bounds))
    month_bin = np.concatenate(
        [_quantile_bins(p[a:b], n_bins) for a, b in zip(o.bounds[:-1], o.bounds[1:], strict=True)]
    )
    error = p - o.label
    by_month_bin = _runs(o.tenancy, error, month * n_bins + month_bin)
    return _Calibration(
        by_month_bin=by_month_bin,
        bin_month=month[np.argsort(month * n_bins + month_bin, kind="stable")][by_month_bin[2]],
        month_starts=o.bounds[:-1],
        by_pooled_bin=_runs(o.tenancy, error, _quantile_bins(p, n_bins)),
    )


def _calibration_sums(
    calibration: _Calibration, chunk: np.ndarray, n_months: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted squared error and sum of ``|bin's p - y|`` per month then pooled."""
    tenancy, error, starts = calibration.by_month_bin
    weighted = np.take(chunk, tenancy, axis=1) * error
    gaps = np.abs(np.add.reduceat(weighted, starts, axis=1))
    month_gaps = _segment_sums(gaps, calibration.bin_month, n_months)
    weighted *= error
    squared = np.add.reduceat(weighted, calibration.month_starts, axis=1)
    del weighted
    tenancy, error, starts = calibration.by_pooled_bin
    pooled = np.add.reduceat(np.take(chunk, tenancy, axis=1) * error, starts, axis=1)
    return (
        np.column_stack([squared, squared.sum(axis=1)]),
        np.column_stack([month_gaps, np.abs(pooled).sum(axis=1)]),
    )


def _replicate(
    ranked: RankedPredictions,
    chunk: np.ndarray,
    capacities: Sequence[Capacity],
    calibration: _Calibration | None,
) -> dict[str, np.ndarray]:
    """Every metric for a block of replicates: ``(b, months + 1)``, the last column pooled."""
    o = ranked.by_month
    n_months = len(ranked.months)
    cw, tp = cumulative_weights(o, chunk)
    rows = np.diff(cw[:, o.bounds], axis=1)
    positives = np.diff(positive_weight_at(o, tp, o.bounds), axis=1)
    out = {name: values for name, values in _ranking(o, cw, tp).items()}
    pooled_cw, pooled_tp = cumulative_weights(ranked.pooled, chunk)
    for name, values in _ranking(ranked.pooled, pooled_cw, pooled_tp).items():
        out[name] = np.column_stack([out[name], values])
    del pooled_cw, pooled_tp
    all_rows = np.column_stack([rows, rows.sum(axis=1)])
    all_positives = np.column_stack([positives, positives.sum(axis=1)])
    if calibration is None:
        out["brier"] = out["ece"] = np.full(all_rows.shape, np.nan)
    else:
        squared, gaps = _calibration_sums(calibration, chunk, n_months)
        out["brier"], out["ece"] = _divide(squared, all_rows), _divide(gaps, all_rows)
    base_rate = _divide(all_positives, all_rows)
    for capacity in capacities:
        k, boundary, partial = top_k_cut(o, cw, capacity)
        edge_label = o.label[boundary]
        captured = (
            positive_weight_at(o, tp, boundary)
            - positive_weight_at(o, tp, o.bounds[:-1])
            + edge_label * partial
        )
        selected = np.column_stack([k, k.sum(axis=1)])
        captured = np.column_stack([captured, captured.sum(axis=1)])
        precision = _divide(captured, selected)
        out[f"precision@{capacity.label}"] = precision
        out[f"capture@{capacity.label}"] = _divide(captured, all_positives)
        out[f"lift@{capacity.label}"] = _divide(precision, base_rate)
    out["rows"], out["positives"] = all_rows, all_positives
    return out


def evaluate(
    predictions: pd.DataFrame,
    capacities: CapacityLike | Iterable[CapacityLike],
    *,
    n_boot: int = 200,
    seed: int = 0,
    model: str | None = None,
) -> pd.DataFrame:
    """Evaluate one model's out-of-time predictions, per test month and pooled.

    Parameters
    ----------
    predictions
        Columns ``tenancy_id``, ``as_of``, ``label`` (0/1), ``probability`` (may be all
        NaN) and ``rank_score`` (higher means contact first); one row per tenancy and month.
    capacities
        One or several capacities (:class:`Capacity` or what :func:`parse_capacity`
        reads), each giving ``precision@``, ``capture@`` and ``lift@`` metrics.
    n_boot
        Bootstrap replicates (tenancy-clustered, see the module docstring); 0 skips them.
    seed
        Seed of the bootstrap draws; the table is deterministic given it.
    model
        Name written in the ``model`` column (``"model"`` when None).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS`: ``month`` is the test month as ``YYYY-MM-DD`` or
        ``"pooled"``; ``low`` and ``high`` bound the 95 % percentile interval; ``rows``
        and ``positives`` count the month's rows. ECE uses :data:`ECE_BINS`
        equal-frequency bins: with a base rate near 4 %, equal-width bins would put almost
        every household in the first bin and hide miscalibration among the high scores.
        Brier and ECE are NaN without probabilities.
    """
    if isinstance(capacities, str | int | Capacity):  # one capacity, not its characters
        capacities = [capacities]
    caps = [c if isinstance(c, Capacity) else parse_capacity(c) for c in capacities]
    ranked = rank_predictions(predictions)
    calibration = _calibration(ranked, ECE_BINS)
    weights = tenancy_weights(ranked.n_tenancies, n_boot, seed)
    ones = np.ones((1, ranked.n_tenancies), dtype=np.uint8)
    point = _replicate(ranked, ones, caps, calibration)
    blocks = [
        _replicate(ranked, chunk, caps, calibration)
        for chunk in weight_chunks(weights, len(ranked.source_rows))
    ]
    names = [n for n in point if n not in ("rows", "positives")]
    months = [m.strftime("%Y-%m-%d") for m in ranked.months] + [POOLED]
    values = np.stack([point[n][0] for n in names], axis=1)  # (months, metrics)
    if blocks:
        replicates = np.stack([np.concatenate([b[n] for b in blocks]) for n in names], axis=2)
    else:
        replicates = np.empty((0, len(months), len(names)))
    low, high = percentile_interval(replicates)
    # Month by month (the pooled rows last), metrics in a fixed order within each month.
    return pd.DataFrame(
        {
            "model": model if model is not None else DEFAULT_MODEL,
            "month": np.repeat(months, len(names)),
            "metric": np.tile(names, len(months)),
            "value": values.ravel(),
            "low": low.ravel(),
            "high": high.ravel(),
            "rows": np.repeat(point["rows"][0], len(names)).astype(np.int64),
            "positives": np.repeat(point["positives"][0], len(names)).astype(np.int64),
        },
        columns=list(TABLE_COLUMNS),
    )


# --- point metrics on arrays ------------------------------------------------------------------


def _frame(y: ArrayLike, score: ArrayLike, month: ArrayLike | None = None) -> RankedPredictions:
    """Rank plain arrays as one month (or by ``month``); each row is its own tenancy."""
    return rank_predictions(
        pd.DataFrame(
            {
                # Zero-padded so that id order is row order (ties broken by position).
                "tenancy_id": np.char.zfill(np.arange(len(y)).astype(str), 12),
                "as_of": pd.Timestamp("2000-01-01") if month is None else pd.to_datetime(month),
                "label": np.asarray(y),
                "probability": np.nan,
                "rank_score": np.asarray(score, dtype=np.float64),
            }
        )
    )


def _point(ranked: RankedPredictions, capacities: Sequence[Capacity] = ()) -> dict[str, np.ndarray]:
    """Every metric of unweighted rows."""
    ones = np.ones((1, ranked.n_tenancies), dtype=np.uint8)
    calibration = _calibration(ranked, ECE_BINS)
    return _replicate(ranked, ones, capacities, calibration)


def roc_auc(y: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve of ``score`` for 0/1 labels ``y`` (ties count half)."""
    return float(_point(_frame(y, score))["roc_auc"][0, -1])


def pr_auc(y: ArrayLike, score: ArrayLike) -> float:
    """Average precision of ``score``: precision at each threshold weighted by recall gained."""
    return float(_point(_frame(y, score))["pr_auc"][0, -1])


def brier(y: ArrayLike, probability: ArrayLike) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    y, p = np.asarray(y, dtype=np.float64), np.asarray(probability, dtype=np.float64)
    return float(np.mean((p - y) ** 2))


def expected_calibration_error(
    y: ArrayLike,
    probability: ArrayLike,
    n_bins: int = ECE_BINS,
) -> float:
    """Return the expected calibration error over ``n_bins`` equal-frequency bins.

    The gap between the mean probability and the observed rate of each bin, weighted by the
    bin's share of rows. Bins hold equal numbers of rows (quantiles of the probability):
    with a base rate near 4 %, equal-width bins would put almost everything in the first
    bin. Repeated probabilities can leave fewer, unequal bins.
    """
    y, p = np.asarray(y, dtype=np.float64), np.asarray(probability, dtype=np.float64)
    gaps = np.bincount(_quantile_bins(p, n_bins), weights=p - y)
    return float(np.abs(gaps).sum() / len(p))


def at_k(
    y: ArrayLike, score: ArrayLike, capacity: CapacityLike, month: ArrayLike | None = None
) -> dict[str, float]:
    """Return ``precision``, ``capture`` (recall) and ``lift`` of each month's top-k, pooled.

    ``month`` gives each row's month (None: all rows form one month); equal scores are
    broken by row position. Pooled precision is all captured over all selected, capture
    all captured over all positives, lift pooled precision over the pooled base rate.
    """
    cap = capacity if isinstance(capacity, Capacity) else parse_capacity(capacity)
    point = _point(_frame(y, score, month), [cap])
    return {m: float(point[f"{m}@{cap.label}"][0, -1]) for m in ("precision", "capture", "lift")}
