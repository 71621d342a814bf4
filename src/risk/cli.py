"""The ``risk`` command line: each command translates arguments into one library call.

Heavy libraries are imported inside the commands so that ``risk --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from risk.cli_common import (
    DataDir,
    MappingOpt,
    _check_dates,
    _check_optional_date,
    _read,
    console,
    err_console,
)

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(
    name="risk",
    help=(
        "Early warning of rent arrears: validate exports, build point-in-time features "
        "and labels, simulate a portfolio."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
AsOfOpt = Annotated[
    list[str],
    typer.Option(
        "--as-of", help="As-of date YYYY-MM-DD; repeat for several dates.", callback=_check_dates
    ),
]


def _write_frame(frame: pd.DataFrame, out: Path) -> None:
    """Write ``frame`` as CSV when ``out`` ends in .csv, else as Parquet."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        frame.to_csv(out, index=False, date_format="%Y-%m-%d")
    else:
        frame.to_parquet(out, index=False)


@app.command()
def validate(data_dir: DataDir, mapping: MappingOpt = None) -> None:
    """Check an export against the data contract; list every problem; exit 1 if any."""
    from risk.validation import validate_directory

    report = validate_directory(data_dir, mapping=mapping)
    for line in report.render():
        (console if report.ok else err_console).print(line, markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(code=1)


@app.command()
def features(
    data_dir: DataDir,
    as_of: AsOfOpt,
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    mapping: MappingOpt = None,
) -> None:
    """Build every catalogue feature for the tenancies present at each as-of date."""
    from rich.progress import track

    from risk.features import build_features

    with console.status("Reading and validating the export…"):
        portfolio = _read(data_dir, mapping)
    frame = build_features(
        portfolio,
        as_of,
        progress=lambda dates: track(dates, description="Features", console=console),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out, index=False)
    console.print(f"{len(frame):,} rows x {frame.shape[1] - 2} features written to {out}")


@app.command()
def labels(
    data_dir: DataDir,
    as_of: AsOfOpt,
    out: Annotated[Path, typer.Option("--out", help="Parquet or CSV file to write.")],
    label: Annotated[str, typer.Option("--label", help="Label name (see docs/labels.md).")] = (
        "first_arrears"
    ),
    horizon: Annotated[int, typer.Option("--horizon", help="Horizon in months.", min=1)] = 3,
    known_until: Annotated[
        str | None,
        typer.Option(
            "--known-until",
            help="Knowledge cut-off YYYY-MM-DD: facts posted on or after it are ignored and "
            "labels whose horizon ends after it are left incomplete (hold out test months).",
            callback=_check_optional_date,
        ),
    ] = None,
    outcomes: Annotated[
        Path | None, typer.Option("--outcomes", help="The team's outcomes table (label outcomes).")
    ] = None,
    mapping: MappingOpt = None,
) -> None:
    """Compute a named label for the tenancies present at each as-of date."""
    from risk.labels import LABELS, build_labels
    from risk.outcomes import OutcomesError, read_outcomes

    if label not in LABELS:
        raise typer.BadParameter(
            f"unknown label {label!r}; known labels: {', '.join(LABELS)}", param_hint="--label"
        )
    try:
        outcome_frame = read_outcomes(outcomes) if outcomes is not None else None
    except (OutcomesError, OSError) as error:
        err_console.print(f"{outcomes}: {error}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None
    portfolio = _read(data_dir, mapping)
    with console.status("Computing labels…"):
        try:
            frame = build_labels(
                portfolio,
                as_of,
                label=label,
                horizon_months=horizon,
                known_until=known_until,
                outcomes=outcome_frame,
            )
        except ValueError as error:
            err_console.print(str(error), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=1) from None
    _write_frame(frame, out)
    counts = frame["status"].value_counts().to_dict()
    console.print(f"{len(frame):,} rows written to {out}: {counts}")


#: Size from which the calibration tolerances hold (sampling noise of the figures).
CHECK_MIN_TENANCIES = 40_000


@app.command()
def simulate(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to write the portfolio into (optional with --check)."),
    ] = None,
    tenancies: Annotated[int, typer.Option("--tenancies", min=100, max=500_000)] = 5_000,
    start: Annotated[str, typer.Option("--start", help="First month, YYYY-MM.")] = "2019-01",
    end: Annotated[str, typer.Option("--end", help="Last month, YYYY-MM.")] = "2024-12",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    profile: Annotated[str, typer.Option("--profile", help="residences or hlm.")] = "residences",
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Print the calibration table (DOMAIN.md figures); exit 1 if one is missed.",
        ),
    ] = False,
) -> None:
    """Write a synthetic portfolio in the data contract, with its truth table beside it."""
    from risk.simulation import calibration_table
    from risk.simulation import simulate as run_simulation
    from risk.simulation.calibration import render

    if out is None and not check:
        raise typer.BadParameter("give --out, --check or both", param_hint="--out")
    with console.status(f"Simulating {tenancies:,} tenancies…"):
        try:
            simulation = run_simulation(
                n_tenancies=tenancies, start=start, end=end, seed=seed, profile=profile
            )
        except ValueError as error:
            # The configuration names the offending setting (profile, months, order).
            err_console.print(str(error), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None
        if out is not None:
            simulation.write(out)
    if out is not None:
        for name, rows in simulation.portfolio.summary().items():
            console.print(f"{name:<10} {rows:>12,} rows")
        console.print(f"written to {out}")
    if check:
        table = calibration_table(simulation, profile)
        for line in render(table):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        if tenancies < CHECK_MIN_TENANCIES:
            console.print(
                f"note: the tolerances assume {CHECK_MIN_TENANCIES:,} tenancies or more",
                markup=False,
            )
        if not table[table["checked"]]["passed"].all():
            raise typer.Exit(code=1)


@app.command()
def oracle(
    sim_dir: Annotated[
        Path, typer.Argument(help="Folder written by risk simulate (with truth/simulation.json).")
    ],
    as_of: AsOfOpt,
    out: Annotated[Path, typer.Option("--out", help="Parquet or CSV file to write.")],
    horizon: Annotated[int, typer.Option("--horizon", help="Horizon in months.", min=1)] = 3,
    paths: Annotated[
        int, typer.Option("--paths", help="Monte Carlo paths per tenancy.", min=1)
    ] = 200,
    label: Annotated[
        str, typer.Option("--label", help="first_arrears or decree_2027.")
    ] = "first_arrears",
) -> None:
    """Write the true probability of the label for each tenancy present (simulated folder)."""
    from risk.simulation import oracle as true_probabilities

    with console.status("Replaying the simulation and rolling out…"):
        try:
            frame = true_probabilities(
                sim_dir, as_of, horizon_months=horizon, n_paths=paths, label=label
            )
        except (FileNotFoundError, ValueError) as error:
            err_console.print(str(error), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=1) from None
    _write_frame(frame, out)
    eligible = frame["eligible"]
    mean = frame.loc[eligible, "oracle_probability"].mean()
    console.print(
        f"{len(frame):,} rows written to {out}: {int(eligible.sum()):,} eligible, "
        f"mean probability {mean:.3f}"
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Working folder.")] = Path("out/demo"),
    tenancies: Annotated[int, typer.Option("--tenancies", min=100, max=500_000)] = 5_000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    train: Annotated[
        bool,
        typer.Option("--train/--no-train", help="Also train, register, promote and score."),
    ] = True,
) -> None:
    """Run the main job on built-in defaults: from a simulated export to a worklist."""
    from risk.demo import run_demo

    run_demo(out=out, n_tenancies=tenancies, seed=seed, console=console, train=train)


# The model commands register themselves on ``app``; imported last, once it exists.
from risk import cli_models, cli_monitor, cli_report  # noqa: E402, F401
from risk.cli_keys import keys_app  # noqa: E402
from risk.cli_serve import serve  # noqa: E402

app.add_typer(keys_app, name="keys")
app.command()(serve)


def main() -> None:
    """Entry point for ``python -m risk``."""
    app()
