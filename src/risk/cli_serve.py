"""``risk serve``: the scoring API under uvicorn, one worker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk.cli_common import console


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    model: Annotated[
        str | None,
        typer.Option(
            help="Registry URI (models:/arrears-risk@champion) or a bundle folder; "
            "RISK_API_MODEL by default."
        ),
    ] = None,
    tracking_root: Annotated[
        Path | None,
        typer.Option(help="Folder of the MLflow registry; RISK_API_TRACKING_ROOT by default."),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL of keys, audit log and outcomes; RISK_API_DATABASE_URL by default."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve scores, work lists and the audit log over HTTP (see docs/api.md).

    One uvicorn worker: on these machines extra workers slow keep-alive requests down;
    run several processes behind a proxy to use more cores.
    """
    import uvicorn

    from risk_api.app import create_app
    from risk_api.settings import Settings

    overrides: dict[str, object] = {}
    if model is not None:
        overrides["model"] = model
    if tracking_root is not None:
        overrides["tracking_root"] = tracking_root
    if database is not None:
        overrides["database_url"] = database
    settings = Settings(**overrides)
    console.print(
        f"risk API on http://{host}:{port} (model {settings.model}); docs at /docs",
        markup=False,
        highlight=False,
    )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        workers=1,
        log_level=log_level,
        access_log=False,
    )
