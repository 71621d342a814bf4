"""Fixtures shared across the suite."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

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
