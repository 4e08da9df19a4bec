"""POST and GET /jobs, the job kinds and the job settings (SQLite; no worker runs here)."""

from __future__ import annotations

from datetime import datetime

import pytest
from starlette.testclient import TestClient
from support import log_lines, run_worker, worker_env

from notes_api import jobs
from notes_api.main import create_app
from notes_api.settings import Settings, SettingsError


def queue_job(client: TestClient, kind: str, payload: dict | None = None) -> dict:
    body = {"kind": kind} if payload is None else {"kind": kind, "payload": payload}
    response = client.post("/jobs", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def test_a_queued_job_is_reported_queued(client: TestClient) -> None:
    job = queue_job(client, "echo", {"to": "you", "n": [1, 2]})

    assert set(job) == {
        "id", "kind", "payload", "status", "attempts", "result", "error", "created_at",
        "updated_at",
    }  # fmt: skip
    assert (job["kind"], job["status"]) == ("echo", "queued")
    assert job["payload"] == {"to": "you", "n": [1, 2]}
    assert (job["attempts"], job["result"], job["error"]) == (0, None, None)
    assert datetime.fromisoformat(job["created_at"]).tzinfo is not None
    assert client.get(f"/jobs/{job['id']}").json() == job


def test_the_payload_is_stored_as_the_kind_reads_it(client: TestClient) -> None:
    assert queue_job(client, "echo")["payload"] == {}
    assert queue_job(client, "fail")["payload"] == {"message": "this job always fails"}
    assert queue_job(client, "sleep", {"seconds": 1})["payload"] == {"seconds": 1.0}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "kind"]),
        ({"kind": "launch"}, ["body", "kind"]),
        ({"kind": "echo", "payload": [1]}, ["body", "payload"]),
        ({"kind": "echo", "payload": {"x": "y" * 16384}}, ["body", "payload"]),
        ({"kind": "echo", "priority": 1}, ["body", "priority"]),
        ({"kind": "sleep"}, ["body", "payload", "seconds"]),
        ({"kind": "sleep", "payload": {"seconds": 61}}, ["body", "payload", "seconds"]),
        ({"kind": "sleep", "payload": {"seconds": -1}}, ["body", "payload", "seconds"]),
        ({"kind": "fail", "payload": {"colour": "red"}}, ["body", "payload", "colour"]),
    ],
)
def test_an_invalid_job_is_422_naming_the_field(
    client: TestClient, migrated: str, body: dict, loc: list[str]
) -> None:
    response = client.post("/jobs", json=body)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [loc]
    assert client.get("/jobs/1").status_code == 404


def test_an_unknown_kind_names_the_known_ones(client: TestClient) -> None:
    detail = client.post("/jobs", json={"kind": "launch"}).json()["detail"]

    assert detail[0]["msg"] == "Value error, must be one of echo, fail, sleep"


def test_a_missing_job_is_404(client: TestClient) -> None:
    assert client.get("/jobs/4242").status_code == 404
    assert client.get("/jobs/4242").json() == {"detail": "job not found"}
    assert client.get("/jobs/abc").status_code == 422


def test_the_kinds_run_as_documented() -> None:
    assert jobs.run("echo", {"a": 1}) == {"echo": {"a": 1}}
    assert jobs.run("sleep", {"seconds": 0}) == {"slept": 0.0}
    with pytest.raises(jobs.JobFailed, match=r"^this job always fails$"):
        jobs.run("fail", {})
    with pytest.raises(jobs.JobFailed, match=r"^unknown job kind 'launch'; this worker knows echo"):
        jobs.run("launch", {})


def test_job_settings_default_and_parse() -> None:
    url = "postgresql+psycopg://u@h/db"
    defaults = Settings.from_env({"DATABASE_URL": url})
    queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/notes-jobs"
    custom = Settings.from_env(
        {
            "DATABASE_URL": url,
            "JOB_QUEUE_URL": f" {queue_url} ",
            "JOB_MAX_ATTEMPTS": "5",
            "JOB_POLL_SECONDS": "0.5",
            "JOB_VISIBILITY_SECONDS": "120",
        }
    )

    assert (
        defaults.job_queue_url,
        defaults.job_max_attempts,
        defaults.job_poll_seconds,
        defaults.job_visibility_seconds,
    ) == (None, 3, 10.0, 30.0)
    assert (
        custom.job_queue_url,
        custom.job_max_attempts,
        custom.job_poll_seconds,
        custom.job_visibility_seconds,
    ) == (queue_url, 5, 0.5, 120.0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JOB_MAX_ATTEMPTS", "0", "JOB_MAX_ATTEMPTS must be a whole number from 1 to 100, not '0'"),
        ("JOB_MAX_ATTEMPTS", "2.5", "JOB_MAX_ATTEMPTS must be a whole number from 1 to 100"),
        ("JOB_POLL_SECONDS", "21", "JOB_POLL_SECONDS must be a number from 0 to 20, not '21'"),
        ("JOB_POLL_SECONDS", "soon", "JOB_POLL_SECONDS must be a number from 0 to 20"),
        ("JOB_VISIBILITY_SECONDS", "0", "JOB_VISIBILITY_SECONDS must be a number from 0.1 to"),
        ("JOB_QUEUE_URL", "notes-jobs", "JOB_QUEUE_URL must be an SQS queue URL such as"),
        ("JOB_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/notes", "JOB_QUEUE_URL must be"),
    ],
)
def test_a_bad_job_setting_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"DATABASE_URL": "sqlite://", name: value})

    assert str(raised.value).startswith(message)


def test_the_api_refuses_to_start_on_a_bad_job_setting(
    monkeypatch: pytest.MonkeyPatch, migrated: str
) -> None:
    monkeypatch.setenv("JOB_MAX_ATTEMPTS", "none")
    with pytest.raises(SettingsError, match="JOB_MAX_ATTEMPTS"), TestClient(create_app()):
        pass


def test_the_worker_needs_postgresql_without_a_queue_url(migrated: str) -> None:
    result = run_worker("--once", env=worker_env())

    assert result.returncode == 2
    (line,) = log_lines(result.stdout)
    assert (line["level"], line["msg"]) == (
        "error",
        "invalid settings: without JOB_QUEUE_URL the job queue is a PostgreSQL table, but"
        " DATABASE_URL is a sqlite database",
    )


def test_the_worker_names_a_bad_setting(migrated: str) -> None:
    result = run_worker("--once", env=worker_env(JOB_POLL_SECONDS="60"))

    assert result.returncode == 2
    assert log_lines(result.stdout)[0]["msg"].startswith(
        "invalid settings: JOB_POLL_SECONDS must be a number from 0 to 20"
    )


def test_the_worker_refuses_a_bad_limit() -> None:
    result = run_worker("--max-jobs", "0", env=worker_env())

    assert result.returncode == 2
    assert "--max-jobs must be 1 or more" in result.stderr


def test_the_worker_fails_once_without_the_password_when_the_database_is_down() -> None:
    url = "postgresql+psycopg://notes:secret-pw@127.0.0.1:1/notes"
    result = run_worker("--once", env=worker_env(DATABASE_URL=url, JOB_POLL_SECONDS="0"))

    assert result.returncode == 1
    started, failed = log_lines(result.stdout)
    assert (started["msg"], started["backend"]) == ("worker started", "postgresql")
    assert failed["msg"] == "worker failed"
    assert failed["error"].startswith("database error: connection")
    assert "secret-pw" not in result.stdout + result.stderr
