"""Rolling-origin backtest: how a model would have done on months it never saw.

The last ``test_months`` as-of dates of the training window are the test months. They
are cut into blocks of ``refit_every_months``; each block is scored by a model refitted
at the block's first month, its *origin* ``T``, as a team retraining on that day would
have done. That model learns only from as-of dates whose label horizon is over by ``T``
(:func:`risk.dataset.label_complete_by`), with labels read as known on ``T``, so no
training label window reaches into the test period; its latest ``validation_months``
learnable dates are held out for early stopping and calibration. Never a random split:
households move between months, and a random split would let the model see a
household's future while being tested on its past.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from risk.dataset import label_complete_by

#: Error raised when the window is too short for the backtest asked for.
TOO_FEW_MONTHS = (
    "the backtest needs at least {needed} monthly as-of dates ({test} test months, a "
    "{horizon}-month label horizon, {validation} validation months and one training "
    "month); the data give {available}"
)


@dataclass(frozen=True)
class Fold:
    """One refit of the rolling-origin backtest.

    Attributes
    ----------
    origin
        First test month: the day the model is refitted, and its knowledge cut-off.
    train_dates
        As-of dates the model learns from.
    valid_dates
        Later as-of dates for early stopping and calibration.
    test_dates
        As-of dates scored by this model, on or after ``origin``.
    """

    origin: pd.Timestamp
    train_dates: tuple[pd.Timestamp, ...]
    valid_dates: tuple[pd.Timestamp, ...]
    test_dates: tuple[pd.Timestamp, ...]

    @property
    def learn_dates(self) -> tuple[pd.Timestamp, ...]:
        """Training and validation dates together."""
        return self.train_dates + self.valid_dates


def rolling_origin(
    dates: Sequence[pd.Timestamp],
    *,
    horizon_months: int,
    test_months: int,
    refit_every_months: int,
    validation_months: int,
) -> list[Fold]:
    """Cut monthly as-of dates into rolling-origin folds.

    Parameters
    ----------
    dates
        Sorted monthly as-of dates with complete labels.
    horizon_months
        Label horizon: a date is learnable at origin ``T`` only if its horizon is over.
    test_months
        Number of latest dates used as test months.
    refit_every_months
        Test months per fold.
    validation_months
        Latest learnable dates of each fold held out for early stopping.

    Returns
    -------
    list of Fold
        In time order; their test dates partition the test months.
    """
    dates = sorted(dates)
    needed = test_months + horizon_months + validation_months + 1
    if len(dates) < needed:
        raise ValueError(
            TOO_FEW_MONTHS.format(
                needed=needed,
                test=test_months,
                horizon=horizon_months,
                validation=validation_months,
                available=len(dates),
            )
        )
    test = dates[len(dates) - test_months :]
    folds = []
    for start in range(0, len(test), refit_every_months):
        block = tuple(test[start : start + refit_every_months])
        origin = block[0]
        learnable = [d for d in dates if label_complete_by(d, horizon_months, origin)]
        folds.append(
            Fold(
                origin=origin,
                train_dates=tuple(learnable[:-validation_months]),
                valid_dates=tuple(learnable[-validation_months:]),
                test_dates=block,
            )
        )
    return folds


def final_split(
    dates: Sequence[pd.Timestamp], validation_months: int
) -> tuple[tuple[pd.Timestamp, ...], tuple[pd.Timestamp, ...]]:
    """Training and validation dates of the final model: the latest months validate."""
    dates = sorted(dates)
    if len(dates) <= validation_months:
        raise ValueError(
            f"the final model needs more than {validation_months} as-of dates, got {len(dates)}"
        )
    return tuple(dates[:-validation_months]), tuple(dates[-validation_months:])
