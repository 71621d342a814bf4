"""Every score comes with its reasons, in French and English, each pointing to a lever.

The model is the session's tiny ArrearsModel (``fitted_model`` in conftest.py), scored on
its own simulated portfolio after the training months.

The golden file ``tests/golden/explanations.json`` holds the explanations of three
households (data, not images). After a deliberate change of wording or of the model
fixture, regenerate it and review the diff::

    RISK_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/test_explanation.py -k golden
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_bundles import make_bundle
from risk import explanation as ex
from risk.bundle import ModelBundle
from risk.catalogue import LEVERS, get_feature
from risk.features import build_features

AS_OF = "2020-09-01"
GOLDEN = Path(__file__).parent / "golden" / "explanations.json"
GOLDEN_HOUSEHOLDS = 3


@pytest.fixture(scope="module")
def bundle(fitted_model) -> ModelBundle:
    return make_bundle(fitted_model)


@pytest.fixture(scope="module")
def features(model_simulation) -> pd.DataFrame:
    return build_features(model_simulation.portfolio, AS_OF, threads=1)


@pytest.fixture(scope="module")
def explanations(bundle, features) -> list[ex.Explanation]:
    return ex.explain(bundle, features, threads=1)


def test_contributions_plus_the_base_value_equal_the_raw_score(bundle, features) -> None:
    contributions = ex.contributions(bundle, features, threads=1)
    assert list(contributions.columns) == [*bundle.feature_names, "base_value"]
    np.testing.assert_allclose(
        contributions.sum(axis=1).to_numpy(), bundle.raw_score(features, threads=1),
        rtol=0, atol=1e-9,
    )


def test_each_explanation_carries_the_bundles_score(bundle, features, explanations) -> None:
    raw = bundle.raw_score(features, threads=1)
    np.testing.assert_array_equal([e.raw_score for e in explanations], raw)
    np.testing.assert_array_equal([e.probability for e in explanations], bundle.probability(raw))


def test_rows_keep_their_order_and_ids(features, explanations) -> None:
    assert [e.tenancy_id for e in explanations] == features["tenancy_id"].astype(str).tolist()
    assert all(e.as_of == pd.Timestamp(AS_OF) for e in explanations)


def test_at_most_four_reasons_all_pushing_risk_up_largest_first(explanations) -> None:
    for e in explanations:
        contributions = [r.contribution for r in e.reasons]
        assert len(e.reasons) <= 4
        assert all(c > 0 for c in contributions)
        assert contributions == sorted(contributions, reverse=True)
    assert any(len(e.reasons) == 4 for e in explanations)


def test_a_reason_is_the_sum_of_its_groups_contributions(bundle, features, explanations) -> None:
    contributions = ex.contributions(bundle, features, threads=1)
    for i in range(0, len(explanations), 50):
        for reason in explanations[i].reasons:
            group = get_feature(reason.feature).reason_group
            members = [n for n in bundle.feature_names if get_feature(n).reason_group == group]
            row = contributions.iloc[i]
            assert reason.code == group.upper()
            assert reason.contribution == pytest.approx(row[members].sum(), abs=1e-12)
            assert row[reason.feature] == row[members].max()


def test_each_group_gives_at_most_one_reason(explanations) -> None:
    for e in explanations:
        codes = [r.code for r in e.reasons]
        assert len(codes) == len(set(codes))


def test_max_reasons_caps_the_reasons_and_is_checked(bundle, features) -> None:
    capped = ex.explain(bundle, features.head(40), max_reasons=2, counterfactual=False, threads=1)
    assert all(len(e.reasons) <= 2 for e in capped)
    with pytest.raises(ValueError, match="max_reasons must be between 1 and 4"):
        ex.explain(bundle, features, max_reasons=5)


def test_reasons_point_to_the_catalogues_lever_with_its_labels(explanations) -> None:
    for e in explanations[:100]:
        for reason in e.reasons:
            feature = get_feature(reason.feature)
            assert reason.lever == feature.lever
            if reason.lever:
                assert reason.lever_fr == LEVERS[reason.lever].label_fr
                assert reason.lever_en == LEVERS[reason.lever].label_en


# --- one reason per group, on a crafted household ----------------------------------------


def test_three_shortfall_counts_pushing_up_give_one_reason_worded_by_the_largest(
    bundle, features
) -> None:
    row = features.iloc[[0]].copy()
    for name in ("shortfall_months_3m", "shortfall_months_6m", "shortfall_months_12m"):
        row[name] = float(name.split("_")[2][:-1])  # every month short: 3, 6 and 12
    row["longest_shortfall_run_12m"] = 12.0
    row["months_since_full_payment"] = 12.0
    contributions = ex.contributions(bundle, row, threads=1).iloc[0]
    shortfall = [n for n in bundle.feature_names if get_feature(n).reason_group == "shortfall"]
    assert (contributions[shortfall] > 0).sum() >= 2, "the crafted row should push up twice"
    (explained,) = ex.explain(bundle, row, counterfactual=False, threads=1)
    reasons = [r for r in explained.reasons if r.code == "SHORTFALL"]
    assert len(reasons) == 1
    assert reasons[0].contribution == pytest.approx(contributions[shortfall].sum(), abs=1e-12)
    assert reasons[0].feature == contributions[shortfall].idxmax()


# --- wording -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "french", "english"),
    [
        ("balance_months", 2.345, "Solde impayé de 2,3 mois de loyer résiduel",
         "Unpaid balance of 2.3 months of residual rent"),
        ("apl_change_3m", -120.4, "Variation de l'APL sur le dernier trimestre : -120 €",
         "APL change over the last quarter: -120 EUR"),
        ("apl_months_since_lost", 4.0, "APL perdue depuis 4 mois", "APL lost 4 months ago"),
        ("income_monthly", 1234.5, "Revenus mensuels de 1 235 €", "Monthly income of 1,235 EUR"),
        ("apl_rent_share", 0.454, "L'APL couvre 45 % du loyer", "APL covers 45% of the rent"),
        ("mean_payment_delay_6m", 12.25, "Paiement en moyenne 12,2 jours après le 1er du mois",
         "Pays on average 12.2 days after the 1st of the month"),
        ("calendar_month", 9.0, "Mois de l'année : septembre", "Month of the year: September"),
        ("has_guarantee", 0.0, "Entré(e) sans garantie de loyer",
         "Entered without a rent guarantee"),
        ("has_guarantee", 1.0, "Garantie de loyer à l'entrée : oui",
         "Rent guarantee at entry: yes"),
        ("employment_status", "fixed_term", "Situation d'emploi : CDD",
         "Employment: fixed-term contract"),
        ("effort_rate", np.nan, "Taux d'effort : donnée absente", "Housing cost ratio: not known"),
    ],
)
def test_values_are_worded_in_french_and_english(name, value, french, english) -> None:
    feature = get_feature(name)
    assert ex.reason_text(feature, value, "fr") == french
    assert ex.reason_text(feature, value, "en") == english


def test_every_categorical_feature_has_display_labels_for_each_category() -> None:
    from risk.catalogue import FEATURES

    for feature in FEATURES:
        codes = tuple(code for code, _, _ in feature.category_labels)
        assert codes == feature.categories, feature.name
        assert feature.label_fr and feature.label_en, feature.name


# --- output forms ------------------------------------------------------------------------


def test_the_wide_frame_matches_the_explanations(bundle, features, explanations) -> None:
    frame = ex.reasons_frame(bundle, features, threads=1)
    assert frame.index.equals(features.index)
    assert frame["tenancy_id"].tolist() == [e.tenancy_id for e in explanations]
    for i in range(0, len(explanations), 25):
        e, row = explanations[i], frame.iloc[i]
        for k in range(1, 5):
            if k <= len(e.reasons):
                reason = e.reasons[k - 1]
                assert row[f"reason_{k}_code"] == reason.code
                assert row[f"reason_{k}_fr"] == reason.text_fr
                assert row[f"reason_{k}_contribution"] == reason.contribution
            else:
                assert pd.isna(row[f"reason_{k}_code"])
        cf = e.counterfactual
        assert row["counterfactual_fr"] == (cf.text_fr if cf else "")


def test_the_json_form_round_trips_through_json(explanations) -> None:
    as_dict = explanations[0].to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["as_of"] == AS_OF
    assert {"tenancy_id", "probability", "raw_score", "base_value", "reasons"} <= set(as_dict)


def test_global_importance_ranks_every_feature_by_mean_absolute_contribution(
    bundle, features
) -> None:
    importance = ex.global_importance(bundle, features, threads=1)
    assert sorted(importance["feature"]) == sorted(bundle.feature_names)
    assert importance["mean_abs_contribution"].is_monotonic_decreasing
    contributions = ex.contributions(bundle, features, threads=1)
    top = importance.iloc[0]
    assert top["mean_abs_contribution"] == pytest.approx(contributions[top["feature"]].abs().mean())


def test_an_empty_frame_gives_no_explanations(bundle, features) -> None:
    assert ex.explain(bundle, features.iloc[:0], threads=1) == []
    assert ex.reasons_frame(bundle, features.iloc[:0], threads=1).empty


# --- golden ------------------------------------------------------------------------------


def golden_rows(explanations: list[ex.Explanation]) -> list[dict]:
    """The first household with a counterfactual line, the first without, the riskiest."""
    with_line = next(e for e in explanations if e.counterfactual)
    without = next(e for e in explanations if e.reasons and not e.counterfactual)
    riskiest = max(explanations, key=lambda e: e.raw_score)
    chosen = list(dict.fromkeys([with_line.tenancy_id, without.tenancy_id, riskiest.tenancy_id]))
    by_id = {e.tenancy_id: e for e in explanations}
    return [by_id[i].to_dict() for i in chosen]


def test_three_households_match_the_golden_explanations(explanations) -> None:
    rows = golden_rows(explanations)
    assert len(rows) == GOLDEN_HOUSEHOLDS
    if os.environ.get("RISK_REGENERATE_GOLDEN"):
        text = json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True)
        GOLDEN.write_text(text + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert len(expected) == len(rows)
    for got, want in zip(rows, expected, strict=True):
        # Words and codes exactly; numbers to rounding (LightGBM sums in another order).
        assert _words(got) == _words(want)
        assert got["probability"] == pytest.approx(want["probability"], abs=1e-9)
        assert got["raw_score"] == pytest.approx(want["raw_score"], abs=1e-9)
        for g, w in zip(got["reasons"], want["reasons"], strict=True):
            assert g["contribution"] == pytest.approx(w["contribution"], abs=1e-9)


def _words(row: dict) -> dict:
    cf = row["counterfactual"]
    return {
        "tenancy_id": row["tenancy_id"],
        "reasons": [
            {k: v for k, v in r.items() if k not in ("contribution",)} for r in row["reasons"]
        ],
        "counterfactual": cf and {k: cf[k] for k in ("feature", "text_fr", "text_en")},
    }


def test_to_dict_is_the_plain_deep_form_of_the_explanation(explanations):
    import dataclasses
    import math

    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if hasattr(value, "item"):
            value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value

    assert any(e.counterfactual for e in explanations)
    for explanation in explanations:
        expected = plain(dataclasses.asdict(explanation))
        expected["as_of"] = pd.Timestamp(explanation.as_of).date().isoformat()
        assert explanation.to_dict() == expected
