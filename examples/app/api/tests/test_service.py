"""/healthz, /version, the JSON logs and start-up settings."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
from starlette.testclient import TestClient

from notes_api.main import create_app

# Nothing listens on port 1: the connection is refused at once.
UNREACHABLE_PG = "postgresql+psycopg://notes:secret-pw@127.0.0.1:1/notes"
# A non-routable address: the connection attempt hangs until the connect timeout.
BLACKHOLE_PG = "postgresql+psycopg://notes:secret-pw@10.255.255.1:5432/notes"


def log_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_healthz_ok_on_a_working_database(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("url", [UNREACHABLE_PG, BLACKHOLE_PG])
def test_healthz_503_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with TestClient(create_app()) as client:
        start = time.monotonic()
        response = client.get("/healthz")
        took = time.monotonic() - start

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] not in ("", "ok")
    assert "secret-pw" not in response.text
    assert took < 5, f"/healthz took {took:.1f} s; the connect timeout is 2 s"


def test_notes_503_when_the_database_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_PG)
    with TestClient(create_app()) as client:
        response = client.get("/notes")

    assert response.status_code == 503
    assert response.json() == {"detail": "database unavailable"}


def test_version_from_env(monkeypatch: pytest.MonkeyPatch, migrated: str) -> None:
    monkeypatch.setenv("RELEASE_ID", "20261126T153400Z-abc1234")
    monkeypatch.setenv("GIT_SHA", "abc1234def")
    with TestClient(create_app()) as client:
        response = client.get("/version")

    assert response.status_code == 200
    assert response.json() == {
        "release_id": "20261126T153400Z-abc1234",
        "git_sha": "abc1234def",
        "component": "api",
    }


def test_version_without_env(client: TestClient) -> None:
    assert client.get("/version").json() == {
        "release_id": "unknown",
        "git_sha": "unknown",
        "component": "api",
    }


def test_one_json_log_line_per_request(
    monkeypatch: pytest.MonkeyPatch, migrated: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RELEASE_ID", "r-42")
    with TestClient(create_app()) as client:
        capsys.readouterr()
        client.get("/notes", params={"limit": 5})
        client.get("/notes/999")

    first, second = log_lines(capsys.readouterr().out)
    assert set(first) >= {"ts", "level", "msg", "method", "path", "status", "duration_ms"}
    assert first["msg"] == "request"
    assert first["level"] == "info"
    assert (first["method"], first["path"], first["status"]) == ("GET", "/notes", 200)
    assert first["release_id"] == "r-42"
    assert isinstance(first["duration_ms"], float)
    assert first["duration_ms"] >= 0
    assert datetime.fromisoformat(first["ts"]).tzinfo is not None
    assert (second["path"], second["status"]) == ("/notes/999", 404)


def test_unhandled_error_is_a_json_500_and_a_json_log(
    migrated: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app()

    def boom() -> None:
        raise RuntimeError("kaput")

    app.add_api_route("/boom", boom)
    with TestClient(app) as client:
        capsys.readouterr()
        response = client.get("/boom")

    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    error, request = log_lines(capsys.readouterr().out)
    assert error["level"] == "error"
    assert error["error"] == "RuntimeError: kaput"
    assert "Traceback" in error["traceback"]
    assert (request["path"], request["status"], request["level"]) == ("/boom", 500, "error")


def test_debug_level_is_accepted(monkeypatch: pytest.MonkeyPatch, migrated: str) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    with TestClient(create_app()) as client:
        assert client.get("/healthz").status_code == 200


def test_start_up_fails_naming_database_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exception, match="DATABASE_URL is not set"), TestClient(create_app()):
        pass

    assert "DATABASE_URL is not set" in log_lines(capsys.readouterr().out)[-1]["msg"]


def test_start_up_refuses_a_bad_url_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "not a url secret-pw")
    app = create_app()
    with pytest.raises(Exception, match="DATABASE_URL is not a valid") as raised, TestClient(app):
        pass

    assert "secret-pw" not in str(raised.value)


def test_start_up_refuses_an_unknown_log_level(
    monkeypatch: pytest.MonkeyPatch, migrated: str
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(Exception, match="LOG_LEVEL must be one of"), TestClient(create_app()):
        pass
