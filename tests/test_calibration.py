import json

import numpy as np
import pytest

from risk.calibration import BAD_MAP, ONE_CLASS, UNKNOWN_METHOD, Calibrator


def overconfident(n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Raw scores twice as extreme as the truth: a true log-odds t is reported as 2t - 1."""
    rng = np.random.default_rng(seed)
    true_logit = rng.normal(-3.0, 1.2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-true_logit))).astype(float)
    return 2 * true_logit - 1, y


def brier(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


@pytest.mark.parametrize("method", ["isotonic", "sigmoid", "auto"])
def test_calibration_improves_the_brier_score_on_held_out_rows(method: str) -> None:
    raw, y = overconfident(seed=1)
    held_raw, held_y = overconfident(seed=2)
    calibrator = Calibrator(method).fit(raw, y)
    uncalibrated = 1 / (1 + np.exp(-held_raw))
    assert brier(calibrator.transform(held_raw), held_y) < brier(uncalibrated, held_y)


def test_sigmoid_recovers_the_distortion_of_the_raw_scores() -> None:
    raw, y = overconfident(n=200_000)
    calibrator = Calibrator("sigmoid").fit(raw, y)
    # true logit = (raw + 1) / 2
    assert calibrator.map_["a"] == pytest.approx(0.5, abs=0.03)
    assert calibrator.map_["b"] == pytest.approx(0.5, abs=0.1)


def test_auto_chooses_on_households_the_map_was_not_fitted_on() -> None:
    raw, y = overconfident()
    groups = np.repeat(np.arange(len(y) // 4), 4)
    calibrator = Calibrator("auto").fit(raw, y, groups=groups)
    assert set(calibrator.choice_) == {"isotonic", "sigmoid"}
    assert calibrator.method_ == min(calibrator.choice_, key=calibrator.choice_.__getitem__)


def test_probabilities_stay_inside_zero_and_one() -> None:
    raw, y = overconfident(n=500)
    p = Calibrator("isotonic").fit(raw, y).transform(np.array([-50.0, 0.0, 50.0]))
    assert (p > 0).all() and (p < 1).all()


def test_a_map_round_trips_through_json_with_identical_probabilities() -> None:
    raw, y = overconfident()
    for method in ("isotonic", "sigmoid"):
        calibrator = Calibrator(method).fit(raw, y)
        restored = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict())))
        np.testing.assert_array_equal(restored.transform(raw), calibrator.transform(raw))


def test_a_single_class_slice_is_refused() -> None:
    with pytest.raises(ValueError, match=ONE_CLASS):
        Calibrator().fit(np.array([0.1, 0.2]), np.array([0.0, 0.0]))


def test_an_unknown_method_is_refused() -> None:
    raw, y = overconfident(n=100)
    with pytest.raises(ValueError, match=UNKNOWN_METHOD.format(method="beta").replace("(", r"\(")):
        Calibrator("beta").fit(raw, y)


def test_a_malformed_map_is_refused() -> None:
    with pytest.raises(ValueError, match=BAD_MAP.split(":")[0]):
        Calibrator.from_dict({"method": "isotonic", "x": [1.0, 0.0], "y": [0.1, 0.2]})
    with pytest.raises(ValueError, match=BAD_MAP.split(":")[0]):
        Calibrator.from_dict({"method": "sigmoid", "a": "1"})


def test_a_sigmoid_that_would_reverse_the_ranking_falls_back_to_isotonic() -> None:
    raw, y = overconfident()
    calibrator = Calibrator("sigmoid").fit(-raw, y)  # risk falls as this score rises
    assert calibrator.method_ == calibrator.map_["method"] == "isotonic"
    p = calibrator.transform(np.sort(-raw))
    assert (np.diff(p) >= 0).all()


def test_a_stored_map_with_a_reversed_or_infinite_slope_is_refused() -> None:
    with pytest.raises(ValueError, match="slope"):
        Calibrator.from_dict({"method": "sigmoid", "a": -1.0, "b": 0.0})
    with pytest.raises(ValueError, match="finite"):
        Calibrator.from_dict({"method": "isotonic", "x": [0.0, float("nan")], "y": [0.1, 0.2]})
