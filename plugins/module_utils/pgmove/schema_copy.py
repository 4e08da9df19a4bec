# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Copying the schema (tables, sequences, indexes, constraints, views, functions; no rows)
from source to target with the PostgreSQL client programs: ``pg_dump --schema-only`` of the
source, fed to ``psql`` on the target in one transaction, so a failed copy leaves the target
as it was. Passwords travel in the environment (PGPASSWORD), never on a command line."""

from __future__ import annotations

from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.conninfo import (
    libpq_environment,
)
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.errors import PgMoveError

# Room for a program's message in the error.
MAX_ERROR_CHARS = 800


def _text(output) -> str:
    if isinstance(output, bytes):
        output = output.decode("utf-8", "replace")
    return output.strip()[:MAX_ERROR_CHARS]


def dump_argv(pg_dump: str, tables: list[tuple[str, str]] | None, keep_owners: bool) -> list:
    """The schema of the whole database, or of the named tables (and the sequences they own).
    Publications and subscriptions stay behind: the move makes its own."""
    argv = [pg_dump, "--schema-only", "--no-publications", "--no-subscriptions"]
    if not keep_owners:
        argv.append("--no-owner")
    for schema, table in tables or ():
        quoted = [part.replace('"', '""') for part in (schema, table)]
        argv.append(f'--table="{quoted[0]}"."{quoted[1]}"')
    return argv


def restore_argv(psql: str) -> list:
    return [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", "-"]


def copy_schema(run, pg_dump, psql, source_params, target_params, tables, keep_owners) -> None:
    """``run(argv, environ_update, data)`` runs a program and answers ``(rc, out, err)``
    (AnsibleModule.run_command's shape)."""
    base = {"PGCONNECT_TIMEOUT": "10"}
    rc, out, err = run(
        dump_argv(pg_dump, tables, keep_owners), {**base, **libpq_environment(source_params)}, None
    )
    if rc != 0:
        raise PgMoveError(
            f"pg_dump of the source's schema failed (rc {rc}): {_text(err)}",
            field="source",
        )
    rc, _out, err = run(restore_argv(psql), {**base, **libpq_environment(target_params)}, out)
    if rc != 0:
        raise PgMoveError(
            "restoring the schema on the target failed, nothing of it was kept"
            f" (rc {rc}): {_text(err)}",
            field="target",
        )
