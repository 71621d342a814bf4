"""What would lower the risk: a declared change, re-scored by the very model.

The model is the session's tiny ArrearsModel (``fitted_model`` in conftest.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model_bundles import make_bundle
from risk import counterfactual as cf
from risk import explanation as ex
from risk.arrears import residual_rent
from risk.bundle import ModelBundle
from risk.catalogue import COUNTERFACTUAL_CHANGES, FEATURES, get_feature
from risk.features import build_features

AS_OF = "2020-09-01"


@pytest.fixture(scope="module")
def bundle(fitted_model) -> ModelBundle:
    return make_bundle(fitted_model)


@pytest.fixture(scope="module")
def features(model_simulation) -> pd.DataFrame:
    return build_features(model_simulation.portfolio, AS_OF, threads=1)


@pytest.fixture(scope="module")
def explanations(bundle, features) -> list[ex.Explanation]:
    return ex.explain(bundle, features, threads=1)


def test_only_actionable_features_declare_a_change_and_every_rule_is_known() -> None:
    for feature in FEATURES:
        if feature.counterfactual is not None:
            assert feature.actionable, feature.name
            assert feature.counterfactual.change in COUNTERFACTUAL_CHANGES, feature.name
            get_feature(feature.counterfactual.shown)


def test_the_lines_probability_is_the_bundles_on_the_changed_row(
    bundle, features, explanations
) -> None:
    lines = [(i, e) for i, e in enumerate(explanations) if e.counterfactual]
    assert lines, "the fixture should give some household a counterfactual line"
    for i, e in lines[:20]:
        changed = cf.counterfactual_frame(features.iloc[[i]], e.counterfactual.feature)
        assert len(changed) == 1
        after = bundle.predict_proba(changed, threads=1)[0]
        assert e.counterfactual.probability_after == pytest.approx(after, abs=1e-12)
        assert e.counterfactual.probability_after < e.probability


def test_the_line_says_the_change_and_both_probabilities(explanations) -> None:
    e = next(e for e in explanations if e.counterfactual)
    line = e.counterfactual
    assert line.text_fr.startswith("Si ") and ", la probabilité passerait de " in line.text_fr
    assert line.text_en.startswith("If ") and ", the probability would fall from " in line.text_en
    assert f"{line.probability_before:.2f}".replace(".", ",") in line.text_fr


def test_the_line_is_the_change_lowering_the_risk_most(bundle, features, explanations) -> None:
    i, e = next((i, e) for i, e in enumerate(explanations) if e.counterfactual)
    groups = {get_feature(r.feature).reason_group for r in e.reasons}
    tried = [
        f.name for f in FEATURES
        if f.counterfactual is not None and f.actionable and f.reason_group in groups
    ]
    after = []
    for name in tried:
        changed = cf.counterfactual_frame(features.iloc[[i]], name)
        if len(changed):
            after.append(bundle.predict_proba(changed, threads=1)[0])
    assert e.counterfactual.probability_after == pytest.approx(min(after), abs=1e-12)


def test_a_household_whose_reasons_are_not_actionable_gets_no_line(explanations) -> None:
    def can_change(reason: ex.Reason) -> bool:
        group = get_feature(reason.feature).reason_group
        return any(
            f.reason_group == group and f.actionable and f.counterfactual for f in FEATURES
        )

    unactionable = [e for e in explanations if e.reasons and not any(map(can_change, e.reasons))]
    assert unactionable, "the fixture should hold such a household"
    assert all(e.counterfactual is None for e in unactionable)


def test_without_counterfactuals_no_line_is_given(bundle, features) -> None:
    explained = ex.explain(bundle, features.head(50), counterfactual=False, threads=1)
    assert all(e.counterfactual is None for e in explained)


# --- the rules on hand-made rows -----------------------------------------------------------


def household(**values: float | str) -> pd.DataFrame:
    base: dict[str, float | str] = {
        "monthly_rent": 500.0, "apl_amount": 100.0, "apl_change_3m": -150.0,
        "apl_entitled": 1.0, "apl_months_since_lost": np.nan, "apl_rent_share": 0.2,
        "apl_paid_to_landlord": 1.0, "residual_rent": 400.0, "income_monthly": 1000.0,
        "effort_rate": 0.4, "remaining_income_per_cu": 400.0 / 1.3, "children": 1.0,
        "household_type": "single_parent", "balance_eur": 200.0, "balance_months": 0.5,
        "balance_change_3m": 0.25, "direct_debit_share_6m": 0.5, "payment_plan_active": 0.0,
        "failed_contacts_6m": 3.0,
    }
    return pd.DataFrame([{**base, **values}], index=["row"])


def test_restoring_the_apl_recomputes_the_features_it_implies() -> None:
    (row,) = cf.counterfactual_frame(household(), "apl_amount").to_dict("records")
    assert row["apl_amount"] == 250.0 and row["apl_change_3m"] == 0.0
    assert row["apl_rent_share"] == 0.5
    assert row["effort_rate"] == pytest.approx(0.25)
    assert row["remaining_income_per_cu"] == pytest.approx((1000 - 250) / 1.3)
    assert row["residual_rent"] == pytest.approx(residual_rent(500.0, 250.0, True))
    assert row["balance_months"] == pytest.approx(200 / 250)
    assert row["balance_change_3m"] == pytest.approx(0.25 * 400 / 250)


def test_an_apl_lost_to_zero_is_restored_without_guessing_who_receives_it() -> None:
    frame = household(apl_amount=0.0, apl_entitled=0.0, apl_paid_to_landlord=np.nan,
                      apl_months_since_lost=1.0, apl_rent_share=0.0, residual_rent=500.0)
    (row,) = cf.counterfactual_frame(frame, "apl_entitled").to_dict("records")
    assert row["apl_amount"] == 150.0 and row["apl_entitled"] == 1.0
    assert np.isnan(row["apl_months_since_lost"]) and np.isnan(row["apl_paid_to_landlord"])
    assert row["residual_rent"] == 500.0 and row["balance_months"] == 0.5


def test_an_apl_lost_long_ago_has_no_amount_to_restore() -> None:
    frame = household(apl_amount=0.0, apl_change_3m=0.0, apl_months_since_lost=9.0)
    assert cf.counterfactual_frame(frame, "apl_months_since_lost").empty


def test_clearing_the_balance_zeroes_both_balance_features() -> None:
    (row,) = cf.counterfactual_frame(household(), "balance_months").to_dict("records")
    assert row["balance_eur"] == 0.0 and row["balance_months"] == 0.0
    assert row["balance_change_3m"] == 0.25  # the past months are not rewritten
    assert cf.counterfactual_frame(household(balance_eur=-30.0), "balance_eur").empty


def test_paying_the_apl_to_the_landlord_lowers_the_residual_rent() -> None:
    frame = household(apl_paid_to_landlord=0.0, residual_rent=500.0, balance_months=0.4)
    (row,) = cf.counterfactual_frame(frame, "apl_paid_to_landlord").to_dict("records")
    assert row["apl_paid_to_landlord"] == 1.0 and row["residual_rent"] == 400.0
    assert row["balance_months"] == pytest.approx(0.5)


def test_set_changes_leave_unknown_and_already_set_values_alone() -> None:
    frame = pd.concat([household(), household(direct_debit_share_6m=np.nan),
                       household(direct_debit_share_6m=1.0)])
    changed = cf.counterfactual_frame(frame.reset_index(drop=True), "direct_debit_share_6m")
    assert changed.index.tolist() == [0] and changed["direct_debit_share_6m"].tolist() == [1.0]
    contacted = cf.counterfactual_frame(household(), "failed_contacts_6m")
    assert contacted["failed_contacts_6m"].tolist() == [0.0]


def test_a_feature_without_a_declared_change_is_refused() -> None:
    with pytest.raises(ValueError, match="declares no counterfactual change"):
        cf.counterfactual_frame(household(), "monthly_rent")
