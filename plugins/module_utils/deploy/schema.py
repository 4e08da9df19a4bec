# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The psql command that reads a database's Alembic revision as the postgres superuser (peer
authentication, no password anywhere), and the shape of its answer. ``deploy_lock`` runs it
with O(schema_revision); the filter ``schema_revision_psql`` hands the same command to the
app_deploy role's ``ansible.builtin.command`` task where the lock's host is not the database's."""

from __future__ import annotations

from typing import Any

# The revision from the table alembic_version in whichever schema holds it (public first);
# empty when there is no such table. Fed on stdin (psql meta-commands need it).
ALEMBIC_REVISION_SQL = "\n".join(
    (
        "SELECT count(*) > 0 AS found, coalesce(min(n.nspname) FILTER (WHERE n.nspname = 'public'),"
        " min(n.nspname)) AS schema",
        "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
        " WHERE c.relname = 'alembic_version' AND c.relkind = 'r' \\gset",
        "\\if :found",
        "SELECT coalesce(string_agg(version_num, ' ' ORDER BY version_num), '')"
        ' FROM :"schema".alembic_version;',
        "\\endif",
    )
)

# Room for psql's message in a result and in the deploy's error.
MAX_ERROR_CHARS = 600


def psql_argv(database: str, runuser: str = "runuser") -> list[str]:
    """The command line, to run from ``/`` with ALEMBIC_REVISION_SQL (and a newline) on stdin."""
    psql = ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", database]
    return [runuser, "-u", "postgres", "--", *psql]


def psql_command(database: str, runuser: str = "runuser") -> dict[str, Any]:
    """The command as ``ansible.builtin.command`` takes it: argv, chdir and stdin."""
    return {"argv": psql_argv(database, runuser), "chdir": "/", "stdin": ALEMBIC_REVISION_SQL}


def brief(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` stripped, cut to at most ``limit`` characters (ending in ``...`` when cut)."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def revision_result(rc: int, stdout: str, stderr: str) -> dict[str, str]:
    """``{"revision": ...}`` from a psql run that succeeded (empty: no alembic_version table,
    several revisions separated by spaces), else ``{"error": ...}``."""
    if rc == 0:
        return {"revision": stdout.strip()}
    return {"error": brief(stderr) or f"non-zero return code {rc}"}
