"""The HTTP routes (no prefix: nginx strips /api/)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from notes_api import jobs
from notes_api.db import Database
from notes_api.jobqueue import JobQueue, QueueError
from notes_api.jsonlog import LOGGER
from notes_api.models import Job, Note
from notes_api.schemas import Health, JobIn, JobOut, NoteIn, NoteOut, Version
from notes_api.settings import Settings

router = APIRouter()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_queue(request: Request) -> JobQueue:
    return request.app.state.queue


def get_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    yield from db.session()


SessionDep = Annotated[Session, Depends(get_session)]


def find_note(session: Session, note_id: int) -> Note:
    note = session.get(Note, note_id)
    if note is None:
        raise HTTPException(404, "note not found")
    return note


@router.get("/healthz", responses={503: {"model": Health}})
def healthz(db: Annotated[Database, Depends(get_db)], response: Response) -> Health:
    error = db.check()
    if error is not None:
        response.status_code = 503
        return Health(status="unavailable", database=error)
    return Health(status="ok", database="ok")


@router.get("/version")
def version(settings: Annotated[Settings, Depends(get_settings)]) -> Version:
    return Version(release_id=settings.release_id, git_sha=settings.git_sha)


@router.get("/notes")
def list_notes(
    session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[NoteOut]:
    query = select(Note).order_by(Note.created_at.desc(), Note.id.desc()).limit(limit)
    return [NoteOut.model_validate(note) for note in session.scalars(query)]


@router.post("/notes", status_code=201)
def create_note(payload: NoteIn, session: SessionDep) -> NoteOut:
    note = Note(title=payload.title, body=payload.body)
    session.add(note)
    session.commit()
    return NoteOut.model_validate(note)


@router.get("/notes/{note_id}", responses={404: {"description": "No such note"}})
def get_note(note_id: int, session: SessionDep) -> NoteOut:
    return NoteOut.model_validate(find_note(session, note_id))


@router.delete(
    "/notes/{note_id}", status_code=204, responses={404: {"description": "No such note"}}
)
def delete_note(note_id: int, session: SessionDep) -> None:
    session.delete(find_note(session, note_id))
    session.commit()


@router.post("/jobs", status_code=202, responses={503: {"description": "The queue is down"}})
def create_job(
    body: JobIn, session: SessionDep, queue: Annotated[JobQueue, Depends(get_queue)]
) -> JobOut:
    try:
        payload = jobs.normalize(body.kind, body.payload)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        raise RequestValidationError(
            [{**error, "loc": ("body", "payload", *error["loc"])} for error in errors]
        ) from None
    job = Job(kind=body.kind, payload=payload, status="queued")
    session.add(job)
    session.commit()
    try:
        queue.send(job.id)
    except QueueError as exc:
        # Nobody would ever run it: take it back, so no job stays queued forever.
        logging.getLogger(LOGGER).error(
            "job queue unavailable", extra={"path": "/jobs", "error": str(exc)}
        )
        session.delete(job)
        session.commit()
        raise HTTPException(503, "job queue unavailable") from None
    return JobOut.model_validate(job)


@router.get("/jobs/{job_id}", responses={404: {"description": "No such job"}})
def get_job(job_id: int, session: SessionDep) -> JobOut:
    job = session.get(Job, job_id)
    if job is None:
        raise HTTPException(404, "job not found")
    return JobOut.model_validate(job)
