#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_move
short_description: Move a PostgreSQL database to another server by logical replication
version_added: 0.3.0
description:
  - Moves the tables of a database from a O(source) server to a O(target) server with writes
    paused for seconds only; for example from the VPS PostgreSQL to RDS, and back by swapping
    the two.
  - V(prepared) publishes the tables on the source (a publication named O(name), FOR ALL
    TABLES unless O(tables) are listed), copies the schema to the target when it has none
    (C(pg_dump --schema-only) piped to C(psql --single-transaction)), subscribes the target
    (a subscription and a replication slot named O(name)), and waits until every table's
    initial copy is done. From then on the target follows every change of the source.
  - V(cutover) pauses the writes of O(app_roles) on the source (C(ALTER ROLE ... IN DATABASE
    ... SET default_transaction_read_only = on), then their sessions are ended and the module
    waits until each has gone), waits until the target has confirmed the source's current WAL
    position, compares every table (row count and checksum), sets the target's sequences to
    the source's values, drops the subscription, its slot and the publication, and makes
    O(app_roles) writable on the target if they were paused there. RV(move.write_pause_s) is
    the time from the pause to the end of all that. The source stays read-only for those roles;
    point the app at the target next.
  - On any failure during V(cutover) the roles are made writable on the source again and the
    subscription stays, so the cut-over can simply be run again. Only the target's sequences
    may have been set, and nothing reads them before a cut-over succeeds.
  - V(verified) compares both sides (row counts and checksums of every table, sequence values)
    and fails naming what differs; it changes nothing. V(absent) drops the subscription, a slot
    left on the source and the publication.
  - 'Why a module of our own: C(community.postgresql) has C(postgresql_publication) and
    C(postgresql_subscription) for the two objects, but nothing that waits for the initial
    copy, pauses the writes, waits for the catch-up, syncs the sequences and compares the
    tables as one step that puts the source back on failure. Its ideas are reused here (the
    catalogs it reads, C(CREATE SUBSCRIPTION) options); its code is not.'
  - The checksum of a table sums the two 64-bit halves of the md5 of each row's text (columns
    in the source's order, text settings fixed to UTC, ISO dates and C(extra_float_digits=1) on
    both sides); it does not depend on the order of the rows, needs no sort and little memory.
  - 'Limits of logical replication: schema changes (DDL) are not replicated (no migrations
    between V(prepared) and V(cutover)); large objects (C(pg_largeobject)) are not moved;
    sequences move only at the cut-over; every table needs a primary key or a replica identity
    (checked before anything is made). Only the sessions of O(app_roles) are paused.'
author:
  - sigma.deploy maintainers (@sigma-deploy)
requirements:
  - psycopg 3 (C(psycopg[binary])) on the host that runs the module.
  - C(pg_dump) and C(psql) of the source's major version or newer, when the schema is copied.
  - PostgreSQL 14 or later on both servers; C(wal_level=logical) on the source.
  - A superuser (RDS, C(rds_superuser)) on both sides; on RDS as the source,
    C(rds.logical_replication=1).
options:
  source:
    description:
      - The server the data leaves. Given by O(source.dsn), by the separate options, or both
        (the separate options win).
    type: dict
    required: true
    suboptions: &server
      dsn:
        description:
          - A libpq connection string or URI, for example
            V(postgresql://postgres@db.example.com:5432/notes).
        type: str
      host:
        description: Host name or address.
        type: str
      port:
        description: Port.
        type: int
      database:
        description: The database.
        type: str
      user:
        description: The role to connect as.
        type: str
      password:
        description: Its password.
        type: str
      sslmode:
        description: libpq's C(sslmode), for example V(require) or V(verify-full).
        type: str
      sslrootcert:
        description: The CA certificates that C(sslmode=verify-full) checks against.
        type: path
  target:
    description:
      - The server the data goes to, given as O(source) is. For the way back, swap the two.
    type: dict
    required: true
    suboptions: *server
  state:
    description:
      - The phase of the move to reach; see the description.
    type: str
    choices: [prepared, cutover, verified, absent]
    default: prepared
  name:
    description:
      - The name of the publication, the subscription and the replication slot.
      - Lower-case letters, digits and underscores, at most 63.
    type: str
    default: sigma_move
  tables:
    description:
      - The tables to move, as V(schema.table) or V(table) (in V(public)). Default, every
        ordinary table of the source database (and the publication is FOR ALL TABLES).
    type: list
    elements: str
    default: []
  app_roles:
    description:
      - The roles whose writes V(cutover) pauses on the source; the roles the app connects as.
        Required with O(state=cutover).
    type: list
    elements: str
    default: []
  copy_schema:
    description:
      - Copy the schema to a target that has none of the tables. With V(false), the target
        must have the schema already (for example from the app's migrations).
      - A target that has all the tables is used as it is when their columns match the source's.
    type: bool
    default: true
  keep_owners:
    description:
      - Copy the owners of the objects with the schema (the roles must exist on the target).
        With V(false), the target's O(target.user) owns them (C(pg_dump --no-owner)).
    type: bool
    default: true
  truncate_target:
    description:
      - Empty the target's tables before the initial copy. A target with rows is refused
        otherwise. The way back to a database that kept its old rows needs it.
    type: bool
    default: false
  subscription_conninfo:
    description:
      - How the target reaches the source, as a libpq connection string; by default the
        parameters of O(source). Needed when the target sees the source at another address.
    type: str
  pg_bin_dir:
    description:
      - Where C(pg_dump) and C(psql) are, when they are not on the C(PATH).
    type: path
  wait_timeout:
    description:
      - Seconds to wait for the initial copy of V(prepared).
    type: int
    default: 600
  catchup_timeout:
    description:
      - Seconds V(cutover) waits, writes paused, for the target to catch up.
    type: int
    default: 30
  connect_timeout:
    description:
      - Seconds to wait for each connection.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    details: Everything is read and checked; nothing is made, paused or dropped.
  diff_mode:
    support: full
    details: The publication, the subscription and the source's writes before and after.
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: community.postgresql.postgresql_publication
  - module: community.postgresql.postgresql_subscription
"""

EXAMPLES = r"""
- name: Replicate the app's database to RDS
  sigma.deploy.pg_move:
    state: prepared
    source:
      host: 10.0.0.5
      database: notes
      user: postgres
      password: "{{ vps_postgres_password }}"
    target:
      host: notes.abc123.us-east-1.rds.amazonaws.com
      database: notes
      user: postgres
      password: "{{ rds_master_password }}"
      sslmode: require

- name: Cut over (writes of the app's role paused for seconds)
  sigma.deploy.pg_move:
    state: cutover
    source: "{{ vps_db }}"
    target: "{{ rds_db }}"
    app_roles: [notes]
  register: cut

- name: Show the pause
  ansible.builtin.debug:
    msg: "writes paused {{ cut.move.write_pause_s }} s"

- name: The way back, into the old database that kept its rows
  sigma.deploy.pg_move:
    state: prepared
    source: "{{ rds_db }}"
    target: "{{ vps_db }}"
    truncate_target: true
"""

RETURN = r"""
move:
  description: What the move did (in check mode, would do).
  returned: always
  type: dict
  contains:
    state:
      description: The state asked for.
      type: str
      sample: cutover
    name:
      description: The name of the publication, subscription and slot.
      type: str
      sample: sigma_move
    publication:
      description: The publication of the move, when there is one.
      type: str
      sample: sigma_move
    subscription:
      description: The subscription of the move, when there is one.
      type: str
      sample: sigma_move
    schema:
      description: V(copied) or V(existing); with V(prepared).
      type: str
      returned: when state is prepared
    truncated:
      description: The target's tables emptied first (O(truncate_target)).
      type: list
      elements: str
      returned: when state is prepared
    initial_sync_s:
      description: Seconds waited for the initial copy.
      type: float
      returned: when state is prepared, not in check mode
    tables:
      description: >-
        With V(prepared), the tables' names; with V(cutover) and V(verified), one dict per table:
        C(table), C(source_rows), C(target_rows), C(source_checksum), C(target_checksum), C(match).
      type: list
      elements: raw
      sample:
        - table: public.notes
          source_rows: 1200
          target_rows: 1200
          source_checksum: 5d41402abc4b2a76b9719d911017c592
          target_checksum: 5d41402abc4b2a76b9719d911017c592
          match: true
    sequences:
      description: >-
        The source's sequences and their values (C(sequence), C(last_value), C(is_called)).
      type: list
      elements: dict
    write_pause_s:
      description: >-
        Seconds the writes were paused on the source, from the pause to a verified target
        (on failure, until the source was put back). Null when nothing was paused.
      type: float
      sample: 1.42
    catch_up_s:
      description: Of the pause, the seconds the target took to catch up.
      type: float
      returned: after a cut-over
    sessions_ended:
      description: The sessions of O(app_roles) ended on the source at the pause.
      type: int
      returned: after a cut-over
    source_writes:
      description: V(paused) or V(open), the source's writes for O(app_roles) afterwards.
      type: str
      returned: with cutover
    target_opened:
      description: The O(app_roles) that were paused on the target and take writes now.
      type: list
      elements: str
      returned: after a cut-over
    dropped:
      description: What V(absent) dropped.
      type: list
      elements: str
      returned: when state is absent
failure:
  description: PostgreSQL's answer, when the failure came from a server.
  returned: failed
  type: dict
  contains:
    field:
      description: The option the failure concerns.
      type: str
    sqlstate:
      description: The SQLSTATE, for example V(55000).
      type: str
    message:
      description: The server's message.
      type: str
"""

import re
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sigma.deploy.plugins.module_utils.pgmove import db
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.conninfo import (
    connection_params,
)
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.cutover import cutover
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.errors import PgMoveError
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.move import (
    Options,
    absent,
    prepare,
    verify,
)
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.sql import split_name

_SERVER = {
    "dsn": {"type": "str", "no_log": True},
    "host": {"type": "str"},
    "port": {"type": "int"},
    "database": {"type": "str"},
    "user": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "sslmode": {"type": "str"},
    "sslrootcert": {"type": "path"},
}

ARGUMENT_SPEC = {
    "source": {"type": "dict", "required": True, "options": _SERVER},
    "target": {"type": "dict", "required": True, "options": _SERVER},
    "state": {
        "type": "str",
        "default": "prepared",
        "choices": ["prepared", "cutover", "verified", "absent"],
    },
    "name": {"type": "str", "default": "sigma_move"},
    "tables": {"type": "list", "elements": "str", "default": []},
    "app_roles": {"type": "list", "elements": "str", "default": []},
    "copy_schema": {"type": "bool", "default": True},
    "keep_owners": {"type": "bool", "default": True},
    "truncate_target": {"type": "bool", "default": False},
    "subscription_conninfo": {"type": "str", "no_log": True},
    "pg_bin_dir": {"type": "path"},
    "wait_timeout": {"type": "int", "default": 600},
    "catchup_timeout": {"type": "int", "default": 30},
    "connect_timeout": {"type": "int", "default": 10},
}

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def options(module) -> Options:
    p = module.params
    if not _NAME.match(p["name"]):
        raise PgMoveError(
            f"name must be lower-case letters, digits and underscores (at most 63), got"
            f" {p['name']!r}",
            field="name",
        )
    if p["state"] == "cutover" and not p["app_roles"]:
        raise PgMoveError(
            "app_roles is required with state=cutover: the roles whose writes are paused",
            field="app_roles",
        )
    for option in ("wait_timeout", "catchup_timeout", "connect_timeout"):
        if p[option] < 0:
            raise PgMoveError(f"{option} must be 0 or more, got {p[option]}", field=option)
    return Options(
        name=p["name"],
        tables=[split_name(table) for table in p["tables"]],
        app_roles=p["app_roles"],
        copy_schema=p["copy_schema"],
        keep_owners=p["keep_owners"],
        truncate_target=p["truncate_target"],
        subscription_conninfo=p["subscription_conninfo"],
        wait_timeout=p["wait_timeout"],
        catchup_timeout=p["catchup_timeout"],
    )


def client_programs(module, opts: Options) -> None:
    """pg_dump and psql, needed only when the schema is copied: looked up now, reported
    when the copy needs them."""
    extra = [module.params["pg_bin_dir"]] if module.params["pg_bin_dir"] else []
    opts.pg_dump = module.get_bin_path("pg_dump", opt_dirs=extra)
    opts.psql = module.get_bin_path("psql", opt_dirs=extra)


def run_program(module):
    def run(argv, environ_update, data):
        if argv[0] is None:
            raise PgMoveError(
                "pg_dump and psql are needed to copy the schema: install the PostgreSQL client"
                " programs or set pg_bin_dir",
                field="pg_bin_dir",
            )
        return module.run_command(
            argv, environ_update=environ_update, data=data, binary_data=True, cwd="/"
        )

    return run


def connect(module, side: str):
    option = module.params[side]
    params = connection_params(option, db.parse_dsn(option.get("dsn"), side))
    return db.Server(side, params, module.params["connect_timeout"])


def diff(state: str, changed: bool, move: dict) -> dict:
    """Before and after of the replication objects and the source's writes."""
    after = {
        "publication": move.get("publication") is not None,
        "subscription": move.get("subscription") is not None,
    }
    before = dict(after)
    if state == "prepared" and changed:
        before = {"publication": False, "subscription": False}
    if state == "cutover":
        before["source_writes"] = "open" if changed else "paused"
        after = {"publication": False, "subscription": False, "source_writes": "paused"}
    if state == "absent":
        before = {"replication": sorted(move.get("dropped", []))}
        after = {"replication": []}
    return {"before": before, "after": after}


def run_state(module, source, target, opts: Options):
    state = module.params["state"]
    if state == "prepared":
        client_programs(module, opts)
        return prepare(source, target, opts, run_program(module), module.check_mode)
    if state == "cutover":
        return cutover(source, target, opts, module.check_mode)
    if state == "verified":
        return verify(source, target, opts)
    return absent(source, target, opts, module.check_mode)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if db.PSYCOPG_IMPORT_ERROR is not None:
        module.fail_json(
            msg=missing_required_lib("psycopg (psycopg[binary], version 3)"),
            exception="".join(traceback.format_exception(db.PSYCOPG_IMPORT_ERROR)),
        )
    servers = []
    try:
        opts = options(module)
        servers.append(connect(module, "source"))
        servers.append(connect(module, "target"))
        changed, move = run_state(module, servers[0], servers[1], opts)
    except PgMoveError as error:
        module.fail_json(msg=error.message, failure=error.failure(), move=error.result)
    finally:
        for server in servers:
            server.close()
    module.exit_json(changed=changed, move=move, diff=diff(module.params["state"], changed, move))


if __name__ == "__main__":
    main()
