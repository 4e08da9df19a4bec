# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The SQL of the data move, built by pure functions: quoting, the statements that change
things (publication, subscription, the write pause, sequences) and the catalog queries.

Identifiers are always quoted. Values go as query parameters, except where PostgreSQL takes
no parameter (``CREATE SUBSCRIPTION ... CONNECTION``), where they are quoted as literals.
"""

from __future__ import annotations

# Every session of the move reads text the same way on both servers, so that a row's text
# (and its checksum) depends on its values only, not on the server's or role's settings.
SESSION_SETTINGS = (
    "SET TIME ZONE 'UTC'",
    "SET datestyle = 'ISO, YMD'",
    "SET intervalstyle = 'postgres'",
    "SET extra_float_digits = 1",
    "SET bytea_output = 'hex'",
    "SET lc_monetary = 'C'",
)

_SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema', 'pg_toast')"

# Ordinary tables of the database (not those of extensions), and whether UPDATE and DELETE
# can be replicated: a replica identity by primary key (the default), by an index, or FULL.
TABLES_SQL = f"""
SELECT n.nspname, c.relname,
       CASE c.relreplident
         WHEN 'd' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                                WHERE i.indrelid = c.oid AND i.indisprimary)
         WHEN 'n' THEN false
         ELSE true
       END AS has_identity
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND NOT c.relispartition
   AND n.nspname NOT IN {_SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg_temp%'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1, 2
""".strip()

# The columns of those tables, in their order, with their types as SQL writes them.
COLUMNS_SQL = f"""
SELECT n.nspname, c.relname, a.attname,
       pg_catalog.format_type(a.atttypid, a.atttypmod)
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
   AND n.nspname NOT IN {_SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg_temp%'
 ORDER BY 1, 2, a.attnum
""".strip()

SEQUENCES_SQL = f"""
SELECT n.nspname, c.relname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'S' AND n.nspname NOT IN {_SYSTEM_SCHEMAS}
 ORDER BY 1, 2
""".strip()

SERVER_SQL = (
    "SELECT current_setting('wal_level'), current_setting('server_version_num')::int,"
    " current_database()"
)

PUBLICATION_SQL = "SELECT puballtables FROM pg_catalog.pg_publication WHERE pubname = %s"

PUBLICATION_TABLES_SQL = (
    "SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables"
    " WHERE pubname = %s ORDER BY 1, 2"
)

SUBSCRIPTION_SQL = """
SELECT s.subenabled, s.subslotname
  FROM pg_catalog.pg_subscription s
 WHERE s.subname = %s
   AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
""".strip()

# Per table of a subscription, its synchronization state: i(nit), d(ata copy), f(inished
# copy), s(ynchronized), r(eady).
SUBSCRIPTION_TABLES_SQL = """
SELECT n.nspname, c.relname, r.srsubstate
  FROM pg_catalog.pg_subscription_rel r
  JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid
  JOIN pg_catalog.pg_class c ON c.oid = r.srrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE s.subname = %s
 ORDER BY 1, 2
""".strip()

SLOT_SQL = """
SELECT active, confirmed_flush_lsn::text
  FROM pg_catalog.pg_replication_slots
 WHERE slot_name = %s AND database = current_database()
""".strip()

CURRENT_LSN_SQL = "SELECT pg_catalog.pg_current_wal_lsn()::text"

DROP_SLOT_SQL = "SELECT pg_catalog.pg_drop_replication_slot(%s)"

# The settings a role has in this database (``ALTER ROLE ... IN DATABASE ... SET``).
ROLE_SETTINGS_SQL = """
SELECT coalesce(s.setconfig, '{}')
  FROM pg_catalog.pg_roles r
  LEFT JOIN pg_catalog.pg_db_role_setting s
    ON s.setrole = r.oid
   AND s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
 WHERE r.rolname = %s
""".strip()

# Ends the sessions of the paused roles in this database, so that their next session starts
# read-only, and waits (up to the milliseconds given, PostgreSQL 14 or later) until each has
# gone: a commit under way when the signal came is then in the WAL before the move reads
# the source's position. A transaction still open is rolled back, never half kept. Answers
# the sessions ended and those still there.
TERMINATE_SQL = """
SELECT count(*) FILTER (WHERE ended), count(*) FILTER (WHERE NOT ended)
  FROM (SELECT pg_catalog.pg_terminate_backend(pid, %s) AS ended
          FROM pg_catalog.pg_stat_activity
         WHERE usename = ANY(%s) AND datname = current_database()
           AND pid <> pg_catalog.pg_backend_pid()) AS sessions
""".strip()

SETVAL_SQL = "SELECT pg_catalog.setval(%s::regclass, %s, %s)"


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as an SQL string literal (standard_conforming_strings, the default)."""
    return "'" + value.replace("'", "''") + "'"


def qualified(schema: str, name: str) -> str:
    return quote_ident(schema) + "." + quote_ident(name)


def split_name(name: str) -> tuple[str, str]:
    """``schema.table`` (or ``table``, in ``public``) as the pair. Names with a dot in them
    are not supported here."""
    schema, dot, table = name.rpartition(".")
    return (schema if dot else "public"), table


def create_publication(name: str, tables: list[tuple[str, str]] | None) -> str:
    """FOR ALL TABLES when no tables are named (tables made later are published too)."""
    if not tables:
        return f"CREATE PUBLICATION {quote_ident(name)} FOR ALL TABLES"
    listed = ", ".join(qualified(schema, table) for schema, table in tables)
    return f"CREATE PUBLICATION {quote_ident(name)} FOR TABLE {listed}"


def drop_publication(name: str) -> str:
    return f"DROP PUBLICATION IF EXISTS {quote_ident(name)}"


def create_subscription(name: str, conninfo: str, publication: str) -> str:
    """The subscription copies the existing rows first, then streams changes. Its
    replication slot on the source has the subscription's name."""
    return (
        f"CREATE SUBSCRIPTION {quote_ident(name)} CONNECTION {quote_literal(conninfo)}"
        f" PUBLICATION {quote_ident(publication)} WITH (copy_data = true)"
    )


def drop_subscription(name: str, keep_slot: bool = False) -> list[str]:
    """Dropping a subscription also drops its slot on the source, through the connection.
    With ``keep_slot`` (the source cannot be reached) the slot is detached first and the
    caller drops it on the source."""
    ident = quote_ident(name)
    statements = [f"ALTER SUBSCRIPTION {ident} DISABLE"]
    if keep_slot:
        statements.append(f"ALTER SUBSCRIPTION {ident} SET (slot_name = NONE)")
    statements.append(f"DROP SUBSCRIPTION {ident}")
    return statements


def pause_writes(role: str, database: str) -> str:
    """New sessions of ``role`` in ``database`` start read-only."""
    return (
        f"ALTER ROLE {quote_ident(role)} IN DATABASE {quote_ident(database)}"
        " SET default_transaction_read_only = on"
    )


def resume_writes(role: str, database: str) -> str:
    return (
        f"ALTER ROLE {quote_ident(role)} IN DATABASE {quote_ident(database)}"
        " RESET default_transaction_read_only"
    )


def truncate(tables: list[tuple[str, str]]) -> str:
    listed = ", ".join(qualified(schema, table) for schema, table in tables)
    return f"TRUNCATE TABLE {listed}"


def sequence_value(schema: str, name: str) -> str:
    return f"SELECT last_value, is_called FROM {qualified(schema, name)}"


def table_checksum(schema: str, table: str, columns: list[str]) -> str:
    """Row count and an order-independent checksum of a table.

    Each row's text (its columns in the order given, which the caller makes the same on both
    sides) is hashed with md5; the two 64-bit halves of every hash are summed as exact
    numerics. The sums do not depend on the order of the rows, need no sort and constant
    memory, and differ when any row differs (a collision needs a 128-bit coincidence).
    """
    row = "ROW(" + ", ".join(quote_ident(column) for column in columns) + ")"
    return (
        "SELECT count(*),"
        " coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0)::text"
        " || ':' || coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)::text"
        f" FROM (SELECT md5({row}::text) AS h FROM ONLY {qualified(schema, table)}) AS rows"
    )
