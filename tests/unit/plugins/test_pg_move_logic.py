"""The data move's pure parts, by equality: SQL, connection parameters, the decisions, and the
schema copy's commands."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.pgmove import checks, sql
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.conninfo import (
    connection_params,
    conninfo_string,
    describe,
    libpq_environment,
    unknown_keywords,
)
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.errors import PgMoveError
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.schema_copy import (
    copy_schema,
    dump_argv,
    restore_argv,
)

NOTES = ("public", "notes")
USERS = ("app", "users")


def test_quoting():
    assert sql.quote_ident('we"ird') == '"we""ird"'
    assert sql.quote_literal("it's") == "'it''s'"
    assert sql.qualified("billing", "Invoices") == '"billing"."Invoices"'
    assert sql.split_name("billing.invoices") == ("billing", "invoices")
    assert sql.split_name("notes") == ("public", "notes")


def test_publication_and_subscription_statements():
    assert sql.create_publication("sigma_move", None) == (
        'CREATE PUBLICATION "sigma_move" FOR ALL TABLES'
    )
    assert sql.create_publication("m", [NOTES, USERS]) == (
        'CREATE PUBLICATION "m" FOR TABLE "public"."notes", "app"."users"'
    )
    assert sql.create_subscription("m", "host='h' password='p''w'", "m") == (
        "CREATE SUBSCRIPTION \"m\" CONNECTION 'host=''h'' password=''p''''w'''"
        ' PUBLICATION "m" WITH (copy_data = true)'
    )
    assert sql.drop_subscription("m") == [
        'ALTER SUBSCRIPTION "m" DISABLE',
        'DROP SUBSCRIPTION "m"',
    ]
    assert sql.drop_subscription("m", keep_slot=True) == [
        'ALTER SUBSCRIPTION "m" DISABLE',
        'ALTER SUBSCRIPTION "m" SET (slot_name = NONE)',
        'DROP SUBSCRIPTION "m"',
    ]


def test_pause_statements_are_scoped_to_the_database():
    assert sql.pause_writes("notes", "notes") == (
        'ALTER ROLE "notes" IN DATABASE "notes" SET default_transaction_read_only = on'
    )
    assert sql.resume_writes("app", "db") == (
        'ALTER ROLE "app" IN DATABASE "db" RESET default_transaction_read_only'
    )


def test_table_checksum_query():
    assert sql.table_checksum("public", "tags", ["note_id", "tag"]) == (
        "SELECT count(*),"
        " coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0)::text"
        " || ':' || coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)::text"
        ' FROM (SELECT md5(ROW("note_id", "tag")::text) AS h FROM ONLY "public"."tags") AS rows'
    )
    assert sql.truncate([NOTES, USERS]) == 'TRUNCATE TABLE "public"."notes", "app"."users"'
    assert sql.sequence_value("public", "s") == 'SELECT last_value, is_called FROM "public"."s"'


def test_connection_params_options_win_over_the_dsn():
    parsed = {"host": "db.example", "port": "5433", "dbname": "notes", "password": "old"}
    option = {"host": None, "port": 6432, "database": "", "user": "postgres", "password": "new"}
    assert connection_params(option, parsed) == {
        "host": "db.example",
        "port": "6432",
        "dbname": "notes",
        "user": "postgres",
        "password": "new",
    }


def test_libpq_forms():
    params = {"host": "10.0.0.5", "port": "5432", "dbname": "notes", "password": "p'w\\x"}
    assert libpq_environment({**params, "sslmode": "require"}) == {
        "PGHOST": "10.0.0.5",
        "PGPORT": "5432",
        "PGDATABASE": "notes",
        "PGPASSWORD": "p'w\\x",
        "PGSSLMODE": "require",
    }
    assert conninfo_string(params) == (
        "dbname='notes' host='10.0.0.5' password='p\\'w\\\\x' port='5432'"
    )
    assert describe({**params, "user": "postgres"}) == "postgres@10.0.0.5:5432/notes"
    assert describe({"dbname": "x"}) == "local socket:5432/x"
    assert unknown_keywords({"host": "h", "target_session_attrs": "any"}) == [
        "target_session_attrs"
    ]


def test_wal_level_must_be_logical():
    checks.check_wal_level("logical")
    with pytest.raises(PgMoveError) as caught:
        checks.check_wal_level("replica")
    assert caught.value.field == "source"
    assert "wal_level=replica" in caught.value.message
    assert "ALTER SYSTEM SET wal_level = logical" in caught.value.message
    assert "rds.logical_replication = 1" in caught.value.message


def test_select_tables_and_identity():
    found = [("app", "users", True), ("public", "logs", False), ("public", "notes", True)]
    assert checks.select_tables(found, []) == found
    assert checks.select_tables(found, [NOTES, USERS]) == [
        ("public", "notes", True),
        ("app", "users", True),
    ]
    with pytest.raises(PgMoveError, match=r"tables not found on the source: public\.nope"):
        checks.select_tables(found, [("public", "nope")])
    checks.check_identity([("public", "notes", True)])
    with pytest.raises(PgMoveError) as caught:
        checks.check_identity(found)
    assert caught.value.field == "tables"
    assert ": public.logs. Add a primary key" in caught.value.message


def test_target_schema_action():
    source = {NOTES: [("id", "bigint"), ("body", "text")], USERS: [("id", "integer")]}
    assert checks.target_schema_action(source, {("public", "other"): []}, True) == "copy"
    assert checks.target_schema_action(source, {**source, ("public", "x"): []}, True) == "use"
    with pytest.raises(PgMoveError) as caught:
        checks.target_schema_action(source, {}, False)
    assert caught.value.field == "copy_schema"
    with pytest.raises(PgMoveError, match=r"but not app\.users"):
        checks.target_schema_action(source, {NOTES: source[NOTES]}, True)
    reordered = {**source, NOTES: [("body", "text"), ("id", "bigint")]}
    with pytest.raises(PgMoveError, match=r"differ between source and target for: public\.notes"):
        checks.target_schema_action(source, reordered, True)


def test_target_must_be_empty_unless_truncated():
    assert checks.check_target_empty({NOTES: 0, USERS: 0}, False) == []
    assert checks.check_target_empty({NOTES: 3, USERS: 0}, True) == [NOTES]
    with pytest.raises(PgMoveError) as caught:
        checks.check_target_empty({NOTES: 3, USERS: 0}, False)
    assert caught.value.field == "truncate_target"
    assert "the target is not empty: public.notes (3 rows)" in caught.value.message


def test_subscription_sync_states():
    tables = [NOTES, USERS]
    states = [("public", "notes", "r"), ("app", "users", "d")]
    assert checks.subscription_synced(states, tables) is False
    assert checks.unsynced(states, tables) == ["app.users (d)"]
    assert checks.unsynced(states[:1], tables) == ["app.users (missing)"]
    assert checks.subscription_synced([("public", "notes", "r"), ("app", "users", "s")], tables)


def test_lsn():
    assert checks.parse_lsn("0/16B3748") == 0x16B3748
    assert checks.parse_lsn("1/0") == 1 << 32
    assert checks.lsn_reached("1/0", "0/FFFFFFFF") is True
    assert checks.lsn_reached("0/16B3748", "0/16B3749") is False
    assert checks.lsn_reached(None, "0/0") is False


def test_is_paused():
    assert checks.is_paused(["default_transaction_read_only=on"]) is True
    assert checks.is_paused(["search_path=app"]) is False


def test_compare_tables():
    source = {NOTES: (3, "10:20"), USERS: (1, "5:6")}
    target = {NOTES: (3, "10:20"), USERS: (1, "5:7")}
    results = checks.compare_tables(source, target)
    assert results == [
        {
            "table": "public.notes",
            "source_rows": 3,
            "target_rows": 3,
            "source_checksum": checks.checksum_digest("10:20"),
            "target_checksum": checks.checksum_digest("10:20"),
            "match": True,
        },
        {
            "table": "app.users",
            "source_rows": 1,
            "target_rows": 1,
            "source_checksum": checks.checksum_digest("5:6"),
            "target_checksum": checks.checksum_digest("5:7"),
            "match": False,
        },
    ]
    assert checks.mismatches(results) == ["app.users (rows 1 vs 1)"]
    assert checks.compare_tables({NOTES: (1, "1:1")}, {})[0]["target_checksum"] is None
    assert len(checks.checksum_digest("0:0")) == 32


def test_sequence_mismatches():
    seq = ("public", "s")
    assert checks.sequence_mismatches({seq: (5, True)}, {seq: (5, True)}) == []
    assert checks.sequence_mismatches({seq: (5, True)}, {seq: (1, False)}) == ["public.s (5 vs 1)"]
    assert checks.sequence_mismatches({seq: (5, True)}, {}) == ["public.s (5 vs missing)"]


def test_dump_and_restore_commands():
    assert dump_argv("/usr/bin/pg_dump", None, True) == [
        "/usr/bin/pg_dump",
        "--schema-only",
        "--no-publications",
        "--no-subscriptions",
    ]
    assert dump_argv("pg_dump", [NOTES, ("a", 'b"c')], False) == [
        "pg_dump",
        "--schema-only",
        "--no-publications",
        "--no-subscriptions",
        "--no-owner",
        '--table="public"."notes"',
        '--table="a"."b""c"',
    ]
    assert restore_argv("psql") == [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "--single-transaction",
        "-f",
        "-",
    ]


def test_copy_schema_pipes_the_dump_with_passwords_in_the_environment():
    calls = []

    def run(argv, env, data):
        calls.append((argv[0], env, data))
        return (0, "CREATE TABLE t ();", "") if argv[0] == "pg_dump" else (0, "", "")

    copy_schema(run, "pg_dump", "psql", {"host": "s", "password": "sp"}, {"host": "t"}, None, True)
    assert calls == [
        ("pg_dump", {"PGCONNECT_TIMEOUT": "10", "PGHOST": "s", "PGPASSWORD": "sp"}, None),
        ("psql", {"PGCONNECT_TIMEOUT": "10", "PGHOST": "t"}, "CREATE TABLE t ();"),
    ]


def test_copy_schema_failures_name_the_side():
    def dump_fails(argv, env, data):
        return 1, b"", b"pg_dump: error: server version mismatch\n"

    with pytest.raises(PgMoveError) as caught:
        copy_schema(dump_fails, "pg_dump", "psql", {}, {}, None, True)
    assert caught.value.field == "source"
    assert caught.value.message == (
        "pg_dump of the source's schema failed (rc 1): pg_dump: error: server version mismatch"
    )

    def restore_fails(argv, env, data):
        return (0, "x", "") if argv[0] == "pg_dump" else (3, "", 'ERROR: role "app" ...\n')

    with pytest.raises(PgMoveError) as caught:
        copy_schema(restore_fails, "pg_dump", "psql", {}, {}, None, True)
    assert caught.value.field == "target"
    assert "nothing of it was kept (rc 3): ERROR: role" in caught.value.message
