"""``risk simulate --check``: the calibration table on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from risk.cli import app
from risk.simulation.calibration import FIGURES

runner = CliRunner()


@pytest.mark.slow
def test_check_prints_every_figure_and_exits_0_when_the_profile_meets_its_figures() -> None:
    # The run of the calibration test (40,000 HLM tenancies, seed 2024), a few seconds.
    result = runner.invoke(
        app, ["simulate", "--check", "--tenancies", "40000", "--seed", "2024", "--profile", "hlm"]
    )
    assert result.exit_code == 0, result.output
    for figure in FIGURES:
        line = next(x for x in result.output.splitlines() if x.startswith(figure.name + " "))
        assert f"{figure.target:.3f}" in line and f"{figure.tolerance:.3f}" in line
        assert line.endswith(" yes") if "hlm" in figure.profiles else line.endswith(" -")
    assert "3 of 3 checked figures within tolerance" in result.output


def test_check_exits_1_when_a_figure_of_the_profile_is_missed() -> None:
    # A period without 2020 cannot show the lockdown figure the HLM profile must meet.
    result = runner.invoke(
        app,
        ["simulate", "--check", "--tenancies", "2000", "--start", "2022-01", "--profile", "hlm"],
    )
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if x.startswith("lockdown_debt_eased"))
    assert "n/a" in line and line.endswith(" NO")
    assert "tolerances assume 40,000 tenancies" in result.output


def test_check_also_writes_the_portfolio_when_out_is_given(tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = runner.invoke(
        app, ["simulate", "--check", "--tenancies", "300", "--start", "2024-01", "--out", str(out)]
    )
    assert result.exit_code == 1  # a 2024-only run misses the 2020 figures
    assert (out / "ledger.parquet").exists()
    assert "apl_share_2024" in result.output


def test_simulate_needs_out_or_check() -> None:
    result = runner.invoke(app, ["simulate", "--tenancies", "200"])
    assert result.exit_code == 2
    assert "--out" in result.output
