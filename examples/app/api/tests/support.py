"""Helpers shared by the test modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Connection, create_engine

# The console scripts that the installed wheel put next to this interpreter.
MIGRATE_SCRIPT = Path(sys.executable).with_name("notes-api-migrate")
WORKER_SCRIPT = Path(sys.executable).with_name("notes-api-worker")


def migrate_command(*args: str) -> list[str]:
    return [str(MIGRATE_SCRIPT), *args]


def run_migrate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run notes-api-migrate in a child process, as the deploy does."""
    return subprocess.run(
        migrate_command(*args),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


@contextmanager
def connection(url: str) -> Iterator[Connection]:
    """A connection on an engine of its own, disposed afterwards (no leaked pool)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def connect_psycopg(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)


def log_lines(text: str) -> list[dict]:
    """The JSON log lines of a run (the app writes nothing else on stdout)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def worker_env(**settings: str) -> dict[str, str]:
    return {**os.environ, **settings}


def run_worker(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run notes-api-worker in a child process, as the service does."""
    return subprocess.run(
        [str(WORKER_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
