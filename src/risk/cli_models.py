"""The model commands of ``risk``: train, promote, export, score.

Each command translates its arguments into library calls (:mod:`risk.training`,
:mod:`risk.registry`, :mod:`risk.promotion`, :mod:`risk.bundle`, :mod:`risk.scoring`)
and prints what a data team needs to decide; nothing here computes anything itself.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
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
    _check_dates,
    _check_optional_date,
    _config,
    _fail,
    _read,
    _registry,
    console,
    err_console,
)
from risk.metrics import POOLED

if TYPE_CHECKING:
    import pandas as pd

    from risk.registry import Registry
    from risk.training import TrainingResult

#: Metrics shown in the summary table, in order, when present, with their short headers.
SUMMARY_METRICS = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "brier": "Brier", "ece": "ECE"}


def summary_table(result: TrainingResult) -> Table:
    """Pooled out-of-time metrics of every model, with 95% intervals."""
    from risk.training import MODEL, ORACLE

    table = result.evaluation
    pooled = table[table["month"] == POOLED]
    at_k = [m for m in pooled["metric"].unique() if m.startswith("capture@")]
    metrics = [m for m in SUMMARY_METRICS if m in set(pooled["metric"])] + at_k
    models = list(dict.fromkeys(pooled["model"]))
    # One column per model, one row per metric: fits an 80-column terminal.
    out = Table("metric", *models, title="Out-of-time, pooled over the test months (95% CI)")
    by_model = {model: rows.set_index("metric") for model, rows in pooled.groupby("model")}
    for metric in metrics:
        cells = []
        for model in models:
            values = by_model[model]
            if (
                metric not in values.index
                or values.loc[metric, "value"] != values.loc[metric, "value"]
            ):
                cells.append("—")
                continue
            row = values.loc[metric]
            cells.append(f"{row['value']:.3f}\n{row['low']:.3f}–{row['high']:.3f}")
        out.add_row(SUMMARY_METRICS.get(metric, metric), *cells)
    model_auc = result.pooled(MODEL).get("roc_auc")
    oracle = result.pooled(ORACLE) if ORACLE in set(pooled["model"]) else {}
    if oracle and model_auc is not None:
        auc_ratio = (model_auc - 0.5) / (oracle["roc_auc"] - 0.5)
        capture = f"capture@{result.config.promotion.capacity}"
        capture_ratio = result.pooled(MODEL).get(capture, float("nan")) / oracle.get(
            capture, float("nan")
        )
        out.caption = (
            f"(model AUC − 0.5) / (oracle AUC − 0.5) = {auc_ratio:.3f}; "
            f"{capture} model / oracle = {capture_ratio:.3f}"
        )
    return out


@app.command()
def train(
    data_dir: DataDir,
    config_path: ConfigOpt = None,
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="The team's own outcomes table instead of a named label."),
    ] = None,
    train_until: Annotated[
        str | None,
        typer.Option(
            "--train-until",
            help="Knowledge cut-off YYYY-MM-DD: later facts and incomplete labels are unused.",
            callback=_check_optional_date,
        ),
    ] = None,
    mapping: MappingOpt = None,
    register: Annotated[
        bool, typer.Option("--register/--no-register", help="Record the run in the registry.")
    ] = True,
) -> None:
    """Backtest out of time, compare with today's practice, register the new challenger."""
    from risk.outcomes import OutcomesError, read_outcomes
    from risk.registry import current_code_version
    from risk.training import train as run_training

    config = _config(config_path, data__train_until=train_until)
    try:
        outcomes = read_outcomes(labels) if labels is not None else None
    except (OutcomesError, OSError) as error:
        raise _fail(error) from None
    with console.status("Reading and validating the export…"):
        portfolio = _read(data_dir, mapping)
    try:
        result = run_training(
            portfolio,
            config,
            data_dir=data_dir,
            outcomes=outcomes,
            code_version=current_code_version(),
            log=lambda line: console.print(line, markup=False, highlight=False),
        )
    except ValueError as error:
        raise _fail(error) from None
    console.print(summary_table(result))
    if register:
        version = record(result, _registry(config), config_path)
        console.print(
            f"registered [bold]arrears-risk[/] version {version} as [bold]challenger[/]; "
            "`risk promote` checks the gates and makes it champion"
        )


def record(result: TrainingResult, registry: Registry, config_path: Path | None) -> int:
    """Write the bundle and figures to a scratch folder and log them as a run."""
    from risk.config import config_yaml
    from risk.figures import capture_figure, reliability_figure, roc_figure

    with tempfile.TemporaryDirectory(prefix="risk-train-") as scratch:
        folder = Path(scratch)
        bundle_dir = result.bundle.write(folder / "bundle")
        figures = [folder / "roc.png", folder / "reliability.png", folder / "capture.png"]
        roc_figure(result.predictions, figures[0])
        reliability_figure(result.predictions, figures[1])
        capture_figure(result.predictions, figures[2], result.config.evaluation.capacities)
        config_file = folder / "train.yaml"
        config_file.write_text(config_yaml(result.config), encoding="utf-8")
        logged = registry.log_training(
            bundle_dir,
            evaluation=result.evaluation,
            groups=result.groups,
            data_fingerprint=result.data_fingerprint,
            predictions=result.predictions,
            params=_flat(result.config.model_dump(mode="json")),
            config=config_file,
            figures=figures,
            run_name=f"train-until-{result.window.cutoff:%Y-%m-%d}",
        )
    return logged.version


def _flat(tree: dict[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@app.command()
def promote(config_path: ConfigOpt = None) -> None:
    """Make the challenger champion if it passes the gates of the configuration."""
    from risk.promotion import PromotionError, check_registered
    from risk.registry import CHALLENGER, CHAMPION, RegistryError

    config = _config(config_path)
    registry = _registry(config)
    try:
        challenger = registry.describe(CHALLENGER)
        if CHAMPION in challenger.aliases:
            # Promoting it again would tag it as its own previous champion and lose the
            # version a rollback goes back to.
            console.print(f"version {challenger.version} is already champion; nothing to do")
            return
        decision = check_registered(registry, config.promotion)
    except (RegistryError, PromotionError) as error:
        raise _fail(error) from None
    for line in decision.render():
        console.print(line, markup=False, highlight=False)
    if not decision.passed:
        err_console.print(
            f"version {challenger.version} stays challenger: "
            f"{len(decision.failures)} gate(s) failed"
        )
        raise typer.Exit(code=1)
    previous = registry.promote(challenger.version)
    before = f" (was version {previous})" if previous is not None else ""
    console.print(f"version {challenger.version} is now [bold]champion[/]{before}")


@app.command()
def export(
    model: ModelOpt = DEFAULT_MODEL,
    out: Annotated[Path, typer.Option("--out", help="Folder receiving the bundle.")] = Path(
        "models"
    ),
    config_path: ConfigOpt = None,
) -> None:
    """Copy a registered model's verified bundle into a folder (models/ by default)."""
    from risk.bundle import BundleError, ModelBundle
    from risk.registry import RegistryError

    registry = _registry(_config(config_path))
    try:
        source = registry.resolve(model)
        bundle = ModelBundle.load(source)
    except (RegistryError, BundleError) as error:
        raise _fail(error) from None
    target = out / bundle_name(model, bundle.manifest)
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target)
    ModelBundle.load(target)  # the copy verifies too
    console.print(f"bundle written to {target}")


def bundle_name(model: str, manifest: dict[str, object]) -> str:
    """Folder name of an exported bundle: model name and training cut-off."""
    label = str(manifest.get("train_until", "unknown"))[:10]
    if not model.startswith("models:"):
        tail = Path(model).name
    elif "@" in model:
        tail = model.rsplit("@", 1)[-1]  # models:/arrears-risk@champion -> champion
    else:
        tail = f"v{model.rstrip('/').rsplit('/', 1)[-1]}"  # models:/arrears-risk/3 -> v3
    return f"{manifest.get('model_name', 'arrears-risk')}-{tail}-{label}"


@app.command()
def score(
    data_dir: DataDir,
    as_of: Annotated[
        str,
        typer.Option("--as-of", help="As-of date YYYY-MM-DD.", callback=_check_optional_date),
    ],
    capacity: Annotated[
        int, typer.Option("--capacity", min=1, help="Households the team can contact.")
    ],
    out: Annotated[Path, typer.Option("--out", help="CSV file of every scored tenancy.")],
    model: ModelOpt = DEFAULT_MODEL,
    mapping: MappingOpt = None,
    config_path: ConfigOpt = None,
    reasons: Annotated[
        bool,
        typer.Option(
            "--reasons/--no-reasons",
            help="Add each household's reasons and what would lower its risk (FR and EN).",
        ),
    ] = True,
) -> None:
    """Score every tenancy present at a date and print the worklist of the top K."""
    from risk.bundle import BundleError, ModelBundle
    from risk.registry import RegistryError
    from risk.scoring import score_portfolio, worklist

    _check_dates([as_of])
    registry = _registry(_config(config_path))
    try:
        bundle = ModelBundle.load(registry.resolve(model))
    except (RegistryError, BundleError) as error:
        raise _fail(error) from None
    with console.status("Reading and validating the export…"):
        portfolio = _read(data_dir, mapping)
    with console.status("Scoring and explaining…" if reasons else "Scoring…"):
        scores = score_portfolio(portfolio, as_of, bundle, reasons=reasons)
    out.parent.mkdir(parents=True, exist_ok=True)
    scores.to_csv(out, index=False, date_format="%Y-%m-%d")
    console.print(worklist_table(worklist(scores, capacity), as_of))
    console.print(f"{len(scores):,} tenancies scored; written to {out}")


def worklist_table(rows: pd.DataFrame, as_of: str) -> Table:
    """Show the households to contact first, as a caseworker reads them.

    With reasons, the first reason is shown in French, the caseworkers' language.
    """
    with_reason = "reason_1_fr" in rows.columns
    headers = ["rank", "tenancy", "probability", "band"]
    table = Table(*headers, *(["motif principal"] if with_reason else []))
    table.title = f"Worklist as of {as_of}: contact first"
    for row in rows.to_dict("records"):
        cells = [str(row["rank"]), str(row["tenancy_id"]), f"{row['probability']:.2f}"]
        cells.append(str(row["band"]))
        if with_reason:
            reason = row["reason_1_fr"]
            cells.append(reason if isinstance(reason, str) else "")
        table.add_row(*cells)
    table.caption = "The score supports a caseworker's decision; it decides nothing by itself."
    return table
