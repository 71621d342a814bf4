"""The audit log, on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from risk_api.audit import AuditEntry, AuditLog, read_or_create_key
from risk_api.database import create_schema, make_engine, metadata

KEY = b"k" * 32
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def entry(tenancy_id: str, minute: int = 0, **changes: object) -> AuditEntry:
    values: dict[str, object] = {
        "time": T0 + timedelta(minutes=minute),
        "request_id": f"req-{minute}",
        "key_id": "aaaaaaaaaaaa",
        "route": "/v1/scores",
        "model_name": "arrears-risk",
        "model_version": "3",
        "model_alias": "champion",
        "as_of": date(2025, 3, 1),
        "tenancy_id": tenancy_id,
        "probability": 0.25,
        "band": "high",
        "rank": 1,
        "reason_codes": ("arrears_recent", "apl_drop"),
        "held_out": None,
    }
    values.update(changes)
    return AuditEntry(**values)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def log(engine: sa.Engine) -> Iterator[AuditLog]:
    audit = AuditLog(engine, KEY)
    yield audit
    audit.close()


def dump(engine: sa.Engine) -> str:
    """Every row of every table, as one string."""
    with engine.connect() as conn:
        return repr([list(conn.execute(sa.select(t))) for t in metadata.sorted_tables])


def test_entries_recorded_from_several_threads_are_all_written_after_flush(
    log: AuditLog,
) -> None:
    def work(thread: int) -> None:
        for i in range(25):
            log.record([entry(f"T{thread}-{i}", minute=i), entry(f"U{thread}-{i}", minute=i)])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.flush(timeout=30)
    assert len(log.query(limit=1000)) == 4 * 25 * 2


def test_a_row_reads_back_with_json_ready_values_and_no_clear_tenancy_id(log: AuditLog) -> None:
    log.record([entry("BAIL-0042", held_out=True)])
    log.flush()
    (row,) = log.query()
    assert row["time"] == "2025-03-01T09:00:00+00:00"
    assert row["as_of"] == "2025-03-01"
    assert row["reason_codes"] == ["arrears_recent", "apl_drop"]
    assert row["held_out"] is True
    assert row["probability"] == 0.25
    assert row["rank"] == 1
    assert row["tenancy_pseudonym"] == log.pseudonym("BAIL-0042")
    assert len(row["tenancy_pseudonym"]) == 20
    assert "tenancy_id" not in row


def test_each_filter_keeps_only_its_rows_newest_first(log: AuditLog) -> None:
    log.record([
        entry("A", minute=0),
        entry("B", minute=10, key_id="bbbbbbbbbbbb"),
        entry("A", minute=20, model_version="4"),
        entry("C", minute=30, route="/v1/worklist"),
    ])
    log.flush()

    def tenancies(**filters: object) -> list[str]:
        names = {log.pseudonym(t): t for t in "ABC"}
        return [names[r["tenancy_pseudonym"]] for r in log.query(**filters)]

    assert tenancies() == ["C", "A", "B", "A"]
    assert tenancies(key_id="bbbbbbbbbbbb") == ["B"]
    assert tenancies(model_version="4") == ["A"]
    assert tenancies(tenancy_id="A") == ["A", "A"]
    assert tenancies(pseudonym=log.pseudonym("B")) == ["B"]
    assert tenancies(route="/v1/worklist") == ["C"]
    assert tenancies(since=T0 + timedelta(minutes=10)) == ["C", "A", "B"]
    assert tenancies(until=T0 + timedelta(minutes=10)) == ["A"]
    # A naive time is UTC; an aware one in Paris (UTC+1 in March) is the same instant.
    naive = datetime(2025, 3, 1, 9, 20)
    paris = datetime(2025, 3, 1, 10, 20, tzinfo=timezone(timedelta(hours=1)))
    assert tenancies(since=naive) == ["C", "A"]
    assert tenancies(since=paris) == ["C", "A"]
    assert tenancies(limit=2) == ["C", "A"]
    assert tenancies(limit=2, offset=2) == ["B", "A"]


def test_the_clear_tenancy_id_is_stored_nowhere(log: AuditLog, engine: sa.Engine) -> None:
    log.record([entry("BAIL-SECRET-777"), entry("BAIL-SECRET-888", minute=1)])
    log.flush()
    text = dump(engine)
    assert "SECRET" not in text
    assert log.pseudonym("BAIL-SECRET-777") in text


def test_pseudonyms_are_stable_for_one_key_and_differ_across_keys(engine: sa.Engine) -> None:
    one, same, other = AuditLog(engine, KEY), AuditLog(engine, KEY), AuditLog(engine, b"x" * 32)
    try:
        assert one.pseudonym("T1") == same.pseudonym("T1")
        assert one.pseudonym("T1") != one.pseudonym("T2")
        assert one.pseudonym("T1") != other.pseudonym("T1")
        # HMAC-SHA256(b"k"*32, b"T1"), hex, first 20 characters (checked with openssl).
        assert one.pseudonym("T1") == "637245582503244201ff"
    finally:
        for audit in (one, same, other):
            audit.close()


def test_entries_survive_closing_and_reopening(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    first = AuditLog(engine, KEY)
    first.record([entry("T1"), entry("T2", minute=1)])
    first.close()  # flushes
    engine.dispose()

    engine = make_engine(database_url)
    create_schema(engine)  # idempotent
    with AuditLog(engine, KEY) as second:
        assert len(second.query()) == 2
        assert second.query(tenancy_id="T1")[0]["request_id"] == "req-0"
    engine.dispose()


def test_a_failing_database_logs_an_error_and_keeps_the_entries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")  # no schema: inserts fail
    audit = AuditLog(engine, KEY)
    with caplog.at_level(logging.ERROR, logger="risk_api.audit"):
        audit.record([entry("T1"), entry("T2")])
        assert not audit.flush(timeout=0.3)
        assert "could not write 2 entries" in caplog.text
        create_schema(engine)  # the database comes back: the kept entries are written
        assert audit.flush(timeout=10)
    assert len(audit.query()) == 2
    audit.close()
    assert "T1" not in caplog.text  # no tenancy id in the log either


def test_closing_with_entries_not_written_logs_how_many(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    audit = AuditLog(make_engine(f"sqlite:///{tmp_path / 'a.db'}"), KEY)
    with caplog.at_level(logging.ERROR, logger="risk_api.audit"):
        audit.record([entry("T1")])
        audit.close(timeout=0.3)
    assert "closed with 1 entries not written" in caplog.text
    with pytest.raises(RuntimeError, match="closed"):
        audit.record([entry("T2")])


def test_the_pseudonym_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret" / "pseudonym.key"
    key = read_or_create_key(path)
    assert len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_or_create_key(path) == key


def test_a_short_pseudonym_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pseudonym.key"
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="at least 16"):
        read_or_create_key(path)
