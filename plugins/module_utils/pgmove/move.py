# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The phases of the move that are not the cut-over: ``prepared`` (publication, schema,
subscription, initial copy), ``verified`` (both sides compared, nothing changed) and
``absent`` (the replication objects removed). Each takes the two connected servers and the
options, and answers ``(changed, move)``, ``move`` being the module's result dict."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import wait_until
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove import checks, sql
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.conninfo import (
    conninfo_string,
)
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.errors import PgMoveError
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.schema_copy import (
    copy_schema,
)


@dataclass
class Options:
    name: str
    tables: list = field(default_factory=list)  # [(schema, table)]; empty: all
    app_roles: list = field(default_factory=list)
    copy_schema: bool = True
    keep_owners: bool = True
    truncate_target: bool = False
    subscription_conninfo: str | None = None
    wait_timeout: float = 600
    catchup_timeout: float = 30
    terminate_wait_ms: int = 5000
    pg_dump: str | None = None
    psql: str | None = None
    clock: object = time.monotonic
    sleep: object = time.sleep


def base_result(opts: Options, state: str) -> dict:
    return {
        "state": state,
        "name": opts.name,
        "publication": None,
        "subscription": None,
        "tables": [],
        "sequences": [],
        "write_pause_s": None,
    }


def moved_tables(source, opts: Options) -> list[tuple[str, str]]:
    """The tables of the move, each with a replica identity; fails before anything changes."""
    found = checks.select_tables(source.tables(), opts.tables)
    if not found:
        raise PgMoveError("the source has no tables to move", field="source")
    checks.check_identity(found)
    return [(schema, table) for schema, table, _identity in found]


def compare(source, target, tables) -> tuple[list[dict], list[str]]:
    """Per-table results (counts and checksums of both sides) and the mismatches."""
    columns = source.columns()
    results = checks.compare_tables(
        source.checksums(tables, columns), target.checksums(tables, columns)
    )
    return results, checks.mismatches(results)


def compare_sequences(source, target) -> tuple[list[dict], list[str]]:
    sequences = source.sequences()
    values = source.sequence_values(sequences)
    present = set(target.sequences())
    target_values = target.sequence_values([seq for seq in sequences if seq in present])
    shown = [
        {"sequence": checks.name(seq), "last_value": value[0], "is_called": value[1]}
        for seq, value in values.items()
    ]
    return shown, checks.sequence_mismatches(values, target_values)


def wait_synced(target, opts: Options, tables) -> float:
    """Waits until every table's initial copy is done; answers the seconds it took."""
    synced, states, took = wait_until(
        lambda: target.subscription_tables(opts.name),
        lambda states: checks.subscription_synced(states, tables),
        opts.wait_timeout,
        clock=opts.clock,
        sleep=opts.sleep,
    )
    if not synced:
        raise PgMoveError(
            f"the initial copy did not finish within wait_timeout ({opts.wait_timeout} s):"
            f" {', '.join(checks.unsynced(states, tables))}. Run again to wait longer",
            field="wait_timeout",
        )
    return round(took, 3)


def _target_plan(source, target, opts: Options, tables) -> tuple[str, list]:
    source_columns = {table: cols for table, cols in source.columns().items() if table in tables}
    action = checks.target_schema_action(source_columns, target.columns(), opts.copy_schema)
    if action == "copy":
        return action, []
    return action, checks.check_target_empty(target.counts(tables), opts.truncate_target)


def prepare(source, target, opts: Options, run, check_mode: bool) -> tuple[bool, dict]:
    wal_level, version, _database = source.server()
    checks.check_server_version("source", version)
    checks.check_server_version("target", target.server()[1])
    checks.check_wal_level(wal_level)
    tables = moved_tables(source, opts)
    result = base_result(opts, "prepared")
    result["tables"] = [checks.name(table) for table in tables]
    publication = source.publication(opts.name)
    subscription = target.subscription(opts.name)
    if subscription is not None:
        if publication is None:
            raise PgMoveError(
                f"the target has the subscription {opts.name} but the source has no publication"
                " of that name: remove the leftovers with state=absent, then prepare again",
                field="name",
            )
        result.update(publication=opts.name, subscription=opts.name, schema="existing")
        if not check_mode:
            result["initial_sync_s"] = wait_synced(target, opts, tables)
        return False, result

    action, to_empty = _target_plan(source, target, opts, tables)
    result.update(
        publication=opts.name,
        subscription=opts.name,
        schema="copied" if action == "copy" else "existing",
        truncated=[checks.name(table) for table in to_empty],
    )
    if check_mode:
        return True, result
    if action == "copy":
        copy_schema(
            run,
            opts.pg_dump,
            opts.psql,
            source.params,
            target.params,
            opts.tables,
            opts.keep_owners,
        )
        # The copy must have made exactly the source's tables.
        checks.target_schema_action(
            {t: c for t, c in source.columns().items() if t in tables}, target.columns(), False
        )
    if to_empty:
        target.execute(sql.truncate(to_empty))
    if publication is None:
        source.execute(sql.create_publication(opts.name, opts.tables))
    conninfo = opts.subscription_conninfo or conninfo_string(source.params)
    target.execute(sql.create_subscription(opts.name, conninfo, opts.name))
    result["initial_sync_s"] = wait_synced(target, opts, tables)
    return True, result


def verify(source, target, opts: Options) -> tuple[bool, dict]:
    """Compares both sides now; changes nothing. Meaningful while writes are paused or once
    the move is done (during replication the target may be a moment behind)."""
    tables = moved_tables(source, opts)
    result = base_result(opts, "verified")
    result["tables"], bad_tables = compare(source, target, tables)
    result["sequences"], bad_sequences = compare_sequences(source, target)
    problems = bad_tables + [f"sequence {text}" for text in bad_sequences]
    if problems:
        raise PgMoveError(
            f"source and target differ: {', '.join(problems)}", field="target", result=result
        )
    return False, result


def drop_replication(source, target, name: str, check_mode: bool) -> list[str]:
    """Drops the subscription (and with it the slot), a slot left on the source, and the
    publication. Answers what was (or in check mode would be) dropped."""
    dropped = []
    subscription = target.subscription(name)
    if subscription is not None:
        dropped.append(f"subscription {name}")
        if not check_mode:
            try:
                for statement in sql.drop_subscription(name):
                    target.execute(statement)
            except PgMoveError:
                # The source is out of reach: detach the slot, drop it below if we can.
                for statement in sql.drop_subscription(name, keep_slot=True)[1:]:
                    target.execute(statement)
    # In check mode the subscription is still there with its slot, which it would drop.
    slot = None if subscription is not None and check_mode else source.slot(name)
    if slot is not None:
        if slot[0]:
            raise PgMoveError(
                f"the replication slot {name} on the source is in use by another subscriber",
                field="name",
            )
        dropped.append(f"slot {name}")
        if not check_mode:
            source.execute(sql.DROP_SLOT_SQL, (name,))
    if source.publication(name) is not None:
        dropped.append(f"publication {name}")
        if not check_mode:
            source.execute(sql.drop_publication(name))
    return dropped


def absent(source, target, opts: Options, check_mode: bool) -> tuple[bool, dict]:
    result = base_result(opts, "absent")
    result["dropped"] = drop_replication(source, target, opts.name, check_mode)
    return bool(result["dropped"]), result
