"""pg_move's bad input: each a clear error naming the field, with no secret in it."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.pgmove import db
from ansible_collections.sigma.deploy.plugins.modules import pg_move

SECRET = "s3cret-pw"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server(port: int = 5432) -> dict:
    return {
        "host": "127.0.0.1",
        "port": port,
        "database": "app",
        "user": "postgres",
        "password": SECRET,
    }


def test_a_bad_name_is_refused(run):
    result = run(pg_move, source=server(), target=server(), name="Bad-Name")
    assert result["failed"] is True
    assert result["failure"]["field"] == "name"
    assert "got 'Bad-Name'" in result["msg"]


def test_cutover_needs_app_roles(run):
    result = run(pg_move, source=server(), target=server(), state="cutover")
    assert result["failed"] is True
    assert result["failure"]["field"] == "app_roles"


def test_a_negative_timeout_is_refused(run):
    result = run(pg_move, source=server(), target=server(), catchup_timeout=-1)
    assert result["failure"]["field"] == "catchup_timeout"


def test_an_unreachable_source_is_named_without_its_password(run):
    port = closed_port()
    result = run(pg_move, source=server(port), target=server(port))
    assert result["failed"] is True
    assert result["failure"]["field"] == "source"
    assert result["msg"].startswith(f"cannot connect to the source (postgres@127.0.0.1:{port}/app)")
    assert SECRET not in repr(result)


def test_a_bad_dsn_is_named_without_its_text(run):
    result = run(pg_move, source={"dsn": f"host=x password={SECRET} bogus"}, target=server())
    assert result["failed"] is True
    assert result["msg"] == "source.dsn is not a valid connection string"
    assert SECRET not in repr(result)


def test_without_psycopg_the_module_says_what_to_install(run, monkeypatch):
    monkeypatch.setattr(db, "PSYCOPG_IMPORT_ERROR", ImportError("No module named 'psycopg'"))
    result = run(pg_move, source=server(), target=server())
    assert result["failed"] is True
    assert "psycopg (psycopg[binary], version 3)" in result["msg"]


@pytest.mark.parametrize(
    ("state", "changed", "move", "expected"),
    [
        (
            "prepared",
            True,
            {"publication": "m", "subscription": "m"},
            {
                "before": {"publication": False, "subscription": False},
                "after": {"publication": True, "subscription": True},
            },
        ),
        (
            "cutover",
            True,
            {"publication": "m", "subscription": "m"},
            {
                "before": {"publication": True, "subscription": True, "source_writes": "open"},
                "after": {"publication": False, "subscription": False, "source_writes": "paused"},
            },
        ),
        (
            "absent",
            True,
            {"dropped": ["subscription m", "publication m"]},
            {
                "before": {"replication": ["publication m", "subscription m"]},
                "after": {"replication": []},
            },
        ),
    ],
)
def test_diff(state, changed, move, expected):
    assert pg_move.diff(state, changed, move) == expected
