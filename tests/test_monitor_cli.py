"""``risk monitor``: a month of the training portfolio is stable, a moved portfolio is not.

The model is trained once for the module by :func:`risk.training.train` on the session's
1,500-tenancy simulation (``model_simulation`` in conftest.py, 2019-2020) with a small
configuration (one backtest fold, thirty rounds, one thread), so that its bundle carries
the reference profile training fits. The drifted export is the same one with every
household's income halved: income, its band and the effort rate move, nothing else does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner, Result

from risk import bundle as bd
from risk.catalogue import feature_names, get_feature
from risk.cli import app
from risk.cli_monitor import NO_REFERENCE, SEASONAL_GROUP, seasonal_features
from risk.config import TrainConfig

if TYPE_CHECKING:
    from risk.simulation import Simulation
    from risk.training import TrainingResult

runner = CliRunner()

#: A month inside the training window: the population is the one the model learnt on.
STABLE_MONTH = "2020-10-01"
SMALL_CONFIG: dict[str, Any] = {
    "backtest": {"test_months": 2, "refit_every_months": 2, "validation_months": 2},
    "model": {"max_rounds": 30, "early_stopping_rounds": 10, "min_child_samples": 50, "threads": 1},
    "evaluation": {"capacities": ["5%"], "bootstrap": 20, "oracle_paths": 10},
}


def monitor(data: Path, model: Path, config: Path, as_of: str = STABLE_MONTH) -> Result:
    args = ["monitor", data, "--as-of", as_of, "--model", model, "--config", config]
    return runner.invoke(app, [str(a) for a in args])


def flat(result: Result) -> str:
    """The output on one line, whatever the terminal's width wrapped."""
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def trained(model_simulation: Simulation) -> TrainingResult:
    from risk.training import train

    return train(model_simulation.portfolio, TrainConfig.model_validate(SMALL_CONFIG))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("monitor")


@pytest.fixture(scope="module")
def bundle_dir(trained: TrainingResult, folder: Path) -> Path:
    return trained.bundle.write(folder / "bundle")


@pytest.fixture(scope="module")
def config_file(folder: Path) -> Path:
    content = {"model": {"threads": 1}, "tracking": {"root": str(folder / "mlruns")}}
    path = folder / "monitor.yaml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def export_dir(model_simulation: Simulation, folder: Path) -> Path:
    target = folder / "export"
    model_simulation.write(target)
    return target


@pytest.fixture(scope="module")
def poorer_export(export_dir: Path, folder: Path) -> Path:
    """The same export with every household's income halved."""
    target = folder / "poorer"
    shutil.copytree(export_dir, target)
    incomes = pd.read_parquet(target / "incomes.parquet")
    incomes["monthly_income"] = incomes["monthly_income"] / 2
    incomes.to_parquet(target / "incomes.parquet", index=False)
    return target


@pytest.fixture
def copied_bundle(bundle_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))


# --- the profile training stores ------------------------------------------------------------


def test_training_stores_the_profile_of_the_rows_the_final_model_learnt_from(
    trained: TrainingResult, bundle_dir: Path
) -> None:
    reference = bd.ModelBundle.load(bundle_dir).reference
    assert reference is not None
    assert reference.rows == trained.rows  # under REFERENCE_ROWS: every row, no sample
    assert reference.names == trained.bundle.feature_names
    assert reference.has_score


# --- the command ----------------------------------------------------------------------------


def test_a_month_of_the_training_portfolio_is_stable_and_exits_0(
    export_dir: Path, bundle_dir: Path, config_file: Path
) -> None:
    result = monitor(export_dir, bundle_dir, config_file)
    assert result.exit_code == 0, result.output
    output = flat(result)
    assert f"Population stability on {STABLE_MONTH}" in output
    assert "no feature nor the score at PSI ≥ 0.25" in output
    assert "score (probability)" in output


def test_calendar_month_drifts_by_construction_and_is_shown_but_not_counted(
    export_dir: Path, bundle_dir: Path, config_file: Path
) -> None:
    result = monitor(export_dir, bundle_dir, config_file)
    output = flat(result)
    # One month holds one calendar month: its PSI is far above 0.25, yet the exit is 0.
    assert result.exit_code == 0
    assert "calendar_month †" in output
    assert "not counted: calendar_month (catalogue reason group 'calendar')" in output


def test_the_seasonal_features_are_read_from_the_catalogue() -> None:
    seasonal = seasonal_features(feature_names())
    assert seasonal == ["calendar_month"]
    assert all(get_feature(name).reason_group == SEASONAL_GROUP for name in seasonal)


def test_halved_incomes_exit_1_naming_the_income_features(
    poorer_export: Path, bundle_dir: Path, config_file: Path
) -> None:
    result = monitor(poorer_export, bundle_dir, config_file)
    assert result.exit_code == 1, result.output
    output = flat(result)
    verdict = output[output.index("act: the population has moved") :]
    assert "income_monthly" in verdict
    assert "calendar_month" not in verdict
    assert "à traiter" in output  # the status, in French first


def test_a_bundle_without_a_reference_profile_exits_1_saying_so(
    export_dir: Path, copied_bundle: Path, config_file: Path
) -> None:
    # As an older bundle: no reference.json, and a manifest that never listed one.
    (copied_bundle / bd.REFERENCE_FILE).unlink()
    manifest = json.loads((copied_bundle / bd.MANIFEST_FILE).read_text(encoding="utf-8"))
    del manifest["files"][bd.REFERENCE_FILE]
    (copied_bundle / bd.MANIFEST_FILE).write_bytes(bd.manifest_bytes(manifest))
    assert bd.ModelBundle.load(copied_bundle).reference is None
    result = monitor(export_dir, copied_bundle, config_file)
    assert result.exit_code == 1
    assert " ".join(NO_REFERENCE.format(model=copied_bundle).split()) in flat(result)


def test_a_tampered_reference_profile_is_refused_at_load(
    export_dir: Path, copied_bundle: Path, config_file: Path
) -> None:
    path = copied_bundle / bd.REFERENCE_FILE
    profile = json.loads(path.read_text(encoding="utf-8"))
    profile["rows"] += 1
    path.write_bytes(bd.manifest_bytes(profile))
    with pytest.raises(bd.BundleError) as caught:
        bd.ModelBundle.load(copied_bundle)
    assert caught.value.code == bd.TAMPERED
    result = monitor(export_dir, copied_bundle, config_file)
    assert result.exit_code == 1
    assert bd.TAMPERED.format(name=bd.REFERENCE_FILE) in flat(result)
