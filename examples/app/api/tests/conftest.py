"""Fixtures: a SQLite database per test, migrated with notes-api-migrate, and a client;
a PostgreSQL database per test in a throwaway cluster on a unix socket (pg_url).

The cluster needs the server binaries (Debian: apt-get install postgresql-15; or set PG_BIN).
As root, the cluster runs as `nobody`, since initdb refuses to run as root.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from starlette.testclient import TestClient

from notes_api import migrate
from notes_api.main import create_app

APP_ENV = (
    "DATABASE_URL",
    "RELEASE_ID",
    "GIT_SHA",
    "LOG_LEVEL",
    "JOB_QUEUE_URL",
    "JOB_MAX_ATTEMPTS",
    "JOB_POLL_SECONDS",
    "JOB_VISIBILITY_SECONDS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in APP_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def migrated(database_url: str) -> str:
    assert migrate.main([]) == 0
    return database_url


@pytest.fixture
def client(migrated: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
database_names = (f"notes_{n}" for n in itertools.count())


def as_cluster_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *command] if os.geteuid() == 0 else command


def pg_tool(tool: str, *args: str, log: Path | None = None) -> None:
    command = as_cluster_owner([str(PG_BIN / tool), *args])
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        server_log = log.read_text(errors="replace") if log and log.exists() else ""
        pytest.fail(f"{tool} failed ({result.returncode}): {result.stderr}{server_log}")


@pytest.fixture(scope="session")
def pg_socket_dir() -> Iterator[Path]:
    if not (PG_BIN / "initdb").is_file():
        pytest.skip(
            f"no PostgreSQL server binaries in {PG_BIN} (install postgresql-15 or set PG_BIN)"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb refuses to run as root")
    base = Path(tempfile.mkdtemp(prefix="notes-api-pg-"))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
    data, log = str(base / "data"), base / "server.log"
    try:
        pg_tool("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses='' -c unix_socket_directories={base} -c fsync=off"
        pg_tool("pg_ctl", "-D", data, "-l", str(log), "-o", options, "-w", "start", log=log)
        yield base
    finally:
        subprocess.run(
            as_cluster_owner([str(PG_BIN / "pg_ctl"), "-D", data, "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_socket_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty database for each test, set as DATABASE_URL."""
    name = next(database_names)
    with psycopg.connect(host=str(pg_socket_dir), user="postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"postgresql+psycopg://postgres@/{name}?host={pg_socket_dir}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url
