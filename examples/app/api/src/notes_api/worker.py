"""notes-api-worker: run the queued background jobs.

notes-api-worker                  run until SIGTERM or SIGINT: receive a job, run it, record
                                  its outcome; on the signal, finish the current job and exit 0
notes-api-worker --once           one receive (waiting up to JOB_POLL_SECONDS), at most one job
notes-api-worker --max-jobs N     exit 0 after N jobs (done or failed)

The queue is SQS when JOB_QUEUE_URL is set, else the jobs table of DATABASE_URL (see
jobqueue.py). Logs are JSON lines on stdout. Exit codes: 0 stopped, 1 the queue failed
(--once only; otherwise the worker logs the error and tries again), 2 bad settings.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError

from notes_api import jobs, jsonlog
from notes_api.db import Database, short_error
from notes_api.jobqueue import Delivery, JobQueue, make_queue, worker_id
from notes_api.settings import Settings, SettingsError

# After a failed receive or outcome write, wait this long before the next receive.
ERROR_BACKOFF_S = 2.0
# Receives that find nothing are at least this far apart (JOB_POLL_SECONDS=0 would spin).
IDLE_MIN_S = 0.5
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Worker:
    def __init__(
        self, queue: JobQueue, *, poll_s: float, stop: threading.Event, release_id: str
    ) -> None:
        self.queue = queue
        self.poll_s = poll_s
        self.stop = stop
        self.release_id = release_id
        self.log = logging.getLogger("notes_api.worker")

    def run(self, *, max_jobs: int | None = None, once: bool = False) -> int:
        """Receive and run jobs until stopped; return how many ran."""
        handled = 0
        while not self.stop.is_set() and (max_jobs is None or handled < max_jobs):
            start = time.monotonic()
            try:
                delivery = self.queue.receive(self.poll_s)
            except Exception as exc:
                if once:
                    raise
                self.log.error("receive failed", extra={"error": describe(exc)})
                self.stop.wait(ERROR_BACKOFF_S)
                continue
            if delivery is not None:
                self.handle(delivery)
                handled += 1
            elif not once:
                self.stop.wait(max(0.0, IDLE_MIN_S - (time.monotonic() - start)))
            if once:
                break
        return handled

    def handle(self, delivery: Delivery) -> None:
        extra = {
            "job_id": delivery.job_id,
            "kind": delivery.kind,
            "attempt": delivery.attempt,
            "release_id": self.release_id,
        }
        self.log.info("job started", extra=extra)
        start = time.perf_counter()
        try:
            result = jobs.run(delivery.kind, delivery.payload)
        except Exception as exc:
            error = str(exc) if isinstance(exc, jobs.JobFailed) else describe(exc)
            extra.update(error=error, duration_ms=elapsed_ms(start))
            try:
                extra["outcome"] = self.queue.fail(delivery, error)
            except Exception as record_exc:
                self.record_failed(extra, record_exc)
                return
            level = logging.ERROR if extra["outcome"] == "dead" else logging.WARNING
            self.log.log(level, "job failed", extra=extra)
            return
        extra["duration_ms"] = elapsed_ms(start)
        try:
            self.queue.complete(delivery, result)
        except Exception as record_exc:
            self.record_failed(extra, record_exc)
            return
        self.log.info("job done", extra={**extra, "outcome": "done"})

    def record_failed(self, extra: dict[str, object], exc: Exception) -> None:
        """The outcome could not be written: the job runs again once its lease runs out."""
        self.log.error(
            "could not record the job's outcome; it will run again",
            extra={**extra, "error": describe(exc)},
        )
        self.stop.wait(ERROR_BACKOFF_S)


def describe(exc: BaseException) -> str:
    if isinstance(exc, SQLAlchemyError):
        # The driver's first line: never SQLAlchemy's SQL, parameters or URL.
        return f"database error: {short_error(exc)}"
    return f"{type(exc).__name__}: {exc}"[:500]


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="notes-api-worker", description="Run the notes-api background jobs."
    )
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument(
        "--once", action="store_true", help="receive once (at most one job), then exit"
    )
    limit.add_argument(
        "--max-jobs", type=int, metavar="N", help="exit after N jobs (done or failed)"
    )
    args = parser.parse_args(argv)
    if args.max_jobs is not None and args.max_jobs < 1:
        parser.error("--max-jobs must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        jsonlog.configure("info").error("invalid settings: %s", exc)
        return 2
    log = jsonlog.configure(settings.log_level)
    stop = threading.Event()
    db = Database(settings.database_url)
    me = worker_id()
    try:
        queue = make_queue(settings, db, worker=me, stop=stop)
        if queue.backend == "postgresql" and db.url.get_backend_name() != "postgresql":
            raise SettingsError(
                "without JOB_QUEUE_URL the job queue is a PostgreSQL table, but DATABASE_URL"
                f" is a {db.url.get_backend_name()} database"
            )
    except SettingsError as exc:
        log.error("invalid settings: %s", exc)
        return 2

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        # A second signal takes the default action: stop at once.
        signal.signal(signum, signal.SIG_DFL)

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    context = {
        "backend": queue.backend,
        "queue": settings.job_queue_url,
        "worker": me,
        "release_id": settings.release_id,
    }
    log.info("worker started", extra=context)
    worker = Worker(
        queue, poll_s=settings.job_poll_seconds, stop=stop, release_id=settings.release_id
    )
    try:
        handled = worker.run(max_jobs=1 if args.once else args.max_jobs, once=args.once)
    except Exception as exc:
        log.error("worker failed", extra={**context, "error": describe(exc)})
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        db.dispose()
    reason = "signal" if stop.is_set() else "limit reached"
    log.info("worker stopped (%s) after %d jobs", reason, handled, extra=context)
    return 0


if __name__ == "__main__":
    sys.exit(main())
