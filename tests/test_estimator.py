import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from risk.catalogue import FEATURES, get_feature
from risk.estimator import ArrearsModel, lightgbm_params
from risk.matrix import feature_matrix
from training_data import training_frames

SMALL = {"max_rounds": 150, "early_stopping_rounds": 20, "min_child_samples": 50, "threads": 1}


@pytest.fixture(scope="module")
def fitted() -> ArrearsModel:
    train, valid, _ = training_frames()
    return ArrearsModel(**SMALL).fit(
        train, train["label"], valid, valid["label"], valid["tenancy_id"].to_numpy()
    )


def test_fit_returns_self_and_sets_fitted_attributes(fitted: ArrearsModel) -> None:
    assert fitted.feature_names_ == [f.name for f in FEATURES]
    assert 1 <= fitted.best_iteration_ <= SMALL["max_rounds"]
    assert fitted.booster_.num_trees() == fitted.best_iteration_
    assert fitted.calibrator_.method_ in ("isotonic", "sigmoid")


def test_the_constructor_only_stores_its_arguments() -> None:
    model = ArrearsModel(learning_rate=0.1, seed=4)
    assert model.learning_rate == 0.1 and model.seed == 4
    assert not [name for name in vars(model) if name.endswith("_")]


def test_the_model_ranks_the_later_months_better_than_chance(fitted: ArrearsModel) -> None:
    _, _, test = training_frames()
    assert roc_auc_score(test["label"], fitted.predict_proba(test)) > 0.8


def test_every_catalogue_direction_is_a_monotone_constraint() -> None:
    params = lightgbm_params([f.name for f in FEATURES])
    assert params["monotone_constraints"] == [f.direction for f in FEATURES]


@pytest.mark.parametrize(
    "name", [f.name for f in FEATURES if f.direction != 0 and f.dtype != "categorical"]
)
def test_monotone_constraints_are_honoured_on_a_grid(fitted: ArrearsModel, name: str) -> None:
    # Sweep one feature over its observed range for 200 real households, all else fixed:
    # the risk may only move in the catalogue's direction.
    _, _, test = training_frames()
    households = test.sample(200, random_state=0).reset_index(drop=True)
    observed = test[name].dropna()
    grid = np.unique(np.quantile(observed, np.linspace(0, 1, 25)))
    grid = np.concatenate([[observed.min() - 1], grid, [observed.max() + 1]])
    matrix = feature_matrix(households, fitted.feature_names_)
    column = fitted.feature_names_.index(name)
    raws = []
    for value in grid:
        matrix[:, column] = value
        raws.append(fitted.booster_.predict(matrix, raw_score=True))
    steps = np.diff(np.vstack(raws), axis=0) * get_feature(name).direction
    assert (steps >= -1e-12).all()


def test_probability_follows_the_raw_score_order(fitted: ArrearsModel) -> None:
    _, _, test = training_frames()
    raw, p = fitted.raw_score(test), fitted.predict_proba(test)
    order = np.argsort(raw, kind="stable")
    assert (np.diff(p[order]) >= 0).all()


def test_the_same_rows_and_settings_give_a_byte_identical_model() -> None:
    train, valid, test = training_frames()
    texts, scores = [], []
    for _ in range(2):
        model = ArrearsModel(**SMALL).fit(
            train, train["label"], valid, valid["label"], valid["tenancy_id"].to_numpy()
        )
        texts.append(model.booster_.model_to_string())
        scores.append(model.predict_proba(test))
    assert texts[0] == texts[1]
    np.testing.assert_array_equal(scores[0], scores[1])


def test_early_stopping_reads_the_validation_slice_not_the_training_rows() -> None:
    train, valid, _ = training_frames()
    # A validation slice whose labels are noise stops the model almost at once.
    rng = np.random.default_rng(0)
    noise = pd.Series(rng.permutation(valid["label"].to_numpy()))
    model = ArrearsModel(**SMALL).fit(train, train["label"], valid, noise)
    assert model.best_iteration_ < 40
