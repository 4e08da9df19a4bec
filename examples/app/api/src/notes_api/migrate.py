"""notes-api-migrate: apply the packaged Alembic migrations to DATABASE_URL.

notes-api-migrate                 upgrade to head (under a PostgreSQL advisory lock);
                                  prints {"from": ..., "to": ..., "changed": ...}
notes-api-migrate --current       print the database's revision (empty if none)
notes-api-migrate --head          print the packaged head revision (needs no database)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from notes_api.db import make_engine, short_error
from notes_api.settings import Settings, SettingsError

# pg_advisory_lock key shared by every notes-api-migrate run on a database: "notes" in ASCII.
LOCK_ID = 0x6E6F746573
LOCK_POLL_S = 0.5


class MigrationError(Exception):
    pass


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(Path(__file__).with_name("alembic.ini")))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: Connection) -> str | None:
    revision = MigrationContext.configure(conn).get_current_revision()
    conn.commit()
    return revision


def acquire_lock(conn: Connection, timeout_s: float) -> float:
    """Take the advisory lock (session level, it outlives transactions); return the wait."""
    start = time.monotonic()
    deadline = start + timeout_s
    waiting_said = False
    while not conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": LOCK_ID}).scalar():
        conn.commit()
        if time.monotonic() >= deadline:
            raise MigrationError(
                f"another migration has held the lock for {timeout_s:g} s; giving up"
            )
        if not waiting_said:
            logging.getLogger(__name__).info("waiting for another migration to finish")
            waiting_said = True
        time.sleep(LOCK_POLL_S)
    conn.commit()
    return time.monotonic() - start


def release_lock(conn: Connection) -> None:
    conn.rollback()
    conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": LOCK_ID})
    conn.commit()


def upgrade(conn: Connection, lock_timeout_s: float) -> dict[str, object]:
    locked = conn.dialect.name == "postgresql"
    if locked:
        acquire_lock(conn, lock_timeout_s)
    try:
        before = current_revision(conn)
        command.upgrade(alembic_config(conn), "head")
        conn.commit()
        after = current_revision(conn)
    finally:
        if locked:
            release_lock(conn)
    return {"from": before, "to": after, "changed": before != after}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="notes-api-migrate", description="Apply the notes-api migrations to DATABASE_URL."
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--current", action="store_true", help="print the database's revision")
    which.add_argument("--head", action="store_true", help="print the packaged head revision")
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="how long to wait for a concurrent migration (default 600)",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> str:
    if args.head:
        return head_revision() or ""
    engine = make_engine(Settings.from_env().database_url)
    try:
        with engine.connect() as conn:
            if args.current:
                return current_revision(conn) or ""
            return json.dumps(upgrade(conn, args.lock_timeout))
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="notes-api-migrate: %(message)s"
    )
    try:
        print(run(args))
    except SettingsError as exc:
        print(f"notes-api-migrate: {exc}", file=sys.stderr)
        return 2
    except MigrationError as exc:
        print(f"notes-api-migrate: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"notes-api-migrate: database error: {short_error(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
