# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one exception of the data move: what went wrong, the option (field) it concerns, and
PostgreSQL's own error (SQLSTATE and message) when there was one. Only the module turns it
into ``fail_json``."""

from __future__ import annotations


class PgMoveError(Exception):
    """A move that cannot go on. ``field`` names the option to look at, ``sqlstate`` and
    ``server_message`` carry PostgreSQL's answer; ``result`` is what the move did before."""

    def __init__(self, message, field=None, sqlstate=None, server_message=None, result=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.sqlstate = sqlstate
        self.server_message = server_message
        self.result = result or {}

    def failure(self):
        """The structured ``failure`` field of the module's result."""
        return {
            "field": self.field,
            "sqlstate": self.sqlstate,
            "message": self.server_message,
        }
