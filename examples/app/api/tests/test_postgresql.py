"""Against a real PostgreSQL: a throwaway cluster on a unix socket in a temporary directory.

Needs the server binaries (Debian: apt-get install postgresql-15; or set PG_BIN). As root,
the cluster runs as `nobody`, since initdb refuses to run as root.
"""

from __future__ import annotations

import itertools
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect
from starlette.testclient import TestClient
from support import connection, migrate_command, run_migrate

from notes_api.main import create_app
from notes_api.migrate import LOCK_ID

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
pytestmark = pytest.mark.postgresql
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


def connect_psycopg(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)


def test_migrate_creates_the_table(pg_url: str) -> None:
    result = run_migrate()

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"from": None, "to": "0002", "changed": True}
    assert run_migrate("--current").stdout.strip() == run_migrate("--head").stdout.strip()
    with connection(pg_url) as conn:
        columns = {c["name"]: c for c in inspect(conn).get_columns("notes")}
    assert list(columns) == ["id", "title", "body", "created_at"]
    assert columns["created_at"]["type"].timezone is True


def test_crud_and_health(pg_url: str) -> None:
    assert run_migrate().returncode == 0
    with TestClient(create_app()) as client:
        assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
        first = client.post("/notes", json={"title": "one"}).json()
        second = client.post("/notes", json={"title": "two", "body": "b"}).json()

        assert [n["id"] for n in client.get("/notes").json()] == [second["id"], first["id"]]
        assert client.get(f"/notes/{first['id']}").json() == first
        assert datetime.fromisoformat(first["created_at"]).tzinfo is not None
        assert client.delete(f"/notes/{first['id']}").status_code == 204
        assert client.get(f"/notes/{first['id']}").status_code == 404


def test_migrate_waits_for_the_advisory_lock(pg_url: str) -> None:
    with connect_psycopg(pg_url) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))

        gave_up = run_migrate("--lock-timeout", "1")
        assert gave_up.returncode == 1
        assert "held the lock" in gave_up.stderr
        assert run_migrate("--current").stdout.strip() == ""

        waiting = subprocess.Popen(
            migrate_command("--lock-timeout", "60"), stdout=subprocess.PIPE, text=True
        )
        time.sleep(2)
        assert waiting.poll() is None, "migrate ran while another session held the lock"
        holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
        out = waiting.communicate(timeout=60)[0]

    assert waiting.returncode == 0
    assert json.loads(out)["changed"] is True


def test_concurrent_migrations_apply_once(pg_url: str) -> None:
    runs = [
        subprocess.Popen(migrate_command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _run in range(3)
    ]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]

    assert [r[0] for r in results] == [0, 0, 0], [r[2] for r in results]
    changed = [json.loads(r[1])["changed"] for r in results]
    assert sorted(changed) == [False, False, True]
    with connect_psycopg(pg_url) as conn:
        held = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()
    assert held == (0,)
