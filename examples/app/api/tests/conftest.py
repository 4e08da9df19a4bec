"""Fixtures: a SQLite database per test, migrated with notes-api-migrate, and a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from notes_api import migrate
from notes_api.main import create_app

APP_ENV = (
    "DATABASE_URL",
    "RELEASE_ID",
    "GIT_SHA",
    "LOG_LEVEL",
    "JOB_QUEUE_URL",
    "JOB_MAX_ATTEMPTS",
    "JOB_POLL_SECONDS",
    "JOB_VISIBILITY_SECONDS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in APP_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def migrated(database_url: str) -> str:
    assert migrate.main([]) == 0
    return database_url


@pytest.fixture
def client(migrated: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client
