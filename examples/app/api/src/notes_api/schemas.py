"""Request and response bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from notes_api.jobs import KINDS, PAYLOAD_MAX_BYTES, payload_size
from notes_api.models import BODY_MAX, TITLE_MAX

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Body = Annotated[str, Field(max_length=BODY_MAX)]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    body: Body = ""


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        return as_utc(value)


def as_utc(value: datetime) -> datetime:
    # SQLite hands back naive timestamps; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class JobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"must be one of {', '.join(KINDS)}")
        return value

    @field_validator("payload")
    @classmethod
    def _small_payload(cls, value: dict[str, Any]) -> dict[str, Any]:
        if payload_size(value) > PAYLOAD_MAX_BYTES:
            raise ValueError(f"must be at most {PAYLOAD_MAX_BYTES} bytes as JSON")
        return value


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    payload: dict[str, Any]
    # queued, running, failed (an attempt failed; it will be retried), done, dead.
    status: str
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    @field_validator("created_at", "updated_at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        return as_utc(value)


class Health(BaseModel):
    status: str
    database: str


class Version(BaseModel):
    release_id: str
    git_sha: str
    component: str = "api"
