"""Training: the rolling-origin backtest, the baselines beside it, and the final model.

:func:`train` is what ``risk train`` runs. On the training window (monthly as-of dates
whose labels are complete by the knowledge cut-off ``train_until``) it

1. builds the point-in-time features of every date once;
2. runs the rolling-origin backtest (:mod:`risk.backtest`): each fold refits the model
   and the two baselines on the labels known at its origin and scores its test months;
   on simulated data the oracle scores the same rows;
3. evaluates every model on the same test rows (:mod:`risk.metrics`, :mod:`risk.groups`);
4. fits the final model on the whole window, its latest months held out for early
   stopping, calibration and the risk bands, and wraps it in a :class:`ModelBundle` with
   the reference profile of the rows it learnt from (:mod:`risk.monitoring`), so that
   ``risk monitor`` can tell later when the population has moved.

Registering the run and the model is the caller's step (:mod:`risk.registry`), so that
training can be tested and benchmarked without a tracking server.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from risk.backtest import Fold, final_split, rolling_origin
from risk.baselines import Scorecard, TodaysPractice
from risk.bundle import ModelBundle, band_thresholds
from risk.config import TrainConfig
from risk.dataset import (
    TrainingWindow,
    data_fingerprint,
    labelled_rows,
    labels_known_at,
    rows_of,
    training_window,
)
from risk.estimator import ArrearsModel
from risk.features import build_features
from risk.groups import group_metrics
from risk.metrics import evaluate, pooled_metrics
from risk.monitoring import ReferenceProfile
from risk.portfolio import Portfolio
from risk.promotion import PromotionGates

#: Names of the models in the evaluation tables.
MODEL = "lightgbm"
PRACTICE = "todays_practice"
SCORECARD = "scorecard"
ORACLE = "oracle"
#: Labels the simulator's oracle can roll out.
ORACLE_LABELS = ("first_arrears", "decree_2027")

#: Error raised when a backtest fold cannot be fitted (e.g. no arrears in its slice).
FOLD_FAILED = (
    "backtest fold {number} (origin {origin:%Y-%m-%d}, learning from {first:%Y-%m-%d} to "
    "{last:%Y-%m-%d}) cannot be fitted: {error}. A small portfolio or a rare label may "
    "leave a slice without arrears: give more history, more validation_months, or fewer "
    "test_months"
)

PREDICTION_COLUMNS = ["model", "tenancy_id", "as_of", "label", "probability", "rank_score"]
#: Most rows the reference profile is fitted on: deciles and category shares are settled
#: well before, and scoring every row of a large portfolio would cost minutes.
REFERENCE_ROWS = 200_000

Log = Callable[[str], None]


@dataclass
class TrainingResult:
    """Everything a training run produced.

    Attributes
    ----------
    config
        The configuration used.
    window
        Training window: as-of dates and knowledge cut-off.
    folds
        The backtest's folds.
    predictions
        Out-of-time predictions of every model on the same test rows
        (:data:`PREDICTION_COLUMNS`).
    evaluation
        Metrics per model, test month and pooled, with bootstrap intervals.
    groups
        Metrics per model and monitored group at the promotion gate's capacity.
    model
        The final model, fitted on the whole window.
    bundle
        The final model as a bundle (not yet written).
    data_fingerprint
        sha256 of the portfolio's content.
    rows
        Number of labelled rows the final model learnt from (training + validation).
    seconds
        Wall time of each step.
    """

    config: TrainConfig
    window: TrainingWindow
    folds: list[Fold]
    predictions: pd.DataFrame
    evaluation: pd.DataFrame
    groups: pd.DataFrame
    model: ArrearsModel
    bundle: ModelBundle
    data_fingerprint: str
    rows: int
    seconds: dict[str, float] = field(default_factory=dict)

    def pooled(self, model: str = MODEL) -> dict[str, float]:
        """Pooled out-of-time metrics of one model, by metric name."""
        return pooled_metrics(self.evaluation, model)


def new_model(config: TrainConfig) -> ArrearsModel:
    """Make an unfitted :class:`ArrearsModel` with the configuration's settings."""
    # Every field of the model section is an estimator setting but the risk bands,
    # which are set on the fitted model's validation scores.
    return ArrearsModel(**config.model.model_dump(exclude={"bands"}))


def fit_model(
    config: TrainConfig, train_rows: pd.DataFrame, valid_rows: pd.DataFrame
) -> ArrearsModel:
    """Fit a new model on labelled training rows, stopping and calibrating on later ones."""
    return new_model(config).fit(
        train_rows,
        train_rows["label"],
        valid_rows,
        valid_rows["label"],
        valid_rows["tenancy_id"].to_numpy(),
    )


def train(
    portfolio: Portfolio,
    config: TrainConfig | None = None,
    *,
    data_dir: str | Path | None = None,
    outcomes: pd.DataFrame | None = None,
    code_version: str = "unknown",
    created_at: dt.datetime | None = None,
    log: Log | None = None,
) -> TrainingResult:
    """Backtest, compare with the baselines and fit the final model.

    Parameters
    ----------
    portfolio
        Validated portfolio.
    config
        Training configuration; built-in defaults when ``None``.
    data_dir
        Folder the portfolio was read from: when it holds a simulation's truth, the
        oracle scores the test rows beside the models.
    outcomes
        The team's own outcomes table (label ``outcomes``) instead of a named label.
    code_version
        Recorded in the bundle.
    created_at
        Recorded in the bundle; the cut-off date at midnight when ``None``, so that the
        same data and configuration give a byte-identical bundle.
    log
        Receives one line per step.

    Returns
    -------
    TrainingResult
    """
    config = config or TrainConfig()
    say = log or (lambda _line: None)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    window = training_window(portfolio, config.data)
    folds = rolling_origin(
        window.dates,
        horizon_months=config.data.horizon_months,
        test_months=config.backtest.test_months,
        refit_every_months=config.backtest.refit_every_months,
        validation_months=config.backtest.validation_months,
    )
    say(
        f"window: {len(window.dates)} monthly as-of dates {window.dates[0]:%Y-%m-%d} .. "
        f"{window.dates[-1]:%Y-%m-%d}, knowledge cut-off {window.cutoff:%Y-%m-%d}; "
        f"{len(folds)} backtest folds"
    )
    features = build_features(portfolio, list(window.dates), threads=config.model.threads)
    seconds["features"] = time.perf_counter() - clock
    say(f"features: {len(features):,} tenancy-months in {seconds['features']:.1f} s")

    clock = time.perf_counter()
    final_labels = labels_known_at(portfolio, window.dates, config.data, window.cutoff, outcomes)
    rows = labelled_rows(features, final_labels)
    predictions = []
    for number, fold in enumerate(folds, start=1):
        try:
            predictions.append(_run_fold(portfolio, features, rows, fold, config, outcomes))
        except ValueError as error:
            raise ValueError(
                FOLD_FAILED.format(
                    number=number,
                    origin=fold.origin,
                    first=fold.train_dates[0],
                    last=fold.valid_dates[-1],
                    error=error,
                )
            ) from error
        say(
            f"fold {number}/{len(folds)}: origin {fold.origin:%Y-%m-%d}, "
            f"{len(fold.train_dates)} training months, tests "
            f"{fold.test_dates[0]:%Y-%m}..{fold.test_dates[-1]:%Y-%m}"
        )
    out_of_time = pd.concat(predictions, ignore_index=True)
    oracle = _oracle_predictions(data_dir, out_of_time, config, outcomes)
    if oracle is not None:
        out_of_time = pd.concat([out_of_time, oracle], ignore_index=True)
        say("oracle: the simulation's true probabilities score the same test rows")
    seconds["backtest"] = time.perf_counter() - clock

    clock = time.perf_counter()
    evaluation, groups = _evaluate(out_of_time, features, config)
    seconds["evaluation"] = time.perf_counter() - clock

    clock = time.perf_counter()
    train_dates, valid_dates = final_split(window.dates, config.backtest.validation_months)
    train_rows, valid_rows = rows_of(rows, train_dates), rows_of(rows, valid_dates)
    model = fit_model(config, train_rows, valid_rows)
    seconds["final_model"] = time.perf_counter() - clock
    say(
        f"final model: {len(train_rows):,} training rows, {len(valid_rows):,} validation "
        f"rows, {model.best_iteration_} trees, {model.calibrator_.method_} calibration"
    )

    fingerprint = data_fingerprint(portfolio)
    pooled = pooled_metrics(evaluation, MODEL)
    bundle = ModelBundle.from_model(
        model,
        bands=band_thresholds(model.predict_proba(valid_rows), config.model.bands),
        label="outcomes" if outcomes is not None else config.data.label,
        horizon_months=config.data.horizon_months,
        train_until=window.cutoff,
        metrics=pooled,
        data_fingerprint=fingerprint,
        config=config.model_dump(mode="json"),
        code_version=code_version,
        created_at=created_at or window.cutoff.to_pydatetime(),
        reference=_reference_profile(model, train_rows, valid_rows, config.model.seed),
    )
    return TrainingResult(
        config=config,
        window=window,
        folds=folds,
        predictions=out_of_time,
        evaluation=evaluation,
        groups=groups,
        model=model,
        bundle=bundle,
        data_fingerprint=fingerprint,
        rows=len(train_rows) + len(valid_rows),
        seconds=seconds,
    )


def _reference_profile(
    model: ArrearsModel, train_rows: pd.DataFrame, valid_rows: pd.DataFrame, seed: int
) -> ReferenceProfile:
    """Profile the final model's rows (training and validation) and their probabilities.

    At most :data:`REFERENCE_ROWS` rows, drawn with ``seed`` and kept in their order, so
    the same data and configuration give the same profile and a byte-identical bundle.
    """
    n_train, total = len(train_rows), len(train_rows) + len(valid_rows)
    picked = np.arange(total)
    if total > REFERENCE_ROWS:
        picked = np.sort(np.random.default_rng(seed).choice(total, REFERENCE_ROWS, replace=False))
    from_train, from_valid = picked[picked < n_train], picked[picked >= n_train] - n_train
    sample = pd.concat(
        [train_rows.iloc[from_train], valid_rows.iloc[from_valid]], ignore_index=True
    )
    return ReferenceProfile.fit(sample, model.predict_proba(sample), model.feature_names_)


def _run_fold(
    portfolio: Portfolio,
    features: pd.DataFrame,
    rows: pd.DataFrame,
    fold: Fold,
    config: TrainConfig,
    outcomes: pd.DataFrame | None,
) -> pd.DataFrame:
    """Fit the model and the baselines as on the fold's origin; score its test months."""
    # The labels a team retraining on the origin day would have had: horizons over,
    # and only facts posted before that day.
    known = labels_known_at(portfolio, fold.learn_dates, config.data, fold.origin, outcomes)
    learn = labelled_rows(rows_of(features, fold.learn_dates), known)
    train_rows, valid_rows = rows_of(learn, fold.train_dates), rows_of(learn, fold.valid_dates)
    test = rows_of(rows, fold.test_dates)
    model = fit_model(config, train_rows, valid_rows)
    practice = TodaysPractice().fit(learn, learn["label"].to_numpy())
    scorecard = Scorecard(features=config.model.features).fit(learn, learn["label"].to_numpy())
    raw = model.raw_score(test)
    probability = model.calibrator_.transform(raw)
    scored = {
        MODEL: (probability, pooled_rank_score(probability, raw)),
        PRACTICE: (practice.predict_proba(test), practice.rank_score(test)),
        SCORECARD: (scorecard.predict_proba(test), scorecard.rank_score(test)),
    }
    return pd.concat(
        [_predictions(name, test, p, r) for name, (p, r) in scored.items()], ignore_index=True
    )


def pooled_rank_score(probability: np.ndarray, raw_score: np.ndarray) -> np.ndarray:
    """Order rows by calibrated probability, ties broken by the raw score.

    Test months pooled over the backtest come from different boosters whose raw
    log-odds are not on one scale; their calibrated probabilities are. Within an
    isotonic step (many rows, one probability) the raw score decides, as the worklist
    does (:func:`risk.scoring.contact_rank`); the nudge, below 1e-9, never reorders
    distinct probabilities.
    """
    return probability + 1e-9 / (1.0 + np.exp(-raw_score))


def _predictions(
    name: str, rows: pd.DataFrame, probability: np.ndarray, rank_score: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": name,
            "tenancy_id": rows["tenancy_id"].to_numpy(),
            "as_of": rows["as_of"].to_numpy(),
            "label": rows["label"].to_numpy(dtype=np.int8),
            "probability": np.asarray(probability, dtype=np.float64),
            "rank_score": np.asarray(rank_score, dtype=np.float64),
        }
    )


def _oracle_predictions(
    data_dir: str | Path | None,
    out_of_time: pd.DataFrame,
    config: TrainConfig,
    outcomes: pd.DataFrame | None,
) -> pd.DataFrame | None:
    """Score the model's test rows with the simulation's true probabilities, or None."""
    if data_dir is None or outcomes is not None or config.data.label not in ORACLE_LABELS:
        return None
    from risk.simulation.persist import MANIFEST

    if not (Path(data_dir) / "truth" / MANIFEST).is_file():
        return None
    from risk.simulation import oracle

    rows = out_of_time.loc[out_of_time["model"] == MODEL, ["tenancy_id", "as_of", "label"]]
    dates = sorted(pd.Timestamp(d) for d in rows["as_of"].unique())
    truth = oracle(
        data_dir,
        dates,
        horizon_months=config.data.horizon_months,
        n_paths=config.evaluation.oracle_paths,
        label=config.data.label,
    )
    joined = rows.merge(truth, on=["tenancy_id", "as_of"], how="left", validate="one_to_one")
    if joined["oracle_probability"].isna().any():
        raise RuntimeError("the oracle left some test rows without a probability")
    probability = joined["oracle_probability"].to_numpy(dtype=np.float64)
    return _predictions(ORACLE, joined, probability, probability)


def _evaluate(
    out_of_time: pd.DataFrame, features: pd.DataFrame, config: TrainConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metrics and group metrics of every model on the same rows."""
    settings = config.evaluation
    gates: PromotionGates = config.promotion
    tables, group_tables = [], []
    for name, predictions in out_of_time.groupby("model", sort=False):
        tables.append(
            evaluate(
                predictions,
                settings.capacities,
                n_boot=settings.bootstrap,
                seed=settings.seed,
                model=str(name),
            )
        )
        group_tables.append(
            group_metrics(
                predictions,
                features,
                gates.capacity,
                n_boot=settings.bootstrap,
                seed=settings.seed,
                model=str(name),
            )
        )
    return pd.concat(tables, ignore_index=True), pd.concat(group_tables, ignore_index=True)
