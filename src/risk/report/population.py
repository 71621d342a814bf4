"""The populations the report computes from ``--data``: latest month, reference, new labels.

Sections 8 (explanations), 10 (monitoring) and 11 (limits) need households, not only the
run's tables. :func:`load_populations` reads the export once and builds, with the same
code as training and scoring (:func:`risk.build_features`, :func:`risk.scoring.score_features`):

- the **latest population**: every tenancy present on the first day of the month after
  the last ledger posting, scored and ranked as ``risk score`` would;
- the **reference population**: the profile of the training rows the bundle carries
  (``reference.json``, fitted when the model was trained) when it has one and
  :mod:`risk.monitoring` can read it; otherwise (an older bundle) the training window
  rebuilt from the bundle's recorded configuration and cut-off, sampled at a few evenly
  spread as-of dates (features of every date would cost as much as training);
- the **new labels**: as-of dates after the cut-off whose horizon is over in the data,
  scored by the model, for the performance once labels arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from risk.bundle import ModelBundle
from risk.config import DataConfig
from risk.dataset import TrainingWindow, label_complete_by, labelled_rows, training_window
from risk.features import build_features
from risk.labels import LABELS, build_labels, observed_until
from risk.portfolio import Portfolio
from risk.scoring import score_features
from risk.timeline import add_months, month_start

if TYPE_CHECKING:
    from risk.monitoring import ReferenceProfile

#: As-of dates sampled from the training window for the reference population.
REFERENCE_DATES = 6
#: Error raised when the export has no ledger to date the latest month by.
NO_LEDGER = "the export in {path} has an empty ledger: there is no latest month to report on"


@dataclass
class Populations:
    """Households built from the data folder for the report.

    Attributes
    ----------
    as_of
        The latest month's as-of date.
    observed
        End of observation of the data (day after the last ledger posting).
    latest, latest_scores
        Features and scores (:func:`risk.scoring.score_features`) of the latest month,
        row for row.
    window
        The training window rebuilt from the bundle's configuration, or None when it
        cannot be rebuilt from these data.
    reference, reference_scores
        Features and calibrated probabilities of the sampled training dates; empty when
        ``profile`` is given.
    reference_dates
        The sampled dates; empty when ``profile`` is given.
    new_labels
        Eligible rows after the cut-off with a complete label: ``as_of``, ``label``,
        ``probability``; possibly empty.
    next_label
        The first as-of date after the cut-off and the day its label will be complete.
    profile
        The bundle's stored reference profile of the training rows, or None when the
        bundle has none (the reference is then rebuilt from the data).
    """

    as_of: pd.Timestamp
    observed: pd.Timestamp
    latest: pd.DataFrame
    latest_scores: pd.DataFrame
    window: TrainingWindow | None
    reference: pd.DataFrame
    reference_scores: np.ndarray
    reference_dates: list[pd.Timestamp]
    new_labels: pd.DataFrame
    next_label: tuple[pd.Timestamp, pd.Timestamp]
    profile: ReferenceProfile | None = None


def load_populations(
    data_dir: str | Path,
    bundle: ModelBundle,
    *,
    mapping: str | Path | None = None,
    threads: int = 1,
    reference_dates: int = REFERENCE_DATES,
) -> Populations:
    """Read the export and build the latest, reference and newly labelled populations.

    Parameters
    ----------
    data_dir
        The export folder (validated against the data contract on reading).
    bundle
        The audited model.
    mapping
        Column mapping of the export, as for the other commands.
    threads
        DuckDB and LightGBM threads.
    reference_dates
        How many training dates the reference population samples.

    Returns
    -------
    Populations
    """
    from risk.ingestion import read_portfolio

    portfolio = read_portfolio(data_dir, mapping=mapping)
    observed = observed_until(portfolio)
    if observed is None:
        raise ValueError(NO_LEDGER.format(path=data_dir))
    manifest = bundle.manifest
    as_of = month_start(observed)
    latest = build_features(portfolio, as_of, threads=threads)
    latest_scores = score_features(latest, bundle, threads=threads)

    window = _window(portfolio, manifest)
    profile = _stored_profile(bundle)
    # The stored profile is the training population itself: rebuilding a sample of it
    # from the data would cost features of several dates and say less.
    dates = [] if profile is not None else _sample(window.dates if window else (), reference_dates)
    if dates:
        reference = build_features(portfolio, dates, threads=threads)
        reference_scores = bundle.predict_proba(reference, threads=threads)
    else:
        reference, reference_scores = latest.iloc[:0], np.empty(0)

    cutoff = pd.Timestamp(manifest["train_until"])
    horizon = int(manifest["horizon_months"])
    first_after = (
        month_start(cutoff) if month_start(cutoff) == cutoff else add_months(month_start(cutoff), 1)
    )
    new_labels = _new_labels(
        portfolio, bundle, first_after, observed, horizon, manifest["label"], threads
    )
    return Populations(
        as_of=as_of,
        observed=observed,
        latest=latest,
        latest_scores=latest_scores,
        window=window,
        reference=reference,
        reference_scores=np.asarray(reference_scores, dtype=np.float64),
        reference_dates=list(dates),
        new_labels=new_labels,
        next_label=(first_after, add_months(first_after, horizon)),
        profile=profile,
    )


def _stored_profile(bundle: ModelBundle) -> ReferenceProfile | None:
    """Return the bundle's reference profile when it has one and risk.monitoring imports.

    Without :mod:`risk.monitoring` the profile cannot be compared with anything, so the
    report falls back on a reference rebuilt from the data and its own PSI.
    """
    try:
        import risk.monitoring  # noqa: F401
    except ImportError:
        return None
    return bundle.reference


def _window(portfolio: Portfolio, manifest: dict) -> TrainingWindow | None:
    """Rebuild the training window as the run saw it: its data settings and its cut-off."""
    settings = dict((manifest.get("config") or {}).get("data") or {})
    settings["train_until"] = manifest["train_until"]
    try:
        return training_window(portfolio, DataConfig.model_validate(settings))
    except ValueError:
        # Another export than the one trained on may not cover the window: the report
        # then says so rather than inventing a reference.
        return None


def _sample(dates: tuple[pd.Timestamp, ...] | list[pd.Timestamp], n: int) -> list[pd.Timestamp]:
    if len(dates) <= n:
        return list(dates)
    positions = np.unique(np.linspace(0, len(dates) - 1, n).round().astype(int))
    return [dates[i] for i in positions]


def _new_labels(
    portfolio: Portfolio,
    bundle: ModelBundle,
    first: pd.Timestamp,
    observed: pd.Timestamp,
    horizon: int,
    label: str,
    threads: int,
) -> pd.DataFrame:
    empty = pd.DataFrame({"as_of": [], "label": [], "probability": []})
    if label not in LABELS or LABELS[label].source != "ledger":
        return empty  # the team's own outcomes are not in the export
    dates = []
    date = first
    while label_complete_by(date, horizon, observed):
        dates.append(date)
        date = add_months(date, 1)
    if not dates:
        return empty
    labels = build_labels(
        portfolio,
        dates,
        label=label,
        horizon_months=horizon,
        known_until=observed,
    )
    rows = labelled_rows(build_features(portfolio, dates, threads=threads), labels)
    return pd.DataFrame(
        {
            "tenancy_id": rows["tenancy_id"].astype(str).to_numpy(),
            "as_of": rows["as_of"].to_numpy(),
            "label": rows["label"].to_numpy(dtype=np.int8),
            "probability": bundle.predict_proba(rows, threads=threads),
        }
    )
