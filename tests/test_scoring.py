"""Batch scoring: every present household scored once, ranked the same way every time.

The model is the session's tiny ArrearsModel (``fitted_model`` in conftest.py), scored on
its own simulated portfolio after the training months.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_bundles import make_bundle
from risk import scoring
from risk.bundle import ModelBundle
from risk.labels import present_tenancies

AS_OF = "2020-09-01"


@pytest.fixture(scope="module")
def bundle(fitted_model) -> ModelBundle:
    return make_bundle(fitted_model)


@pytest.fixture(scope="module")
def scored(model_simulation, bundle) -> tuple[pd.DataFrame, pd.DataFrame]:
    return scoring.score_portfolio(
        model_simulation.portfolio, AS_OF, bundle, threads=2, return_features=True
    )


@pytest.fixture(scope="module")
def scores(scored) -> pd.DataFrame:
    return scored[0]


def test_every_tenancy_present_at_as_of_is_scored_once(model_simulation, scores) -> None:
    present = present_tenancies(model_simulation.portfolio.tenancies, AS_OF)
    assert sorted(scores["tenancy_id"]) == sorted(present["tenancy_id"])
    assert scores["tenancy_id"].is_unique
    assert (scores["as_of"] == pd.Timestamp(AS_OF)).all()
    assert list(scores.columns) == list(scoring.SCORE_COLUMNS)


def test_probabilities_and_bands_are_the_bundles(bundle, scored) -> None:
    scores, features = scored
    np.testing.assert_array_equal(scores["probability"], bundle.predict_proba(features))
    np.testing.assert_array_equal(scores["band"], bundle.band(scores["probability"]))


def test_the_features_line_up_with_the_scores(scored) -> None:
    scores, features = scored
    assert scores["tenancy_id"].tolist() == features["tenancy_id"].tolist()
    assert scores.index.equals(features.index)


def test_ranks_are_a_permutation_of_one_to_n(scores) -> None:
    assert sorted(scores["rank"]) == list(range(1, len(scores) + 1))


def test_households_already_in_arrears_are_ineligible_and_ranked_last(scored) -> None:
    scores, features = scored
    assert (~scores["eligible"]).any(), "the fixture should hold households in arrears"
    over = features["balance_months"].to_numpy() >= 2.0 - 1e-6
    assert (scores["eligible"].to_numpy() == ~over).all()
    last_eligible = scores.loc[scores["eligible"], "rank"].max()
    assert last_eligible == scores["eligible"].sum()
    assert (scores.loc[~scores["eligible"], "rank"] > last_eligible).all()


def test_eligible_households_are_ranked_by_probability(scores) -> None:
    eligible = scores[scores["eligible"]].sort_values("rank")
    assert eligible["probability"].is_monotonic_decreasing


def test_scoring_twice_gives_identical_results(model_simulation, bundle, scores) -> None:
    again = scoring.score_portfolio(model_simulation.portfolio, AS_OF, bundle, threads=1)
    pd.testing.assert_frame_equal(again, scores)


def test_a_parquet_folder_scores_like_the_portfolio_in_memory(
    model_simulation, bundle, scores, tmp_path: Path
) -> None:
    model_simulation.portfolio.write(tmp_path)
    from_folder = scoring.score_portfolio(tmp_path, AS_OF, bundle)
    pd.testing.assert_frame_equal(
        from_folder.reset_index(drop=True), scores.reset_index(drop=True)
    )


def test_reasons_come_with_every_score_in_french_and_english(scored, bundle) -> None:
    from risk.explanation import reasons_frame

    scores, features = scored
    with_reasons = scoring.score_features(features, bundle, threads=1, reasons=True)
    assert list(with_reasons.columns) == [*scoring.SCORE_COLUMNS, *scoring.REASON_COLUMNS]
    pd.testing.assert_frame_equal(with_reasons[list(scoring.SCORE_COLUMNS)], scores)
    expected = reasons_frame(bundle, features, threads=1)[list(scoring.REASON_COLUMNS)]
    pd.testing.assert_frame_equal(with_reasons[list(scoring.REASON_COLUMNS)], expected)
    assert with_reasons["reason_1_fr"].notna().any()


def test_score_and_explain_agrees_exactly_with_score_features_and_explain(scored, bundle) -> None:
    from risk.explanation import explain

    _, features = scored
    scores, explanations = scoring.score_and_explain(features, bundle, threads=1)
    expected = scoring.score_features(features, bundle, threads=1, reasons=True)
    pd.testing.assert_frame_equal(scores, expected[list(scoring.SCORE_COLUMNS)], check_exact=True)
    assert explanations == explain(bundle, features, threads=1)
    assert any(e.counterfactual is not None for e in explanations)
    # One row at a time, as the API scores: the same numbers, ranked among the given rows.
    for position in range(0, len(features), max(len(features) // 25, 1)):
        row = features.iloc[[position]]
        one_scores, (one,) = scoring.score_and_explain(row, bundle, threads=1)
        pd.testing.assert_frame_equal(
            one_scores, scoring.score_features(row, bundle, threads=1), check_exact=True
        )
        assert one == explanations[position]
        assert one.to_dict() == explain(bundle, row, threads=1)[0].to_dict()


def test_several_dates_are_refused(model_simulation, bundle) -> None:
    with pytest.raises(ValueError, match="one as-of date at a time"):
        scoring.score_portfolio(
            model_simulation.portfolio, ["2020-08-01", AS_OF], bundle
        )


# --- ranking rules on hand-made frames ------------------------------------------------------


def tied_scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tenancy_id": ["T4", "T2", "T1", "T3", "T5", "T6"],
            "probability": [0.3, 0.3, 0.3, 0.5, 0.9, 0.1],
            "raw_score": [-1.0, -0.5, -1.0, 0.0, 2.0, -3.0],
            "eligible": [True, True, True, True, False, True],
        }
    )


def test_ties_are_broken_by_raw_score_then_tenancy_id() -> None:
    frame = tied_scores()
    frame["rank"] = scoring.contact_rank(frame)
    order = frame.sort_values("rank")["tenancy_id"].tolist()
    assert order == ["T3", "T2", "T1", "T4", "T6", "T5"]


def test_the_ranking_does_not_depend_on_row_order() -> None:
    frame = tied_scores()
    frame["rank"] = scoring.contact_rank(frame)
    shuffled = frame.sample(frac=1.0, random_state=3).drop(columns="rank")
    shuffled["rank"] = scoring.contact_rank(shuffled)
    assert shuffled.set_index("tenancy_id")["rank"].sort_index().equals(
        frame.set_index("tenancy_id")["rank"].sort_index()
    )


def test_the_eligibility_threshold_follows_the_bundles_label() -> None:
    features = pd.DataFrame(
        {
            # 2 months of 300 EUR; 1 month of 500 EUR; 0.5 month; rent 0 (NaN months).
            "balance_eur": [600.0, 500.0, 150.0, 700.0, 0.0],
            "balance_months": [2.0, 1.0, 0.5, np.nan, 0.0],
        }
    )
    assert scoring.in_arrears(features).tolist() == [True, False, False, False, False]
    # decree_2027: three months, or more than 450 EUR.
    assert scoring.in_arrears(features, "decree_2027").tolist() == [
        True, True, False, True, False
    ]


def test_eligibility_needs_the_balance_features() -> None:
    with pytest.raises(ValueError, match="needed to tell households in arrears apart"):
        scoring.in_arrears(pd.DataFrame({"balance_eur": [1.0]}))


# --- the work list ----------------------------------------------------------------------------


def test_the_worklist_is_the_top_k_eligible_households(scores) -> None:
    top = scoring.worklist(scores, 25)
    assert len(top) == 25
    assert top["eligible"].all()
    assert top["rank"].tolist() == list(range(1, 26))


def test_a_share_capacity_counts_eligible_households(scores) -> None:
    n_eligible = int(scores["eligible"].sum())
    top = scoring.worklist(scores, "10%")
    assert len(top) == int(np.floor(0.1 * n_eligible + 0.5))


def test_a_capacity_above_the_eligible_count_returns_every_eligible_household(scores) -> None:
    top = scoring.worklist(scores, 10**7)
    assert len(top) == scores["eligible"].sum()


def test_a_worklist_needs_a_scores_frame() -> None:
    with pytest.raises(ValueError, match="not a scores frame"):
        scoring.worklist(pd.DataFrame({"rank": [1]}), 1)


def test_the_printed_worklist_shows_the_first_reason_in_french(scored, bundle) -> None:
    from rich.console import Console

    from risk.cli_models import worklist_table

    scores = scoring.score_features(scored[1], bundle, threads=1, reasons=True)
    top = scoring.worklist(scores, 5)
    console = Console(width=250, record=True)
    console.print(worklist_table(top, AS_OF))
    text = console.export_text()
    assert "motif principal" in text
    for reason in top["reason_1_fr"].dropna():
        assert reason in text
