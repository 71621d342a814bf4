"""API keys: created once, stored hashed, checked in constant time, each with one role.

A key reads ``rk_<key_id>_<secret>``: ``key_id`` is a short public id (12 hex digits,
shown in listings and written in the audit log), ``secret`` 32 random bytes in URL-safe
base64 (43 characters). Only a SHA-256 of the secret is stored.

Why SHA-256 and not bcrypt or argon2: a slow, salted hash protects *guessable* secrets
(human passwords) against a dictionary attack by whoever steals the table. These
secrets are 256 bits drawn by :mod:`secrets`; nobody can enumerate them, with or without
a slow hash, so a fast hash is as safe and keeps authentication at a few microseconds
instead of ~100 ms per uncached request.

Roles: ``scorer`` (scores, work list, outcomes), ``auditor`` (model information, audit
log), ``admin`` (model reload). Which route accepts which role is the routes' choice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from risk_api.database import api_keys, as_utc, db_time, utc_now

#: Every role a key can have.
ROLES = ("scorer", "auditor", "admin")

#: Error raised by :meth:`KeyStore.create` for a role not in :data:`ROLES`.
UNKNOWN_ROLE = "unknown role {role!r}; expected one of: scorer, auditor, admin"
#: Error raised by :meth:`KeyStore.create` for an empty name.
EMPTY_NAME = "a key needs a non-empty name (e.g. the tool that will use it)"

PREFIX = "rk"
KEY_ID_LENGTH = 12
SECRET_LENGTH = 43
#: Most entries the authentication cache holds before it is emptied.
CACHE_SIZE = 10_000

_HEX = frozenset(string.hexdigits.lower())
_URLSAFE = frozenset(string.ascii_letters + string.digits + "-_")


@dataclass(frozen=True)
class KeyInfo:
    """What the store knows about a key, without its hash or secret.

    Attributes
    ----------
    key_id
        Public id, e.g. ``3f9c0a1b2c4d``.
    name
        Label given at creation (the tool or team that uses the key).
    role
        One of :data:`ROLES`.
    created_at
        Creation time, UTC.
    revoked_at
        Revocation time, UTC, or None while the key is active.
    """

    key_id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the key has not been revoked."""
        return self.revoked_at is None


@dataclass(frozen=True)
class NewKey:
    """A key just created: the only time its secret is available.

    Attributes
    ----------
    info
        The stored description of the key.
    secret
        The full key to give to the client (``rk_<key_id>_<secret>``); not stored.
    """

    info: KeyInfo
    secret: str


def _digest(secret: str) -> str:
    """Return the hex SHA-256 of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(presented: str) -> tuple[str, str] | None:
    """Split a presented key into ``(key_id, secret)``, or None if it is malformed."""
    parts = presented.split("_", 2)
    if len(parts) != 3:
        return None
    prefix, key_id, secret = parts
    if prefix != PREFIX or len(key_id) != KEY_ID_LENGTH or len(secret) != SECRET_LENGTH:
        return None
    if not set(key_id) <= _HEX or not set(secret) <= _URLSAFE:
        return None
    return key_id, secret


def _info(row: sa.Row) -> KeyInfo:
    return KeyInfo(
        key_id=row.key_id,
        name=row.name,
        role=row.role,
        created_at=as_utc(row.created_at),
        revoked_at=None if row.revoked_at is None else as_utc(row.revoked_at),
    )


class KeyStore:
    """The API keys in the service's database, with a small authentication cache.

    Parameters
    ----------
    engine
        Engine of a database whose schema exists (:func:`risk_api.database.create_schema`).
    cache_seconds
        How long a successful authentication is remembered; a key revoked by another
        process stops working within this delay (at once in this process). 0 turns the
        cache off.
    """

    def __init__(self, engine: sa.Engine, cache_seconds: float = 5.0) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[KeyInfo, float]] = {}
        self._lock = threading.Lock()

    def create(self, name: str, role: str) -> NewKey:
        """Create a key and return it with its secret, which is not kept.

        Raises
        ------
        ValueError
            :data:`UNKNOWN_ROLE` or :data:`EMPTY_NAME`.
        """
        if role not in ROLES:
            raise ValueError(UNKNOWN_ROLE.format(role=role))
        name = name.strip()
        if not name:
            raise ValueError(EMPTY_NAME)
        key_id = secrets.token_hex(KEY_ID_LENGTH // 2)
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        info = KeyInfo(key_id=key_id, name=name, role=role, created_at=utc_now())
        with self.engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    key_id=key_id,
                    name=name,
                    role=role,
                    hash=_digest(secret),
                    created_at=db_time(self.engine, info.created_at),
                )
            )
        return NewKey(info=info, secret=f"{PREFIX}_{key_id}_{secret}")

    def list(self) -> list[KeyInfo]:
        """Return every key, active and revoked, oldest first; never a hash."""
        query = sa.select(
            api_keys.c.key_id,
            api_keys.c.name,
            api_keys.c.role,
            api_keys.c.created_at,
            api_keys.c.revoked_at,
        ).order_by(api_keys.c.created_at, api_keys.c.key_id)
        with self.engine.connect() as conn:
            return [_info(row) for row in conn.execute(query)]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key; return False if no active key has this id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                api_keys.update()
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=db_time(self.engine, utc_now()))
            )
        with self._lock:
            for digest in [d for d, (info, _) in self._cache.items() if info.key_id == key_id]:
                del self._cache[digest]
        return result.rowcount > 0

    def authenticate(self, presented: str | None) -> KeyInfo | None:
        """Return the active key that ``presented`` is, or None.

        None for a missing, malformed, unknown, wrong or revoked key: the caller answers
        401 with one message whatever the cause, telling an attacker nothing.
        """
        if not presented:
            return None
        # The cache is keyed by a hash of the presented key, so the key itself is not
        # kept in memory; a dict lookup on a SHA-256 leaks nothing usable by its timing.
        cache_key = _digest(presented)
        now = time.monotonic()
        if self.cache_seconds > 0:
            cached = self._cache.get(cache_key)
            if cached is not None and cached[1] > now:
                return cached[0]
        parsed = parse_key(presented)
        if parsed is None:
            return None
        key_id, secret = parsed
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id)).first()
        # Compare even when the id is unknown, so that both failures take the same time.
        stored = row.hash if row is not None else "0" * 64
        matches = hmac.compare_digest(stored.encode(), _digest(secret).encode())
        if row is None or not matches or row.revoked_at is not None:
            return None
        info = _info(row)
        if self.cache_seconds > 0:
            with self._lock:
                if len(self._cache) >= CACHE_SIZE:
                    self._cache.clear()
                self._cache[cache_key] = (info, now + self.cache_seconds)
        return info
