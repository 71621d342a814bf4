"""API keys: creation, hashing, constant-time checks, revocation and the ``risk keys`` CLI."""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from risk.cli import app
from risk_api import keys as keys_module
from risk_api.database import create_schema, make_engine, metadata
from risk_api.keys import ROLES, UNKNOWN_ROLE, KeyStore, parse_key

runner = CliRunner()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: sa.Engine) -> KeyStore:
    return KeyStore(engine, cache_seconds=0)


def dump(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return repr([list(conn.execute(sa.select(t))) for t in metadata.sorted_tables])


@pytest.mark.parametrize("role", ROLES)
def test_a_created_key_authenticates_with_its_role(store: KeyStore, role: str) -> None:
    new = store.create("crm-prod", role)
    info = store.authenticate(new.secret)
    assert info is not None
    assert (info.key_id, info.name, info.role, info.active) == (
        new.info.key_id, "crm-prod", role, True,
    )


def test_a_key_reads_rk_then_a_12_hex_id_then_a_43_character_secret(store: KeyStore) -> None:
    new = store.create("crm", "scorer")
    assert new.secret.startswith(f"rk_{new.info.key_id}_")
    assert len(new.info.key_id) == 12
    assert len(new.secret) == 3 + 12 + 1 + 43
    assert parse_key(new.secret) == (new.info.key_id, new.secret[16:])


def test_the_database_holds_no_secret(store: KeyStore, engine: sa.Engine) -> None:
    new = store.create("crm", "scorer")
    secret = new.secret.split("_", 2)[2]
    text = dump(engine)
    assert new.info.key_id in text
    assert secret not in text
    assert secret[:20] not in text


def test_listing_never_shows_a_hash(store: KeyStore) -> None:
    store.create("crm", "scorer")
    store.create("audit", "auditor")
    listed = store.list()
    assert [k.name for k in listed] == ["crm", "audit"]
    assert not any(hasattr(k, "hash") for k in listed)


def test_a_wrong_secret_with_a_valid_key_id_fails(store: KeyStore) -> None:
    new = store.create("crm", "scorer")
    wrong = new.secret[:-1] + ("A" if new.secret[-1] != "A" else "B")
    assert store.authenticate(wrong) is None


def test_secrets_are_compared_with_compare_digest(
    store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return original(a, b)

    new = store.create("crm", "scorer")
    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    assert store.authenticate(new.secret) is not None
    assert store.authenticate(new.secret[:-1] + "x") is None
    assert len(calls) == 2


def test_a_revoked_key_stops_working(store: KeyStore) -> None:
    new = store.create("crm", "scorer")
    assert store.revoke(new.info.key_id)
    assert store.authenticate(new.secret) is None
    assert store.list()[0].revoked_at is not None
    assert not store.revoke(new.info.key_id)
    assert not store.revoke("000000000000")


def test_a_revocation_by_another_process_applies_after_the_cache_delay(
    engine: sa.Engine,
) -> None:
    service = KeyStore(engine, cache_seconds=0.2)
    admin = KeyStore(engine, cache_seconds=0)
    new = admin.create("crm", "scorer")
    assert service.authenticate(new.secret) is not None
    admin.revoke(new.info.key_id)
    assert service.authenticate(new.secret) is not None  # still cached
    time.sleep(0.25)
    assert service.authenticate(new.secret) is None


def test_a_warm_cache_authenticates_in_well_under_a_fifth_of_a_millisecond(
    engine: sa.Engine,
) -> None:
    service = KeyStore(engine, cache_seconds=60)
    secret = service.create("crm", "scorer").secret
    service.authenticate(secret)
    start = time.perf_counter()
    for _ in range(1000):
        service.authenticate(secret)
    assert (time.perf_counter() - start) / 1000 < 0.0001


@pytest.mark.parametrize(
    "presented",
    [
        None,
        "",
        "rk_",
        "Bearer something",
        "rk_zzzzzzzzzzzz_" + "a" * 43,
        "rk_0123456789ab_" + "a" * 42,
        "xx_0123456789ab_" + "a" * 43,
        "rk_0123456789ab_" + "a" * 42 + "!",
        "rk_0123456789ab_" + "a" * 43,  # well formed, unknown id
    ],
)
def test_malformed_or_unknown_keys_return_none(store: KeyStore, presented: str | None) -> None:
    store.create("crm", "scorer")
    assert store.authenticate(presented) is None


def test_an_unknown_role_is_refused_with_the_named_error(store: KeyStore) -> None:
    with pytest.raises(ValueError, match="unknown role 'root'") as error:
        store.create("crm", "root")
    assert str(error.value) == UNKNOWN_ROLE.format(role="root")
    assert store.list() == []


def test_an_empty_name_is_refused(store: KeyStore) -> None:
    with pytest.raises(ValueError, match="non-empty name"):
        store.create("  ", "scorer")


# --- the CLI --------------------------------------------------------------------------------


def test_keys_create_list_revoke_through_the_cli(database_url: str) -> None:
    db = ["--database", database_url]
    created = runner.invoke(app, ["keys", "create", "crm-prod", "--role", "scorer", *db])
    assert created.exit_code == 0, created.output
    assert "cannot be shown again" in created.output
    secret = next(w for w in created.output.split() if w.startswith("rk_"))
    key_id = secret.split("_")[1]

    engine = make_engine(database_url)
    assert KeyStore(engine, cache_seconds=0).authenticate(secret) is not None

    listed = runner.invoke(app, ["keys", "list", *db])
    assert listed.exit_code == 0, listed.output
    assert key_id in listed.output
    assert "crm-prod" in listed.output
    assert "scorer" in listed.output
    assert secret not in listed.output

    revoked = runner.invoke(app, ["keys", "revoke", key_id, *db])
    assert revoked.exit_code == 0, revoked.output
    assert KeyStore(engine, cache_seconds=0).authenticate(secret) is None
    engine.dispose()

    again = runner.invoke(app, ["keys", "revoke", key_id, *db])
    assert again.exit_code == 1
    assert "no active key" in again.output


def test_keys_create_refuses_an_unknown_role(database_url: str) -> None:
    args = ["keys", "create", "x", "--role", "root", "--database", database_url]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "unknown role 'root'" in result.output
