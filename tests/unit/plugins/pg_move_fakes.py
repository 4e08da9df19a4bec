"""A PostgreSQL server as the data move sees it (pgmove.db.Server's methods), in memory:
tables of rows, sequences, the replication objects and the roles' settings. Statements the
move executes change that state; ``fail_on`` makes one of them fail like the server would."""

from __future__ import annotations

import hashlib

from ansible_collections.sigma.deploy.plugins.module_utils.pgmove import sql
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.errors import PgMoveError

READ_ONLY = "default_transaction_read_only=on"


class FakeServer:
    def __init__(self, side: str, tables: dict, sequences: dict | None = None):
        self.side = side
        self.params = {"host": side, "dbname": "app"}
        self.rows_of = {table: list(rows) for table, rows in tables.items()}
        self.sequence_state = dict(sequences or {})
        self.publications: set[str] = set()
        self.subscriptions: dict[str, bool] = {}
        self.sync_states: dict = {}
        self.slots: dict[str, str] = {}  # slot -> confirmed LSN
        self.lsn = "0/100"
        self.roles = {"app": []}
        self.sessions = 2
        self.executed: list[str] = []
        self.fail_on: str | None = None
        self.peer: FakeServer | None = None  # the source of this target's subscription

    # pgmove.db.Server's reads

    def server(self):
        return ("logical", 150000, "app")

    def tables(self):
        return [(schema, table, True) for schema, table in sorted(self.rows_of)]

    def columns(self):
        return {table: [("id", "integer"), ("v", "text")] for table in self.rows_of}

    def sequences(self):
        return sorted(self.sequence_state)

    def sequence_values(self, sequences):
        return {seq: self.sequence_state[seq] for seq in sequences}

    def counts(self, tables):
        return {table: len(self.rows_of[table]) for table in tables}

    def checksums(self, tables, columns):
        return {
            table: (
                len(self.rows_of[table]),
                hashlib.md5(repr(sorted(self.rows_of[table])).encode()).hexdigest(),
            )
            for table in tables
        }

    def publication(self, name):
        return True if name in self.publications else None

    def subscription(self, name):
        return (self.subscriptions[name], name) if name in self.subscriptions else None

    def subscription_tables(self, name):
        return [(s, t, self.sync_states.get((s, t), "r")) for s, t in sorted(self.rows_of)]

    def slot(self, name):
        return (True, self.slots[name]) if name in self.slots else None

    def current_lsn(self):
        return self.lsn

    def role_settings(self, role):
        return self.roles.get(role)

    def terminate(self, roles, wait_ms):
        ended, self.sessions = self.sessions, 0
        return ended, 0

    # Changes

    def execute(self, statement, params=None):
        self.executed.append(statement)
        if self.fail_on and statement.startswith(self.fail_on):
            raise PgMoveError(f"the {self.side} refused {statement!r}: boom", field=self.side)
        if " SET default_transaction_read_only = on" in statement:
            self.roles[statement.split('"')[1]] = [READ_ONLY]
        elif statement.endswith("RESET default_transaction_read_only"):
            self.roles[statement.split('"')[1]] = []
        elif statement == sql.SETVAL_SQL:
            schema, name = (part.strip('"') for part in params[0].split("."))
            self.sequence_state[(schema, name)] = (params[1], params[2])
        elif statement.startswith("DROP SUBSCRIPTION"):
            name = statement.split('"')[1]
            del self.subscriptions[name]
            if self.peer is not None:
                self.peer.slots.pop(name, None)
        elif statement.startswith("DROP PUBLICATION"):
            self.publications.discard(statement.split('"')[1])
