"""Promotion gates on crafted evaluation tables.

Unless a case says otherwise the champion's pooled figures are capture@5% 0.600, Brier
0.0800 and ECE 0.0050, its recall 0.700 in every group, and the challenger equals it.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from risk import promotion as pr
from risk.promotion import PromotionGates, check_gates

CHAMPION = {"capture@5%": 0.600, "brier": 0.0800, "ece": 0.0050, "roc_auc": 0.80}
RECALLS = {("age_band", "18-29"): 0.700, ("guarantee_type", "none"): 0.700}
GATES = PromotionGates()


def evaluation(metrics: dict[str, float], model: str = "lightgbm") -> pd.DataFrame:
    rows = [
        {"model": model, "month": "pooled", "metric": name, "value": value}
        for name, value in metrics.items()
    ]
    # A monthly row with a terrible figure: only pooled rows may count.
    rows.append({"model": model, "month": "2024-01-01", "metric": "capture@5%", "value": 0.1})
    frame = pd.DataFrame(rows)
    return frame.assign(low=frame["value"], high=frame["value"], rows=1000, positives=50)


def groups(recalls: dict[tuple[str, str], float], model: str = "lightgbm") -> pd.DataFrame:
    rows = [
        {"model": model, "attribute": attribute, "group": group, "metric": "recall", "value": v}
        for (attribute, group), v in recalls.items()
    ]
    rows += [
        {"model": model, "attribute": a, "group": g, "metric": "precision", "value": 0.0}
        for a, g in recalls
    ]
    frame = pd.DataFrame(rows)
    return frame.assign(low=frame["value"], high=frame["value"], rows=1000, positives=100)


def decide(
    challenger: dict[str, float] | None = None,
    recalls: dict[tuple[str, str], float] | None = None,
    gates: PromotionGates = GATES,
) -> pr.PromotionDecision:
    return check_gates(
        evaluation({**CHAMPION, **(challenger or {})}),
        groups({**RECALLS, **(recalls or {})}),
        evaluation(CHAMPION),
        groups(RECALLS),
        gates,
    )


def gate(decision: pr.PromotionDecision, name: str, group: str | None = None) -> pr.GateResult:
    (result,) = [r for r in decision.results if r.name == name and r.group == group]
    return result


# --- each gate at its boundary --------------------------------------------------------


def test_a_challenger_equal_to_the_champion_passes_every_gate():
    decision = decide()
    assert decision.passed
    assert decision.failures == []
    assert {r.name for r in decision.results} == {"capture", "brier", "ece", "group_recall"}


def test_capture_may_fall_by_exactly_the_allowed_drop():
    result = gate(decide({"capture@5%": 0.590}), pr.GATE_CAPTURE)
    assert result.passed
    assert result.observed == pytest.approx(0.010)
    assert result.margin == pytest.approx(0.0)


def test_capture_falling_beyond_the_allowed_drop_fails_and_says_by_how_much():
    decision = decide({"capture@5%": 0.566})
    result = gate(decision, pr.GATE_CAPTURE)
    assert not decision.passed
    assert not result.passed
    assert result.margin == pytest.approx(-0.024)
    assert result.message.startswith(
        "capture@5% fell by 0.034 versus the champion (0.600 -> 0.566)"
    )
    assert "at most 0.010 allowed" in result.message
    assert "over the limit by 0.024" in result.message


def test_capture_rising_passes_and_says_it_rose():
    result = gate(decide({"capture@5%": 0.650}), pr.GATE_CAPTURE)
    assert result.passed
    assert "capture@5% rose by 0.050" in result.message


def test_the_compared_capture_follows_the_configured_capacity():
    gates = PromotionGates(capacity="2%")
    decision = check_gates(
        evaluation({**CHAMPION, "capture@2%": 0.30}),
        groups(RECALLS),
        evaluation({**CHAMPION, "capture@2%": 0.40}),
        groups(RECALLS),
        gates,
    )
    assert not gate(decision, pr.GATE_CAPTURE).passed
    assert "capture@2% fell by 0.100" in gate(decision, pr.GATE_CAPTURE).message


def test_brier_may_rise_by_exactly_the_allowed_increase():
    result = gate(decide({"brier": 0.0820}), pr.GATE_BRIER)
    assert result.passed
    assert result.margin == pytest.approx(0.0)


def test_brier_rising_beyond_the_allowed_increase_fails():
    result = gate(decide({"brier": 0.0830}), pr.GATE_BRIER)
    assert not result.passed
    assert result.message.startswith("Brier score rose by 0.0030 versus the champion")
    assert "over the limit by 0.0010" in result.message


def test_calibration_error_at_the_bound_passes_and_above_it_fails():
    assert gate(decide({"ece": 0.0100}), pr.GATE_ECE).passed
    result = gate(decide({"ece": 0.0125}), pr.GATE_ECE)
    assert not result.passed
    assert result.message.startswith("calibration error (ECE) of the challenger is 0.0125")
    assert "over the limit by 0.0025" in result.message


def test_group_recall_may_fall_by_exactly_the_allowed_drop():
    decision = decide(recalls={("age_band", "18-29"): 0.650})
    assert gate(decision, pr.GATE_GROUP_RECALL, "age_band=18-29").passed


def test_group_recall_falling_beyond_the_allowed_drop_fails_for_that_group_only():
    decision = decide(recalls={("age_band", "18-29"): 0.620})
    failed = gate(decision, pr.GATE_GROUP_RECALL, "age_band=18-29")
    assert not decision.passed
    assert decision.failures == [failed]
    assert failed.message.startswith(
        "recall in age_band=18-29 fell by 0.080 versus the champion (0.700 -> 0.620)"
    )
    assert "over the limit by 0.030" in failed.message
    assert gate(decision, pr.GATE_GROUP_RECALL, "guarantee_type=none").passed


def test_a_monitored_group_missing_from_the_challenger_fails():
    decision = check_gates(
        evaluation(CHAMPION),
        groups({("age_band", "18-29"): 0.7}),
        evaluation(CHAMPION),
        groups(RECALLS),
        GATES,
    )
    result = gate(decision, pr.GATE_GROUP_RECALL, "guarantee_type=none")
    assert not result.passed
    assert "lacks this group" in result.message


def test_a_group_without_positives_is_not_judged():
    decision = decide(recalls={("age_band", "18-29"): float("nan")})
    result = gate(decision, pr.GATE_GROUP_RECALL, "age_band=18-29")
    assert result.passed
    assert "undefined" in result.message


def test_a_small_group_gone_from_the_challenger_does_not_gate():
    champion = groups(RECALLS).copy()
    champion.loc[champion["group"] == "18-29", "positives"] = 3
    challenger = groups({k: v for k, v in RECALLS.items() if k[1] != "18-29"})
    decision = check_gates(evaluation(CHAMPION), challenger, evaluation(CHAMPION), champion)
    result = gate(decision, pr.GATE_GROUP_RECALL, "age_band=18-29")
    assert result.passed and "gone from the challenger's table" in result.message


def test_a_group_with_too_few_future_arrears_is_shown_but_does_not_gate():
    few = groups({("age_band", "18-29"): 0.2, ("guarantee_type", "none"): 0.7}).assign(positives=12)
    decision = check_gates(evaluation(CHAMPION), few, evaluation(CHAMPION), groups(RECALLS))
    result = gate(decision, pr.GATE_GROUP_RECALL, "age_band=18-29")
    assert result.passed
    assert "12 future arrears, fewer than the 30 needed to judge" in result.message
    strict = PromotionGates(min_group_positives=10)
    decision = check_gates(evaluation(CHAMPION), few, evaluation(CHAMPION), groups(RECALLS), strict)
    assert not gate(decision, pr.GATE_GROUP_RECALL, "age_band=18-29").passed


def test_other_models_rows_are_ignored():
    challenger = pd.concat(
        [evaluation(CHAMPION), evaluation({**CHAMPION, "ece": 0.5}, model="scorecard")]
    )
    decision = check_gates(challenger, groups(RECALLS), evaluation(CHAMPION), groups(RECALLS))
    assert decision.passed


# --- no champion -----------------------------------------------------------------------


def test_without_a_champion_the_comparative_gates_pass_and_say_so():
    decision = check_gates(evaluation(CHAMPION), groups(RECALLS), None, None, GATES)
    assert decision.passed
    for name in (pr.GATE_CAPTURE, pr.GATE_BRIER, pr.GATE_GROUP_RECALL):
        result = gate(decision, name)
        assert result.passed
        assert result.observed is None
        assert "no champion" in result.message


def test_without_a_champion_the_calibration_gate_still_applies():
    decision = check_gates(evaluation({**CHAMPION, "ece": 0.02}), groups(RECALLS), None, None)
    assert not decision.passed
    assert [r.name for r in decision.failures] == [pr.GATE_ECE]


def test_the_decision_renders_one_line_per_gate_and_a_verdict():
    lines = decide({"capture@5%": 0.5}).render()
    assert lines[0].startswith("[FAIL] capture@5% fell by 0.100")
    assert lines[-1] == "The challenger fails 1 promotion gate(s)."


# --- tables that cannot be compared -----------------------------------------------------


def test_a_missing_pooled_metric_is_a_named_error():
    with pytest.raises(pr.PromotionError) as caught:
        check_gates(evaluation({"brier": 0.08, "ece": 0.0}), groups(RECALLS), None, None)
    assert caught.value.code == pr.MISSING_METRIC
    assert "capture@5%" in str(caught.value)


def test_a_missing_column_is_a_named_error():
    with pytest.raises(pr.PromotionError) as caught:
        check_gates(evaluation(CHAMPION).drop(columns="month"), groups(RECALLS), None, None)
    assert caught.value.code == pr.MISSING_COLUMN


def test_duplicate_pooled_rows_are_a_named_error():
    doubled = pd.concat([evaluation(CHAMPION), evaluation(CHAMPION)])
    with pytest.raises(pr.PromotionError) as caught:
        check_gates(doubled, groups(RECALLS), None, None)
    assert caught.value.code == pr.DUPLICATE_METRIC


def test_a_non_finite_pooled_metric_is_a_named_error():
    with pytest.raises(pr.PromotionError) as caught:
        check_gates(evaluation({**CHAMPION, "brier": float("nan")}), groups(RECALLS), None, None)
    assert caught.value.code == pr.NOT_A_NUMBER


def test_one_champion_table_without_the_other_is_a_named_error():
    with pytest.raises(pr.PromotionError) as caught:
        check_gates(evaluation(CHAMPION), groups(RECALLS), evaluation(CHAMPION), None)
    assert caught.value.code == pr.INCOMPLETE_CHAMPION


# --- the configuration section ------------------------------------------------------------


def test_gates_have_the_documented_defaults():
    assert GATES.capture_metric == "capture@5%"
    assert (GATES.max_capture_drop, GATES.max_brier_increase) == (0.01, 0.002)
    assert (GATES.max_ece, GATES.max_group_recall_drop) == (0.01, 0.05)


def test_a_capacity_may_be_a_count_of_households():
    assert PromotionGates(capacity=150).capture_metric == "capture@150"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields", [{"capacity": "five"}, {"max_ece": -0.1}, {"max_capture_drops": 0.1}]
)
def test_bad_gate_settings_are_refused(fields):
    with pytest.raises(ValidationError):
        PromotionGates(**fields)


def test_a_gate_capacity_is_named_as_the_evaluation_table_names_it():
    # "5.0%" is the 5% capacity: the gate must read the capture@5% rows.
    assert PromotionGates(capacity="5.0%").capture_metric == "capture@5%"
    with pytest.raises(ValueError):
        PromotionGates(capacity="five")
