# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The cut-over: writes paused on the source, the target catches up, sequences follow, every
table is compared, then the replication is removed and the target takes writes.

The pause makes the app's roles read-only in the source database (new sessions start with
``default_transaction_read_only = on``) and ends their sessions, waiting until each has gone;
reads go on. Any failure before the end puts the roles back as they were and leaves the
subscription in place, so the cut-over can be tried again; nothing else was changed but the
target's sequences, which nothing reads before a cut-over succeeds.
"""

from __future__ import annotations

from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import wait_until
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove import checks, sql
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.errors import PgMoveError
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.move import (
    Options,
    base_result,
    compare,
    compare_sequences,
    drop_replication,
    moved_tables,
)


def _role_settings(server, roles: list[str]) -> dict:
    settings = {}
    for role in roles:
        found = server.role_settings(role)
        if found is None:
            raise PgMoveError(
                f"the role {role} (app_roles) does not exist on the {server.side}",
                field="app_roles",
            )
        settings[role] = found
    return settings


def _already_done(source, target, opts: Options, tables, result) -> tuple[bool, dict]:
    """No subscription: a cut-over done before (source paused, no publication, same data)
    is not done again; anything else needs ``state=prepared`` first."""
    paused = all(checks.is_paused(s) for s in _role_settings(source, opts.app_roles).values())
    if not paused or source.publication(opts.name) is not None:
        raise PgMoveError(
            f"the target has no subscription {opts.name}: run state=prepared first",
            field="state",
        )
    result["tables"], bad_tables = compare(source, target, tables)
    result["sequences"], bad_sequences = compare_sequences(source, target)
    if bad_tables or bad_sequences:
        raise PgMoveError(
            "the source is paused and the replication is gone, but the target differs: "
            + ", ".join(bad_tables + bad_sequences),
            field="target",
            result=result,
        )
    result["source_writes"] = "paused"
    return False, result


def _catch_up(source, opts: Options) -> float:
    """Waits until the subscriber has confirmed everything the source wrote up to now."""
    wanted = source.current_lsn()
    reached, slot, took = wait_until(
        lambda: source.slot(opts.name),
        lambda slot: slot is not None and checks.lsn_reached(slot[1], wanted),
        opts.catchup_timeout,
        interval=0.02,
        max_interval=0.1,
        clock=opts.clock,
        sleep=opts.sleep,
    )
    if not reached:
        at = "no slot" if slot is None else slot[1]
        raise PgMoveError(
            f"the target did not catch up within catchup_timeout ({opts.catchup_timeout} s):"
            f" confirmed {at}, source at {wanted}",
            field="catchup_timeout",
        )
    return round(took, 3)


def _sync_sequences(source, target, result) -> None:
    sequences = source.sequences()
    values = source.sequence_values(sequences)
    present = set(target.sequences())
    missing = [checks.name(seq) for seq in sequences if seq not in present]
    if missing:
        raise PgMoveError(f"sequences missing on the target: {', '.join(missing)}", field="target")
    for seq, (last_value, is_called) in values.items():
        target.execute(sql.SETVAL_SQL, (sql.qualified(*seq), last_value, is_called))
    result["sequences"], bad = compare_sequences(source, target)
    if bad:
        raise PgMoveError(f"sequences differ after setval: {', '.join(bad)}", field="target")


def _open_target(target, roles: list[str], database: str) -> list[str]:
    """The app's roles take writes on the target (a way back finds them paused there)."""
    opened = []
    for role in roles:
        settings = target.role_settings(role)
        if settings is not None and checks.is_paused(settings):
            target.execute(sql.resume_writes(role, database))
            opened.append(role)
    return opened


def cutover(source, target, opts: Options, check_mode: bool) -> tuple[bool, dict]:
    _wal, _version, database = source.server()
    tables = moved_tables(source, opts)
    result = base_result(opts, "cutover")
    subscription = target.subscription(opts.name)
    if subscription is None:
        return _already_done(source, target, opts, tables, result)
    states = target.subscription_tables(opts.name)
    if not subscription[0] or not checks.subscription_synced(states, tables):
        raise PgMoveError(
            f"the subscription {opts.name} is disabled or still copying: "
            f"{', '.join(checks.unsynced(states, tables)) or 'disabled'}; run state=prepared",
            field="state",
        )
    before = _role_settings(source, opts.app_roles)
    to_pause = [role for role, settings in before.items() if not checks.is_paused(settings)]
    result.update(publication=opts.name, subscription=opts.name, source_writes="paused")
    if check_mode:
        return True, result

    started = opts.clock()
    paused = []
    try:
        for role in to_pause:
            source.execute(sql.pause_writes(role, database))
            paused.append(role)
        ended, left = source.terminate(opts.app_roles, opts.terminate_wait_ms)
        result["sessions_ended"] = ended
        if left:
            raise PgMoveError(
                f"{left} session(s) of {', '.join(opts.app_roles)} did not end within"
                f" {opts.terminate_wait_ms} ms",
                field="app_roles",
            )
        result["catch_up_s"] = _catch_up(source, opts)
        result["tables"], bad = compare(source, target, tables)
        if bad:
            raise PgMoveError(
                f"source and target differ after catch-up: {', '.join(bad)}", field="target"
            )
        _sync_sequences(source, target, result)
        drop_replication(source, target, opts.name, check_mode=False)
        result["target_opened"] = _open_target(target, opts.app_roles, database)
    except PgMoveError as error:
        result["write_pause_s"] = round(opts.clock() - started, 3)
        result["source_writes"] = _resume(source, paused, database, error)
        error.result = {**result, **error.result}
        raise
    result["write_pause_s"] = round(opts.clock() - started, 3)
    return True, result


def _resume(source, roles: list[str], database: str, error: PgMoveError) -> str:
    """Puts the paused roles back; if that fails too, the error says what to run."""
    try:
        for role in roles:
            source.execute(sql.resume_writes(role, database))
    except PgMoveError as resume_error:
        statements = "; ".join(sql.resume_writes(role, database) for role in roles)
        error.message += (
            f". Writes could NOT be resumed on the source ({resume_error.message}):"
            f" run {statements}"
        )
        error.args = (error.message,)
        return "paused"
    return "open"
