"""The PostgreSQL job queue end to end, on the throwaway cluster: the API queues, a worker
process (notes-api-worker) runs, and the jobs table tells the outcome."""

from __future__ import annotations

import itertools
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient
from support import (
    WORKER_SCRIPT,
    connect_psycopg,
    connection,
    log_lines,
    run_migrate,
    run_worker,
    worker_env,
)

from notes_api.db import Database
from notes_api.main import create_app
from notes_api.migrate import alembic_config
from notes_api.pgqueue import PostgresQueue

pytestmark = pytest.mark.postgresql
DEADLINE_S = 60


@pytest.fixture
def pg_jobs(pg_url: str) -> str:
    result = run_migrate()
    assert result.returncode == 0, result.stderr
    return pg_url


@pytest.fixture
def queues(pg_jobs: str) -> Iterator[Callable[..., PostgresQueue]]:
    """In-process queues on engines of their own (as two worker processes would have)."""
    made: list[Database] = []

    def make(worker: str = "w1", max_attempts: int = 3, visibility_s: float = 30) -> PostgresQueue:
        made.append(Database(make_url(pg_jobs)))
        return PostgresQueue(
            made[-1], max_attempts=max_attempts, visibility_s=visibility_s, worker=worker
        )

    yield make
    for db in made:
        db.dispose()


def queue_jobs(*jobs: tuple[str, dict]) -> list[int]:
    with TestClient(create_app()) as client:
        answers = [client.post("/jobs", json={"kind": k, "payload": p}) for k, p in jobs]
    assert [a.status_code for a in answers] == [202] * len(jobs), [a.text for a in answers]
    return [a.json()["id"] for a in answers]


def job_rows(url: str) -> dict[int, tuple]:
    with connect_psycopg(url) as conn:
        rows = conn.execute("SELECT id, status, attempts, result, error, worker FROM jobs")
        return {row[0]: row[1:] for row in rows}


def wait_for(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what} after {DEADLINE_S} s"
        time.sleep(0.05)


def start_worker(**settings: str) -> subprocess.Popen:
    """A worker process, returned once it has said it started."""
    process = subprocess.Popen(
        [str(WORKER_SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=worker_env(**settings),
    )
    first = process.stdout.readline()
    assert '"worker started"' in first, first + process.stderr.read()
    return process


def stop_worker(process: subprocess.Popen) -> list[dict]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=DEADLINE_S)
    assert process.returncode == 0, err
    return log_lines(out)


def test_a_queued_job_is_run_once_and_done(pg_jobs: str) -> None:
    (job_id,) = queue_jobs(("echo", {"greeting": "hello"}))

    result = run_worker("--once", env=worker_env(JOB_POLL_SECONDS="0", RELEASE_ID="r-7"))

    assert result.returncode == 0, result.stderr
    with TestClient(create_app()) as client:
        job = client.get(f"/jobs/{job_id}").json()
    assert (job["status"], job["attempts"], job["error"]) == ("done", 1, None)
    assert job["result"] == {"echo": {"greeting": "hello"}}
    assert datetime.fromisoformat(job["updated_at"]) >= datetime.fromisoformat(job["created_at"])
    lines = log_lines(result.stdout)
    assert [line["msg"] for line in lines] == [
        "worker started",
        "job started",
        "job done",
        "worker stopped (limit reached) after 1 jobs",
    ]
    assert lines[0]["backend"] == "postgresql"
    done = lines[2]
    assert (done["job_id"], done["kind"], done["attempt"], done["outcome"]) == (
        job_id, "echo", 1, "done",
    )  # fmt: skip
    assert done["release_id"] == "r-7"
    assert done["duration_ms"] >= 0


def test_a_failing_job_is_retried_after_its_lease_then_dead(pg_jobs: str) -> None:
    (job_id,) = queue_jobs(("fail", {"message": "boom"}))
    env = worker_env(JOB_MAX_ATTEMPTS="3", JOB_VISIBILITY_SECONDS="0.3", JOB_POLL_SECONDS="5")

    result = run_worker("--max-jobs", "3", env=env)

    assert result.returncode == 0, result.stderr
    lines = log_lines(result.stdout)
    failed = [line for line in lines if line["msg"] == "job failed"]
    assert [(f["attempt"], f["outcome"], f["error"]) for f in failed] == [
        (1, "failed", "boom"),
        (2, "failed", "boom"),
        (3, "dead", "boom"),
    ]
    assert [f["level"] for f in failed] == ["warning", "warning", "error"]
    started = [datetime.fromisoformat(li["ts"]) for li in lines if li["msg"] == "job started"]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(started)]
    assert min(gaps) >= 0.25, f"retried before the 0.3 s lease ran out: {gaps}"
    assert job_rows(pg_jobs)[job_id][:3] == ("dead", 3, None)
    assert job_rows(pg_jobs)[job_id][3] == "boom"

    again = run_worker("--once", env={**env, "JOB_POLL_SECONDS": "0"})
    assert log_lines(again.stdout)[-1]["msg"] == "worker stopped (limit reached) after 0 jobs"
    assert job_rows(pg_jobs)[job_id][:2] == ("dead", 3)


def test_a_job_taken_in_an_open_transaction_is_skipped_not_waited_for(
    pg_jobs: str, queues: Callable[..., PostgresQueue]
) -> None:
    first_id, second_id = queue_jobs(("echo", {}), ("echo", {}))
    a, b = queues("worker-a"), queues("worker-b")

    with a.db.engine.connect() as conn_a, b.db.engine.connect() as conn_b:
        conn_b.exec_driver_sql("SET lock_timeout = '5s'")
        conn_b.commit()
        with conn_a.begin():
            taken_by_a = a.take(conn_a)
            with conn_b.begin():
                taken_by_b = b.take(conn_b)
                nothing_left = b.take(conn_b)

    assert (taken_by_a.job_id, taken_by_b.job_id, nothing_left) == (first_id, second_id, None)
    assert job_rows(pg_jobs) == {
        first_id: ("running", 1, None, None, "worker-a"),
        second_id: ("running", 1, None, None, "worker-b"),
    }


def test_two_workers_never_take_the_same_job(pg_jobs: str) -> None:
    workers = [start_worker(JOB_POLL_SECONDS="5") for _number in range(2)]
    ids = set(queue_jobs(*[("sleep", {"seconds": 0.05})] * 20))

    wait_for("20 jobs done", lambda: [r[0] for r in job_rows(pg_jobs).values()] == ["done"] * 20)
    logs = [stop_worker(worker) for worker in workers]

    ran = [[line["job_id"] for line in log if line["msg"] == "job done"] for log in logs]
    assert set(ran[0]).isdisjoint(ran[1])
    assert set(ran[0]) | set(ran[1]) == ids
    assert sorted(len(r) > 0 for r in ran) == [True, True], "one worker took every job"
    assert {row[1] for row in job_rows(pg_jobs).values()} == {1}


def test_sigterm_finishes_the_current_job_then_exits(pg_jobs: str) -> None:
    worker = start_worker(JOB_POLL_SECONDS="5")
    slow, waiting = queue_jobs(("sleep", {"seconds": 1}), ("echo", {}))
    wait_for("the slow job to run", lambda: job_rows(pg_jobs)[slow][0] == "running")

    lines = stop_worker(worker)

    rows = job_rows(pg_jobs)
    assert rows[slow][:3] == ("done", 1, {"slept": 1.0})
    assert rows[waiting][:2] == ("queued", 0)
    assert [line["msg"] for line in lines][-2:] == [
        "job done",
        "worker stopped (signal) after 1 jobs",
    ]


def test_a_job_whose_worker_died_runs_again_after_its_lease(
    pg_jobs: str, queues: Callable[..., PostgresQueue]
) -> None:
    (job_id,) = queue_jobs(("echo", {"n": 1}))
    dead_worker, live_worker = queues("w1", visibility_s=0.3), queues("w2", visibility_s=0.3)

    lost = dead_worker.receive(0)
    assert live_worker.receive(0) is None
    retried = live_worker.receive(5)

    assert (lost.job_id, lost.attempt, retried.job_id, retried.attempt) == (job_id, 1, job_id, 2)
    dead_worker.complete(lost, {"stale": True})
    assert job_rows(pg_jobs)[job_id][:3] == ("running", 2, None)
    live_worker.complete(retried, {"fresh": True})
    assert job_rows(pg_jobs)[job_id] == ("done", 2, {"fresh": True}, None, "w2")


def test_a_job_whose_last_lease_ran_out_is_dead(
    pg_jobs: str, queues: Callable[..., PostgresQueue]
) -> None:
    (job_id,) = queue_jobs(("echo", {}))
    queue = queues(max_attempts=1, visibility_s=0.2)

    assert queue.receive(0).attempt == 1
    assert queue.receive(1) is None

    status, attempts, _result, error, _worker = job_rows(pg_jobs)[job_id]
    assert (status, attempts) == ("dead", 1)
    assert error == (
        "attempt 1 did not finish within its lease (JOB_VISIBILITY_SECONDS): its worker"
        " stopped or the job took too long"
    )


def test_the_jobs_migration_leaves_the_notes_alone_both_ways(pg_url: str) -> None:
    with connection(pg_url) as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql("INSERT INTO notes (title, body) VALUES ('kept', 'b')")
        conn.commit()
    assert run_migrate().returncode == 0
    with TestClient(create_app()) as client:
        assert [n["title"] for n in client.get("/notes").json()] == ["kept"]
    with connection(pg_url) as conn:
        assert "jobs" in inspect(conn).get_table_names()
        command.downgrade(alembic_config(conn), "0001")
        conn.commit()
        assert sorted(inspect(conn).get_table_names()) == ["alembic_version", "notes"]
        assert conn.exec_driver_sql("SELECT title FROM notes").all() == [("kept",)]
