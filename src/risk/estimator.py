"""The arrears model: LightGBM under the catalogue's monotone constraints, then calibrated.

:class:`ArrearsModel` looks like a scikit-learn estimator. ``fit`` grows boosted trees on
the training rows, stops when the log-loss on a later validation slice stops improving,
and fits a :class:`~risk.calibration.Calibrator` on that same slice. Each feature whose
catalogue direction is +1 (or -1) may only raise (or lower) the risk as it grows, so a
household never scores lower for owing more. Everything is fixed for reproducibility:
thread count, seeds and LightGBM's deterministic mode, so that the same rows and
settings give a byte-identical model file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from risk.calibration import Calibrator
from risk.matrix import categorical_indices, feature_matrix, model_features, monotone_vector


def lightgbm_params(
    names: Sequence[str],
    *,
    learning_rate: float = 0.1,
    num_leaves: int = 7,
    min_child_samples: int = 200,
    feature_fraction: float = 0.8,
    lambda_l2: float = 1.0,
    threads: int = 2,
    seed: int = 0,
) -> dict[str, Any]:
    """LightGBM parameters for the model, with the catalogue's monotone constraints.

    Returns
    -------
    dict
        Parameters for :func:`lightgbm.train`.
    """
    return {
        "objective": "binary",
        "learning_rate": learning_rate,
        "num_leaves": num_leaves,
        "min_child_samples": min_child_samples,
        "feature_fraction": feature_fraction,
        "lambda_l2": lambda_l2,
        "monotone_constraints": monotone_vector(names),
        # "basic" is the method that holds: "advanced" let the risk fall as the balance
        # grew for one household in a grid test (LightGBM 4.7), at no gain in accuracy.
        "monotone_constraints_method": "basic",
        "num_threads": threads,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "verbosity": -1,
    }


class ArrearsModel:
    """Calibrated, monotone LightGBM classifier of the arrears label.

    Parameters
    ----------
    features
        Model features in order; every catalogue feature when ``None``.
    learning_rate, num_leaves, min_child_samples, feature_fraction, lambda_l2
        LightGBM settings.
    max_rounds
        Upper bound on boosting rounds.
    early_stopping_rounds
        Rounds without improvement of the validation log-loss before stopping.
    calibration
        ``auto``, ``isotonic`` or ``sigmoid`` (see :class:`~risk.calibration.Calibrator`).
    threads, seed
        Fixed for reproducibility.

    Attributes
    ----------
    feature_names_ : list of str
    booster_ : lightgbm.Booster
        Trees up to the best iteration.
    best_iteration_ : int
    calibrator_ : Calibrator
    validation_logloss_ : float
        Log-loss of the raw model on the validation slice at the best iteration.
    """

    def __init__(
        self,
        *,
        features: Sequence[str] | None = None,
        learning_rate: float = 0.1,
        num_leaves: int = 7,
        min_child_samples: int = 200,
        feature_fraction: float = 0.8,
        lambda_l2: float = 1.0,
        max_rounds: int = 2000,
        early_stopping_rounds: int = 100,
        calibration: str = "auto",
        threads: int = 2,
        seed: int = 0,
    ) -> None:
        self.features = features
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.lambda_l2 = lambda_l2
        self.max_rounds = max_rounds
        self.early_stopping_rounds = early_stopping_rounds
        self.calibration = calibration
        self.threads = threads
        self.seed = seed

    def params(self, names: Sequence[str]) -> dict[str, Any]:
        """LightGBM parameters of this model for the features ``names``."""
        return lightgbm_params(
            names,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            feature_fraction=self.feature_fraction,
            lambda_l2=self.lambda_l2,
            threads=self.threads,
            seed=self.seed,
        )

    def fit(
        self,
        features: pd.DataFrame,
        y: np.ndarray | pd.Series,
        valid_features: pd.DataFrame,
        valid_y: np.ndarray | pd.Series,
        valid_groups: np.ndarray | None = None,
    ) -> ArrearsModel:
        """Fit on training rows, stop early and calibrate on a later validation slice.

        Parameters
        ----------
        features, y
            Training rows (feature frame) and their 0/1 labels.
        valid_features, valid_y
            The validation slice: as-of dates after every training date.
        valid_groups
            Tenancy of each validation row, so the calibration method is chosen on
            households the map was not fitted on.

        Returns
        -------
        ArrearsModel
            self.
        """
        names = model_features(self.features)
        params = self.params(names)
        categorical = categorical_indices(names)
        train_set = lgb.Dataset(
            feature_matrix(features, names),
            label=np.asarray(y, dtype=np.float64),
            feature_name=list(names),
            categorical_feature=categorical,
            free_raw_data=True,
        )
        valid_matrix = feature_matrix(valid_features, names)
        valid_label = np.asarray(valid_y, dtype=np.float64)
        valid_set = lgb.Dataset(valid_matrix, label=valid_label, reference=train_set)
        evals: dict[str, Any] = {}
        booster = lgb.train(
            {**params, "metric": "binary_logloss"},
            train_set,
            num_boost_round=self.max_rounds,
            valid_sets=[valid_set],
            valid_names=["validation"],
            callbacks=[
                lgb.early_stopping(self.early_stopping_rounds, verbose=False),
                lgb.record_evaluation(evals),
            ],
        )
        self.feature_names_ = list(names)
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        # Keep only the trees up to the best iteration: the saved model is what scores.
        self.booster_ = lgb.Booster(model_str=booster.model_to_string(
            num_iteration=self.best_iteration_
        ))
        self.validation_logloss_ = float(
            evals["validation"]["binary_logloss"][self.best_iteration_ - 1]
        )
        raw = np.asarray(self.booster_.predict(valid_matrix, raw_score=True))
        self.calibrator_ = Calibrator(self.calibration, seed=self.seed).fit(
            raw, valid_label, groups=valid_groups
        )
        return self

    def raw_score(self, features: pd.DataFrame) -> np.ndarray:
        """Return the booster's log-odds, before calibration (the explanations' scale)."""
        return np.asarray(
            self.booster_.predict(feature_matrix(features, self.feature_names_), raw_score=True)
        )

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of arrears within the label's horizon."""
        return self.calibrator_.transform(self.raw_score(features))
