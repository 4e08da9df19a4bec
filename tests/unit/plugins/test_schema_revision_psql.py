"""The psql command of the app_deploy role's schema check: the one deploy_lock runs."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.filter.schema_revision_psql import (
    schema_revision_psql,
)
from tests.unit.plugins.test_deploy_modules import SQL


def test_the_command_reads_the_revision_as_postgres_from_root():
    psql = ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", "notes"]
    assert schema_revision_psql("notes") == {
        "argv": ["runuser", "-u", "postgres", "--", *psql],
        "chdir": "/",
        "stdin": SQL,
    }


@pytest.mark.parametrize("database", ["", "  ", None, ["notes"]])
def test_a_database_must_be_named(database):
    with pytest.raises(AnsibleFilterError, match="expected the name of a database"):
        schema_revision_psql(database)
