import json
import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from risk.catalogue import get_feature
from risk.monitoring import (
    BAD_PROFILE,
    BAD_SCORES,
    BAD_SHARES,
    PROFILE_LACKS,
    PSI_ACT,
    PSI_WATCH,
    STABILITY_COLUMNS,
    STATUSES,
    UNKNOWN_FEATURES,
    ReferenceProfile,
    psi,
    stability,
    status_of,
)

NAMES = ["balance_eur", "children", "has_guarantee", "household_type"]
HOUSEHOLDS = get_feature("household_type").categories


def population(n: int = 2_000, seed: int = 0) -> pd.DataFrame:
    """A small feature frame with a numeric, a count, a bool and a categorical feature."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "balance_eur": rng.normal(100.0, 50.0, n),
            "children": rng.integers(0, 4, n).astype(float),
            "has_guarantee": rng.integers(0, 2, n).astype(float),
            "household_type": pd.Categorical(
                rng.choice(["single", "couple", "single_parent"], n), categories=HOUSEHOLDS
            ),
        }
    )


def normal_grid(n: int, shift: float = 0.0) -> pd.DataFrame:
    """Quantiles of N(shift, 1) at (i + 0.5) / n: a normal sample without sampling noise."""
    grid = [NormalDist(shift, 1.0).inv_cdf((i + 0.5) / n) for i in range(n)]
    return pd.DataFrame({"balance_eur": grid})


def hand_psi(reference: list[float], current: list[float]) -> float:
    return sum((a - e) * math.log(a / e) for e, a in zip(reference, current, strict=True))


def row(table: pd.DataFrame, feature: str) -> pd.Series:
    return table.set_index("feature").loc[feature]


# --- the index and its statuses ------------------------------------------------------------


def test_psi_is_the_sum_of_share_changes_times_their_log_ratio() -> None:
    assert psi([0.5, 0.5], [0.3, 0.7]) == pytest.approx(hand_psi([0.5, 0.5], [0.3, 0.7]))


def test_psi_raises_an_empty_bin_to_the_floor_instead_of_dividing_by_zero() -> None:
    assert psi([1.0, 0.0], [0.95, 0.05]) == pytest.approx(hand_psi([1.0, 1e-4], [0.95, 0.05]))
    assert psi([1.0, 0.0], [1.0, 0.0]) == 0.0


def test_psi_refuses_shares_over_different_bins() -> None:
    with pytest.raises(ValueError, match=BAD_SHARES.split(":")[0]):
        psi([0.5, 0.5], [1.0])
    with pytest.raises(ValueError, match=BAD_SHARES.split(":")[0]):
        psi([1.5, -0.5], [0.5, 0.5])


def test_statuses_change_at_the_watch_and_act_thresholds() -> None:
    assert [status_of(v) for v in (0.0, 0.099, PSI_WATCH, 0.249, PSI_ACT, 3.0)] == [
        "stable", "stable", "watch", "watch", "act", "act",
    ]  # fmt: skip
    assert STATUSES["watch"] == ("à surveiller", "watch")
    assert STATUSES["act"] == ("à traiter", "act")


# --- stability of a population against its profile ---------------------------------------


def test_a_population_compared_with_itself_is_stable_everywhere() -> None:
    frame = population()
    scores = np.random.default_rng(1).random(len(frame))
    profile = ReferenceProfile.fit(frame, scores, NAMES)
    table = stability(profile, frame, scores)
    assert list(table.columns) == list(STABILITY_COLUMNS)
    assert list(table["feature"]) == [*NAMES, "score"]
    assert (table["psi"] == 0.0).all()
    assert set(table["status"]) == {"stable"} and set(table["status_fr"]) == {"stable"}
    assert (table["reference_rows"] == len(frame)).all()


def test_a_shifted_normal_feature_matches_the_hand_computed_psi_on_two_bins() -> None:
    # Two bins cut at the median 0: after a shift d, Phi(-d) of households lie below it.
    profile = ReferenceProfile.fit(normal_grid(10_000), None, ["balance_eur"], bins=2)
    assert profile["balance_eur"].cuts == pytest.approx((0.0,), abs=1e-12)
    for shift, status in ((0.2, "stable"), (0.5, "watch"), (0.8, "act")):
        below = NormalDist().cdf(-shift)
        expected = hand_psi([0.5, 0.5], [below, 1.0 - below])
        result = row(stability(profile, normal_grid(10_000, shift)), "balance_eur")
        assert result["psi"] == pytest.approx(expected, abs=1e-3)
        assert result["status"] == status


def test_a_shifted_normal_feature_matches_the_hand_computed_psi_on_three_bins() -> None:
    profile = ReferenceProfile.fit(normal_grid(9_000), None, ["balance_eur"], bins=3)
    tertile = NormalDist().inv_cdf(2 / 3)
    assert profile["balance_eur"].cuts == pytest.approx((-tertile, tertile), abs=1e-3)
    cdf = NormalDist(0.5, 1.0).cdf
    current = [cdf(-tertile), cdf(tertile) - cdf(-tertile), 1.0 - cdf(tertile)]
    result = row(stability(profile, normal_grid(9_000, 0.5)), "balance_eur")
    assert result["psi"] == pytest.approx(hand_psi([1 / 3] * 3, current), abs=1e-3)
    # The top bin gained most: the report reads "> 0,431: from 33 % to 50 %".
    assert result["shift_bin_en"] == "> 0.431" and result["shift_bin_fr"] == "> 0,431"
    assert result["reference_share"] == pytest.approx(1 / 3)
    assert result["current_share"] == pytest.approx(current[2], abs=1e-3)


def test_a_category_the_reference_never_held_is_counted() -> None:
    frame = population()
    profile = ReferenceProfile.fit(frame, None, NAMES)
    current = frame.copy()
    current.loc[:199, "household_type"] = "couple_with_children"  # a tenth of the rows
    result = row(stability(profile, current), "household_type")
    assert result["shift_bin"] == "couple_with_children"
    assert result["reference_share"] == 0.0 and result["current_share"] == pytest.approx(0.1)
    assert result["status"] == "act"


def test_a_value_outside_the_profile_goes_to_the_other_bin_rather_than_vanishing() -> None:
    frame = population()
    profile = ReferenceProfile.fit(frame, None, NAMES)
    current = frame.astype({"household_type": object, "has_guarantee": float})
    current.loc[:199, "household_type"] = "colocation"
    current.loc[:199, "has_guarantee"] = 2.0
    table = stability(profile, current)
    for feature in ("household_type", "has_guarantee"):
        result = row(table, feature)
        assert result["shift_bin"] == "(other)"
        assert result["shift_bin_en"] == "other value, not in the profile"
        assert result["current_share"] == pytest.approx(0.1)


def test_a_field_that_starts_to_go_missing_is_detected() -> None:
    frame = population()
    profile = ReferenceProfile.fit(frame, None, NAMES)
    current = frame.copy()
    current.loc[:399, "balance_eur"] = np.nan
    result = row(stability(profile, current), "balance_eur")
    assert result["shift_bin"] == "(missing)"
    assert (result["shift_bin_fr"], result["shift_bin_en"]) == ("valeur manquante", "missing value")
    assert (result["reference_share"], result["current_share"]) == (0.0, pytest.approx(0.2))
    assert result["status"] == "act"


def test_the_score_drifts_like_a_feature() -> None:
    frame = population()
    scores = np.random.default_rng(1).random(len(frame))
    profile = ReferenceProfile.fit(frame, scores, NAMES)
    result = row(stability(profile, frame, scores**3), "score")
    assert result["status"] == "act" and result["current_rows"] == len(frame)


def test_heaped_counts_give_one_bin_per_value() -> None:
    profile = ReferenceProfile.fit(population(), None, NAMES)
    assert profile["children"].cuts == (0.0, 1.0, 2.0, 3.0)  # nine deciles, four values
    assert profile["children"].bin_labels()[1] == ("> 0 et ≤ 1", "> 0 and ≤ 1")


# --- the profile as JSON ------------------------------------------------------------------


def test_a_profile_round_trips_through_json_with_identical_results() -> None:
    frame = population()
    scores = np.random.default_rng(1).random(len(frame))
    profile = ReferenceProfile.fit(frame, scores, NAMES)
    restored = ReferenceProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert restored.to_dict() == profile.to_dict()
    current = population(seed=2)
    current["balance_eur"] += 30.0
    pd.testing.assert_frame_equal(
        stability(restored, current, scores), stability(profile, current, scores)
    )


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("version"),
        lambda d: d.update(rows=0),
        lambda d: d.update(features=[]),
        lambda d: d["features"][0].update(kind="ordinal"),
        lambda d: d["features"][0].update(cuts=[2.0, 1.0]),
        lambda d: d["features"][0]["shares"].pop(),
        lambda d: d["features"][0]["shares"].__setitem__(0, 0.9),
        lambda d: d["features"][3].update(categories=["single", "single"]),
        lambda d: d["features"][2].update(categories=["yes", "no"]),
        lambda d: d["features"].append(dict(d["features"][0])),
    ],
)
def test_a_malformed_profile_is_refused(damage) -> None:
    data = json.loads(json.dumps(ReferenceProfile.fit(population(), None, NAMES).to_dict()))
    damage(data)
    with pytest.raises(ValueError, match=BAD_PROFILE.split(":")[0]):
        ReferenceProfile.from_dict(data)


# --- refusals at the boundary -------------------------------------------------------------


def test_a_feature_the_profile_lacks_is_refused() -> None:
    frame = population()
    profile = ReferenceProfile.fit(frame, None, NAMES[:2])
    with pytest.raises(ValueError, match=PROFILE_LACKS.split(":")[0]) as error:
        stability(profile, frame, names=NAMES)
    assert "has_guarantee, household_type" in str(error.value)
    with pytest.raises(ValueError, match=PROFILE_LACKS.split(":")[0]):
        stability(profile, frame, np.zeros(len(frame)))


def test_names_outside_the_catalogue_or_the_reserved_score_are_refused() -> None:
    frame = population().assign(score=0.5)
    for names in (["balance_eur", "postcode"], ["score"], ["children", "children"]):
        with pytest.raises(ValueError, match=UNKNOWN_FEATURES.split(":")[0]):
            ReferenceProfile.fit(frame, None, names)


def test_scores_that_are_not_probabilities_are_refused() -> None:
    frame = population(n=50)
    for scores in (np.full(50, 2.0), np.zeros(49)):
        with pytest.raises(ValueError, match=BAD_SCORES.split(":")[0].replace("[", r"\[")):
            ReferenceProfile.fit(frame, scores, NAMES)
