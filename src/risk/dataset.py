"""Training rows: one per present tenancy and monthly as-of date, with its label.

Features are point in time by construction (only facts posted before each as-of date),
so one feature frame serves every fold of the backtest. Labels are not: a label is read
with a knowledge cut-off (``known_until``), and a fold trained at origin ``T`` sees the
labels as they were known on ``T``. :func:`labelled_rows` joins the two and keeps the
rows with a label.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk.config import DataConfig
from risk.labels import build_labels, observed_until
from risk.portfolio import Portfolio
from risk.timeline import add_months, month_start

#: Error raised when the data leave no as-of date with a complete label.
NO_TRAINING_DATES = (
    "no monthly as-of date between {first:%Y-%m-%d} and {last:%Y-%m-%d} has a label "
    "complete before the knowledge cut-off {cutoff:%Y-%m-%d}; give more history or an "
    "earlier first_as_of"
)
#: Error raised on an empty ledger: there is nothing to learn from.
EMPTY_LEDGER = "the ledger is empty: there is no history to learn from"

KEYS = ["tenancy_id", "as_of"]


@dataclass(frozen=True)
class TrainingWindow:
    """The as-of dates a training run may use.

    Attributes
    ----------
    dates
        Monthly as-of dates (first of the month) whose label horizon ends on or before
        ``cutoff``.
    cutoff
        Knowledge cut-off (``train_until``): no fact posted on or after it is read.
    horizon_months
        Label horizon.
    """

    dates: tuple[pd.Timestamp, ...]
    cutoff: pd.Timestamp
    horizon_months: int


def label_complete_by(as_of: pd.Timestamp, horizon_months: int, cutoff: pd.Timestamp) -> bool:
    """Whether the label horizon of ``as_of`` ends on or before ``cutoff``.

    The horizon watches the month-ends of the as-of month and the following
    ``horizon_months - 1`` months: it is over on the first day of month
    ``as_of + horizon_months``.
    """
    return add_months(month_start(as_of), horizon_months) <= cutoff


def training_window(portfolio: Portfolio, config: DataConfig) -> TrainingWindow:
    """Monthly as-of dates from ``first_as_of`` to the last with a complete label.

    Parameters
    ----------
    portfolio
        Validated portfolio.
    config
        The ``data`` section: label horizon, first as-of date, history and cut-off.

    Returns
    -------
    TrainingWindow
    """
    observed = observed_until(portfolio)
    if observed is None:
        raise ValueError(EMPTY_LEDGER)
    cutoff = observed if config.train_until is None else pd.Timestamp(config.train_until)
    cutoff = min(cutoff, observed)
    if config.first_as_of is not None:
        first = month_start(config.first_as_of)
        if first != pd.Timestamp(config.first_as_of):
            first = add_months(first, 1)
    else:
        start = pd.Timestamp(portfolio.ledger["event_date"].min())
        first = add_months(month_start(start), max(config.history_months, 1))
    dates: list[pd.Timestamp] = []
    date = first
    while label_complete_by(date, config.horizon_months, cutoff):
        dates.append(date)
        date = add_months(date, 1)
    if not dates:
        raise ValueError(NO_TRAINING_DATES.format(first=first, last=date, cutoff=cutoff))
    return TrainingWindow(tuple(dates), cutoff, config.horizon_months)


def labels_known_at(
    portfolio: Portfolio,
    dates: Sequence[pd.Timestamp],
    config: DataConfig,
    known_until: pd.Timestamp,
    outcomes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Labels of ``dates`` as they were known on ``known_until``.

    Returns
    -------
    pandas.DataFrame
        ``tenancy_id``, ``as_of``, ``label`` (Int8 with ``<NA>``), ``status``.
    """
    label = "outcomes" if outcomes is not None else config.label
    return build_labels(
        portfolio,
        list(dates),
        label=label,
        horizon_months=config.horizon_months,
        known_until=known_until,
        outcomes=outcomes,
    )


def labelled_rows(features: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Feature rows that have a label, with ``label`` as int8, in (tenancy, as_of) order.

    Parameters
    ----------
    features
        Feature frame (:func:`risk.features.build_features`).
    labels
        Labels of some of its dates (:func:`labels_known_at`).

    Returns
    -------
    pandas.DataFrame
        The feature columns plus ``label``; rows without a label are dropped.
    """
    known = labels.loc[labels["label"].notna(), [*KEYS, "label"]]
    rows = features.merge(known, on=KEYS, how="inner", validate="one_to_one")
    rows["label"] = rows["label"].astype("int8")
    return rows.sort_values(KEYS, kind="stable", ignore_index=True)


def rows_of(rows: pd.DataFrame, dates: Sequence[pd.Timestamp]) -> pd.DataFrame:
    """Keep the rows whose as-of date is one of ``dates``."""
    wanted = np.asarray([np.datetime64(d, "ns") for d in dates], dtype="datetime64[ns]")
    return rows.loc[rows["as_of"].isin(wanted)].reset_index(drop=True)


def data_fingerprint(portfolio: Portfolio) -> str:
    """Hash the portfolio's content, independent of row order and file format.

    Two exports with the same facts give the same fingerprint, so a run says exactly
    which data it learnt from without copying them.
    """
    digest = hashlib.sha256()
    for name, table in portfolio.tables():
        columns = sorted(table.columns)
        hashed = pd.util.hash_pandas_object(table[columns], index=False).to_numpy()
        digest.update(name.encode())
        digest.update(",".join(columns).encode())
        digest.update(np.sort(hashed).tobytes())
    return digest.hexdigest()
