"""The ``risk report`` command: the auditors' report of a registered model, HTML and PDF.

It translates its arguments into :func:`risk.report.build_report` and
:func:`risk.report.print_pdf`; nothing is computed here. Registered on the ``risk`` app
by ``cli.py`` importing this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk.cli import app
from risk.cli_common import (
    DEFAULT_MODEL,
    ConfigOpt,
    MappingOpt,
    _config,
    _fail,
    _registry,
    console,
    err_console,
)

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        help=(
            "Registered version: models:/arrears-risk@<alias> or models:/arrears-risk/<n> "
            "(the report reads its training run, so a bare bundle folder is not enough)."
        ),
    ),
]
#: Languages of the report, French first.
LANGUAGES = ("fr", "en")
#: Error printed for another language.
BAD_LANGUAGE = "--lang must be one of {known}, got {lang!r}"
#: Error printed when --out is not an .html file.
BAD_OUT = "--out must name an .html file, got {out}"


@app.command()
def report(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="HTML file to write (reports/NAME.html); the PDF goes beside it."
        ),
    ],
    model: ModelOpt = DEFAULT_MODEL,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Export folder: explanations and monitoring are computed on its latest month.",
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="fr (default) or en.")] = "fr",
    config_path: ConfigOpt = None,
    mapping: MappingOpt = None,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also print the PDF with headless Chromium.")
    ] = True,
) -> None:
    """Write the auditors' report of a registered model (HTML, and PDF beside it)."""
    from risk.bundle import BundleError
    from risk.ingestion import ContractViolation
    from risk.registry import RegistryError
    from risk.report import PdfError, build_report, print_pdf

    if lang not in LANGUAGES:
        err_console.print(BAD_LANGUAGE.format(known=", ".join(LANGUAGES), lang=lang))
        raise typer.Exit(code=2)
    if out.suffix.lower() not in (".html", ".htm"):
        err_console.print(BAD_OUT.format(out=out))
        raise typer.Exit(code=2)
    config = _config(config_path)
    registry = _registry(config)
    try:
        with console.status("Reading the model, its run and the data…"):
            built = build_report(
                registry,
                model,
                data_dir=data,
                mapping=mapping,
                lang=lang,
                threads=config.model.threads,
            )
    except (RegistryError, BundleError, ContractViolation, ValueError) as error:
        raise _fail(error) from None
    html = built.write(out)
    console.print(f"report written to {html}")
    for line in built.notes:
        console.print(f"note: {line}", markup=False, highlight=False)
    if pdf:
        try:
            printed = print_pdf(html, html.with_suffix(".pdf"))
        except PdfError as error:
            raise _fail(error) from None
        console.print(f"PDF written to {printed}")
