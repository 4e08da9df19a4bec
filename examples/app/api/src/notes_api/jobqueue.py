"""The job queue: one interface, two backends chosen by the environment.

JOB_QUEUE_URL set   -> SQS (sqsqueue.py): the message carries the job id; SQS redelivers a
                       message that was not deleted and its redrive policy moves a poison
                       message to the dead-letter queue.
otherwise           -> the jobs table of the app's PostgreSQL (pgqueue.py), with the same
                       semantics: a lease (visibility timeout), an attempts counter, and a
                       job dead after JOB_MAX_ATTEMPTS.

Either way the job's state lives in the jobs table, where GET /jobs/{id} reads it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import update

from notes_api.db import Database
from notes_api.models import ERROR_MAX, Job, utcnow
from notes_api.settings import Settings, SettingsError

log = logging.getLogger("notes_api.worker")


class QueueError(Exception):
    """The queue could not be reached or refused a call; the message says which and why."""


@dataclass(frozen=True)
class Delivery:
    """One job handed to one worker for one attempt."""

    job_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    receipt: str | None = None  # SQS: the receipt handle of this receive


class JobQueue(Protocol):
    backend: str

    def send(self, job_id: int) -> None:
        """Queue a job whose row is committed; raises QueueError."""

    def receive(self, wait_s: float) -> Delivery | None:
        """The next job, marked running, or None after waiting at most wait_s."""

    def complete(self, delivery: Delivery, result: dict[str, Any]) -> None:
        """Record the result and remove the job from the queue."""

    def fail(self, delivery: Delivery, error: str) -> str:
        """Record the failure; return the job's new status: failed (retried) or dead."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def outcome_of_failure(delivery: Delivery) -> str:
    return "dead" if delivery.attempt >= delivery.max_attempts else "failed"


def record_outcome(
    db: Database,
    delivery: Delivery,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """Write the attempt's outcome, unless another attempt has taken the job since.

    False means the job is no longer this attempt's (its lease or visibility timeout ran
    out and another worker took it): that worker's outcome counts, not this one's.
    """
    with db.engine.begin() as conn:
        changed = conn.execute(
            update(Job)
            .where(
                Job.id == delivery.job_id,
                Job.attempts == delivery.attempt,
                Job.status == "running",
            )
            .values(
                status=status,
                result=result,
                error=None if error is None else error[:ERROR_MAX],
                updated_at=utcnow(),
            )
        ).rowcount
    if changed != 1:
        log.warning(
            "job taken by another attempt; this attempt's outcome is dropped",
            extra={"job_id": delivery.job_id, "attempt": delivery.attempt, "outcome": status},
        )
    return changed == 1


def make_queue(
    settings: Settings,
    db: Database,
    *,
    worker: str | None = None,
    stop: threading.Event | None = None,
) -> JobQueue:
    """The backend the settings name; makes no network call."""
    worker = worker or worker_id()
    if settings.job_queue_url:
        # Imported here: boto3 takes a while to import and the PostgreSQL queue needs none of it.
        try:
            from notes_api.sqsqueue import SqsQueue, sqs_client
        except ModuleNotFoundError as exc:
            if exc.name not in ("boto3", "botocore"):
                raise
            raise SettingsError(
                "JOB_QUEUE_URL names an SQS queue, which needs boto3: install notes-api[sqs] "
                "(requirements-sqs.lock), or unset JOB_QUEUE_URL for the PostgreSQL queue"
            ) from exc

        return SqsQueue(
            db,
            sqs_client(settings.job_queue_url),
            settings.job_queue_url,
            default_max_attempts=settings.job_max_attempts,
            worker=worker,
        )
    from notes_api.pgqueue import PostgresQueue

    return PostgresQueue(
        db,
        max_attempts=settings.job_max_attempts,
        visibility_s=settings.job_visibility_seconds,
        worker=worker,
        stop=stop,
    )
