"""The tenancy-clustered bootstrap: one sort, then weights per tenancy and replicate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk import bootstrap as bs
from risk.metrics import parse_capacity

JAN, FEB = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")


def frame(rows: list[tuple[str, pd.Timestamp, int, float]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["tenancy_id", "as_of", "label", "rank_score"])
    out["probability"] = out["rank_score"]
    return out


ROWS = [
    ("c", FEB, 1, 0.5),
    ("b", JAN, 0, 0.9),
    ("a", JAN, 1, 0.9),  # tied with b: tenancy id breaks the tie
    ("c", JAN, 0, 0.1),
    ("a", FEB, 0, 0.7),
]


def test_rows_are_sorted_by_month_then_score_then_tenancy_whatever_their_order() -> None:
    for rows in (ROWS, ROWS[::-1]):
        ranked = bs.rank_predictions(frame(rows))
        sorted_rows = frame(rows).iloc[ranked.source_rows]
        assert list(sorted_rows["tenancy_id"]) == ["a", "b", "c", "a", "c"]
        assert list(sorted_rows["as_of"]) == [JAN, JAN, JAN, FEB, FEB]
        assert ranked.months == (JAN, FEB)
        assert ranked.n_tenancies == 3
        assert list(ranked.by_month.bounds) == [0, 3, 5]
        assert list(ranked.by_month.tenancy) == [0, 1, 2, 0, 2]  # codes of sorted ids


def test_tenancy_weights_are_poisson_draws_fixed_by_the_seed() -> None:
    weights = bs.tenancy_weights(500, 40, seed=3)
    assert weights.shape == (40, 500)
    assert weights.mean() == pytest.approx(1.0, abs=0.05)
    np.testing.assert_array_equal(weights, bs.tenancy_weights(500, 40, seed=3))
    assert not np.array_equal(weights, bs.tenancy_weights(500, 40, seed=4))


@pytest.mark.parametrize("n_boot", [-1, 1.5, True, "10"])
def test_tenancy_weights_refuse_a_bad_replicate_count(n_boot) -> None:
    with pytest.raises(ValueError, match="n_boot must be a whole number"):
        bs.tenancy_weights(5, n_boot, seed=0)


def test_weight_chunks_cover_every_replicate_once(monkeypatch) -> None:
    monkeypatch.setattr(bs, "CHUNK_CELLS", 10)
    weights = bs.tenancy_weights(4, 7, seed=0)
    chunks = list(bs.weight_chunks(weights, n_rows=3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(chunks), weights)


def test_cumulative_weights_count_all_and_positive_weight_before_each_row() -> None:
    ranked = bs.rank_predictions(frame(ROWS))
    o = ranked.by_month
    chunk = np.array([[2, 0, 3]], dtype=np.uint8)  # weights of tenancies a, b, c
    cw, tp = bs.cumulative_weights(o, chunk)
    row_weight = chunk[0, o.tenancy]
    np.testing.assert_array_equal(cw[0], np.concatenate([[0], np.cumsum(row_weight)]))
    positive_before = np.concatenate([[0], np.cumsum(row_weight * o.label)])
    positions = np.arange(len(o.label) + 1)
    np.testing.assert_array_equal(bs.positive_weight_at(o, tp, positions)[0], positive_before)


def test_top_k_cut_selects_part_of_the_last_row_a_weight_reaches() -> None:
    rows = [(t, JAN, 0, s) for t, s in zip("abcd", [0.9, 0.8, 0.7, 0.6], strict=True)]
    o = bs.rank_predictions(frame(rows)).by_month
    chunk = np.array([[2, 2, 1, 1]], dtype=np.uint8)
    cw, _ = bs.cumulative_weights(o, chunk)
    k, boundary, partial = bs.top_k_cut(o, cw, parse_capacity(3))
    # a's two copies, then one of b's two: b is the last row reached, half selected.
    assert (k[0, 0], boundary[0, 0], partial[0, 0]) == (3, 1, 1)


def test_percentile_interval_ignores_nan_replicates_and_empty_columns() -> None:
    replicates = np.column_stack([np.r_[np.arange(101.0), np.nan], np.full(102, np.nan)])
    low, high = bs.percentile_interval(replicates)
    assert low[0] == pytest.approx(2.5) and high[0] == pytest.approx(97.5)
    assert np.isnan(low[1]) and np.isnan(high[1])
    low, high = bs.percentile_interval(np.empty((0, 2)))
    assert np.isnan(low).all() and np.isnan(high).all()
