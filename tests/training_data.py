"""A small labelled training set from a simulated portfolio, built once per test session."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from risk.dataset import labelled_rows, rows_of
from risk.timeline import add_months

FIRST = pd.Timestamp("2019-07-01")
MONTHS = 15


@lru_cache(maxsize=1)
def training_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Training (9 months), validation (3 months) and test (last 3 months) rows."""
    import risk

    simulation = risk.simulate(n_tenancies=2_500, start="2019-01", end="2020-12", seed=3)
    dates = [add_months(FIRST, k) for k in range(MONTHS)]
    features = risk.build_features(simulation.portfolio, dates, threads=1)
    labels = risk.build_labels(simulation.portfolio, dates)
    rows = labelled_rows(features, labels)
    return rows_of(rows, dates[:9]), rows_of(rows, dates[9:12]), rows_of(rows, dates[12:])
