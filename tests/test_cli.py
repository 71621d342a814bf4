"""The command line, end to end on a small simulated export."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from risk.catalogue import FEATURES
from risk.cli import app

runner = CliRunner()


def test_validate_accepts_a_simulated_export(small_export: Path) -> None:
    result = runner.invoke(app, ["validate", str(small_export)])
    assert result.exit_code == 0, result.output


def test_validate_exits_1_and_names_the_problem_when_a_table_is_missing(
    small_export: Path, tmp_path: Path
) -> None:
    for name in ("tenancies", "incomes", "apl"):
        (tmp_path / f"{name}.parquet").write_bytes((small_export / f"{name}.parquet").read_bytes())
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "ledger" in result.output


def test_validate_writes_nothing_into_the_export(small_export: Path) -> None:
    before = sorted(p.name for p in small_export.rglob("*"))
    runner.invoke(app, ["validate", str(small_export)])
    assert sorted(p.name for p in small_export.rglob("*")) == before


def test_features_writes_one_row_per_present_tenancy_and_every_catalogue_feature(
    small_export: Path, tmp_path: Path
) -> None:
    out = tmp_path / "features.parquet"
    result = runner.invoke(
        app,
        [
            "features",
            str(small_export),
            "--as-of",
            "2024-03-01",
            "--as-of",
            "2024-06-01",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["tenancy_id", "as_of", *(f.name for f in FEATURES)]
    assert set(frame["as_of"]) == {pd.Timestamp("2024-03-01"), pd.Timestamp("2024-06-01")}
    assert not frame.duplicated(["tenancy_id", "as_of"]).any()


def test_labels_writes_the_named_label_as_csv(small_export: Path, tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    result = runner.invoke(
        app,
        [
            "labels",
            str(small_export),
            "--as-of",
            "2024-06-01",
            "--label",
            "first_arrears",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert {"tenancy_id", "as_of", "label", "status"} <= set(frame.columns)
    assert frame["label"].dropna().isin([0, 1]).all()


def test_features_refuses_an_invalid_export_with_exit_code_1(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["features", str(tmp_path), "--as-of", "2024-06-01", "--out", str(tmp_path / "f.parquet")],
    )
    assert result.exit_code == 1
    assert not (tmp_path / "f.parquet").exists()


def test_an_as_of_that_is_not_a_date_is_refused_by_name(small_export: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["features", str(small_export), "--as-of", "2024-13-01", "--out", str(tmp_path / "f")]
    )
    assert result.exit_code == 2
    assert "2024-13-01" in result.output


def test_an_unknown_label_name_is_refused_with_the_known_ones(
    small_export: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "labels",
            str(small_export),
            "--as-of",
            "2024-06-01",
            "--label",
            "nope",
            "--out",
            str(tmp_path / "l.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "first_arrears" in result.output


def test_a_bad_outcomes_table_exits_1_with_its_named_error(
    small_export: Path, tmp_path: Path
) -> None:
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("tenancy_id,as_of,label\nT0000001,2024-06-01,3\n")
    result = runner.invoke(
        app,
        [
            "labels",
            str(small_export),
            "--as-of",
            "2024-06-01",
            "--label",
            "outcomes",
            "--outcomes",
            str(outcomes),
            "--out",
            str(tmp_path / "l.csv"),
        ],
    )
    assert result.exit_code == 1
    assert "outcomes_label_not_binary" in result.output
    assert not (tmp_path / "l.csv").exists()


def test_known_until_leaves_the_labels_past_the_cut_off_incomplete(
    small_export: Path, tmp_path: Path
) -> None:
    out = tmp_path / "labels.csv"
    result = runner.invoke(
        app,
        [
            "labels",
            str(small_export),
            "--as-of",
            "2024-06-01",
            "--known-until",
            "2024-07-01",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(out)["status"]) <= {"incomplete", "in_arrears_at_as_of"}


def test_a_missing_outcomes_file_exits_1_naming_it(small_export: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    result = runner.invoke(
        app,
        [
            "labels",
            str(small_export),
            "--as-of",
            "2024-06-01",
            "--label",
            "outcomes",
            "--outcomes",
            str(missing),
            "--out",
            str(tmp_path / "l.csv"),
        ],
    )
    assert result.exit_code == 1
    assert "nowhere.csv" in result.output
    assert "Traceback" not in result.output


def test_simulate_refuses_an_unknown_profile_without_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "--out", str(tmp_path), "--tenancies", "100", "--profile", "foo"]
    )
    assert result.exit_code == 2
    assert "foo" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "module", ["risk.cli", "risk.cli_models", "risk.cli_monitor", "risk.cli_report", "risk.demo"]
)
def test_every_command_module_can_be_imported_first(module: str) -> None:
    # A notebook imports risk.cli_models before anything else; the command modules must
    # not depend on the order in which they are first imported.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
