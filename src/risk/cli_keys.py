"""The ``risk keys`` commands: create, list and revoke the API keys of the scoring service.

The keys live in the service's database (``--database``, by default the service's
``RISK_API_DATABASE_URL`` setting). A key's secret is printed once, at creation; the
database keeps only its hash (see :mod:`risk_api.keys`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from risk.cli_common import console, err_console

if TYPE_CHECKING:
    from risk_api.keys import KeyStore

keys_app = typer.Typer(
    name="keys",
    help="Create, list and revoke the API keys of the scoring service.",
    no_args_is_help=True,
    add_completion=False,
)

#: Message of ``risk keys revoke`` for an id that is not an active key.
UNKNOWN_KEY = "no active key with id {key_id!r} (see `risk keys list`)"

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL of the service's database (default: RISK_API_DATABASE_URL).",
        show_default=False,
    ),
]


def _store(database: str | None) -> KeyStore:
    """Open the key store of ``database`` (or the service's), creating the tables."""
    from risk_api.database import create_schema, make_engine
    from risk_api.keys import KeyStore

    if database is None:
        from risk_api.settings import Settings

        database = Settings().database_url
    engine = make_engine(database)
    create_schema(engine)
    return KeyStore(engine, cache_seconds=0)


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who uses the key, e.g. 'crm-prod'.")],
    role: Annotated[
        str, typer.Option("--role", help="scorer, auditor or admin.", show_default=False)
    ],
    database: DatabaseOpt = None,
) -> None:
    """Create a key and print its secret, which cannot be shown again."""
    store = _store(database)
    try:
        new = store.create(name, role)
    except ValueError as error:
        err_console.print(str(error), markup=False, highlight=False)
        raise typer.Exit(code=1) from None
    finally:
        store.engine.dispose()
    console.print(f"Created key {new.info.key_id} ({new.info.name}, role {new.info.role}).")
    console.print(
        "[bold yellow]Copy the secret now: it is not stored and cannot be shown again.[/]"
    )
    console.print(new.secret, markup=False, highlight=False, soft_wrap=True)


@keys_app.command("list")
def list_keys(database: DatabaseOpt = None) -> None:
    """List every key (never a secret or hash), revoked ones included."""
    from rich.table import Table

    store = _store(database)
    try:
        keys = store.list()
    finally:
        store.engine.dispose()
    table = Table("key_id", "name", "role", "created", "revoked")
    for key in keys:
        table.add_row(
            key.key_id,
            key.name,
            key.role,
            key.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            "" if key.revoked_at is None else key.revoked_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
    console.print(table)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="Id of the key (see `risk keys list`).")],
    database: DatabaseOpt = None,
) -> None:
    """Revoke a key; the service refuses it within its key cache delay."""
    store = _store(database)
    try:
        revoked = store.revoke(key_id)
    finally:
        store.engine.dispose()
    if not revoked:
        err_console.print(UNKNOWN_KEY.format(key_id=key_id), markup=False, highlight=False)
        raise typer.Exit(code=1)
    console.print(f"Revoked key {key_id}.")
