# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One server of the move through psycopg 3: a connection in autocommit with the move's
session settings, and the catalog reads as plain Python data. Every PostgreSQL error
becomes a PgMoveError that names the side (``source`` or ``target``)."""

from __future__ import annotations

from ansible_collections.sigma.deploy.plugins.module_utils.pgmove import sql
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.conninfo import describe
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.errors import PgMoveError

try:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    PSYCOPG_IMPORT_ERROR = None
except ImportError as error:  # the module reports it with missing_required_lib
    psycopg = None
    conninfo_to_dict = None
    PSYCOPG_IMPORT_ERROR = error

APPLICATION_NAME = "sigma.deploy pg_move"


def parse_dsn(dsn: str | None, side: str) -> dict:
    if not dsn:
        return {}
    try:
        return conninfo_to_dict(dsn)
    except psycopg.Error as error:
        # psycopg's message quotes the fault, never the whole string (it may hold a password)
        raise PgMoveError(f"{side}.dsn is not a valid connection string", field=side) from error


class Server:
    """A connected server. ``side`` is ``source`` or ``target``, for messages."""

    def __init__(self, side: str, params: dict, connect_timeout: int):
        self.side = side
        self.params = params
        self.where = describe(params)
        try:
            self.conn = psycopg.connect(
                autocommit=True,
                connect_timeout=connect_timeout,
                application_name=APPLICATION_NAME,
                **params,
            )
        except psycopg.Error as error:
            raise self._error(f"cannot connect to the {side} ({self.where})", error) from error
        for statement in sql.SESSION_SETTINGS:
            self.execute(statement)

    def _error(self, what: str, error) -> PgMoveError:
        diag = getattr(error, "diag", None)
        primary = getattr(diag, "message_primary", None) or str(error).strip()
        return PgMoveError(
            f"{what}: {primary}",
            field=self.side,
            sqlstate=getattr(error, "sqlstate", None),
            server_message=primary,
        )

    def rows(self, statement: str, params=None) -> list[tuple]:
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall() if cursor.description else []
        except psycopg.Error as error:
            first = statement.split("\n", 1)[0][:80]
            raise self._error(f"the {self.side} refused {first!r}", error) from error

    def value(self, statement: str, params=None):
        rows = self.rows(statement, params)
        return rows[0][0] if rows else None

    def execute(self, statement: str, params=None) -> None:
        self.rows(statement, params)

    def close(self) -> None:
        self.conn.close()

    # The catalog, as plain data.

    def server(self) -> tuple[str, int, str]:
        """``(wal_level, server_version_num, database)``."""
        return tuple(self.rows(sql.SERVER_SQL)[0])

    def tables(self) -> list[tuple[str, str, bool]]:
        return [tuple(row) for row in self.rows(sql.TABLES_SQL)]

    def columns(self) -> dict:
        """Table -> its ``[(column, type), ...]`` in column order."""
        found: dict = {}
        for schema, table, column, type_name in self.rows(sql.COLUMNS_SQL):
            found.setdefault((schema, table), []).append((column, type_name))
        return found

    def sequences(self) -> list[tuple[str, str]]:
        return [tuple(row) for row in self.rows(sql.SEQUENCES_SQL)]

    def sequence_values(self, sequences) -> dict:
        """Sequence -> ``(last_value, is_called)``."""
        return {seq: tuple(self.rows(sql.sequence_value(*seq))[0]) for seq in sequences}

    def counts(self, tables) -> dict:
        return {
            table: self.value(f"SELECT count(*) FROM ONLY {sql.qualified(*table)}")
            for table in tables
        }

    def checksums(self, tables, columns: dict) -> dict:
        """Table -> ``(rows, sums)``, its columns in the order of ``columns`` (the source's)."""
        stats = {}
        for table in tables:
            names = [column for column, _type in columns[table]]
            rows, sums = self.rows(sql.table_checksum(table[0], table[1], names))[0]
            stats[table] = (rows, sums)
        return stats

    def publication(self, name: str):
        """``None``, or whether the publication is FOR ALL TABLES."""
        rows = self.rows(sql.PUBLICATION_SQL, (name,))
        return None if not rows else rows[0][0]

    def subscription(self, name: str):
        """``None``, or ``(enabled, slot_name)``."""
        rows = self.rows(sql.SUBSCRIPTION_SQL, (name,))
        return None if not rows else tuple(rows[0])

    def subscription_tables(self, name: str) -> list[tuple[str, str, str]]:
        return [tuple(row) for row in self.rows(sql.SUBSCRIPTION_TABLES_SQL, (name,))]

    def slot(self, name: str):
        """``None``, or ``(active, confirmed_flush_lsn)``."""
        rows = self.rows(sql.SLOT_SQL, (name,))
        return None if not rows else tuple(rows[0])

    def current_lsn(self) -> str:
        return self.value(sql.CURRENT_LSN_SQL)

    def role_settings(self, role: str):
        """``None`` when the role does not exist, else its settings in this database."""
        rows = self.rows(sql.ROLE_SETTINGS_SQL, (role,))
        return None if not rows else list(rows[0][0])

    def terminate(self, roles: list[str], wait_ms: int) -> tuple[int, int]:
        """``(ended, still there)`` of the roles' sessions in this database."""
        ended, left = self.rows(sql.TERMINATE_SQL, (wait_ms, roles))[0]
        return ended, left
