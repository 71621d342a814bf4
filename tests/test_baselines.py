"""The baselines the model must beat: today's practice and a scorecard."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from risk.baselines import MISSING_BIN, Scorecard, TodaysPractice, new_without_guarantee
from risk.catalogue import FEATURES, feature_names

_PRACTICE_COLUMNS = [
    "tenancy_id",
    "balance_eur",
    "balance_months",
    "months_since_entry",
    "has_guarantee",
]


def practice_frame(rows: list[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=_PRACTICE_COLUMNS)


def contact_order(practice: TodaysPractice, frame: pd.DataFrame) -> list[str]:
    order = practice.list_order(frame)
    return frame["tenancy_id"].iloc[order].tolist()


def test_todays_practice_calls_the_highest_unpaid_balance_first() -> None:
    frame = practice_frame(
        [
            ("T1", 120.0, 0.4, 30.0, 1.0),  # owes a little
            ("T2", 900.0, 1.8, 40.0, 1.0),  # owes the most
            ("T3", 0.0, 0.0, 2.0, 0.0),  # new, no guarantee, but owes nothing
            ("T4", 450.0, 1.5, 12.0, 1.0),  # owes in between
        ]
    )
    assert contact_order(TodaysPractice(), frame) == ["T2", "T4", "T1", "T3"]


def test_among_equal_balances_new_tenants_without_a_guarantee_come_first() -> None:
    frame = practice_frame(
        [
            ("T1", 300.0, 1.0, 30.0, 0.0),  # no guarantee but entered 30 months ago
            ("T2", 300.0, 1.0, 3.0, 1.0),  # new but guaranteed
            ("T3", 300.0, 1.0, 6.0, 0.0),  # no guarantee, exactly 6 months: no longer new
            ("T4", 300.0, 1.0, 5.0, 0.0),  # new and no guarantee: LogemLoiret's target group
            ("T5", 300.0, 1.0, np.nan, 0.0),  # unknown entry: never flagged
        ]
    )
    assert new_without_guarantee(frame).tolist() == [False, False, False, True, False]
    assert contact_order(TodaysPractice(), frame)[0] == "T4"


def test_the_flag_breaks_ties_only_and_never_beats_a_higher_balance() -> None:
    frame = practice_frame(
        [
            ("T1", 0.0, 0.0, 1.0, 0.0),  # new without guarantee, owes nothing
            ("T2", 0.01, 0.0, 40.0, 1.0),  # owes one cent: ahead of the flag
            ("T3", 0.0, 0.0, 40.0, 1.0),  # owes nothing, not flagged
        ]
    )
    assert contact_order(TodaysPractice(), frame) == ["T2", "T1", "T3"]


def test_remaining_ties_follow_balance_months_then_tenancy_id() -> None:
    frame = practice_frame(
        [
            ("T9", 300.0, 1.0, 30.0, 1.0),  # same balance, one month of residual rent
            ("T5", 300.0, 1.0, 30.0, 1.0),  # identical to T9: alphabetical order decides
            ("T7", 300.0, 2.0, 30.0, 1.0),  # same euros but two months behind: first
            ("T1", 300.0, np.nan, 30.0, 1.0),  # months unknown: after the known ones
        ]
    )
    practice = TodaysPractice()
    assert contact_order(practice, frame) == ["T7", "T5", "T9", "T1"]
    # The same rows in another order give the same list.
    assert contact_order(practice, frame.iloc[::-1].reset_index(drop=True)) == [
        "T7",
        "T5",
        "T9",
        "T1",
    ]


def test_balances_are_compared_to_the_cent_and_a_credit_owes_nothing() -> None:
    frame = practice_frame(
        [
            ("T1", 300.0, 1.0, 30.0, 1.0),  # 300 EUR
            ("T2", 300.0 + 1e-12, 1.0, 2.0, 0.0),  # 300 EUR with float noise, new, no guarantee
            ("T3", -200.0, -0.7, 2.0, 0.0),  # in credit, new, no guarantee
            ("T4", 0.0, 0.0, 30.0, 1.0),  # owes nothing
            ("T5", np.nan, np.nan, 30.0, 1.0),  # balance unknown: last
        ]
    )
    # T2 ties with T1 to the cent, so the flag puts it first; T3 ties with T4 at zero.
    assert contact_order(TodaysPractice(), frame) == ["T2", "T1", "T3", "T4", "T5"]


def test_todays_score_needs_no_fit_and_depends_on_the_row_only() -> None:
    frame = practice_frame(
        [
            ("T1", 0.0, 0.0, 30.0, 1.0),  # owes nothing
            ("T2", 0.0, 0.0, 30.0, 1.0),  # identical to T1
            ("T3", 50.0, 0.2, 30.0, 1.0),  # owes something
        ]
    )
    practice = TodaysPractice()
    score = practice.rank_score(frame)
    assert score.dtype == np.float64
    assert score[0] == score[1] < score[2]  # identical rows tie; the list breaks it by id
    alone = [practice.rank_score(frame.iloc[[i]])[0] for i in range(3)]
    assert alone == score.tolist()  # scored one by one (as in separate folds): same scores


def test_todays_probability_is_the_rules_smoothed_observed_rate_per_group() -> None:
    frame = practice_frame(
        [
            ("T1", 0.0, 0.0, 30.0, 1.0),  # owes nothing, not flagged, no arrears
            ("T2", 0.0, 0.0, 40.0, 1.0),  # owes nothing, not flagged, no arrears
            ("T3", 0.0, 0.0, 2.0, 0.0),  # owes nothing, flagged, arrears
            ("T4", 500.0, 1.5, 30.0, 1.0),  # owes, not flagged, arrears
        ]
    )
    y = [0, 0, 1, 1]
    practice = TodaysPractice(smoothing=2.0).fit(frame, y)
    base = 0.5
    expected = [
        (0 + 2 * base) / (2 + 2),  # two rows, no arrears, shrunk towards 0.5
        (0 + 2 * base) / (2 + 2),
        (1 + 2 * base) / (1 + 2),
        (1 + 2 * base) / (1 + 2),
    ]
    assert practice.base_rate_ == base
    np.testing.assert_allclose(practice.predict_proba(frame), expected)
    # The groups table reads in the list's order: owing first, then the flag first.
    assert practice.groups_["balance_bin"].tolist() == ["> 0", "owes nothing", "owes nothing"]
    assert practice.groups_["new_without_guarantee"].tolist() == [False, True, False]
    # A group never met in training gets the overall rate.
    unseen = practice_frame([("T5", 800.0, 2.0, 1.0, 0.0)])  # owes, flagged
    assert practice.predict_proba(unseen).tolist() == [base]


def test_todays_practice_round_trips_through_json() -> None:
    frame = practice_frame(
        [
            ("T1", 0.0, 0.0, 30.0, 1.0),  # owes nothing
            ("T2", 80.0, 0.3, 2.0, 0.0),  # small debt, flagged
            ("T3", 400.0, 1.2, 30.0, 1.0),  # larger debt
            ("T4", 900.0, 1.9, 30.0, 1.0),  # largest debt
            ("T5", np.nan, np.nan, 30.0, 1.0),  # unknown balance
        ]
    )
    practice = TodaysPractice(n_bins=2).fit(frame, [0, 1, 0, 1, 0])
    data = json.loads(json.dumps(practice.to_dict()))
    copy = TodaysPractice.from_dict(data)
    assert np.array_equal(copy.predict_proba(frame), practice.predict_proba(frame))
    assert np.array_equal(copy.rank_score(frame), practice.rank_score(frame))
    assert "has_guarantee == 0" in data["rule"]


def synthetic_features(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Every catalogue feature at random; arrears driven by balance_months only."""
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {"tenancy_id": [f"T{i:05d}" for i in range(n)]}
    for feature in FEATURES:
        if feature.dtype == "categorical":
            codes = rng.integers(0, len(feature.categories), n)
            columns[feature.name] = pd.Categorical.from_codes(codes, feature.categories)
        elif feature.dtype == "bool":
            columns[feature.name] = rng.integers(0, 2, n).astype(np.float64)
        else:
            columns[feature.name] = rng.normal(size=n)
    frame = pd.DataFrame(columns)
    months = rng.uniform(0.0, 2.0, n)
    frame["balance_months"] = months
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(3.0 * months - 4.0)))).astype(np.int64)
    return frame, y


def test_the_scorecard_learns_a_monotone_signal() -> None:
    frame, y = synthetic_features(3000, seed=1)
    scorecard = Scorecard(features=["balance_months", "children"]).fit(frame, y)
    table = scorecard.points_table()
    balance = table[(table["feature"] == "balance_months") & (table["bin"] != MISSING_BIN)]
    assert len(balance) == 5
    assert balance["points"].is_monotonic_increasing
    noise = table[(table["feature"] == "children") & (table["bin"] != MISSING_BIN)]
    assert noise["points"].abs().max() < balance["points"].abs().max() / 3


def test_the_scorecard_uses_every_catalogue_feature_by_default() -> None:
    frame, y = synthetic_features(400, seed=2)
    scorecard = Scorecard().fit(frame, y)
    assert scorecard.features_ == feature_names()
    probability = scorecard.predict_proba(frame)
    assert probability.dtype == np.float64 and probability.shape == (400,)
    assert ((probability > 0) & (probability < 1)).all()


def test_the_scorecard_scores_missing_values_and_unseen_categories() -> None:
    frame = pd.DataFrame(
        {
            "balance_months": [0.0, 0.5, 1.0, 1.5, np.nan, np.nan],  # two unknown balances
            "guarantee_type": ["visale", "none", "none", "fsl", None, "visale"],  # one missing
        }
    )
    y = [0, 0, 1, 1, 1, 0]
    scorecard = Scorecard(features=["balance_months", "guarantee_type"], n_bins=2).fit(frame, y)
    table = scorecard.points_table()
    assert table[table["feature"] == "guarantee_type"]["bin"].tolist() == [
        "fsl",
        "none",
        "visale",
        MISSING_BIN,
    ]
    assert table[table["bin"] == MISSING_BIN]["n_train"].tolist() == [2.0, 1.0]
    later = pd.DataFrame(
        {
            "balance_months": [np.nan, 0.2],  # unknown, then known
            "guarantee_type": ["loca_pass", None],  # never met in training, then missing
        }
    )
    log_odds = scorecard.decision_function(later)
    coef = dict(
        zip(zip(table["feature"], table["bin"], strict=True), table["coefficient"], strict=True)
    )
    # An unseen category scores 0 points; a missing value scores its own bin.
    assert log_odds[0] == pytest.approx(
        scorecard.intercept_ + coef[("balance_months", MISSING_BIN)]
    )
    assert log_odds[1] == pytest.approx(
        scorecard.intercept_
        + coef[("balance_months", "<= 0.5")]
        + coef[("guarantee_type", MISSING_BIN)]
    )


def test_the_scorecard_round_trips_through_json_with_identical_predictions() -> None:
    frame, y = synthetic_features(500, seed=3)
    frame.loc[::7, "income_monthly"] = np.nan  # some unknown incomes
    scorecard = Scorecard(n_bins=4, C=0.5).fit(frame, y)
    data = json.loads(json.dumps(scorecard.to_dict(), allow_nan=False))
    copy = Scorecard.from_dict(data)
    assert np.array_equal(copy.predict_proba(frame), scorecard.predict_proba(frame))
    assert np.array_equal(copy.rank_score(frame), scorecard.rank_score(frame))
    pd.testing.assert_frame_equal(copy.points_table(), scorecard.points_table())
    assert copy.C == 0.5 and copy.n_bins == 4


def test_points_double_the_odds_every_twenty_points() -> None:
    frame, y = synthetic_features(300, seed=4)
    scorecard = Scorecard(features=["balance_months"]).fit(frame, y)
    table = scorecard.points_table()
    np.testing.assert_allclose(table["points"], table["coefficient"] * 20.0 / math.log(2.0))
    assert table["feature"].iloc[-1] == "(intercept)"


@pytest.mark.parametrize(
    "make", [TodaysPractice, lambda: Scorecard(features=["balance_months", "has_guarantee"])]
)
def test_fit_returns_self_and_sets_only_attributes_ending_in_underscore(make: object) -> None:
    frame, y = synthetic_features(200, seed=5)
    frame["months_since_entry"] = np.abs(frame["months_since_entry"]) * 10
    estimator = make()  # type: ignore[operator]
    before = dict(vars(estimator))
    assert estimator.fit(frame, y) is estimator
    added = set(vars(estimator)) - set(before)
    assert added and all(name.endswith("_") for name in added)
    assert {k: vars(estimator)[k] for k in before} == before


@pytest.mark.parametrize("estimator", [TodaysPractice(), Scorecard(features=["balance_months"])])
def test_empty_labels_are_refused(estimator: TodaysPractice | Scorecard) -> None:
    frame, _ = synthetic_features(3, seed=6)
    y = pd.array([0, pd.NA, 1], dtype="Int8")  # the middle row is ineligible
    with pytest.raises(ValueError, match="empty labels"):
        estimator.fit(frame, y)


def test_a_feature_outside_the_catalogue_is_refused() -> None:
    frame, y = synthetic_features(20, seed=7)
    with pytest.raises(KeyError):
        Scorecard(features=["nationality"]).fit(frame, y)
