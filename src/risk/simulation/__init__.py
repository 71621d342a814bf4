"""A simulated landlord's portfolio, in the data contract, with its hidden truth.

:func:`simulate` draws residences, tenancies and households and runs them month by
month: employment and incomes, housing benefit (with the 2021 reform), rent billing and
payments, arrears, follow-up, entries and departures. It returns a :class:`Simulation`
holding the :class:`~risk.portfolio.Portfolio` a landlord would export and the truth
table the package's features never read. :func:`calibration_table` sets the
simulated values beside the field figures of ``DOMAIN.md``; :func:`oracle` gives the
true probability of a label from the simulator's hidden state. See
``docs/simulation.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from risk.portfolio import Portfolio
from risk.simulation.calibration import calibration_table
from risk.simulation.config import SimulationConfig
from risk.simulation.engine import run
from risk.simulation.persist import MANIFEST, manifest, write_manifest
from risk.simulation.rollout import oracle
from risk.simulation.state import Context, State

__all__ = ["Simulation", "SimulationConfig", "calibration_table", "oracle", "simulate"]

#: Subfolder of a written simulation holding the truth table.
TRUTH_DIR = "truth"


@dataclass(frozen=True)
class Simulation:
    """A simulated portfolio and its truth.

    Parameters
    ----------
    portfolio
        The contract tables, as a landlord's export would hold them.
    truth
        Per tenancy and month, the hidden state and the true probability of missing a
        payment (see :data:`risk.simulation.truth.TRUTH_COLUMNS`).
    config
        The configuration the portfolio was drawn with.
    state, context
        The simulator's final state and context (for roll-outs and diagnostics).
    """

    portfolio: Portfolio
    truth: pd.DataFrame
    config: SimulationConfig
    state: State
    context: Context

    def write(self, directory: str | Path) -> Path:
        """Write the portfolio's parquet files and, in ``truth/``, the truth and the manifest.

        ``truth/truth.parquet`` is the truth table; ``truth/simulation.json`` the whole
        configuration (seed included) with a digest of the population, from which the
        run can be replayed (:func:`oracle` does). The same seed
        and configuration write the same bytes.
        """
        out = self.portfolio.write(directory)
        truth_dir = out / TRUTH_DIR
        truth_dir.mkdir(parents=True, exist_ok=True)
        self.truth.to_parquet(truth_dir / "truth.parquet", index=False)
        rows = {**self.portfolio.summary(), "truth": len(self.truth)}
        write_manifest(truth_dir / MANIFEST, manifest(self.config, self.state, rows))
        return out


def simulate(
    config: SimulationConfig | None = None,
    *,
    n_tenancies: int | None = None,
    start: str | None = None,
    end: str | None = None,
    seed: int | None = None,
    profile: str | None = None,
) -> Simulation:
    """Simulate a portfolio.

    Parameters
    ----------
    config
        Full configuration; the defaults of :class:`SimulationConfig` when ``None``.
    n_tenancies, start, end, seed, profile
        Override the matching configuration field when given (defaults: 10,000
        tenancies, ``2019-01`` to ``2024-12``, seed 0, profile ``residences``).

    Returns
    -------
    Simulation
        The portfolio and its truth; the same arguments give the same frames.
    """
    config = config or SimulationConfig()
    changes = {
        key: value
        for key, value in {
            "n_tenancies": n_tenancies,
            "start": start,
            "end": end,
            "seed": seed,
            "profile": profile,
        }.items()
        if value is not None
    }
    if changes:
        config = config.with_(**changes)
    output = run(config)
    return Simulation(
        portfolio=output.portfolio,
        truth=output.truth,
        config=config,
        state=output.state,
        context=output.context,
    )
