"""Alembic environment: online migrations only, on the connection notes-api-migrate opens."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from notes_api.db import make_engine
from notes_api.models import Base
from notes_api.settings import Settings


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters tables by copying them; PostgreSQL needs no batches.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; use notes-api-migrate")

connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    # Plain `alembic -c .../alembic.ini ...` (e.g. `revision --autogenerate`) in development.
    engine = make_engine(Settings.from_env().database_url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
