"""The main job on built-in defaults (the README's first command)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from risk.cli import app
from risk.demo import run_demo


def test_demo_runs_the_whole_chain_and_every_label_row_has_features(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    result = run_demo(out=tmp_path, n_tenancies=300, seed=3, console=console)
    text = console.export_text()
    assert "Validation" in text and "meets the data contract" in text
    assert (result.data_dir / "ledger.parquet").exists()
    keys = ["tenancy_id", "as_of"]
    assert len(result.features) == len(result.labels) > 0
    merged = result.features.merge(result.labels, on=keys, how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert result.labels["label"].dropna().isin([0, 1]).all()
    assert result.labels["label"].dropna().sum() > 0


def test_demo_command_exits_0(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--tenancies", "200"])
    assert outcome.exit_code == 0, outcome.output
