"""The main job on built-in defaults (the README's first command)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from risk.cli import app
from risk.config import load_config
from risk.demo import run_demo


def test_demo_runs_the_whole_chain_and_every_label_row_has_features(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    result = run_demo(out=tmp_path, n_tenancies=300, seed=3, console=console, train=False)
    text = console.export_text()
    assert "Validation" in text and "meets the data contract" in text
    assert (result.data_dir / "ledger.parquet").exists()
    keys = ["tenancy_id", "as_of"]
    assert len(result.features) == len(result.labels) > 0
    merged = result.features.merge(result.labels, on=keys, how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert result.labels["label"].dropna().isin([0, 1]).all()
    assert result.labels["label"].dropna().sum() > 0
    assert result.training is None


@pytest.mark.slow
def test_demo_trains_registers_promotes_and_prints_the_worklist(tmp_path: Path) -> None:
    # The built-in configuration, lightened only where it costs time, not in what it does.
    config = load_config(
        None,
        backtest__test_months=6,
        evaluation__bootstrap=30,
        evaluation__oracle_paths=30,
        model__max_rounds=150,
        promotion__max_ece=0.05,  # a 1,500-tenancy portfolio gives a noisy ECE
    )
    console = Console(record=True, width=160)
    result = run_demo(out=tmp_path, n_tenancies=1_500, seed=1, console=console, config=config)
    text = console.export_text()
    assert result.training is not None and result.scores is not None
    assert result.version == 1 and result.promoted
    assert "version 1 is now champion" in text
    assert "Worklist as of" in text and "contact first" in text
    assert result.report is not None and result.report.is_file()
    assert "10. Report" in text
    oracle = {"lightgbm", "todays_practice", "scorecard", "oracle"}
    assert set(result.training.evaluation["model"]) == oracle
    assert (tmp_path / "mlruns" / "mlflow.db").is_file()
    ranks = result.scores["rank"].to_numpy()
    assert sorted(ranks) == list(range(1, len(ranks) + 1))


def test_demo_command_exits_0(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path), "--tenancies", "200", "--no-train"]
    )
    assert outcome.exit_code == 0, outcome.output
