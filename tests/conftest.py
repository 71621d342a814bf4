"""Fixtures shared across the suite."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# A PostgreSQL server of the session, and databases over SQLite and it (the API stores).
from api_setup import api, api_bundle_dirs, facts, present_ids  # noqa: F401
from postgres_server import database_url, postgres_url  # noqa: F401

# One trained registry shared by the report tests (see tests/report_setup.py).
from report_setup import (  # noqa: F401
    config_file,
    empty_mlflow_database,
    export_dir,
    registry,
    workdir,
)

if TYPE_CHECKING:
    from risk.simulation import Simulation


@pytest.fixture(scope="session")
def small_simulation() -> Simulation:
    """A small simulated portfolio (400 tenancies, 2019-2024), built once per session."""
    from risk.simulation import simulate

    return simulate(n_tenancies=400, start="2019-01", end="2024-12", seed=7)


@pytest.fixture(scope="session")
def small_export(small_simulation: Simulation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small portfolio written as a Parquet export folder."""
    folder = tmp_path_factory.mktemp("export")
    small_simulation.write(folder)
    return folder


# --- model fixtures (tests/test_bundle.py, tests/test_scoring.py) -----------------------
# A tiny ArrearsModel fitted once per session on a small simulated portfolio, for the
# bundle and scoring tests. Training months 2019-07..2020-02, validation 2020-03..2020-06.


@pytest.fixture(scope="session")
def model_simulation() -> Simulation:
    """A 1,500-tenancy portfolio over 2019-2020, for fitting a tiny model."""
    from risk.simulation import simulate

    return simulate(n_tenancies=1500, start="2019-01", end="2020-12", seed=0)


@pytest.fixture(scope="session")
def fitted_model(model_simulation: Simulation):
    """An ArrearsModel fitted on the model simulation with a few rounds."""
    import pandas as pd

    import risk
    from risk.estimator import ArrearsModel

    dates = pd.date_range("2019-07-01", "2020-06-01", freq="MS")
    features = risk.build_features(model_simulation.portfolio, dates)
    labels = risk.build_labels(model_simulation.portfolio, dates)
    rows = features.merge(labels, on=["tenancy_id", "as_of"])
    rows = rows[rows["label"].notna()]
    train = rows[rows["as_of"] < "2020-03-01"]
    valid = rows[rows["as_of"] >= "2020-03-01"]
    # The former default tree size: the golden explanations were recorded with it.
    model = ArrearsModel(
        max_rounds=30,
        early_stopping_rounds=10,
        min_child_samples=20,
        num_leaves=31,
        learning_rate=0.05,
    )
    return model.fit(
        train, train["label"].astype(int), valid, valid["label"].astype(int),
        valid["tenancy_id"].to_numpy(),
    )
