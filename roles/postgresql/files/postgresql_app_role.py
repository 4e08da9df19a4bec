"""Create or update an application's PostgreSQL role and database; installed by sigma.deploy.

Usage: python3 /usr/local/lib/sigma-postgresql-app-role.py --role NAME --database NAME
       [--locale C.UTF-8] [--check]   (the role's password on standard input)

Makes the role a plain login role (no superuser, createdb, createrole, replication or
bypassrls) whose password is the one given, and the database owned by it that only its owner
(and superusers) may connect to. Prints one JSON object: {"changed": bool, "actions": [...]}.
With --check it changes nothing and reports what it would do.

The password never leaves this process in clear text: it is compared with the SCRAM-SHA-256
verifier PostgreSQL stores (pg_authid.rolpassword) and, when it differs, replaced by a new
verifier computed here (what psql's \\password does), sent to psql over standard input. So the
password is on no command line, in no file and in no server log. Runs as root; talks to the
local cluster as the postgres superuser over its Unix socket (peer authentication).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import stringprep
import subprocess
import sys
import unicodedata

SCRAM_ITERATIONS = 4096  # PostgreSQL's scram_iterations default (fixed before version 16)
SALT_BYTES = 16
ROLE_ATTRIBUTES = {
    "rolcanlogin": ("LOGIN", True),
    "rolsuper": ("SUPERUSER", False),
    "rolcreatedb": ("CREATEDB", False),
    "rolcreaterole": ("CREATEROLE", False),
    "rolreplication": ("REPLICATION", False),
    "rolbypassrls": ("BYPASSRLS", False),
    "rolinherit": ("INHERIT", True),
}
PROHIBITED_TABLES = (
    stringprep.in_table_c12,
    stringprep.in_table_c21,
    stringprep.in_table_c22,
    stringprep.in_table_c3,
    stringprep.in_table_c4,
    stringprep.in_table_c5,
    stringprep.in_table_c6,
    stringprep.in_table_c7,
    stringprep.in_table_c8,
    stringprep.in_table_c9,
    stringprep.in_table_a1,
)


class HelperError(Exception):
    """A failure reported to the caller on standard error, without any secret in it."""


class SaslprepError(ValueError):
    """SASLprep refuses the string (RFC 4013): a prohibited or unassigned character, a wrong
    mix of directions, or nothing left after mapping."""


def saslprep(text: str) -> str:
    """RFC 4013 SASLprep of a stored string, read as PostgreSQL reads it for passwords
    (src/common/saslprep.c, which libpq uses too, so both sides hash the same bytes).

    Two points where the RFC leaves room and PostgreSQL chose: U+200B, listed both as a
    non-ASCII space (C.1.2) and as mapped to nothing (B.1), becomes a space; and the checks
    for prohibited and unassigned characters and for directions look at the mapped string,
    before NFKC. Raises SaslprepError, whose message holds nothing of the string.
    """
    mapped = "".join(
        " " if stringprep.in_table_c12(char) else "" if stringprep.in_table_b1(char) else char
        for char in text
    )
    if not mapped:
        raise SaslprepError("nothing is left after mapping")
    if any(table(char) for char in mapped for table in PROHIBITED_TABLES):
        raise SaslprepError("a prohibited or unassigned character")
    if any(stringprep.in_table_d1(char) for char in mapped) and (
        any(stringprep.in_table_d2(char) for char in mapped)
        or not stringprep.in_table_d1(mapped[0])
        or not stringprep.in_table_d1(mapped[-1])
    ):
        raise SaslprepError("right-to-left characters mixed with left-to-right ones")
    return unicodedata.normalize("NFKC", mapped)


def password_bytes(password: str) -> bytes:
    """The bytes PostgreSQL hashes for a password: an ASCII password as it is, otherwise its
    SASLprep, or its own UTF-8 bytes when SASLprep refuses it (PostgreSQL's fallback)."""
    if password.isascii():
        return password.encode("ascii")
    try:
        return saslprep(password).encode("utf-8")
    except SaslprepError:
        return password.encode("utf-8")


def scram_keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    """StoredKey and ServerKey of RFC 5802 for this password, salt and iteration count."""
    salted = hashlib.pbkdf2_hmac("sha256", password_bytes(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest(), server_key


def scram_verifier(
    password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS
) -> str:
    """The verifier PostgreSQL stores for this password, with a new random salt unless one is
    given: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    stored_key, server_key = scram_keys(password, salt, iterations)

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def password_matches(password: str, verifier: str | None) -> bool:
    """Whether the stored verifier (None, MD5 or SCRAM) is one of this password."""
    if not verifier or not verifier.startswith("SCRAM-SHA-256$"):
        return False
    try:
        iterations_salt, keys = verifier[len("SCRAM-SHA-256$") :].split("$", 1)
        iterations, salt = iterations_salt.split(":", 1)
        stored_key, server_key = keys.split(":", 1)
        expected = scram_keys(password, base64.b64decode(salt), int(iterations))
        actual = (base64.b64decode(stored_key), base64.b64decode(server_key))
    except ValueError:
        return False
    return hmac.compare_digest(b"".join(expected), b"".join(actual))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def psql(sql: str, secret: str | None = None) -> str:
    """Run SQL (from standard input) as postgres; errors are reported with `secret` masked."""
    # The server must not log statements that carry a password verifier.
    script = "SET log_statement = 'none';\nSET log_min_duration_statement = -1;\n" + sql
    command = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-A", "-t"]
    command += ["-v", "ON_ERROR_STOP=1", "-d", "postgres"]
    result = subprocess.run(
        command, input=script, capture_output=True, text=True, check=False, cwd="/"
    )
    if result.returncode != 0:
        message = result.stderr.strip()
        if secret:
            message = message.replace(secret, "********")
        raise HelperError(f"psql failed: {message}")
    return result.stdout


def current_state(role: str, database: str) -> dict:
    """The role's attributes and verifier, and the database's owner and public access."""
    columns = ", ".join(f"'{name}', {name}" for name in ROLE_ATTRIBUTES)
    sql = f"""
SELECT json_build_object(
  'role', (SELECT json_build_object({columns}, 'rolpassword', rolpassword)
           FROM pg_authid WHERE rolname = {quote_literal(role)}),
  'database', (SELECT json_build_object(
                 'owner', pg_get_userbyid(datdba),
                 'public_access', EXISTS (
                   SELECT 1 FROM aclexplode(COALESCE(datacl, acldefault('d', datdba))) AS acl
                   WHERE acl.grantee = 0))
               FROM pg_database WHERE datname = {quote_literal(database)}));
"""
    return json.loads(psql(sql))


def plan(state: dict, args: argparse.Namespace, password: str) -> tuple[list[str], list[str]]:
    """The actions (for the report) and SQL statements that bring the state to the wanted one."""
    role, database = quote_ident(args.role), quote_ident(args.database)
    attributes = " ".join(
        keyword if wanted else "NO" + keyword for keyword, wanted in ROLE_ATTRIBUTES.values()
    )
    actions: list[str] = []
    statements: list[str] = []
    current_role = state["role"]
    if current_role is None:
        actions.append(f"create role {args.role}")
        statements.append(f"CREATE ROLE {role} WITH {attributes} PASSWORD {{verifier}};")
    else:
        wrong = [
            keyword
            for column, (keyword, wanted) in ROLE_ATTRIBUTES.items()
            if current_role[column] != wanted
        ]
        if wrong:
            actions.append(f"set attributes of role {args.role} ({', '.join(wrong)})")
            statements.append(f"ALTER ROLE {role} WITH {attributes};")
        if not password_matches(password, current_role["rolpassword"]):
            actions.append(f"set the password of role {args.role}")
            statements.append(f"ALTER ROLE {role} WITH PASSWORD {{verifier}};")
    current_db = state["database"]
    if current_db is None:
        actions.append(f"create database {args.database}")
        statements.append(
            f"CREATE DATABASE {database} WITH OWNER {role} TEMPLATE template0"
            f" ENCODING 'UTF8' LOCALE {quote_literal(args.locale)};"
        )
    elif current_db["owner"] != args.role:
        actions.append(f"make {args.role} the owner of database {args.database}")
        statements.append(f"ALTER DATABASE {database} OWNER TO {role};")
    if current_db is None or current_db["public_access"]:
        actions.append(f"revoke PUBLIC's access to database {args.database}")
        statements.append(f"REVOKE ALL ON DATABASE {database} FROM PUBLIC;")
    return actions, statements


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--locale", default="C.UTF-8")
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    args = parser.parse_args()
    password = sys.stdin.read()
    try:
        if not password:
            raise HelperError("the password on standard input is empty")
        actions, statements = plan(current_state(args.role, args.database), args, password)
        if statements and not args.check:
            verifier = scram_verifier(password)
            sql = "\n".join(statements).replace("{verifier}", quote_literal(verifier))
            psql(sql, secret=verifier)
    except HelperError as error:
        print(f"sigma-postgresql-app-role: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"changed": bool(actions), "actions": actions}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
