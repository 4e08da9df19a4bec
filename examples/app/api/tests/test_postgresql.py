"""Against a real PostgreSQL: the throwaway cluster of conftest.py (pg_url)."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime

import pytest
from sqlalchemy import inspect
from starlette.testclient import TestClient
from support import connect_psycopg, connection, migrate_command, run_migrate

from notes_api.main import create_app
from notes_api.migrate import LOCK_ID

pytestmark = pytest.mark.postgresql


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
