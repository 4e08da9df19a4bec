"""The database: one engine per process, created on first use."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

CONNECT_TIMEOUT_S = 2


def connect_args(url: URL) -> dict[str, object]:
    """Driver options that bound how long a connection attempt may take."""
    if url.get_backend_name() == "postgresql":
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    if url.get_backend_name() == "sqlite":
        return {"timeout": CONNECT_TIMEOUT_S}
    return {}


def make_engine(url: URL) -> Engine:
    return create_engine(url, connect_args=connect_args(url), pool_pre_ping=True)


def short_error(exc: BaseException) -> str:
    """The first line of a driver error, without SQLAlchemy's SQL and help links."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    first = lines[0] if lines else type(orig).__name__
    return first[:200]


class Database:
    """Holds the URL and makes the engine lazily, so a down database never stops start-up."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._lock = threading.Lock()

    def _ready(self) -> tuple[Engine, sessionmaker[Session]]:
        with self._lock:
            if self._engine is None or self._sessions is None:
                self._engine = make_engine(self.url)
                self._sessions = sessionmaker(self._engine, expire_on_commit=False)
            return self._engine, self._sessions

    @property
    def engine(self) -> Engine:
        return self._ready()[0]

    def session(self) -> Iterator[Session]:
        """A FastAPI dependency: one session per request."""
        with self._ready()[1]() as session:
            yield session

    def check(self) -> str | None:
        """None when the database answers `SELECT 1`, else a short error."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return short_error(exc)
        return None

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
            self._engine = None
            self._sessions = None
