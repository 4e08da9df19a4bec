"""The SQS job queue against moto in this process (mock_aws): the API sends, the worker
(notes_api.worker.main) receives, runs and deletes; a failing job's message stays, is
redelivered after the visibility timeout and lands in the dead-letter queue."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.client import BaseClient
from moto import mock_aws
from starlette.testclient import TestClient
from support import connection, log_lines

from notes_api import worker
from notes_api.main import create_app
from notes_api.settings import SettingsError
from notes_api.sqsqueue import region_of, sqs_client

QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/notes-jobs"
AWS_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_PROFILE",
    "AWS_CA_BUNDLE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_SESSION_TOKEN",
)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[BaseClient]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("JOB_POLL_SECONDS", "0")
    with mock_aws():
        yield boto3.client("sqs")


@pytest.fixture
def make_queue(sqs: BaseClient, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """A queue set as JOB_QUEUE_URL; with redrive=N, a dead-letter queue notes-jobs-dlq."""

    def make(visibility_s: int = 0, redrive: int | None = None) -> str:
        attributes = {"VisibilityTimeout": str(visibility_s)}
        if redrive is not None:
            dlq = sqs.create_queue(QueueName="notes-jobs-dlq")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
            policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"]}
            attributes["RedrivePolicy"] = json.dumps({**policy, "maxReceiveCount": str(redrive)})
        url = sqs.create_queue(QueueName="notes-jobs", Attributes=attributes)["QueueUrl"]
        monkeypatch.setenv("JOB_QUEUE_URL", url)
        return url

    return make


def counts(sqs: BaseClient, url: str) -> tuple[int, int]:
    """(visible, in flight) messages."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]), int(attributes[names[1]])


def queue_job(kind: str, payload: dict | None = None) -> int:
    with TestClient(create_app()) as client:
        response = client.post("/jobs", json={"kind": kind, "payload": payload or {}})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def get_job(job_id: int) -> dict:
    with TestClient(create_app()) as client:
        return client.get(f"/jobs/{job_id}").json()


def run_worker(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    """notes-api-worker in this process (moto lives here); its JSON log lines."""
    capsys.readouterr()
    assert worker.main(list(args)) == 0
    return log_lines(capsys.readouterr().out)


def job_lines(lines: list[dict]) -> list[tuple]:
    return [
        (line["msg"], line["attempt"], line["outcome"])
        for line in lines
        if line["msg"] in ("job done", "job failed")
    ]


def test_a_job_goes_through_sqs_and_is_done(
    migrated: str, sqs: BaseClient, make_queue: Callable[..., str], capsys
) -> None:
    url = make_queue()
    job_id = queue_job("echo", {"n": 7})
    assert counts(sqs, url) == (1, 0)

    lines = run_worker(capsys, "--once")

    job = get_job(job_id)
    assert (job["status"], job["attempts"], job["result"]) == ("done", 1, {"echo": {"n": 7}})
    assert counts(sqs, url) == (0, 0)
    assert (lines[0]["msg"], lines[0]["backend"], lines[0]["queue"]) == (
        "worker started", "sqs", url,
    )  # fmt: skip
    assert job_lines(lines) == [("job done", 1, "done")]


def test_a_failed_job_is_not_deleted_and_comes_back_after_the_visibility_timeout(
    migrated: str,
    sqs: BaseClient,
    make_queue: Callable[..., str],
    capsys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = make_queue(visibility_s=1, redrive=5)
    job_id = queue_job("fail")

    first = run_worker(capsys, "--once")
    assert job_lines(first) == [("job failed", 1, "failed")]
    assert (get_job(job_id)["status"], counts(sqs, url)) == ("failed", (0, 1))
    assert job_lines(run_worker(capsys, "--once")) == []

    monkeypatch.setenv("JOB_POLL_SECONDS", "5")  # a long poll: until the message is back
    again = run_worker(capsys, "--once")

    assert job_lines(again) == [("job failed", 2, "failed")]
    job = get_job(job_id)
    assert (job["status"], job["attempts"], job["error"]) == (
        "failed", 2, "this job always fails",
    )  # fmt: skip


def test_a_poison_job_lands_in_the_dead_letter_queue_after_max_receive_count(
    migrated: str, sqs: BaseClient, make_queue: Callable[..., str], capsys
) -> None:
    url = make_queue(redrive=2)
    dlq = sqs.get_queue_url(QueueName="notes-jobs-dlq")["QueueUrl"]
    job_id = queue_job("fail", {"message": "poison"})

    lines = run_worker(capsys, "--once") + run_worker(capsys, "--once")

    assert job_lines(lines) == [("job failed", 1, "failed"), ("job failed", 2, "dead")]
    job = get_job(job_id)
    assert (job["status"], job["attempts"], job["error"]) == ("dead", 2, "poison")
    assert counts(sqs, url) == (1, 0), "the worker deleted the message of a failed job"
    assert job_lines(run_worker(capsys, "--once")) == []
    assert (counts(sqs, url), counts(sqs, dlq)) == ((0, 0), (1, 0))
    (message,) = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert json.loads(message["Body"]) == {"job_id": job_id}


def test_without_a_redrive_policy_the_worker_deletes_a_dead_job(
    migrated: str,
    sqs: BaseClient,
    make_queue: Callable[..., str],
    capsys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JOB_MAX_ATTEMPTS", "2")
    url = make_queue()
    job_id = queue_job("fail")

    lines = run_worker(capsys, "--once") + run_worker(capsys, "--once")

    assert job_lines(lines) == [("job failed", 1, "failed"), ("job failed", 2, "dead")]
    assert (get_job(job_id)["status"], counts(sqs, url)) == ("dead", (0, 0))


def test_a_message_naming_no_job_goes_to_the_dead_letter_queue(
    migrated: str, sqs: BaseClient, make_queue: Callable[..., str], capsys
) -> None:
    url = make_queue(redrive=2)
    dlq = sqs.get_queue_url(QueueName="notes-jobs-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="not json")

    lines = run_worker(capsys, "--once") + run_worker(capsys, "--once")
    run_worker(capsys, "--once")

    errors = [line["msg"] for line in lines if line["level"] == "error"]
    assert len(errors) == 2
    assert all(e.endswith("names no job; left for the dead-letter queue") for e in errors)
    assert (counts(sqs, url), counts(sqs, dlq)) == ((0, 0), (1, 0))


def test_a_job_delivered_again_after_it_is_done_is_not_run_again(
    migrated: str, sqs: BaseClient, make_queue: Callable[..., str], capsys
) -> None:
    url = make_queue()
    job_id = queue_job("echo")
    run_worker(capsys, "--once")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"job_id": job_id}))

    lines = run_worker(capsys, "--once")

    assert job_lines(lines) == []
    assert [(li["msg"], li["outcome"]) for li in lines if "job_id" in li] == [
        ("job already ended; message deleted", "done")
    ]
    assert (get_job(job_id)["attempts"], counts(sqs, url)) == (1, (0, 0))


def test_the_api_answers_503_and_keeps_no_job_when_sqs_refuses(
    migrated: str, sqs: BaseClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOB_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/gone")
    with TestClient(create_app()) as client:
        response = client.post("/jobs", json={"kind": "echo"})

    assert (response.status_code, response.json()) == (503, {"detail": "job queue unavailable"})
    with connection(migrated) as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM jobs").scalar() == 0


@pytest.mark.parametrize(
    ("url", "region"),
    [
        (QUEUE_URL, "eu-west-1"),
        ("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "cn-north-1"),
        ("https://us-west-2.queue.amazonaws.com/123456789012/q", "us-west-2"),
        ("https://127.0.0.1:8766/123456789012/q", None),
        ("http://localhost:4566/000000000000/q", None),
    ],
)
def test_the_region_in_a_queue_url(url: str, region: str | None) -> None:
    assert region_of(url) == region


def test_the_client_takes_the_region_and_endpoint_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = "https://127.0.0.1:8766/123456789012/notes-jobs"
    assert sqs_client(QUEUE_URL).meta.region_name == "eu-west-1"
    with pytest.raises(SettingsError, match="no AWS region: set AWS_REGION"):
        sqs_client(local)

    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:8766")
    client = sqs_client(local)
    assert (client.meta.region_name, client.meta.endpoint_url) == (
        "ap-south-1", "https://127.0.0.1:8766",
    )  # fmt: skip
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")
    assert sqs_client(QUEUE_URL).meta.region_name == "us-east-2"


def test_an_sqs_queue_without_boto3_is_a_settings_error_naming_the_extra(monkeypatch):
    """A VPS release installs requirements.lock only: JOB_QUEUE_URL there says what is missing."""
    import sys

    from notes_api.jobqueue import make_queue
    from notes_api.settings import Settings

    monkeypatch.setitem(sys.modules, "boto3", None)
    monkeypatch.delitem(sys.modules, "notes_api.sqsqueue", raising=False)
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/x",
            "JOB_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
        }
    )
    with pytest.raises(SettingsError, match=r"needs boto3: install notes-api\[sqs\]"):
        make_queue(settings, db=None)
