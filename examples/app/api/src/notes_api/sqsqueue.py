"""The SQS job queue: a message `{"job_id": N}` per job; the job's state is in the jobs table.

boto3 finds credentials, region and endpoint as it always does (AWS_DEFAULT_REGION,
AWS_ENDPOINT_URL, AWS_CA_BUNDLE, the ECS task role, ...); without a region it takes
AWS_REGION, then the one in the queue URL. A message whose job fails is NOT deleted: SQS
makes it visible again after the queue's visibility timeout, and once it has been received
maxReceiveCount times the queue's redrive policy moves it to the dead-letter queue. The
worker reads that count from the queue's RedrivePolicy, so the job is marked dead on the
same attempt. A queue without a redrive policy has nobody to stop a poison message: there
the worker deletes it after JOB_MAX_ATTEMPTS receives.
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select, update

from notes_api.db import Database
from notes_api.jobqueue import Delivery, QueueError, outcome_of_failure, record_outcome
from notes_api.models import Job, utcnow
from notes_api.settings import POLL_MAX_S, SettingsError

log = logging.getLogger("notes_api.worker")

# sqs.<region>.amazonaws.com[.cn] and the legacy <region>.queue.amazonaws.com.
REGION_IN_HOST = re.compile(
    r"^(?:sqs\.(?P<a>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|(?P<b>[a-z0-9-]+)\.queue\.amazonaws\.com)$"
)


def region_of(queue_url: str) -> str | None:
    match = REGION_IN_HOST.match(urlsplit(queue_url).hostname or "")
    return (match.group("a") or match.group("b")) if match else None


def sqs_client(queue_url: str) -> BaseClient:
    session = boto3.session.Session()
    # botocore reads AWS_DEFAULT_REGION (and the config file) but not AWS_REGION.
    region = session.region_name or os.environ.get("AWS_REGION") or region_of(queue_url)
    if not region:
        raise SettingsError("no AWS region: set AWS_REGION (JOB_QUEUE_URL does not name one)")
    config = Config(
        connect_timeout=2,
        # A long poll holds the request open for up to 20 s.
        read_timeout=POLL_MAX_S + 10,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return session.client("sqs", region_name=region, config=config)


def describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return str(exc)


def job_id_of(body: str) -> int | None:
    try:
        job_id = json.loads(body).get("job_id")
    except (ValueError, AttributeError):
        return None
    return job_id if isinstance(job_id, int) and not isinstance(job_id, bool) else None


class SqsQueue:
    backend = "sqs"

    def __init__(
        self,
        db: Database,
        client: BaseClient,
        url: str,
        *,
        default_max_attempts: int,
        worker: str,
    ) -> None:
        self.db = db
        self.client = client
        self.url = url
        self.default_max_attempts = default_max_attempts
        self.worker = worker
        self._redrive_max: int | None = None
        self._redrive_read = False

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(QueueUrl=self.url, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise QueueError(f"SQS {operation} on {self.url} failed: {describe(exc)}") from exc

    def redrive_max(self) -> int | None:
        """The queue's maxReceiveCount, or None when it has no redrive policy (read once)."""
        if not self._redrive_read:
            attributes = self.call("get_queue_attributes", AttributeNames=["RedrivePolicy"])
            policy = attributes.get("Attributes", {}).get("RedrivePolicy")
            self._redrive_max = int(json.loads(policy)["maxReceiveCount"]) if policy else None
            self._redrive_read = True
        return self._redrive_max

    def max_attempts(self) -> int:
        redrive = self.redrive_max()
        return self.default_max_attempts if redrive is None else redrive

    def send(self, job_id: int) -> None:
        self.call("send_message", MessageBody=json.dumps({"job_id": job_id}))

    def delete(self, receipt: str) -> None:
        self.call("delete_message", ReceiptHandle=receipt)

    def receive(self, wait_s: float) -> Delivery | None:
        max_attempts = self.max_attempts()
        answer = self.call(
            "receive_message",
            MaxNumberOfMessages=1,
            WaitTimeSeconds=min(round(wait_s), int(POLL_MAX_S)),
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages = answer.get("Messages") or []
        if not messages:
            return None
        message = messages[0]
        receipt = message["ReceiptHandle"]
        count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        job_id = job_id_of(message.get("Body", ""))
        with self.db.engine.begin() as conn:
            row = None
            if job_id is not None:
                row = conn.execute(
                    select(Job.kind, Job.payload, Job.status)
                    .where(Job.id == job_id)
                    .with_for_update()
                ).first()
            if row is not None and row.status not in ("done", "dead"):
                conn.execute(
                    update(Job)
                    .where(Job.id == job_id)
                    .values(
                        status="running", attempts=count, worker=self.worker, updated_at=utcnow()
                    )
                )
                return Delivery(job_id, row.kind, row.payload, count, max_attempts, receipt)
        if row is not None:
            # Delivered again after its outcome was recorded (at-least-once delivery).
            log.info(
                "job already ended; message deleted",
                extra={"job_id": job_id, "attempt": count, "outcome": row.status},
            )
            self.delete(receipt)
            return None
        self.unusable(message, job_id, count, max_attempts)
        return None

    def unusable(self, message: dict[str, Any], job_id: int | None, count: int, most: int) -> None:
        """A message naming no job: poison, like a job that fails."""
        what = "names no job" if job_id is None else f"names job {job_id}, which does not exist"
        extra = {"job_id": job_id, "attempt": count}
        message_id = message.get("MessageId")
        if self.redrive_max() is not None:
            log.error(
                "message %s %s; left for the dead-letter queue", message_id, what, extra=extra
            )
        elif count >= most:
            log.error(
                "message %s %s; deleted after %d receives", message_id, what, count, extra=extra
            )
            self.delete(message["ReceiptHandle"])
        else:
            log.error("message %s %s", message_id, what, extra=extra)

    def complete(self, delivery: Delivery, result: dict[str, Any]) -> None:
        if record_outcome(self.db, delivery, "done", result=result):
            self.delete(delivery.receipt or "")

    def fail(self, delivery: Delivery, error: str) -> str:
        status = outcome_of_failure(delivery)
        recorded = record_outcome(self.db, delivery, status, error=error)
        if recorded and status == "dead" and self.redrive_max() is None:
            self.delete(delivery.receipt or "")
        return status
