"""The oracle: the true probability of a label given the simulator's hidden state.

For a tenancy present at an as-of date the label (``first_arrears`` by default,
:mod:`risk.labels`) depends on the months that follow. The simulator knows everything
that drives them (the hidden propensity, the true income, shocks, the APL to come, the
follow-up running), so the best any model can do is the probability of the label given
that state. :func:`oracle` estimates it by Monte Carlo: it replays the run up to the
month before each as-of date (the same draws as the run, without recording rows),
copies the state of the tenancies present ``n_paths`` times and rolls the copies
forward over the horizon with **fresh** random streams (never the run's own, which
would replay the realised future), then applies the label's rule to each path and
averages.

The rule is :mod:`risk.labels`'s, applied to the simulator's state instead of the
export (they agree: the state's balance is the ledger's at each month-end, the APL in
force is the ``apl`` table's):

- not eligible (``<NA>``): at the as-of date the balance is positive and at least the
  threshold times the residual rent of the month just ended;
- positive on a path: the threshold is reached at a month-end of the horizon (the
  as-of month and the next ``H - 1``) while the tenancy is still present, or the
  tenancy leaves within the horizon owing at least ``exit_debt_months`` months of
  residual rent at its exit date (before the settlement).

As-of dates must be first days of months, from the second month of the period to the
month after its end: the export summarises the burn-in by an opening balance dated on
the period's first day, so at that date the ledger does not show the debt yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from risk.arrears import behind, residual_rent
from risk.labels import DEFAULT_HORIZON_MONTHS, EXIT_DEBT_MONTHS, LABELS
from risk.simulation.config import SimulationConfig
from risk.simulation.engine import StepResult, replay, step, tenancy_ids
from risk.simulation.months import MonthGrid, month_number
from risk.simulation.persist import population_digest, read_manifest
from risk.simulation.state import CLOSED, PRESENT, Context, State
from risk.timeline import DateLike, as_of_dates

#: Default number of Monte Carlo paths per tenancy: a standard error of at most 3.5
#: points on one probability (0.5 / sqrt(200)), far less on averages over rows.
DEFAULT_PATHS = 200
#: Copies of the state rolled forward at once (tenancies x paths). Fixed, because the
#: random draws depend on it: the same seed and chunk give the same probabilities.
CHUNK_ROWS = 250_000
#: Stream tag of the oracle's generators (the run uses 0-3): see :func:`_generator`.
_ORACLE_STREAM = 4

Idx = npt.NDArray[np.intp]
F = npt.NDArray[np.float64]


def oracle(
    simulation: object,
    as_of: DateLike | Iterable[DateLike],
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    n_paths: int = DEFAULT_PATHS,
    *,
    label: str = "first_arrears",
    exit_debt_months: float = EXIT_DEBT_MONTHS,
    seed: int | None = None,
) -> pd.DataFrame:
    """Return the true probability of a label for every tenancy present at each as-of date.

    Parameters
    ----------
    simulation
        A :class:`~risk.simulation.Simulation`, or a folder written by
        :meth:`~risk.simulation.Simulation.write` (its ``truth/simulation.json``).
    as_of
        One or several as-of dates, each the first day of a month from the second
        month of the period to the month after its end.
    horizon_months
        Horizon of the label, as in :func:`risk.labels.build_labels`.
    n_paths
        Monte Carlo paths per tenancy.
    label
        A ledger label of :data:`risk.labels.LABELS` (``first_arrears``, ``decree_2027``).
    exit_debt_months
        As in :func:`risk.labels.build_labels`.
    seed
        Seed of the roll-outs (the simulation's seed by default).

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`risk.labels.build_labels` (and of the feature builder) for
        those dates, sorted by date then tenancy: ``tenancy_id`` (str), ``as_of``
        (datetime64[ns]), ``oracle_probability`` (float64, NaN when not eligible) and
        ``eligible`` (bool: below the threshold at the as-of date).
    """
    rule = LabelRule.of(label, exit_debt_months)
    if type(horizon_months) is not int or horizon_months < 1:
        raise ValueError(f"horizon_months must be a positive whole number, got {horizon_months!r}")
    if n_paths < 1:
        raise ValueError(f"n_paths must be positive, got {n_paths}")
    config, digest = _source(simulation)
    dates = as_of_dates(as_of)
    first = _first_months(config, dates)
    seed = config.seed if seed is None else seed
    wanted = {m - 1: (date, m) for date, m in zip(dates, first, strict=True)}
    parts: list[tuple[Idx, pd.Timestamp, F, npt.NDArray[np.bool_]]] = []

    def at_month_end(m: int, state: State, ctx: Context) -> None:
        if m == 0 and digest is not None and population_digest(state) != digest:
            raise ValueError(
                "the replayed population differs from the simulation's: the simulator "
                "changed since it was written, replay it with the same version"
            )
        if m not in wanted:
            return
        date, month = wanted[m]
        rows = np.flatnonzero(state.phase == PRESENT)
        eligible = ~rule.reached(
            state.balance[rows], _residual(state, rows, month - 1), rule.months
        )
        probability = np.full(len(rows), np.nan)
        probability[eligible] = roll_out_label(
            state, rows[eligible], ctx, month, horizon_months, n_paths, rule, seed
        )
        parts.append((rows, date, probability, eligible))

    # Month 0 is always replayed, for the population check.
    replay(config, max(max(wanted), 0), at_month_end)
    ids = tenancy_ids(config.n_tenancies)
    frames = []
    for rows, date, probability, eligible in parts:
        frames.append(
            pd.DataFrame(
                {
                    "tenancy_id": ids.take(rows).to_pandas().astype("str"),
                    "as_of": np.full(len(rows), date.to_datetime64(), dtype="datetime64[ns]"),
                    "oracle_probability": probability,
                    "eligible": eligible,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class LabelRule:
    """A ledger label's thresholds, applied to balances and residual rents (EUR).

    Parameters
    ----------
    months
        In arrears from this balance, in months of residual rent (inclusive).
    eur
        Also in arrears above this balance, EUR (``None``: no such rule).
    exit_months
        A departure counts as positive from this balance at the exit date, in months.
    """

    months: float
    eur: float | None
    exit_months: float

    @classmethod
    def of(cls, label: str, exit_debt_months: float = EXIT_DEBT_MONTHS) -> LabelRule:
        """Return the rule of a ledger label of :data:`risk.labels.LABELS`."""
        definition = LABELS.get(label)
        if definition is None or definition.threshold_months is None:
            ledger_labels = [n for n, d in LABELS.items() if d.threshold_months is not None]
            raise ValueError(f"label must be one of {ledger_labels}, got {label!r}")
        return cls(
            months=float(definition.threshold_months),
            eur=definition.threshold_eur,
            exit_months=float(exit_debt_months),
        )

    def reached(
        self, balance: F, residual: F, months: float, eur: bool = True
    ) -> npt.NDArray[np.bool_]:
        """Whether ``balance`` is at least ``months`` of ``residual`` (or above the EUR cap).

        Compared to the cent, and a balance of zero or less never counts, as in
        :mod:`risk.labels`; ``eur=False`` ignores the EUR cap (the exit rule).
        """
        return behind(balance, residual, months, self.eur if eur else None)


def _residual(state: State, rows: Idx, m: int) -> F:
    """Residual rent of month ``m`` (the APL in force that month, if paid to the landlord)."""
    in_force = np.where(state.apl_m[rows] <= m, state.apl[rows], 0.0)
    return residual_rent(state.rent[rows], in_force, state.tiers[rows])


def roll_out_label(
    state: State,
    rows: Idx,
    ctx: Context,
    first_month: int,
    horizon_months: int,
    n_paths: int,
    rule: LabelRule,
    seed: int,
) -> F:
    """Share of ``n_paths`` roll-outs from ``state`` on which each of ``rows`` is positive.

    ``state`` is the state at the end of month ``first_month - 1`` and is not modified.
    Copies are rolled in chunks of :data:`CHUNK_ROWS`, each with its own generator.
    """
    out = np.empty(len(rows))
    per_chunk = max(1, CHUNK_ROWS // n_paths)
    for c, lo in enumerate(range(0, len(rows), per_chunk)):
        chunk = rows[lo : lo + per_chunk]
        work = state.subset(np.repeat(chunk, n_paths))
        rng = _generator(seed, ctx, first_month, c)
        positive = positive_paths(work, first_month, horizon_months, _stepper(ctx, rng), rule)
        out[lo : lo + per_chunk] = positive.reshape(len(chunk), n_paths).mean(axis=1)
    return out


def positive_paths(
    work: State,
    first_month: int,
    horizon_months: int,
    advance_month: Callable[[State, int], StepResult],
    rule: LabelRule,
    *,
    stop_when_positive: bool = True,
) -> npt.NDArray[np.bool_]:
    """Advance ``work`` (modified) over the horizon; return whether each row is positive.

    Parameters
    ----------
    work
        State at the end of month ``first_month - 1``, rows being tenancies or paths.
    first_month, horizon_months
        First month of the horizon (the as-of month) and its length.
    advance_month
        Advances the state by one month: :func:`~risk.simulation.engine.step` with the
        oracle's generator, or :func:`~risk.simulation.engine.advance` with the run's
        own streams (the realised path, for tests).
    rule
        The label's thresholds.
    stop_when_positive
        Stop simulating rows once positive (faster; changes later draws, so off when
        replaying the run's own streams).
    """
    positive = np.zeros(len(work), dtype=bool)
    for j in range(horizon_months):
        result = advance_month(work, first_month + j)
        rows, left = result.rows, result.leaving
        # A month-end counts while the tenancy is still there; a departure counts by
        # the debt at the exit date.
        at_end = ~left & rule.reached(result.balance, result.residual, rule.months)
        with_debt = left & rule.reached(result.balance, result.residual, rule.exit_months, False)
        positive[rows[at_end | with_debt]] = True
        if stop_when_positive:
            # Those who left are settling and no longer stepped anyway.
            work.phase[rows[at_end]] = CLOSED
    return positive


def _stepper(ctx: Context, rng: np.random.Generator) -> Callable[[State, int], StepResult]:
    """Return a silent month step drawing from ``rng``."""
    return lambda work, m: step(work, ctx, m, rng, None)


def _generator(seed: int, ctx: Context, first_month: int, chunk: int) -> np.random.Generator:
    """Return the generator of one chunk of roll-outs: its own stream, never the run's."""
    return np.random.default_rng([seed, _ORACLE_STREAM, first_month - ctx.grid.lo, chunk])


def _first_months(config: SimulationConfig, dates: list[pd.Timestamp]) -> list[int]:
    """Return the month index of each as-of date; refuse dates the oracle cannot serve."""
    grid = MonthGrid.build(config.start, config.end, config.burn_in_months)
    months = []
    for date in dates:
        if date.day != 1:
            raise ValueError(f"as-of dates must be first days of months, got {date.date()}")
        m = month_number(date.strftime("%Y-%m")) - grid.origin
        if not 1 <= m <= grid.n_months:
            raise ValueError(
                f"as-of date {date.date()} is outside the simulation: from the second month "
                f"of {config.start}..{config.end} to the month after its end"
            )
        months.append(m)
    return months


def _source(simulation: object) -> tuple[SimulationConfig, str | None]:
    """Return the configuration and population digest of a simulation or a written folder."""
    if isinstance(simulation, str | Path):
        config, content = read_manifest(simulation)
        return config, content.get("population_digest")
    given, state = getattr(simulation, "config", None), getattr(simulation, "state", None)
    if not isinstance(given, SimulationConfig) or not isinstance(state, State):
        raise TypeError("oracle needs a Simulation or the folder it was written to")
    return given, population_digest(state)
