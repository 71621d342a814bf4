"""The service's database: one SQLAlchemy engine and the four tables it writes.

A SQLite file by default (``sqlite:///var/risk-api.db``), PostgreSQL by URL
(``postgresql+psycopg://user@host/db``; a bare ``postgresql://`` URL is read with
psycopg 3). The tables are:

``api_keys``
    One row per API key: a short public id, a label, a role and a SHA-256 of the secret
    (never the secret itself, see :mod:`risk_api.keys`).
``audit_events``
    One row per household scored (see :mod:`risk_api.audit`). The tenancy is stored as
    a keyed pseudonym only, never as the landlord's identifier.
``contact_outcomes`` and ``holdouts``
    What happened after contact, and which households of a work list were held out
    (see :mod:`risk_api.outcomes`). They keep the landlord's ``tenancy_id`` in clear
    because they feed the next training, which joins them with the export.

No table holds a name, free text or an income.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

#: Seconds a SQLite connection waits for a lock held by another writer.
SQLITE_BUSY_SECONDS = 10

metadata = sa.MetaData()

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("key_id", sa.String(32), nullable=True, index=True),
    sa.Column("route", sa.String(100), nullable=False),
    sa.Column("model_name", sa.String(200), nullable=True),
    sa.Column("model_version", sa.String(100), nullable=True, index=True),
    sa.Column("model_alias", sa.String(100), nullable=True),
    sa.Column("as_of", sa.Date(), nullable=True),
    sa.Column("tenancy_pseudonym", sa.String(64), nullable=False, index=True),
    sa.Column("probability", sa.Float(), nullable=True),
    sa.Column("band", sa.String(20), nullable=True),
    sa.Column("rank", sa.Integer(), nullable=True),
    sa.Column("reason_codes", sa.Text(), nullable=False, default="[]"),
    sa.Column("held_out", sa.Boolean(), nullable=True),
)

contact_outcomes = sa.Table(
    "contact_outcomes",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("tenancy_id", sa.String(100), nullable=False, index=True),
    sa.Column("contact_date", sa.Date(), nullable=False),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("model_version", sa.String(100), nullable=True),
)

holdouts = sa.Table(
    "holdouts",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("cycle", sa.Date(), nullable=False, index=True),
    sa.Column("tenancy_id", sa.String(100), nullable=False, index=True),
    sa.Column("model_name", sa.String(200), nullable=True),
    sa.Column("model_version", sa.String(100), nullable=True),
    sa.Column("probability", sa.Float(), nullable=True),
    sa.Column("rank", sa.Integer(), nullable=True),
    sa.Column("held_out", sa.Boolean(), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Set WAL, synchronous=NORMAL and a busy timeout on each new SQLite connection."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def make_engine(url: str) -> sa.Engine:
    """Create the engine of a database URL, ready for use from several threads.

    Parameters
    ----------
    url
        SQLAlchemy URL. ``sqlite:///path/to/file.db``: the parent folder is created and
        every connection uses WAL journaling, ``synchronous=NORMAL`` and a busy timeout.
        ``postgresql://`` or ``postgresql+psycopg://``: PostgreSQL through psycopg 3.

    Returns
    -------
    sqlalchemy.Engine
        The engine; call :func:`create_schema` once to create the tables.
    """
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory:
        # One shared connection, or every thread would see its own empty database.
        engine = sa.create_engine(
            parsed,
            connect_args={"check_same_thread": False},
            poolclass=sa.pool.StaticPool,
            hide_parameters=True,
        )
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
            # A failed statement's message must not carry tenancy ids into the logs.
            hide_parameters=True,
        )
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_schema(engine: sa.Engine) -> None:
    """Create the tables and indexes that are missing; existing ones are left as they are."""
    metadata.create_all(engine, checkfirst=True)


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive value (as SQLite returns them) is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def db_time(engine: sa.Engine, value: datetime) -> datetime:
    """Return ``value`` as the engine stores times: UTC, and naive for SQLite.

    SQLite has no time zone type; every time is written and compared as naive UTC there,
    so that comparisons in ``WHERE`` clauses are comparisons of instants.
    """
    value = as_utc(value)
    return value.replace(tzinfo=None) if engine.dialect.name == "sqlite" else value
