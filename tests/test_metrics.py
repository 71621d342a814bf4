"""Out-of-time metrics and their tenancy-clustered bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk import bootstrap as bs
from risk import metrics as mt

sklearn_metrics = pytest.importorskip("sklearn.metrics")

JAN, FEB = "2024-01-01", "2024-02-01"


def predictions(rows: list[tuple[str, str, int, float]], probability: bool = True) -> pd.DataFrame:
    """Rows of (tenancy, month, label, score); the score doubles as the probability."""
    frame = pd.DataFrame(rows, columns=["tenancy_id", "as_of", "label", "rank_score"])
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["probability"] = frame["rank_score"] if probability else np.nan
    return frame


# Two months of five households; a capacity of 40 % selects 2 a month.
TWO_MONTHS = [
    ("a", JAN, 1, 0.9),  # top of January, positive: captured
    ("b", JAN, 0, 0.8),  # second, negative: selected for nothing
    ("c", JAN, 1, 0.3),  # positive missed
    ("d", JAN, 0, 0.2),
    ("e", JAN, 0, 0.1),
    ("a", FEB, 0, 0.7),  # top of February, negative
    ("b", FEB, 1, 0.6),  # second, positive: captured
    ("c", FEB, 0, 0.5),
    ("d", FEB, 0, 0.4),
    ("e", FEB, 0, 0.1),
]


# --- capacity -----------------------------------------------------------------------------


def test_parse_capacity_reads_a_share_or_a_number_per_month() -> None:
    assert mt.parse_capacity("2%") == mt.Capacity(label="2%", percent=2.0)
    assert mt.parse_capacity(" 2.5% ").label == "2.5%"
    assert mt.parse_capacity(150) == mt.Capacity(label="150", count=150)
    assert mt.parse_capacity("150") == mt.parse_capacity(150)


@pytest.mark.parametrize("value", ["0%", "150%", "-2%", "nan%", "abc", "1.5", "", 0, -3, True, 2.5])
def test_parse_capacity_refuses_anything_else_by_name(value: object) -> None:
    with pytest.raises(ValueError, match="capacity must be a share"):
        mt.parse_capacity(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("capacity", "n", "k"),
    [
        ("2%", 1000, 20),  # plain share
        ("2%", 10, 1),  # 0.2 households: at least one
        ("5%", 50, 3),  # 2.5 rounds half up
        ("5%", 0, 0),  # an empty month selects nobody
        (150, 1000, 150),  # absolute
        (150, 100, 100),  # capped at the month's size
    ],
)
def test_capacity_k_rounds_shares_and_caps_counts(capacity: str | int, n: int, k: int) -> None:
    assert mt.parse_capacity(capacity).k(n) == k


# --- point metrics on arrays ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 6)),  # few scores: many ties
        min_size=2,
        max_size=40,
    ).filter(lambda rows: len({y for y, _ in rows}) == 2)
)
def test_roc_auc_and_average_precision_agree_with_sklearn(rows: list[tuple[int, int]]) -> None:
    y = np.array([r[0] for r in rows])
    score = np.array([r[1] for r in rows], dtype=float)
    assert mt.roc_auc(y, score) == pytest.approx(sklearn_metrics.roc_auc_score(y, score))
    assert mt.pr_auc(y, score) == pytest.approx(sklearn_metrics.average_precision_score(y, score))


def test_ranking_metrics_agree_with_sklearn_on_random_data() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(5000) < 0.04).astype(int)
    score = np.round(rng.random(5000) + 0.3 * y, 2)  # rounded: ties
    assert mt.roc_auc(y, score) == pytest.approx(sklearn_metrics.roc_auc_score(y, score))
    assert mt.pr_auc(y, score) == pytest.approx(sklearn_metrics.average_precision_score(y, score))


def test_ranking_metrics_are_nan_without_positives() -> None:
    assert np.isnan(mt.roc_auc([0, 0, 0], [0.1, 0.2, 0.3]))
    assert np.isnan(mt.pr_auc([0, 0, 0], [0.1, 0.2, 0.3]))


def test_brier_is_the_mean_squared_error() -> None:
    assert mt.brier([1, 0], [0.5, 0.1]) == pytest.approx((0.25 + 0.01) / 2)


def test_ece_weighs_each_equal_frequency_bin_by_its_size() -> None:
    y = [0, 0, 1, 1]
    p = [0.1, 0.1, 0.5, 0.9]
    # Two bins of two rows: {0.1, 0.1} against 0/2, gap 0.1; {0.5, 0.9} against 2/2, gap 0.3.
    assert mt.expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.2)
    # One bin: mean probability 0.4 against an observed rate of 0.5.
    assert mt.expected_calibration_error(y, p, n_bins=1) == pytest.approx(0.1)


def test_at_k_selects_per_month_then_pools_the_counts() -> None:
    frame = predictions(TWO_MONTHS)
    out = mt.at_k(frame["label"], frame["rank_score"], "40%", month=frame["as_of"])
    # 2 captured of 4 selected; 3 positives; base rate 3 / 10.
    assert out == pytest.approx({"precision": 0.5, "capture": 2 / 3, "lift": 0.5 / 0.3})
    # Pooling the rows into one month instead would select 4 rows overall: a, b, a(Feb), b(Feb).
    assert mt.at_k(frame["label"], frame["rank_score"], 4)["capture"] == pytest.approx(2 / 3)


# --- evaluate -------------------------------------------------------------------------------


def test_evaluate_gives_every_metric_per_month_then_pooled() -> None:
    table = mt.evaluate(predictions(TWO_MONTHS), ["40%", 1], n_boot=20, model="m1")
    assert list(table.columns) == list(mt.TABLE_COLUMNS)
    assert table["month"].unique().tolist() == [JAN, FEB, "pooled"]
    assert table["metric"].unique().tolist() == [
        "roc_auc", "pr_auc", "brier", "ece",
        "precision@40%", "capture@40%", "lift@40%",
        "precision@1", "capture@1", "lift@1",
    ]  # fmt: skip
    assert (table["model"] == "m1").all()
    value = table.set_index(["month", "metric"])["value"]
    assert value[JAN, "capture@40%"] == pytest.approx(0.5)  # a captured, c missed
    assert value[FEB, "capture@40%"] == pytest.approx(1.0)  # b captured
    assert value["pooled", "capture@40%"] == pytest.approx(2 / 3)
    assert value["pooled", "precision@1"] == pytest.approx(0.5)  # a in January only
    assert value[JAN, "roc_auc"] == pytest.approx(5 / 6)  # c is beaten by b only
    counts = table.drop_duplicates("month").set_index("month")[["rows", "positives"]]
    assert counts.loc["pooled"].tolist() == [10, 3]
    # A single capacity need not be wrapped in a list.
    single = mt.evaluate(predictions(TWO_MONTHS), "40%", n_boot=0)
    assert single["metric"].str.endswith("@40%").sum() == 3 * 3


def test_evaluate_matches_the_array_metrics_month_by_month() -> None:
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "tenancy_id": [f"t{i % 200:03d}" for i in range(n)],  # each tenancy in both months
            "as_of": pd.to_datetime(np.where(np.arange(n) < 200, JAN, FEB)),
            "label": (rng.random(n) < 0.2).astype(int),
            "probability": rng.random(n),
        }
    )
    frame["rank_score"] = frame["probability"]
    table = mt.evaluate(frame, [], n_boot=0).set_index(["month", "metric"])["value"]
    for month, rows in frame.groupby("as_of"):
        key = month.strftime("%Y-%m-%d")
        y, p = rows["label"], rows["probability"]
        assert table[key, "roc_auc"] == pytest.approx(sklearn_metrics.roc_auc_score(y, p))
        assert table[key, "pr_auc"] == pytest.approx(sklearn_metrics.average_precision_score(y, p))
        assert table[key, "brier"] == pytest.approx(mt.brier(y, p))
        assert table[key, "ece"] == pytest.approx(mt.expected_calibration_error(y, p))
    y, p = frame["label"], frame["probability"]
    assert table["pooled", "roc_auc"] == pytest.approx(sklearn_metrics.roc_auc_score(y, p))
    assert table["pooled", "ece"] == pytest.approx(mt.expected_calibration_error(y, p))


def test_evaluate_leaves_calibration_empty_for_a_ranking_only_model() -> None:
    table = mt.evaluate(predictions(TWO_MONTHS, probability=False), ["40%"], n_boot=10)
    calibration = table[table["metric"].isin(["brier", "ece"])]
    assert calibration[["value", "low", "high"]].isna().all().all()
    assert table.loc[table["metric"] == "roc_auc", "value"].notna().all()


def test_ties_are_broken_by_tenancy_id_whatever_the_row_order() -> None:
    rows = [
        ("b", JAN, 1, 0.5),  # tied with a, later id: not selected
        ("a", JAN, 0, 0.5),  # tied with b, earlier id: selected by a capacity of 1
        ("c", JAN, 0, 0.1),
    ]
    forward = mt.evaluate(predictions(rows), [1], n_boot=0)
    backward = mt.evaluate(predictions(rows[::-1]), [1], n_boot=0)
    pd.testing.assert_frame_equal(forward, backward)
    assert forward.set_index(["month", "metric"]).loc[(JAN, "capture@1"), "value"] == 0.0


def test_evaluate_is_deterministic_given_the_seed() -> None:
    frame = predictions(TWO_MONTHS)
    first = mt.evaluate(frame, ["40%"], n_boot=30, seed=7)
    pd.testing.assert_frame_equal(first, mt.evaluate(frame, ["40%"], n_boot=30, seed=7))
    assert not first["low"].equals(mt.evaluate(frame, ["40%"], n_boot=30, seed=8)["low"])


def test_bootstrap_draws_each_tenancy_once_for_all_its_months() -> None:
    rng = np.random.default_rng(1)
    january = pd.DataFrame(
        {
            "tenancy_id": [f"t{i:03d}" for i in range(300)],
            "as_of": pd.Timestamp(JAN),
            "label": (rng.random(300) < 0.2).astype(int),
            "probability": rng.random(300),
        }
    )
    january["rank_score"] = january["probability"]
    # February repeats January household by household: with one weight per tenancy, every
    # replicate sees the same two months, so both months get the same interval.
    frame = pd.concat([january, january.assign(as_of=pd.Timestamp(FEB))], ignore_index=True)
    table = mt.evaluate(frame, ["10%"], n_boot=50).set_index(["month", "metric"])
    pd.testing.assert_frame_equal(table.loc[JAN, ["low", "high"]], table.loc[FEB, ["low", "high"]])
    assert (table["low"] <= table["value"] + 1e-12).all()
    assert (table["value"] <= table["high"] + 1e-12).all()


def test_a_weighted_replicate_equals_the_metrics_of_the_resampled_rows() -> None:
    rng = np.random.default_rng(5)
    n = 60
    frame = pd.DataFrame(
        {
            "tenancy_id": [f"t{i:02d}" for i in range(n)],
            "as_of": pd.Timestamp(JAN),
            "label": (rng.random(n) < 0.3).astype(int),
            "probability": np.round(rng.random(n), 1),  # ties
        }
    )
    frame["rank_score"] = frame["probability"]
    ranked = bs.rank_predictions(frame)
    capacity = mt.parse_capacity("10%")
    ones = np.ones((1, n), dtype=np.uint8)
    weights = np.vstack([ones, bs.tenancy_weights(n, 3, seed=2)])
    out = mt._replicate(ranked, weights, [capacity], mt._calibration(ranked, mt.ECE_BINS))
    for r, w in enumerate(weights):
        w_rows = w[np.argsort(frame["tenancy_id"].to_numpy())]  # codes follow sorted ids
        y, p = frame["label"].to_numpy(), frame["probability"].to_numpy()
        expected_auc = sklearn_metrics.roc_auc_score(y, p, sample_weight=w_rows)
        assert out["roc_auc"][r, 0] == pytest.approx(expected_auc)
        expected_ap = sklearn_metrics.average_precision_score(y, p, sample_weight=w_rows)
        assert out["pr_auc"][r, 0] == pytest.approx(expected_ap)
        assert out["brier"][r, 0] == pytest.approx(np.average((p - y) ** 2, weights=w_rows))
        # Top-k of the resampled month: repeat each row w times, rank, keep k.
        resampled = frame.loc[frame.index.repeat(w_rows)]
        resampled = resampled.sort_values(["rank_score", "tenancy_id"], ascending=[False, True])
        k = capacity.k(len(resampled))
        captured = resampled["label"].head(k).sum()
        assert out["capture@10%"][r, 0] == pytest.approx(captured / resampled["label"].sum())
        assert out["precision@10%"][r, 0] == pytest.approx(captured / k)
    # All weights 1 give the point values of the plain metrics.
    assert out["roc_auc"][0, -1] == pytest.approx(mt.roc_auc(frame["label"], frame["rank_score"]))
    assert out["ece"][0, -1] == pytest.approx(
        mt.expected_calibration_error(frame["label"], frame["probability"])
    )


def test_n_boot_zero_leaves_the_intervals_empty() -> None:
    table = mt.evaluate(predictions(TWO_MONTHS), ["40%"], n_boot=0)
    assert table[["low", "high"]].isna().all().all()
    assert table["value"].notna().any()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="rank_score"), "lacks the column"),
        (lambda f: f.assign(label=f["label"].where(f.index > 0)), "label must be 0 or 1"),
        (lambda f: f.assign(label=2), "label must be 0 or 1"),
        (lambda f: f.assign(rank_score=np.inf), "rank_score must be a finite"),
        (lambda f: f.assign(probability=f["probability"].where(f.index > 0)), "probability"),
        (lambda f: pd.concat([f, f.head(1)]), "1 repeated"),
        (lambda f: f.head(0), "no rows"),
    ],
)
def test_evaluate_refuses_a_malformed_frame_by_name(change, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mt.evaluate(change(predictions(TWO_MONTHS)), ["40%"], n_boot=0)
