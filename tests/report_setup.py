"""One trained and promoted registry for the report tests, built once per session.

``tests/test_report.py`` and ``tests/test_report_render.py`` both read it; conftest.py
imports the fixtures so that they share one instance (a fixture imported into each test
module would be built once per module). The configuration is the small one of
``tests/test_cli_models.py``: 1,500 simulated tenancies, three test months, one fold,
sixty rounds, twenty bootstrap replicates, one thread.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

import risk.cli_report  # noqa: F401 - registers the command until cli.py imports it
from risk.cli import app
from risk.registry import Registry

runner = CliRunner()

SMALL_CONFIG: dict[str, Any] = {
    "backtest": {"test_months": 3, "refit_every_months": 3, "validation_months": 2},
    "model": {"max_rounds": 60, "early_stopping_rounds": 15, "min_child_samples": 50, "threads": 1},
    "evaluation": {"capacities": ["5%", 20], "bootstrap": 20, "oracle_paths": 20},
    "promotion": {"max_ece": 0.10},
}
OWNER = "Équipe données du bailleur"


def invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def chromium_or_skip() -> None:
    """Install Debian's chromium when it is missing; skip only if that is impossible."""
    from risk.report import find_chromium

    if find_chromium() is not None:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("no Chromium, and apt-get is unavailable or not root: cannot print the PDF")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(
        ["apt-get", "install", "-y", "chromium"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    if done.returncode != 0 or find_chromium() is None:
        pytest.skip(f"apt-get install chromium failed: {done.stderr[-300:]}")


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from risk import simulate

    folder = tmp_path_factory.mktemp("export")
    simulate(n_tenancies=1500, start="2019-01", end="2021-06", seed=3).write(folder)
    return folder


@pytest.fixture(scope="session")
def empty_mlflow_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """An MLflow SQLite store with its schema, to copy (MLflow's migrations take seconds).

    Kept across sessions in pytest's cache.
    """
    import mlflow

    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir(f"mlflow-{mlflow.__version__}") if cache else tmp_path_factory.mktemp("db")
    cached = folder / "mlflow.db"
    if not cached.exists():
        template = tmp_path_factory.mktemp("template")
        Registry(template).client.search_experiments()  # creates the schema
        os.replace(template / "mlflow.db", cached)
    return cached


def store_in(folder: Path, database: Path) -> Path:
    """Give ``folder`` an ``mlruns/`` store copied from the empty database."""
    (folder / "mlruns").mkdir()
    shutil.copy(database, folder / "mlruns" / "mlflow.db")
    return folder


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory, empty_mlflow_database: Path) -> Path:
    """The report tests' folder, with its MLflow store."""
    return store_in(tmp_path_factory.mktemp("work"), empty_mlflow_database)


@pytest.fixture(scope="session")
def config_file(workdir: Path) -> Path:
    content = json.loads(json.dumps(SMALL_CONFIG))
    content["tracking"] = {"root": str(workdir / "mlruns"), "owner": OWNER}
    path = workdir / "train.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def registry(export_dir: Path, config_file: Path, workdir: Path) -> Registry:
    """Version 1 trained and promoted champion."""
    trained = invoke("train", export_dir, "--config", config_file)
    assert trained.exit_code == 0, trained.output
    promoted = invoke("promote", "--config", config_file)
    assert promoted.exit_code == 0, promoted.output
    return Registry(workdir / "mlruns")
