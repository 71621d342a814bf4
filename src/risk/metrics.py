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

Bootstrap. Intervals come from the tenancy-clustered Poisson bootstrap of
:mod:`risk.bootstrap` (one weight per tenancy, given to all its rows): every statistic
here is written on weighted cumulative sums over rows sorted once, so a replicate costs
a few passes over the data, and with all weights 1 the same code gives the point value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Union

import numpy as np
import pandas as pd

from risk.bootstrap import (
    BAD_LABEL,
    BAD_MONTH,
    BAD_N_BOOT,
    BAD_PROBABILITY,
    BAD_SCORE,
    DUPLICATE_ROWS,
    MISSING_COLUMNS,
    NO_ROWS,
    PREDICTION_COLUMNS,
    Ordering,
    RankedPredictions,
    cumulative_weights,
    percentile_interval,
    positive_weight_at,
    rank_predictions,
    tenancy_weights,
    top_k_cut,
    weight_chunks,
)

__all__ = [
    "BAD_CAPACITY",
    "BAD_LABEL",
    "BAD_MONTH",
    "BAD_N_BOOT",
    "BAD_PROBABILITY",
    "BAD_SCORE",
    "DEFAULT_MODEL",
    "DUPLICATE_ROWS",
    "ECE_BINS",
    "MISSING_COLUMNS",
    "NO_ROWS",
    "POOLED",
    "PREDICTION_COLUMNS",
    "TABLE_COLUMNS",
    "ArrayLike",
    "Capacity",
    "CapacityLike",
    "at_k",
    "brier",
    "evaluate",
    "expected_calibration_error",
    "parse_capacity",
    "pooled_metrics",
    "pr_auc",
    "roc_auc",
]

BAD_CAPACITY = (
    "capacity must be a share like '5%' or a whole number of households per month, got {value!r}"
)

#: Anything :func:`numpy.asarray` reads as one value per row.
ArrayLike = np.ndarray | Sequence[float] | pd.Series
#: A :class:`Capacity` or what :func:`parse_capacity` reads.
CapacityLike = Union["Capacity", str, int]

TABLE_COLUMNS = ("model", "month", "metric", "value", "low", "high", "rows", "positives")
POOLED = "pooled"
DEFAULT_MODEL = "model"
ECE_BINS = 10


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


# --- metrics of weighted rows ------------------------------------------------------------


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


def pooled_metrics(evaluation: pd.DataFrame, model: str) -> dict[str, float]:
    """Read one model's pooled out-of-time metrics from an :func:`evaluate` table.

    Returns
    -------
    dict
        Metric name (``roc_auc``, ``capture@5%``...) to its pooled value.
    """
    rows = evaluation[(evaluation["model"] == model) & (evaluation["month"] == POOLED)]
    return {str(m): float(v) for m, v in zip(rows["metric"], rows["value"], strict=True)}


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
