"""The simulator meets the field figures of DOMAIN.md for each profile.

40,000 tenancies is the smallest size at which the figures on households in arrears
(about 600 of them on 31 August 2024 for ``residences``, as many as the ALFI study's
279 twice over) are stable from one seed to the next; each run takes a few seconds.
"""

from __future__ import annotations

import pytest

from risk.simulation import simulate
from risk.simulation.calibration import FIGURES, calibration_table, check

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("profile", ["residences", "hlm"])
def test_a_mid_size_run_meets_every_figure_of_its_profile(profile: str) -> None:
    simulation = simulate(n_tenancies=40_000, seed=2024, profile=profile)
    failures = check(simulation)
    assert failures.empty, failures.to_string()


def test_the_table_lists_every_figure_with_its_target_value_and_verdict() -> None:
    table = calibration_table(simulate(n_tenancies=2000, seed=1), "residences")
    assert list(table["figure"]) == [f.name for f in FIGURES]
    assert {"source", "target", "simulated", "tolerance", "n", "checked", "passed"} <= set(table)
    assert table.loc[table["figure"] == "apl_share_2024", "target"].item() == pytest.approx(0.3738)
    checked = set(table.loc[table["checked"], "figure"])
    assert "apl_share_2020" in checked and "no_guarantee_entrants_in_arrears" not in checked


def test_every_profile_has_figures_to_meet() -> None:
    for profile in ("residences", "hlm"):
        assert any(profile in f.profiles for f in FIGURES)
