"""The audit log: one row per household scored, written off the request's path.

Every scoring call records, per household: the key that asked, when, the route, the
model (name, version, alias), the as-of date, a *pseudonym* of the tenancy, the
probability, band, rank, reason codes and, on a work list, whether the household was
held out. The landlord's tenancy id never reaches the database: it is replaced by an
HMAC-SHA256 under a secret key (:func:`read_or_create_key`), stable for one key, so an
auditor who is given one tenancy id can find its rows (:meth:`AuditLog.query` with
``tenancy_id=``) but a stolen table cannot be joined back to the tenants. No name, free
text or income is ever recorded.

:meth:`AuditLog.record` only puts the entries on a queue; a daemon thread writes them in
batches. :meth:`AuditLog.flush` waits until everything recorded is written (tests, and
``GET /v1/audit`` before it reads); :meth:`AuditLog.close` flushes and stops the thread.
When the database fails, the writer logs an error and keeps the entries to retry them.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import os
import queue
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from risk_api.database import as_utc, audit_events, db_time

logger = logging.getLogger(__name__)

#: Hex characters kept of the HMAC: 80 bits, no collision in any landlord's portfolio.
PSEUDONYM_LENGTH = 20
#: How long the writer waits after an entry for more to write with it (seconds).
LINGER_SECONDS = 0.05
#: Most rows in one insert.
BATCH_SIZE = 2_000
#: Seconds between two attempts while the database fails (doubling up to the maximum).
RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 30.0
#: Shortest accepted pseudonym key, in bytes.
MIN_KEY_BYTES = 16
#: Error raised by :func:`read_or_create_key` for a key file that is too short.
SHORT_KEY = "pseudonym key file {path} holds {size} bytes; at least 16 are needed"
#: Error raised by :meth:`AuditLog.record` after :meth:`AuditLog.close`.
CLOSED = "the audit log is closed"


@dataclass(frozen=True)
class AuditEntry:
    """One household in one scoring call, as the route knows it.

    ``tenancy_id`` is the landlord's id in clear: :class:`AuditLog` turns it into a
    pseudonym before anything is stored, and never stores it.
    """

    time: datetime
    request_id: str | None
    key_id: str | None
    route: str
    model_name: str | None
    model_version: str | None
    model_alias: str | None
    as_of: date | None
    tenancy_id: str
    probability: float | None
    band: str | None
    rank: int | None
    reason_codes: tuple[str, ...] = ()
    held_out: bool | None = None


def read_or_create_key(path: Path) -> bytes:
    """Return the pseudonym key in ``path``, creating it (32 random bytes, mode 0600).

    Raises
    ------
    ValueError
        :data:`SHORT_KEY` when the file holds fewer than :data:`MIN_KEY_BYTES` bytes.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(secrets.token_bytes(32))
    key = path.read_bytes()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(SHORT_KEY.format(path=path, size=len(key)))
    return key


class AuditLog:
    """The audit log in the service's database, with a background writer.

    Parameters
    ----------
    engine
        Engine of a database whose schema exists (:func:`risk_api.database.create_schema`).
    pseudonym_key
        Secret key of the tenancy pseudonyms (:func:`read_or_create_key`).
    """

    def __init__(self, engine: sa.Engine, pseudonym_key: bytes) -> None:
        self.engine = engine
        self._key = bytes(pseudonym_key)
        self._queue: queue.SimpleQueue[list[AuditEntry] | None] = queue.SimpleQueue()
        self._pending = 0  # entries recorded and not yet written
        self._done = threading.Condition()
        self._wake = threading.Event()
        self._closed = False
        self._last_time: datetime | None = None  # writer thread only
        self._last_db_time: datetime | None = None
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def pseudonym(self, tenancy_id: str) -> str:
        """Return the pseudonym of a tenancy: HMAC-SHA256 under the key, hex, 20 chars."""
        return hmac.digest(self._key, str(tenancy_id).encode(), "sha256").hex()[:PSEUDONYM_LENGTH]

    def record(self, entries: Iterable[AuditEntry]) -> None:
        """Queue entries for writing and return at once."""
        batch = list(entries)
        if not batch:
            return
        with self._done:
            if self._closed:
                raise RuntimeError(CLOSED)
            self._pending += len(batch)
        self._queue.put(batch)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every entry recorded so far is written; False on timeout."""
        self._wake.set()  # cut short a retry delay
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout=timeout)

    def close(self, timeout: float | None = 10.0) -> None:
        """Write what is queued, then stop the writer; log an error for entries left."""
        with self._done:
            if self._closed:
                return
            self._closed = True
        written = self.flush(timeout)
        self._queue.put(None)
        self._wake.set()
        self._thread.join(timeout=1.0 if written else 0.1)
        if not written:
            logger.error("audit log closed with %d entries not written", self._pending)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- writer -------------------------------------------------------------------------

    def _row(self, entry: AuditEntry) -> dict[str, Any]:
        # The entries of one call share their time object: convert it once.
        if entry.time is not self._last_time:
            self._last_time, self._last_db_time = entry.time, db_time(self.engine, entry.time)
        return {
            "time": self._last_db_time,
            "request_id": entry.request_id,
            "key_id": entry.key_id,
            "route": entry.route,
            "model_name": entry.model_name,
            "model_version": entry.model_version,
            "model_alias": entry.model_alias,
            "as_of": entry.as_of,
            "tenancy_pseudonym": self.pseudonym(entry.tenancy_id),
            "probability": None if entry.probability is None else float(entry.probability),
            "band": entry.band,
            "rank": None if entry.rank is None else int(entry.rank),
            "reason_codes": _codes_text(tuple(entry.reason_codes)),
            "held_out": entry.held_out,
        }

    def _rows(self, batch: list[AuditEntry]) -> list[dict[str, Any]]:
        """Return the rows of a batch; an entry that cannot be stored is logged and dropped."""
        rows = []
        for entry in batch:
            try:
                rows.append(self._row(entry))
            except Exception:
                logger.exception("audit log: dropped an entry that cannot be stored")
                self._written(1)
        return rows

    def _written(self, count: int) -> None:
        with self._done:
            self._pending -= count
            self._done.notify_all()

    def _run(self) -> None:
        rows: list[dict[str, Any]] = []
        delay = RETRY_SECONDS
        stopping = False
        while True:
            if not rows:
                if stopping:
                    return
                batch = self._queue.get()
                if batch is None:
                    return
                rows.extend(self._rows(batch))
                # Let a few more requests' entries arrive and write them in one
                # transaction: one insert per request would take the interpreter lock
                # from the requests at every call. flush() cuts the wait short.
                self._wake.wait(LINGER_SECONDS)
                self._wake.clear()
            while len(rows) < BATCH_SIZE:  # gather what else is waiting
                try:
                    batch = self._queue.get_nowait()
                except queue.Empty:
                    break
                if batch is None:
                    stopping = True
                    break
                rows.extend(self._rows(batch))
            chunk = rows[:BATCH_SIZE]
            try:
                with self.engine.begin() as conn:
                    conn.execute(audit_events.insert(), chunk)
            except Exception:
                logger.exception(
                    "audit log: could not write %d entries; kept for retry in %.1f s",
                    len(rows),
                    delay,
                )
                if stopping:
                    return
                self._wake.clear()
                self._wake.wait(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
                continue
            delay = RETRY_SECONDS
            del rows[: len(chunk)]
            self._written(len(chunk))

    # --- reading ------------------------------------------------------------------------

    def query(
        self,
        *,
        key_id: str | None = None,
        model_version: str | None = None,
        tenancy_id: str | None = None,
        pseudonym: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        route: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Return audit rows, newest first, as JSON-ready dicts.

        Parameters
        ----------
        key_id, model_version, route
            Keep rows with this value.
        tenancy_id
            Keep the rows of this tenancy (given in clear, looked up by its pseudonym).
        pseudonym
            Keep the rows of this pseudonym.
        since, until
            Keep rows with ``since <= time < until``; naive times are taken as UTC.
        limit, offset
            Page of the result.

        Returns
        -------
        list of dict
            Keys: the columns of ``audit_events``; times in ISO 8601 UTC, ``as_of`` as
            ``YYYY-MM-DD``, ``reason_codes`` a list.
        """
        table = audit_events
        query = sa.select(table)
        if key_id is not None:
            query = query.where(table.c.key_id == key_id)
        if model_version is not None:
            query = query.where(table.c.model_version == model_version)
        if route is not None:
            query = query.where(table.c.route == route)
        if tenancy_id is not None:
            query = query.where(table.c.tenancy_pseudonym == self.pseudonym(tenancy_id))
        if pseudonym is not None:
            query = query.where(table.c.tenancy_pseudonym == pseudonym)
        if since is not None:
            query = query.where(table.c.time >= db_time(self.engine, since))
        if until is not None:
            query = query.where(table.c.time < db_time(self.engine, until))
        query = query.order_by(table.c.time.desc(), table.c.id.desc())
        query = query.limit(max(int(limit), 0)).offset(max(int(offset), 0))
        with self.engine.connect() as conn:
            return [_jsonable(row._asdict()) for row in conn.execute(query)]


@functools.lru_cache(maxsize=4096)
def _codes_text(codes: tuple[str, ...]) -> str:
    """Return reason codes as stored: a JSON list (the same few combinations recur)."""
    return json.dumps(list(codes))


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    row["time"] = as_utc(row["time"]).isoformat()
    if row["as_of"] is not None:
        row["as_of"] = row["as_of"].isoformat()
    row["reason_codes"] = json.loads(row["reason_codes"] or "[]")
    if row["held_out"] is not None:
        row["held_out"] = bool(row["held_out"])
    return row
