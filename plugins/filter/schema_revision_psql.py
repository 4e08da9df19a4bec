# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""schema_revision_psql: the psql command that reads a database's Alembic revision, the same one
sigma.deploy.deploy_lock runs with its option schema_revision."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.schema import psql_command


def schema_revision_psql(database: Any) -> dict[str, Any]:
    """The arguments of an ansible.builtin.command task that reads the revision of ``database``."""
    if not isinstance(database, str) or not database.strip():
        raise AnsibleFilterError(
            f"schema_revision_psql: expected the name of a database, got {database!r}"
        )
    return psql_command(database)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"schema_revision_psql": schema_revision_psql}
