"""The ASGI app: `gunicorn -k uvicorn_worker.UvicornWorker notes_api.main:app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from notes_api import jsonlog, routes
from notes_api.db import Database, short_error
from notes_api.jobqueue import make_queue
from notes_api.middleware import RequestLog
from notes_api.settings import Settings, SettingsError


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    try:
        settings = Settings.from_env()
        db = Database(settings.database_url)
        queue = make_queue(settings, db)
    except SettingsError as exc:
        jsonlog.configure("info").error("invalid settings: %s", exc)
        raise
    jsonlog.configure(settings.log_level)
    app.state.settings = settings
    app.state.db = db
    app.state.queue = queue
    try:
        yield
    finally:
        app.state.db.dispose()


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logging.getLogger(jsonlog.LOGGER).error(
        "database unavailable", extra={"path": request.url.path, "error": short_error(exc)}
    )
    return JSONResponse({"detail": "database unavailable"}, status_code=503)


def package_version() -> str:
    try:
        return dist_version("notes-api")
    except PackageNotFoundError:
        return "0+unknown"


def create_app() -> FastAPI:
    """Settings are read at start-up (lifespan), so importing this module needs no env."""
    app = FastAPI(title="notes-api", version=package_version(), lifespan=lifespan)
    app.include_router(routes.router)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_middleware(RequestLog)
    return app


app = create_app()
