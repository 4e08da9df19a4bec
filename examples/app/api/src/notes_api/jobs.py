"""The kinds of background job: each has a payload model and a function that runs it.

A job function gets the validated payload and returns the result (a JSON object); an
exception fails the attempt, and the queue retries the job until it is dead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# A payload larger than this (as JSON) is refused: jobs carry references, not data.
PAYLOAD_MAX_BYTES = 16 * 1024
SLEEP_MAX_S = 60.0


class JobFailed(Exception):
    """A job's own failure; the message becomes the job's error."""


class EchoPayload(BaseModel):
    """Any JSON object; the job's result is the same object."""

    model_config = ConfigDict(extra="allow")


class FailPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field("this job always fails", max_length=200)


class SleepPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0, le=SLEEP_MAX_S)


def echo(payload: dict[str, Any]) -> dict[str, Any]:
    return {"echo": payload}


def fail(payload: dict[str, Any]) -> dict[str, Any]:
    raise JobFailed(payload["message"])


def sleep(payload: dict[str, Any]) -> dict[str, Any]:
    time.sleep(payload["seconds"])
    return {"slept": payload["seconds"]}


@dataclass(frozen=True)
class Kind:
    payload: type[BaseModel]
    run: Callable[[dict[str, Any]], dict[str, Any]]


KINDS: dict[str, Kind] = {
    # Records its payload as its result: a job that always succeeds.
    "echo": Kind(EchoPayload, echo),
    # Always raises: a poison job, retried until it is dead (or in the dead-letter queue).
    "fail": Kind(FailPayload, fail),
    # Sleeps for `seconds` (at most 60): a job that takes a while.
    "sleep": Kind(SleepPayload, sleep),
}


def payload_size(payload: dict[str, Any]) -> int:
    return len(json.dumps(payload, separators=(",", ":")).encode())


def normalize(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the kind's model reads it (defaults filled in); raises ValidationError."""
    return KINDS[kind].payload.model_validate(payload).model_dump(mode="json")


def run(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one job; an unknown kind (a newer release queued it) fails like any error."""
    if kind not in KINDS:
        raise JobFailed(f"unknown job kind {kind!r}; this worker knows {', '.join(KINDS)}")
    return KINDS[kind].run(normalize(kind, payload))
