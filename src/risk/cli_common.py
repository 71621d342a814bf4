"""What the ``risk`` commands share: consoles, argument types and small helpers.

Kept apart from :mod:`risk.cli` (which holds the app) so that the command modules
(:mod:`risk.cli_models`, :mod:`risk.cli_monitor`, :mod:`risk.cli_report`) can import
it in any order without a circular import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from risk.config import TrainConfig
    from risk.portfolio import Portfolio
    from risk.registry import Registry

console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[
    Path,
    typer.Argument(help="Folder with one file per contract table (CSV or Parquet)."),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option("--mapping", help="YAML column mapping from the export to the contract."),
]


def _check_dates(values: list[str]) -> list[str]:
    """Refuse a date that is not a calendar date, naming it."""
    import pandas as pd

    for value in values:
        try:
            pd.Timestamp(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
    return values


def _check_optional_date(value: str | None) -> str | None:
    """Refuse an optional date that is not a calendar date, naming it."""
    return None if value is None else _check_dates([value])[0]


def _read(data_dir: Path, mapping: Path | None) -> Portfolio:
    """Read and validate a portfolio, or print every problem and exit 1."""
    from risk.ingestion import ContractViolation, read_portfolio

    try:
        return read_portfolio(data_dir, mapping=mapping)
    except ContractViolation as violation:
        for line in violation.report.render():
            err_console.print(line, markup=False, highlight=False)
        raise typer.Exit(code=1) from None


ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Training configuration YAML (see configs/train.yaml)."),
]
ModelOpt = Annotated[
    str,
    typer.Option(
        "--model", help="Registry URI (models:/arrears-risk@champion) or a bundle folder."
    ),
]
DEFAULT_MODEL = "models:/arrears-risk@champion"


def _config(path: Path | None, **overrides: object) -> TrainConfig:
    from risk.config import load_config

    try:
        return load_config(path, **overrides)
    except ValueError as error:
        err_console.print(str(error), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


def _registry(config: TrainConfig) -> Registry:
    from risk.registry import Registry

    tracking = config.tracking
    return Registry(tracking.root, tracking_uri=tracking.uri, experiment=tracking.experiment)


def _fail(error: Exception) -> typer.Exit:
    err_console.print(str(error), markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=1)
