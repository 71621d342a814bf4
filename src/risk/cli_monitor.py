"""The ``risk monitor`` command: has the portfolio moved away from the one the model learnt on.

It reads the reference profile the model bundle carries (fitted on the final model's
training rows, see :mod:`risk.monitoring`), builds and scores the households present at
``--as-of`` with :func:`risk.scoring.score_portfolio`, compares them feature by feature
and on the score with :func:`risk.monitoring.stability`, prints the drift table and exits
1 when a feature or the score reaches :data:`~risk.monitoring.PSI_ACT`, so that a
scheduled job can raise the alarm. Nothing is computed here.

The current population is the *eligible* households (not yet in arrears at ``--as-of``):
the training rows are households below the arrears threshold at their as-of date (the
label leaves the others out), so comparing every household would make the balance
features drift by construction.

Seasonal features (the catalogue's reason group :data:`SEASONAL_GROUP`, i.e.
``calendar_month``) are shown but left out of the exit decision: one month holds one
value of them while the training population spans many months and so every value, and
their PSI is high whatever happened to the households.

Registered on the ``risk`` app by ``cli.py`` importing this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from risk.cli import app
from risk.cli_common import (
    DEFAULT_MODEL,
    ConfigOpt,
    DataDir,
    MappingOpt,
    ModelOpt,
    _check_optional_date,
    _config,
    _fail,
    _read,
    _registry,
    console,
    err_console,
)

if TYPE_CHECKING:
    import pandas as pd

#: Catalogue reason group whose features drift by construction when one month is
#: compared with a multi-month training population; shown, never counted.
SEASONAL_GROUP = "calendar"
#: Error printed for a bundle without a reference profile.
NO_REFERENCE = (
    "the model {model} has no reference profile (reference.json): it was bundled before "
    "training stored one; retrain it (risk train) to monitor drift"
)
#: Printed when a feature or the score is at or above PSI_ACT.
DRIFT = (
    "act: the population has moved (PSI ≥ {act}) on {names}; check the export first, then "
    "retrain and re-evaluate the model"
)
#: Printed when nothing counted reaches PSI_ACT.
NO_DRIFT = "no feature nor the score at PSI ≥ {act}; to watch (PSI ≥ {watch}): {watched}"
#: Printed under the table for the seasonal features shown but not counted.
SEASONAL = (
    "not counted: {names} (catalogue reason group '{group}'): one month compared with a "
    "training population spanning many months drifts on it by construction"
)
#: Label of the score's row.
SCORE_LABEL = "score (probability)"
#: The command's help: the docstring's lines would be kept as they break in the source.
HELP = (
    "Compare the households present at a date with the model's training population: PSI "
    "of every feature and of the score. Exits 1 when one reaches 0.25 (act), else 0; "
    "calendar_month is shown but not counted (one month against many drifts by construction)."
)


@app.command(help=HELP)
def monitor(
    data_dir: DataDir,
    as_of: Annotated[
        str,
        typer.Option("--as-of", help="As-of date YYYY-MM-DD.", callback=_check_optional_date),
    ],
    model: ModelOpt = DEFAULT_MODEL,
    config_path: ConfigOpt = None,
    mapping: MappingOpt = None,
) -> None:
    """Compare the households present at a date with the model's training population.

    Prints the population stability index (PSI) of every feature and of the score, with
    its status and the bin that moved most. Exits 1 when a feature or the score is at or
    above 0.25 (act), 0 otherwise. Households already in arrears are left out, as they
    were from training; calendar_month is shown but not counted (one month against many
    drifts on it by construction).
    """
    from risk.bundle import BundleError, ModelBundle
    from risk.monitoring import PSI_ACT, PSI_WATCH, stability
    from risk.registry import RegistryError
    from risk.scoring import score_portfolio

    config = _config(config_path)
    registry = _registry(config)
    try:
        bundle = ModelBundle.load(registry.resolve(model))
    except (RegistryError, BundleError) as error:
        raise _fail(error) from None
    reference = bundle.reference
    if reference is None:
        raise _fail(ValueError(NO_REFERENCE.format(model=model)))
    with console.status("Reading and validating the export…"):
        portfolio = _read(data_dir, mapping)
    try:
        with console.status("Building the features and scoring…"):
            scores, features = score_portfolio(
                portfolio, as_of, bundle, threads=config.model.threads, return_features=True
            )
        eligible = scores["eligible"].to_numpy(dtype=bool)
        frame = stability(
            reference,
            features.loc[eligible],
            scores.loc[eligible, "probability"].to_numpy(),
            names=bundle.feature_names,
        )
    except ValueError as error:
        raise _fail(error) from None

    seasonal = seasonal_features(bundle.feature_names)
    console.print(
        f"Population stability on {as_of}: {int(eligible.sum()):,} eligible households "
        f"against {reference.rows:,} training rows (the model's reference profile)",
        markup=False,
        highlight=False,
    )
    console.print(drift_table(frame, seasonal))
    if seasonal:
        shown = SEASONAL.format(names=", ".join(seasonal), group=SEASONAL_GROUP)
        console.print(shown, markup=False, highlight=False, soft_wrap=True)
    acted = drifted(frame, PSI_ACT, seasonal)
    if acted:
        err_console.print(
            DRIFT.format(act=PSI_ACT, names=", ".join(acted)),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=1)
    watched = ", ".join(drifted(frame, PSI_WATCH, seasonal)) or "none"
    verdict = NO_DRIFT.format(act=PSI_ACT, watch=PSI_WATCH, watched=watched)
    console.print(verdict, markup=False, highlight=False, soft_wrap=True)


def seasonal_features(names: Sequence[str]) -> list[str]:
    """Return the features among ``names`` of the catalogue reason group :data:`SEASONAL_GROUP`."""
    from risk.catalogue import get_feature

    return [name for name in names if get_feature(name).reason_group == SEASONAL_GROUP]


def drifted(frame: pd.DataFrame, threshold: float, excluded: Sequence[str]) -> list[str]:
    """Return the features (or score) at or above ``threshold``, highest PSI first.

    Names in ``excluded`` are left out whatever their PSI.
    """
    rows = frame[(frame["psi"] >= threshold) & ~frame["feature"].isin(list(excluded))]
    ordered = rows.sort_values("psi", ascending=False, kind="stable")
    return [str(name) for name in ordered["feature"]]


def drift_table(frame: pd.DataFrame, excluded: Sequence[str]) -> Table:
    """Lay the stability table out as a reader scans it: highest PSI first.

    Each row shows the PSI, the status in French and English, and the bin whose share
    moved most with its share in the training population and now. Features in
    ``excluded`` are marked with a dagger.
    """
    from risk.monitoring import SCORE

    table = Table(title="Population stability index (PSI): 0.1 watch, 0.25 act")
    # The feature's name is what a reader acts on: never cut it, let the bins wrap instead.
    table.add_column("feature", no_wrap=True)
    table.add_column("PSI", justify="right", no_wrap=True)
    for header in ("statut / status", "bin that moved most", "training → now"):
        table.add_column(header)
    ordered = frame.sort_values("psi", ascending=False, kind="stable")
    for row in ordered.to_dict("records"):
        name = SCORE_LABEL if row["feature"] == SCORE else str(row["feature"])
        table.add_row(
            f"{name} †" if row["feature"] in excluded else name,
            f"{row['psi']:.3f}",
            f"{row['status_fr']} / {row['status_en']}",
            str(row["shift_bin_en"]),
            f"{row['reference_share']:.1%} → {row['current_share']:.1%}",
        )
    if excluded:
        table.caption = "† shown, not counted in the exit code (seasonal: see below)"
    return table
