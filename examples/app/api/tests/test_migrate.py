"""notes-api-migrate on SQLite: the packaged migrations, --current and --head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from support import connection, run_migrate

from notes_api import migrate
from notes_api.models import Base


def test_head_is_the_packaged_revision() -> None:
    result = run_migrate("--head")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0002"


def test_migrations_ship_inside_the_package() -> None:
    here = Path(migrate.__file__).parent

    assert (here / "alembic.ini").is_file()
    assert sorted(p.name for p in (here / "migrations" / "versions").glob("*.py")) == [
        "0001_create_notes.py",
        "0002_create_jobs.py",
    ]


def test_upgrade_creates_the_table_and_reports_the_change(database_url: str) -> None:
    result = run_migrate()

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"from": None, "to": "0002", "changed": True}
    with connection(database_url) as conn:
        columns = inspect(conn).get_columns("notes")
    assert [c["name"] for c in columns] == ["id", "title", "body", "created_at"]


def test_second_upgrade_changes_nothing(migrated: str) -> None:
    result = run_migrate()

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"from": "0002", "to": "0002", "changed": False}


def test_current_matches_head_after_upgrade(migrated: str) -> None:
    current, head = run_migrate("--current"), run_migrate("--head")

    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == head.stdout.strip() == "0002"


def test_current_is_empty_before_any_upgrade(database_url: str) -> None:
    result = run_migrate("--current")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_models_match_the_migrations(migrated: str) -> None:
    with connection(migrated) as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    assert diff == []


def test_missing_database_url_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert migrate.main([]) == 2
    assert "DATABASE_URL is not set" in capsys.readouterr().err


def test_unreachable_database_fails_without_the_password() -> None:
    result = run_migrate(env={"DATABASE_URL": "postgresql+psycopg://u:secret-pw@127.0.0.1:1/x"})

    assert result.returncode == 1
    assert "database error" in result.stderr
    assert "secret-pw" not in result.stderr
