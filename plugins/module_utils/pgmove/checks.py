# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The decisions of the data move, as pure functions of what the catalogs said: can the
source publish, what to do with the target's schema, has the subscription caught up, do
the two sides hold the same rows. Each problem is a message naming what to change."""

from __future__ import annotations

import hashlib

from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.errors import PgMoveError

# Table synchronization states after which only streamed changes remain.
SYNCED_STATES = ("s", "r")


def name(table: tuple[str, str]) -> str:
    return f"{table[0]}.{table[1]}"


def check_wal_level(wal_level: str) -> None:
    if wal_level != "logical":
        raise PgMoveError(
            f"the source has wal_level={wal_level}; logical replication needs"
            " wal_level=logical. Set it and restart PostgreSQL: ALTER SYSTEM SET wal_level ="
            " logical (on RDS: rds.logical_replication = 1 in the DB parameter group, then a"
            " reboot)",
            field="source",
        )


def check_server_version(side: str, version_num: int) -> None:
    if version_num < 100000:
        raise PgMoveError(
            f"the {side} runs PostgreSQL {version_num}; logical replication needs 10 or later",
            field=side,
        )


def select_tables(
    found: list[tuple[str, str, bool]], wanted: list[tuple[str, str]] | None
) -> list[tuple[str, str, bool]]:
    """The tables to move: every ordinary table, or those named in ``tables`` (each must
    exist)."""
    if not wanted:
        return found
    by_name = {(row[0], row[1]): row for row in found}
    missing = [name(table) for table in wanted if table not in by_name]
    if missing:
        raise PgMoveError(f"tables not found on the source: {', '.join(missing)}", field="tables")
    return [by_name[table] for table in wanted]


def check_identity(tables: list[tuple[str, str, bool]]) -> None:
    """A published table without a replica identity refuses UPDATE and DELETE on the source:
    refuse to publish it at all."""
    lacking = [name((schema, table)) for schema, table, has_identity in tables if not has_identity]
    if lacking:
        raise PgMoveError(
            "tables without a primary key or replica identity cannot be replicated (their"
            " UPDATE and DELETE would fail on the source once published): "
            + ", ".join(lacking)
            + ". Add a primary key, or ALTER TABLE ... REPLICA IDENTITY FULL",
            field="tables",
        )


def target_schema_action(source: dict, target: dict, copy_schema: bool) -> str:
    """``copy`` when the target has none of the tables, ``use`` when it has all of them with
    the same columns (names, order and types); any other target is refused.

    ``source`` and ``target`` map a table to its list of ``(column, type)``; ``target`` may
    hold other tables, which are left alone.
    """
    present = [table for table in source if table in target]
    if not present:
        if not copy_schema:
            raise PgMoveError(
                "the target has none of the tables and copy_schema is false: create the"
                " schema first (for example by running the app's migrations)",
                field="copy_schema",
            )
        return "copy"
    missing = [name(table) for table in source if table not in target]
    if missing:
        raise PgMoveError(
            f"the target has some of the tables but not {', '.join(missing)}: give an empty"
            " target database or one with the whole schema",
            field="target",
        )
    differing = [name(table) for table in source if source[table] != target[table]]
    if differing:
        raise PgMoveError(
            "the columns (names, order or types) differ between source and target for: "
            + ", ".join(differing),
            field="target",
        )
    return "use"


def check_target_empty(counts: dict, truncate_target: bool) -> list[tuple[str, str]]:
    """The tables to empty first; a target with rows is refused unless ``truncate_target``."""
    filled = [table for table, count in counts.items() if count]
    if filled and not truncate_target:
        shown = ", ".join(f"{name(table)} ({counts[table]} rows)" for table in filled)
        raise PgMoveError(
            f"the target is not empty: {shown}. Give an empty target, or truncate_target=true"
            " to empty these tables first (the way back to a database that has old rows)",
            field="truncate_target",
        )
    return filled


def subscription_synced(states: list[tuple[str, str, str]], tables: list) -> bool:
    """Every table of the move is known to the subscription and done with its copy."""
    by_table = {(schema, table): state for schema, table, state in states}
    return all(by_table.get((t[0], t[1])) in SYNCED_STATES for t in tables)


def unsynced(states: list[tuple[str, str, str]], tables: list) -> list[str]:
    by_table = {(schema, table): state for schema, table, state in states}
    return [
        f"{name((t[0], t[1]))} ({by_table.get((t[0], t[1]), 'missing')})"
        for t in tables
        if by_table.get((t[0], t[1])) not in SYNCED_STATES
    ]


def parse_lsn(text: str) -> int:
    """PostgreSQL's ``XXXXXXXX/YYYYYYYY`` as a number."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def lsn_reached(confirmed: str | None, wanted: str) -> bool:
    return confirmed is not None and parse_lsn(confirmed) >= parse_lsn(wanted)


def is_paused(settings: list[str]) -> bool:
    """A role's settings in the database say new sessions are read-only."""
    return "default_transaction_read_only=on" in settings


def checksum_digest(sums: str) -> str:
    """The checksum as shown: sha256 of the two sums, shortened."""
    return hashlib.sha256(sums.encode()).hexdigest()[:32]


def compare_tables(source: dict, target: dict) -> list[dict]:
    """Per table, the counts and checksums of both sides and whether they match.
    ``source`` and ``target`` map a table to ``(rows, sums)``; a table the target lacks
    has no target values."""
    results = []
    for table, (rows, sums) in source.items():
        target_rows, target_sums = target.get(table, (None, None))
        results.append(
            {
                "table": name(table),
                "source_rows": rows,
                "target_rows": target_rows,
                "source_checksum": checksum_digest(sums),
                "target_checksum": None if target_sums is None else checksum_digest(target_sums),
                "match": rows == target_rows and sums == target_sums,
            }
        )
    return results


def mismatches(results: list[dict]) -> list[str]:
    return [
        f"{row['table']} (rows {row['source_rows']} vs {row['target_rows']})"
        for row in results
        if not row["match"]
    ]


def sequence_mismatches(source: dict, target: dict) -> list[str]:
    """Sequences whose ``(last_value, is_called)`` differ, or that the target lacks."""
    return [
        f"{name(seq)} ({source[seq][0]} vs {target[seq][0] if seq in target else 'missing'})"
        for seq in source
        if target.get(seq) != source[seq]
    ]
