"""The main job on built-in defaults, as the README's first command runs it.

It walks the chain a data team follows with its own export, on a simulated portfolio:
write the tables, read them back through the contract's validation, build the
point-in-time features and the default label, train and backtest a model beside today's
practice, register it, promote it if it passes the gates, print the worklist of the
households to contact first with their reasons, and write the auditors' report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Console
from rich.table import Table

from risk.catalogue import FEATURES
from risk.cli_models import summary_table, worklist_table
from risk.config import TrainConfig, load_config
from risk.features import build_features
from risk.ingestion import ContractViolation, read_portfolio
from risk.labels import build_labels
from risk.portfolio import Portfolio
from risk.simulation import simulate
from risk.timeline import add_months, month_start
from risk.training import TrainingResult

if TYPE_CHECKING:
    from risk.registry import Registry

#: Simulated period of the default run: two years before the 2021 APL reform to the end
#: of the ALFI study's last figures.
DEFAULT_START = "2019-01"
DEFAULT_END = "2024-12"
#: Label horizon of the default label, in months.
HORIZON_MONTHS = 3
#: Monthly as-of dates summarised: the last twelve whose label horizon is complete.
SUMMARY_MONTHS = 12


#: Households the demo's caseworkers can contact in the month scored.
CAPACITY = "5%"


@dataclass(frozen=True)
class DemoResult:
    """What the default run produced, for tests and for later stages."""

    data_dir: Path
    features: pd.DataFrame
    labels: pd.DataFrame
    training: TrainingResult | None = None
    version: int | None = None
    promoted: bool = False
    scores: pd.DataFrame | None = None
    report: Path | None = None


def _summary_dates(end: str) -> list[pd.Timestamp]:
    """Monthly as-of dates whose label horizon ends within the simulated period."""
    first_unobserved = add_months(month_start(end + "-01"), 1)
    last = add_months(first_unobserved, -HORIZON_MONTHS)
    return [add_months(last, -k) for k in range(SUMMARY_MONTHS - 1, -1, -1)]


def run_demo(
    out: Path,
    n_tenancies: int = 5_000,
    seed: int = 0,
    console: Console | None = None,
    *,
    train: bool = True,
    config: TrainConfig | None = None,
) -> DemoResult:
    """Simulate, validate, build features and labels, train, promote and print a worklist.

    Parameters
    ----------
    out
        Working folder; the portfolio is written to ``out / "data"``.
    n_tenancies
        Size of the simulated portfolio.
    seed
        Seed of the simulation.
    console
        Where to print; a new console when ``None``.
    train
        Also train, register, promote and score (the registry is ``out / "mlruns"``).
    config
        Training configuration; built-in defaults when ``None``. Its tracking root is
        replaced by ``out / "mlruns"``.

    Returns
    -------
    DemoResult
        The folder written, the features and the labels, and the training's results.
    """
    console = console or Console()
    data_dir = Path(out) / "data"

    with console.status(f"Simulating {n_tenancies:,} tenancies {DEFAULT_START}..{DEFAULT_END}…"):
        simulation = simulate(
            n_tenancies=n_tenancies, start=DEFAULT_START, end=DEFAULT_END, seed=seed
        )
        simulation.write(data_dir)
    console.print(f"[bold]1. Portfolio[/] written to {data_dir}")
    rows = Table("table", "rows", box=None)
    for name, count in simulation.portfolio.summary().items():
        rows.add_row(name, f"{count:,}")
    console.print(rows)

    # Reading validates (once, at the boundary): a problem stops the run with the report.
    try:
        portfolio = read_portfolio(data_dir)
    except ContractViolation as violation:
        for line in violation.report.render():
            console.print(line, markup=False, highlight=False)
        raise SystemExit(1) from None
    console.print("[bold]2. Validation[/]: the export meets the data contract")
    dates = _summary_dates(DEFAULT_END)
    with console.status(f"Building features as of {len(dates)} month starts…"):
        features = build_features(portfolio, dates)
    console.print(
        f"[bold]3. Features[/]: {len(features):,} tenancy-months x {len(FEATURES)} "
        f"catalogue features, as of {dates[0]:%Y-%m-%d} .. {dates[-1]:%Y-%m-%d}"
    )

    with console.status("Computing labels…"):
        labels = build_labels(
            portfolio, dates, label="first_arrears", horizon_months=HORIZON_MONTHS
        )
    console.print(_label_table(labels))
    console.print(_signal_table(features, labels))
    if not train:
        return DemoResult(data_dir=data_dir, features=features, labels=labels)
    config = (config or load_config(None)).model_copy(deep=True)
    config.tracking.root = Path(out) / "mlruns"
    return _train_and_score(config, data_dir, portfolio, features, labels, console)


def _train_and_score(
    config: TrainConfig,
    data_dir: Path,
    portfolio: Portfolio,
    features: pd.DataFrame,
    labels: pd.DataFrame,
    console: Console,
) -> DemoResult:
    """Train and backtest, register, promote and score the latest month (steps 6 to 9)."""
    from risk.bundle import ModelBundle
    from risk.cli_models import record
    from risk.promotion import check_registered
    from risk.registry import CHALLENGER, Registry, current_code_version
    from risk.scoring import score_portfolio, worklist
    from risk.training import train

    console.print("[bold]6. Training[/]: rolling-origin backtest, then the final model")
    result = train(
        portfolio,
        config,
        data_dir=data_dir,
        code_version=current_code_version(),
        log=lambda line: console.print(f"   {line}", markup=False, highlight=False),
    )
    console.print(summary_table(result))

    registry = Registry(config.tracking.root, experiment=config.tracking.experiment)
    version = record(result, registry, None)
    console.print(f"[bold]7. Registry[/]: arrears-risk version {version} is the challenger")
    decision = check_registered(registry, config.promotion)
    for line in decision.render():
        console.print(f"   {line}", markup=False, highlight=False)
    if decision.passed:
        registry.promote(version)
        console.print(f"[bold]8. Promotion[/]: version {version} is now champion")
        model_uri = "models:/arrears-risk@champion"
    else:
        console.print("[bold]8. Promotion[/]: refused; the worklist uses the challenger")
        model_uri = f"models:/arrears-risk@{CHALLENGER}"

    bundle = ModelBundle.load(registry.resolve(model_uri))
    as_of = result.window.cutoff
    scores = score_portfolio(portfolio, as_of, bundle, reasons=True)
    console.print(f"[bold]9. Worklist[/] from {model_uri}")
    console.print(worklist_table(worklist(scores, CAPACITY).head(20), f"{as_of:%Y-%m-%d}"))
    eligible = int(scores["eligible"].sum())
    console.print(
        f"   {len(scores):,} households scored, {eligible:,} not yet in arrears; the first "
        f"{CAPACITY} of them ({len(worklist(scores, CAPACITY)):,}) make this month's list "
        "(20 shown). Full scores: `risk score` writes them all."
    )
    report = _report(registry, model_uri, data_dir, console, config.model.threads)
    return DemoResult(
        data_dir=data_dir,
        features=features,
        labels=labels,
        training=result,
        version=version,
        promoted=decision.passed,
        scores=scores,
        report=report,
    )


def _report(
    registry: Registry, model_uri: str, data_dir: Path, console: Console, threads: int
) -> Path:
    """Write the auditors' report (step 10), and its PDF when Chromium is installed."""
    from risk.report import PdfError, build_report, find_chromium, print_pdf

    out = Path(registry.root).parent / "reports" / "champion.html"
    with console.status("Writing the auditors' report…"):
        built = build_report(registry, model_uri, data_dir=data_dir, lang="fr", threads=threads)
        html = built.write(out)
    console.print(f"[bold]10. Report[/] for auditors (French): {html}")
    if find_chromium() is None:
        console.print(
            "   no PDF: Chromium is not installed (apt-get install chromium); "
            "`risk report` prints it once it is"
        )
        return html
    try:
        console.print(f"   PDF: {print_pdf(html, html.with_suffix('.pdf'))}")
    except PdfError as error:
        console.print(f"   no PDF: {error}", markup=False, highlight=False)
    return html


def _label_table(labels: pd.DataFrame) -> Table:
    """Label status counts and the share of eligible households falling behind."""
    table = Table(
        "status", "tenancy-months", title=f"4. Label first_arrears ({HORIZON_MONTHS} months)"
    )
    for status, count in labels["status"].value_counts().sort_index().items():
        table.add_row(str(status), f"{count:,}")
    known = labels["label"].dropna()
    rate = float(known.mean()) if len(known) else float("nan")
    table.caption = f"{rate:.1%} of eligible tenancy-months fall into arrears within the horizon"
    return table


def _signal_table(features: pd.DataFrame, labels: pd.DataFrame) -> Table:
    """Mean of each numeric feature among households that fell behind and those that did not."""
    joined = features.merge(labels, on=["tenancy_id", "as_of"]).dropna(subset=["label"])
    table = Table(
        "feature", "unit", "fell behind", "did not", title="5. What the features show (means)"
    )
    for feature in FEATURES:
        column = joined[feature.name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        means = column.astype("float64").groupby(joined["label"]).mean()
        table.add_row(
            feature.name,
            feature.unit,
            f"{means.get(1, float('nan')):.2f}",
            f"{means.get(0, float('nan')):.2f}",
        )
    return table
