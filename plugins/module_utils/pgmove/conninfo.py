# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection parameters of a server, as libpq names them, from the module's options; and
the forms other programs take them in: environment variables for pg_dump and psql (no
password on a command line), a conninfo string for CREATE SUBSCRIPTION, and a description
without the password for messages."""

from __future__ import annotations

# The module's option -> libpq's keyword.
_OPTION_KEYWORDS = {
    "host": "host",
    "port": "port",
    "database": "dbname",
    "user": "user",
    "password": "password",
    "sslmode": "sslmode",
    "sslrootcert": "sslrootcert",
}

# libpq's keyword -> its environment variable.
_ENVIRONMENT = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "service": "PGSERVICE",
}


def connection_params(option: dict, parsed_dsn: dict) -> dict:
    """The libpq keywords of one server: those of its ``dsn`` (already parsed), then each
    option given explicitly, which wins. Empty values are left out."""
    params = {key: str(value) for key, value in parsed_dsn.items() if value not in (None, "")}
    for name, keyword in _OPTION_KEYWORDS.items():
        value = option.get(name)
        if value not in (None, ""):
            params[keyword] = str(value)
    return params


def unknown_keywords(params: dict) -> list[str]:
    """Keywords that pg_dump and psql could not be given by environment variables."""
    return sorted(key for key in params if key not in _ENVIRONMENT)


def libpq_environment(params: dict) -> dict:
    """The environment variables that give pg_dump or psql these parameters."""
    return {_ENVIRONMENT[key]: value for key, value in params.items() if key in _ENVIRONMENT}


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def conninfo_string(params: dict) -> str:
    """``key='value' ...`` (libpq's quoting), keys sorted so the text is stable."""
    return " ".join(f"{key}={_conninfo_value(params[key])}" for key in sorted(params))


def describe(params: dict) -> str:
    """``user@host:port/dbname`` for messages; never the password."""
    user = params.get("user", "")
    host = params.get("host") or params.get("hostaddr") or "local socket"
    port = params.get("port", "5432")
    return f"{user + '@' if user else ''}{host}:{port}/{params.get('dbname', '')}"
