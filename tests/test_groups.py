"""Performance by group of households."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk import groups as gr
from risk import metrics as mt
from risk.catalogue import FEATURES

JAN, FEB = "2024-01-01", "2024-02-01"


def frames(
    rows: list[tuple[str, str, int, float, str, float]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of (tenancy, month, label, score, guarantee, APL flag) -> predictions, features.

    The score doubles as the probability; the other attributes take one value for all.
    """
    table = pd.DataFrame(
        rows, columns=["tenancy_id", "as_of", "label", "rank_score", "guarantee_type", "apl"]
    )
    table["as_of"] = pd.to_datetime(table["as_of"])
    predictions = table[["tenancy_id", "as_of", "label", "rank_score"]].assign(
        probability=table["rank_score"]
    )
    features = table[["tenancy_id", "as_of", "guarantee_type"]].assign(
        apl_entitled=table["apl"],
        aged_30_or_over=1.0,
        household_type="single",
        income_band="636_to_1000",
        residence_type="fjt",
    )
    return predictions, features


# One month of ten households; a capacity of 20 % selects the top 2 over the whole month.
MONTH = [
    ("t01", JAN, 1, 0.9, "none", 0.0),  # selected, positive
    ("t02", JAN, 0, 0.8, "none", 0.0),  # selected, negative
    ("t03", JAN, 1, 0.5, "none", 1.0),  # positive missed
    ("t04", JAN, 0, 0.2, "none", 1.0),
    ("t05", JAN, 1, 0.4, "visale", 1.0),  # positive missed: VISALE never reaches the top
    ("t06", JAN, 1, 0.3, "visale", 1.0),  # positive missed
    ("t07", JAN, 0, 0.1, "visale", np.nan),  # APL unknown
    ("t08", JAN, 0, 0.1, "visale", 0.0),
    ("t09", JAN, 0, 0.1, "visale", 0.0),
    ("t10", JAN, 0, 0.1, "visale", 0.0),
]


def values(table: pd.DataFrame) -> pd.Series:
    return table.set_index(["attribute", "group", "metric"])["value"]


def test_every_catalogue_code_has_a_french_and_english_label() -> None:
    categories = {f.name: f.categories for f in FEATURES if f.dtype == "categorical"}
    for name in ("household_type", "guarantee_type", "income_band", "residence_type"):
        assert set(gr.GROUP_ATTRIBUTES[name].groups) == set(categories[name])
    for attribute in gr.GROUP_ATTRIBUTES.values():
        assert set(attribute.label) == {"fr", "en"}
        assert all(set(label) == {"fr", "en"} for label in attribute.groups.values())


def test_age_reads_the_flag_or_else_the_age_band() -> None:
    read = gr.GROUP_ATTRIBUTES["age"].read
    flag = pd.DataFrame({"aged_30_or_over": [1.0, 0.0, np.nan]})
    assert read(flag).tolist() == ["30_and_over", "under_30", "unknown"]
    band = pd.DataFrame({"age_band": pd.Categorical(["25_to_29", "30_to_44", None])})
    assert read(band).tolist() == ["under_30", "30_and_over", "unknown"]
    with pytest.raises(ValueError, match="aged_30_or_over"):
        read(pd.DataFrame({"other": [1]}))


def test_apl_status_reads_the_entitlement_flag_with_unknown_for_missing() -> None:
    read = gr.GROUP_ATTRIBUTES["apl_status"].read
    frame = pd.DataFrame({"apl_entitled": [1.0, 0.0, np.nan]})
    assert read(frame).tolist() == ["entitled", "not_entitled", "unknown"]


def test_group_metrics_select_over_the_whole_month_then_split_by_group() -> None:
    predictions, features = frames(MONTH)
    table = gr.group_metrics(predictions, features, "20%", n_boot=0)
    assert list(table.columns) == list(gr.TABLE_COLUMNS)
    value = values(table)
    # No guarantee: 4 rows, t01 and t02 selected, positives t01 and t03.
    assert value["guarantee_type", "none", "selection_rate"] == pytest.approx(0.5)
    assert value["guarantee_type", "none", "recall"] == pytest.approx(0.5)
    assert value["guarantee_type", "none", "precision"] == pytest.approx(0.5)
    assert value["guarantee_type", "none", "false_positive_rate"] == pytest.approx(0.5)
    # Mean probability (0.9 + 0.8 + 0.5 + 0.2) / 4 = 0.6 against an observed rate of 0.5.
    assert value["guarantee_type", "none", "calibration_gap"] == pytest.approx(0.1)
    # VISALE: nobody selected, so its two positives are missed and precision is undefined.
    assert value["guarantee_type", "visale", "selection_rate"] == 0.0
    assert value["guarantee_type", "visale", "recall"] == 0.0
    assert np.isnan(value["guarantee_type", "visale", "precision"])
    # The population: 2 selected of 10, 1 of 4 positives captured.
    assert value["all", "all", "recall"] == pytest.approx(0.25)
    assert value["apl_status", "unknown", "selection_rate"] == 0.0
    counts = table.drop_duplicates(["attribute", "group"]).set_index(["attribute", "group"])
    assert counts.loc[("guarantee_type", "visale"), ["rows", "positives"]].tolist() == [6, 2]


def test_group_order_follows_the_display_order_with_unknown_last() -> None:
    predictions, features = frames(MONTH)
    table = gr.group_metrics(predictions, features, "20%", n_boot=0)
    apl = table.loc[(table["attribute"] == "apl_status") & (table["metric"] == "recall")]
    assert apl["group"].tolist() == ["entitled", "not_entitled", "unknown"]


def test_calibration_gap_is_empty_without_probabilities() -> None:
    predictions, features = frames(MONTH)
    table = gr.group_metrics(predictions.assign(probability=np.nan), features, 2, n_boot=5)
    gap = table[table["metric"] == "calibration_gap"]
    assert gap[["value", "low", "high"]].isna().all().all()


# Twelve households, one month; a capacity of 25 % selects the top 3 over the whole month
# (0.9, 0.8, 0.7), whatever the group. The score is also the probability.
TWELVE = [
    ("t01", JAN, 1, 0.90, "none", 1.0),  # none: selected, positive
    ("t02", JAN, 0, 0.80, "none", 1.0),  # none: selected, negative
    ("t03", JAN, 1, 0.60, "none", 1.0),  # none: positive missed
    ("t04", JAN, 0, 0.30, "none", 1.0),  # none: negative, not selected
    ("t05", JAN, 0, 0.20, "none", 1.0),  # none: negative, not selected
    ("t06", JAN, 0, 0.10, "none", 1.0),  # none: negative, not selected
    ("t07", JAN, 1, 0.70, "visale", 1.0),  # visale: selected, positive
    ("t08", JAN, 1, 0.50, "visale", 1.0),  # visale: positive missed
    ("t09", JAN, 0, 0.45, "visale", 1.0),  # visale: negative, not selected
    ("t10", JAN, 0, 0.25, "visale", 1.0),  # visale: negative, not selected
    ("t11", JAN, 0, 0.15, "visale", 1.0),  # visale: negative, not selected
    ("t12", JAN, 0, 0.05, "visale", 1.0),  # visale: negative, not selected
]


def test_every_group_metric_matches_a_count_by_hand() -> None:
    predictions, features = frames(TWELVE)
    table = gr.group_metrics(predictions, features, "25%", n_boot=0)
    value = values(table)
    expected = {
        # none: 6 rows, 2 selected (t01, t02), positives t01 and t03, negatives t02, t04-t06;
        # mean probability 2.9 / 6 against an observed rate of 2 / 6.
        "none": {
            "selection_rate": 2 / 6,
            "recall": 1 / 2,
            "precision": 1 / 2,
            "false_positive_rate": 1 / 4,
            "calibration_gap": 2.9 / 6 - 2 / 6,
        },
        # visale: 6 rows, 1 selected (t07), positives t07 and t08, 4 negatives none selected;
        # mean probability 2.1 / 6 against 2 / 6.
        "visale": {
            "selection_rate": 1 / 6,
            "recall": 1 / 2,
            "precision": 1.0,
            "false_positive_rate": 0.0,
            "calibration_gap": 2.1 / 6 - 2 / 6,
        },
        # all: 12 rows, 3 selected, 4 positives of which 2 selected, 1 of 8 negatives
        # selected; mean probability 5.0 / 12 against 4 / 12.
        "all": {
            "selection_rate": 3 / 12,
            "recall": 2 / 4,
            "precision": 2 / 3,
            "false_positive_rate": 1 / 8,
            "calibration_gap": 5.0 / 12 - 4 / 12,
        },
    }
    for group, metrics in expected.items():
        attribute = "all" if group == "all" else "guarantee_type"
        for metric, number in metrics.items():
            assert value[attribute, group, metric] == pytest.approx(number), (group, metric)
    # Every other attribute has one group holding everyone: the population's values.
    assert value["apl_status", "entitled", "recall"] == pytest.approx(0.5)
    counts = table.drop_duplicates(["attribute", "group"]).set_index(["attribute", "group"])
    assert counts.loc[("guarantee_type", "none"), ["rows", "positives"]].tolist() == [6, 2]
    assert counts.loc[("all", "all"), ["rows", "positives"]].tolist() == [12, 4]
    assert table[["low", "high"]].isna().all().all()  # n_boot=0: no intervals


def households(n: int = 150, seed: int = 2) -> list[tuple[str, str, int, float, str, float]]:
    """The same ``n`` tenancies in two months, random labels, scores and guarantees."""
    rng = np.random.default_rng(seed)
    return [
        (
            f"t{i:03d}",
            month,
            int(rng.random() < 0.2),
            float(rng.random()),
            str(rng.choice(["none", "visale"])),
            float(rng.choice([0.0, 1.0])),
        )
        for month in (JAN, FEB)
        for i in range(n)
    ]


def test_the_population_recall_is_evaluate_pooled_capture() -> None:
    predictions, features = frames(households())
    table = gr.group_metrics(predictions, features, "10%", n_boot=0)
    evaluation = mt.evaluate(predictions, ["10%"], n_boot=0)
    population = values(table)["all", "all", "recall"]
    pooled = evaluation[(evaluation["month"] == "pooled") & (evaluation["metric"] == "capture@10%")]
    assert population == pytest.approx(float(pooled["value"].iloc[0]))


def test_intervals_contain_the_value_and_are_deterministic_given_the_seed() -> None:
    predictions, features = frames(households())
    table = gr.group_metrics(predictions, features, "10%", n_boot=8, seed=3)
    defined = table.dropna(subset=["value"])
    assert defined[["low", "high"]].notna().all().all()
    assert (defined["low"] <= defined["value"] + 1e-12).all()
    assert (defined["value"] <= defined["high"] + 1e-12).all()
    assert (table["low"] < table["high"]).any()  # the bootstrap did vary
    again = gr.group_metrics(predictions, features, "10%", n_boot=8, seed=3)
    pd.testing.assert_frame_equal(table, again)
    other = gr.group_metrics(predictions, features, "10%", n_boot=8, seed=4)
    assert not np.allclose(table["low"], other["low"], equal_nan=True)
    pd.testing.assert_series_equal(table["value"], other["value"])


def test_n_boot_must_be_a_whole_number_of_replicates() -> None:
    predictions, features = frames(TWELVE)
    with pytest.raises(ValueError, match="n_boot"):
        gr.group_metrics(predictions, features, "25%", n_boot=-1)


def test_group_metrics_need_a_feature_row_for_every_prediction() -> None:
    predictions, features = frames(MONTH)
    with pytest.raises(ValueError, match="1 prediction row"):
        gr.group_metrics(predictions, features.iloc[1:], "20%", n_boot=0)
    with pytest.raises(ValueError, match="repeated"):
        gr.group_metrics(predictions, pd.concat([features, features.head(1)]), "20%", n_boot=0)


def test_largest_gaps_ranks_groups_by_shortfall_against_the_population() -> None:
    predictions, features = frames(MONTH)
    table = gr.group_metrics(predictions, features, "20%", n_boot=0, model="m")
    gaps = gr.largest_gaps(table, "recall", top=2, min_positives=1)
    # Population recall 0.25; VISALE 0 and APL entitled 0 (t03, t05, t06 all missed).
    assert gaps["group"].tolist() == ["visale", "entitled"]
    assert gaps["shortfall"].tolist() == pytest.approx([0.25, 0.25])
    assert gaps["population"].tolist() == pytest.approx([0.25, 0.25])
    # A large enough minimum leaves the small groups out.
    assert gr.largest_gaps(table, "recall", min_positives=4).empty  # entitled has 3


def test_largest_gaps_flags_a_higher_false_positive_rate_as_a_shortfall() -> None:
    predictions, features = frames(MONTH)
    table = gr.group_metrics(predictions, features, "20%", n_boot=0)
    gaps = gr.largest_gaps(table, "false_positive_rate", top=1, min_positives=1)
    # No guarantee: 1 of 2 negatives selected, against 1 of 6 for the population.
    assert gaps[["group", "value"]].values.tolist() == [["none", pytest.approx(0.5)]]
    with pytest.raises(ValueError, match="unknown group metric"):
        gr.largest_gaps(table, "accuracy")


def test_the_population_recall_is_evaluate_capture_and_shares_its_intervals() -> None:
    rng = np.random.default_rng(2)
    rows = [
        (f"t{i:03d}", month, int(rng.random() < 0.2), float(rng.random()), "none", 1.0)
        for month in (JAN, FEB)
        for i in range(150)  # the same tenancies in both months
    ]
    predictions, features = frames(rows)
    table = gr.group_metrics(predictions, features, "10%", n_boot=40, seed=3)
    evaluation = mt.evaluate(predictions, ["10%"], n_boot=40, seed=3)
    population = table[(table["attribute"] == "all") & (table["metric"] == "recall")]
    pooled = evaluation[(evaluation["month"] == "pooled") & (evaluation["metric"] == "capture@10%")]
    assert population[["value", "low", "high"]].to_numpy() == pytest.approx(
        pooled[["value", "low", "high"]].to_numpy()
    )


def test_group_point_values_agree_with_fairlearn_metricframe() -> None:
    # fairlearn's MetricFrame is the reference implementation of per-group metrics; ours
    # is vectorised for 600,000-row test sets (MetricFrame took 200 s there without
    # intervals), so the two must give the same point values on a frame of a few thousand.
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate
    from sklearn.metrics import precision_score, recall_score

    rng = np.random.default_rng(5)
    rows = [
        (
            f"t{i:04d}",
            JAN,
            int(rng.random() < 0.15),
            float(rng.random()),
            ("none", "visale", "fsl")[i % 3],
            1.0,
        )
        for i in range(3_000)
    ]
    predictions, features = frames(rows)
    table = gr.group_metrics(predictions, features, "10%", n_boot=0)
    ours = table[table["attribute"] == "guarantee_type"]
    chosen = predictions.sort_values("rank_score", ascending=False).head(300).index
    y_pred = predictions.index.isin(chosen).astype(int)
    frame = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "recall": lambda t, p: recall_score(t, p, zero_division=np.nan),
            "precision": lambda t, p: precision_score(t, p, zero_division=np.nan),
            "false_positive_rate": false_positive_rate,
        },
        y_true=predictions["label"].to_numpy(),
        y_pred=y_pred,
        sensitive_features=features.set_index(["tenancy_id", "as_of"])
        .loc[list(zip(predictions["tenancy_id"], predictions["as_of"], strict=True))][
            "guarantee_type"
        ]
        .astype(str)
        .to_numpy(),
    )
    for group, metrics in frame.by_group.iterrows():
        for metric, expected in metrics.items():
            row = ours[(ours["group"] == group) & (ours["metric"] == metric)]
            assert row["value"].item() == pytest.approx(expected, abs=1e-12), (group, metric)
