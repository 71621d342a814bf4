"""A real PostgreSQL server for the tests, started once per session.

``postgres_url`` finds the server binaries of the Debian package (installing
``postgresql`` with apt-get when they are missing), creates a cluster of its own in a
temporary folder (never the package's ``main`` cluster), starts it on a free port of
127.0.0.1 with trust authentication and fsync off, creates a database and yields its
SQLAlchemy URL. The server is stopped and the folder removed at the end of the session.
It skips only when the package cannot be installed.

``database_url`` is parametrized over a fresh SQLite file and the PostgreSQL database
(emptied before each test).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def _binaries() -> Path | None:
    """Folder of the newest installed PostgreSQL server binaries, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def _install() -> str | None:
    """Install the server with apt-get; return why it failed, or None."""
    if shutil.which("apt-get") is None:
        return "no PostgreSQL server binaries and no apt-get to install them"
    if os.geteuid() != 0:
        return "no PostgreSQL server binaries and not root to install them"

    def apt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["apt-get", *args], env=APT_ENV, capture_output=True, text=True, timeout=600
        )

    install = ("install", "-y", "--no-install-recommends", "postgresql")
    if apt(*install).returncode != 0:
        apt("update")
        result = apt(*install)
        if result.returncode != 0:
            return f"apt-get install postgresql failed: {result.stderr[-500:]}"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    """Run ``command`` as the postgres user when we are root (the server refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a database on a PostgreSQL server started for this session."""
    bindir = _binaries()
    if bindir is None:
        reason = _install()
        bindir = _binaries()
        if bindir is None:
            pytest.skip(reason or "PostgreSQL installed but no initdb found")
    # Not under pytest's tmp_path: its parents are mode 0700 and root's.
    root = Path(tempfile.mkdtemp(prefix="risk-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, log, port = root / "data", root / "server.log", _free_port()
    subprocess.run(
        _as_postgres([
            str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        ]),
        check=True, capture_output=True, timeout=120,
    )
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log)]
    started = subprocess.run(
        _as_postgres([*pg_ctl, "-o", options, "-w", "-t", "60", "start"]),
        capture_output=True, text=True, timeout=90,
    )
    if started.returncode != 0:
        detail = log.read_text() if log.exists() else started.stderr
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start:\n{detail}")
    try:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE risk_test")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/risk_test"
    finally:
        subprocess.run(
            _as_postgres([*pg_ctl, "-m", "fast", "-w", "stop"]), capture_output=True, timeout=60
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database: a SQLite file, then the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'risk-api.db'}"
    url: str = request.getfixturevalue("postgres_url")
    from risk_api.database import make_engine, metadata

    engine = make_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    return url
