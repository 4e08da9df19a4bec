"""The PostgreSQL job queue: the jobs table is the queue, in the app's own database.

A worker takes the oldest job whose `available_at` has passed with SELECT ... FOR UPDATE
SKIP LOCKED (two workers never take the same row), marks it running, counts the attempt and
sets `available_at` to the end of its lease (JOB_VISIBILITY_SECONDS), all in one short
transaction. The job then runs outside any transaction. A failed attempt leaves the lease's
end as it is, so the job is retried when the lease runs out, as SQS redelivers a message
after its visibility timeout; so is a job whose worker died. A job that has had
JOB_MAX_ATTEMPTS attempts is dead, as SQS would move its message to the dead-letter queue.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from notes_api.db import Database
from notes_api.jobqueue import Delivery, outcome_of_failure, record_outcome
from notes_api.models import Job, utcnow

log = logging.getLogger("notes_api.worker")

# While it waits for a job, a worker looks at the table this often.
RECHECK_S = 0.5
# The states a worker may take a job from (a running job only once its lease has run out).
TAKEABLE = ("queued", "failed", "running")


class PostgresQueue:
    backend = "postgresql"

    def __init__(
        self,
        db: Database,
        *,
        max_attempts: int,
        visibility_s: float,
        worker: str,
        stop: threading.Event | None = None,
    ) -> None:
        self.db = db
        self.max_attempts = max_attempts
        self.visibility = timedelta(seconds=visibility_s)
        self.worker = worker
        self.stop = stop or threading.Event()

    def send(self, job_id: int) -> None:
        """Nothing to do: the committed row is the queue entry."""

    def receive(self, wait_s: float) -> Delivery | None:
        deadline = time.monotonic() + wait_s
        while True:
            with self.db.engine.begin() as conn:
                delivery = self.take(conn)
            if delivery is not None:
                return delivery
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.stop.wait(min(RECHECK_S, remaining)):
                return None

    def take(self, conn: Connection) -> Delivery | None:
        """Take the next job inside the caller's transaction (its commit ends the claim)."""
        while True:
            row = conn.execute(
                select(Job.id, Job.kind, Job.payload, Job.status, Job.attempts, Job.error)
                .where(Job.status.in_(TAKEABLE), Job.available_at <= func.now())
                .order_by(Job.available_at, Job.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return None
            if row.attempts >= self.max_attempts:
                self.bury(conn, row.id, row.attempts, row.status, row.error)
                continue
            conn.execute(
                update(Job)
                .where(Job.id == row.id)
                .values(
                    status="running",
                    attempts=row.attempts + 1,
                    available_at=func.now() + self.visibility,
                    worker=self.worker,
                    updated_at=utcnow(),
                )
            )
            return Delivery(row.id, row.kind, row.payload, row.attempts + 1, self.max_attempts)

    def bury(
        self, conn: Connection, job_id: int, attempts: int, status: str, error: str | None
    ) -> None:
        """A job out of attempts: its last attempt's worker died or overran its lease (or
        JOB_MAX_ATTEMPTS was lowered since it failed)."""
        if status == "running":
            error = (
                f"attempt {attempts} did not finish within its lease (JOB_VISIBILITY_SECONDS):"
                " its worker stopped or the job took too long"
            )
        conn.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="dead", error=error, updated_at=utcnow())
        )
        log.error("job dead", extra={"job_id": job_id, "attempt": attempts, "error": error})

    def complete(self, delivery: Delivery, result: dict[str, Any]) -> None:
        record_outcome(self.db, delivery, "done", result=result)

    def fail(self, delivery: Delivery, error: str) -> str:
        status = outcome_of_failure(delivery)
        record_outcome(self.db, delivery, status, error=error)
        return status
