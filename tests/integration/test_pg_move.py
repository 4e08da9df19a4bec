"""The data move against two real PostgreSQL 15 clusters on loopback: moving up while a writer
keeps inserting, the way back, and moves that must fail leaving the source writable.

Needs the PostgreSQL 15 server binaries (postgresql-15) and psycopg; no podman, no test hosts:
    pytest tests/integration/test_pg_move.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.integration.pg_clusters import (
    Cluster,
    missing_reason,
    remove_cluster,
    start_cluster,
)

# `make test` installs the PostgreSQL 15 server (tools/bootstrap.sh): without it this is a
# failure, never a skip that would read as a pass.
if missing_reason() is not None:
    pytest.fail(missing_reason(), pytrace=False)

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".build" / "collections"
BIN = Path(sys.executable).parent
APP_PASSWORD = "app-role-pw"
TABLES = ("public.notes", "public.authors", "public.tags", "billing.invoices")

SCHEMA = """
CREATE ROLE app LOGIN PASSWORD 'app-role-pw';
CREATE SCHEMA billing AUTHORIZATION app;
CREATE TABLE authors (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE notes (
    id bigserial PRIMARY KEY,
    author_id integer REFERENCES authors (id),
    body text NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    score double precision,
    meta jsonb
);
CREATE TABLE tags (note_id bigint, tag text, PRIMARY KEY (note_id, tag));
CREATE TABLE billing.invoices (id uuid PRIMARY KEY, amount numeric(12, 2), paid boolean);
CREATE SEQUENCE ticket_seq START 1000;
ALTER TABLE authors OWNER TO app;
ALTER TABLE notes OWNER TO app;
ALTER TABLE tags OWNER TO app;
ALTER TABLE billing.invoices OWNER TO app;
ALTER SEQUENCE ticket_seq OWNER TO app;
INSERT INTO authors SELECT i, 'author ' || i FROM generate_series(1, 50) AS i;
INSERT INTO notes (author_id, body, score, meta)
  SELECT 1 + i % 50, repeat('note ' || i || ' ', 1 + i % 7), i / 3.0,
         jsonb_build_object('i', i, 'odd', i % 2 = 1)
    FROM generate_series(1, 3000) AS i;
INSERT INTO tags SELECT i, t FROM generate_series(1, 500) AS i, unnest(ARRAY['a', 'b']) AS t;
INSERT INTO billing.invoices
  SELECT md5(i::text)::uuid, i * 1.25, i % 3 = 0 FROM generate_series(1, 200) AS i;
SELECT nextval('ticket_seq') FROM generate_series(1, 7);
"""

# An independent checksum (not the module's): md5 of the sorted md5s of the rows' text.
CHECKSUM = (
    "SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), ''))"
    " FROM (SELECT md5(t::text) AS h FROM {table} AS t) AS rows"
)


def connect(cluster: Cluster, user="postgres", password=None, database="app"):
    return psycopg.connect(cluster.conninfo(database, user, password), autocommit=True)


def sql(cluster: Cluster, statement: str, params=None, database="app"):
    with connect(cluster, database=database) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="module")
def clusters():
    """Source and target, each with the role app; the source holds the app's data."""
    source = start_cluster("source")
    target = start_cluster("target")
    try:
        for cluster in (source, target):
            sql(cluster, "CREATE DATABASE app", database="postgres")
        with connect(source) as conn:
            conn.execute(SCHEMA)
        sql(target, "CREATE ROLE app LOGIN PASSWORD 'app-role-pw'")
        yield source, target
    finally:
        remove_cluster(source)
        remove_cluster(target)


def ansible_env() -> dict:
    link = COLLECTIONS / "ansible_collections" / "sigma" / "deploy"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("../../../.."))
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
    }


def task_results(output: str) -> dict:
    """Task name -> the localhost result, from the json callback's output."""
    plays = json.loads(output)["plays"]
    return {
        task["task"]["name"]: task["hosts"]["localhost"]
        for play in plays
        for task in play["tasks"]
        if "localhost" in task["hosts"]
    }


def move_playbook(tmp_path: Path, source: Cluster, target: Cluster, **extra) -> tuple[int, dict]:
    """playbooks/db_move.yml from ``source`` to ``target`` on this host."""
    variables = {
        "db_move_source": source.params(),
        "db_move_target": target.params(),
        "db_move_app_roles": ["app"],
        "ansible_python_interpreter": sys.executable,
        **extra,
    }
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    proc = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            str(ROOT / "playbooks" / "db_move.yml"),
            "-e",
            f"@{tmp_path / 'vars.json'}",
        ],
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.stdout.startswith("{"), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.returncode, task_results(proc.stdout)


def pg_move(source: dict, target: dict, *check: str, **args) -> dict:
    """One call of the module (ad hoc) with these server options; answers its result."""
    args = {"source": source, "target": target, **args}
    proc = subprocess.run(
        [
            str(BIN / "ansible"),
            "localhost",
            "-i",
            "localhost,",
            "-c",
            "local",
            *check,
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-m",
            "sigma.deploy.pg_move",
            "-a",
            json.dumps(args),
        ],
        env={**ansible_env(), "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if not proc.stdout.startswith("{"):
        return {"failed": True, "msg": proc.stdout + proc.stderr}
    (result,) = task_results(proc.stdout).values()
    return result


class Writer(threading.Thread):
    """Inserts notes as the app's role, one per transaction, reconnecting after errors, until
    stopped or a bound; remembers the ids whose commit succeeded and the errors seen."""

    def __init__(self, cluster: Cluster, limit_s: float = 120.0):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.limit_s = limit_s
        self.stop_flag = threading.Event()
        self.committed: list[int] = []
        self.errors: list[str] = []

    def run(self) -> None:
        deadline = time.monotonic() + self.limit_s
        conn = None
        while not self.stop_flag.is_set() and time.monotonic() < deadline:
            try:
                if conn is None or conn.closed:
                    conn = connect(self.cluster, "app", APP_PASSWORD)
                row = conn.execute(
                    "INSERT INTO notes (author_id, body, score, meta, created)"
                    " VALUES (7, 'written during the move', random(), '{\"w\": 1}',"
                    " '2026-01-01T00:00:00Z') RETURNING id, nextval('ticket_seq')"
                ).fetchone()
                self.committed.append(row[0])
            except psycopg.Error as error:
                self.errors.append(type(error).__name__ + ": " + str(error).strip())
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
            time.sleep(0.005)
        if conn is not None:
            conn.close()

    def finish(self) -> None:
        self.stop_flag.set()
        self.join(timeout=30)


def table_checksums(cluster: Cluster) -> dict:
    return {table: sql(cluster, CHECKSUM.format(table=table))[0] for table in TABLES}


def sequences(cluster: Cluster) -> dict:
    return {
        seq: sql(cluster, f"SELECT last_value, is_called FROM {seq}")[0]
        for seq in ("notes_id_seq", "ticket_seq")
    }


def app_can_write(cluster: Cluster) -> bool:
    with connect(cluster, "app", APP_PASSWORD) as conn:
        try:
            conn.execute("INSERT INTO authors VALUES (9999, 'probe')")
        except psycopg.errors.ReadOnlySqlTransaction:
            return False
        conn.execute("DELETE FROM authors WHERE id = 9999")
        return True


def replication_objects(source: Cluster, target: Cluster) -> tuple:
    return (
        sql(source, "SELECT pubname FROM pg_publication"),
        sql(source, "SELECT slot_name FROM pg_replication_slots"),
        sql(target, "SELECT subname FROM pg_subscription"),
    )


def move_under_writes(tmp_path, origin, destination, **extra) -> tuple[dict, Writer]:
    writer = Writer(origin)
    writer.start()
    try:
        # The writer is at work before the move starts.
        while len(writer.committed) < 20 and writer.is_alive():
            time.sleep(0.05)
        rc, results = move_playbook(tmp_path, origin, destination, **extra)
    finally:
        time.sleep(0.5)  # the writer meets the paused source
        writer.finish()
    assert rc == 0, json.dumps(results, indent=1)[-4000:]
    return results, writer


def assert_moved(origin: Cluster, destination: Cluster, results: dict, writer: Writer) -> None:
    """Everything the writer committed on ``origin`` is on ``destination``, which alone takes
    writes now."""
    source, target = origin, destination
    cut = results["Cut over, writes of the app's roles paused on the source"]
    move = cut["move"]
    assert cut["changed"] is True
    # Every write that committed on the source is on the target; the tables are equal.
    written = "SELECT id FROM notes WHERE body = 'written during the move'"
    ids = {row[0] for row in sql(target, written)}
    assert set(writer.committed) <= ids
    assert table_checksums(target) == table_checksums(source)
    assert sequences(target) == sequences(source)
    # The module's own verification, per table.
    assert sorted(row["table"] for row in move["tables"]) == sorted(TABLES)
    assert all(row["match"] and row["source_rows"] == row["target_rows"] for row in move["tables"])
    assert {row["sequence"] for row in move["sequences"]} == {
        "public.notes_id_seq",
        "public.ticket_seq",
    }
    # The pause was measured and is seconds, not minutes; the writer met it.
    print(
        f"pg_move {source.name} -> {target.name}: write pause {move['write_pause_s']} s"
        f" (catch-up {move['catch_up_s']} s), {len(writer.committed)} writes during the move"
    )
    assert 0 < move["write_pause_s"] < 30
    assert move["catch_up_s"] <= move["write_pause_s"]
    assert any("read-only transaction" in error for error in writer.errors), writer.errors[-5:]
    assert move["source_writes"] == "paused"
    assert not app_can_write(source)
    assert app_can_write(target)
    assert replication_objects(source, target) == ([], [], [])


def test_move_up_then_back(clusters, tmp_path):
    source, target = clusters
    results, writer = move_under_writes(tmp_path, source, target)
    prepared = results["Replicate the source to the target and wait for the initial copy"]
    assert prepared["move"]["schema"] == "copied"
    assert len(writer.committed) > 20
    assert_moved(source, target, results, writer)
    # The owners came along with the schema.
    assert sql(target, "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'") == [("app",)]

    # Again: nothing to do (the move is done), and it says so.
    again = pg_move(source.params(), target.params(), state="cutover", app_roles=["app"])
    assert again["changed"] is False, again
    assert again["move"]["source_writes"] == "paused"

    # The way back: the old source kept its rows, so it is emptied first.
    back_dir = tmp_path / "back"
    back_dir.mkdir()
    results, writer = move_under_writes(back_dir, target, source, db_move_truncate_target=True)
    prepared = results["Replicate the source to the target and wait for the initial copy"]
    assert prepared["move"]["schema"] == "existing"
    assert sorted(prepared["move"]["truncated"]) == sorted(TABLES)
    assert_moved(target, source, results, writer)
    cut = results["Cut over, writes of the app's roles paused on the source"]
    assert cut["move"]["target_opened"] == ["app"]


def test_failed_moves_leave_the_source_writable(clusters):
    source, target = clusters
    # After test_move_up_then_back the data lives on the source again; start afresh there.
    sql(target, "DROP DATABASE IF EXISTS fresh", database="postgres")
    sql(target, "CREATE DATABASE fresh", database="postgres")
    fresh = target.params("fresh")
    assert app_can_write(source)  # the way back opened it

    # A target with rows is refused, naming the option, and nothing is made.
    result = pg_move(source.params(), target.params(), state="prepared")
    assert result["failed"] is True
    assert "the target is not empty" in result["msg"]
    assert result["failure"]["field"] == "truncate_target"
    assert replication_objects(source, target) == ([], [], [])

    # A table without a primary key is refused before anything is made.
    sql(source, "CREATE TABLE loose (v text)")
    try:
        result = pg_move(source.params(), fresh, state="prepared")
        assert result["failed"] is True
        assert "public.loose" in result["msg"]
        assert "replica identity" in result["msg"]
        assert replication_objects(source, target) == ([], [], [])
        assert sql(
            target, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database="fresh"
        ) == [(0,)]
    finally:
        sql(source, "DROP TABLE loose")
    assert app_can_write(source)

    # A cut-over whose verification fails puts the source back and keeps the subscription.
    checked = pg_move(source.params(), fresh, "--check", state="prepared")
    assert checked["changed"] is True
    assert "initial_sync_s" not in checked["move"]
    assert replication_objects(source, target)[0] == []
    prepared = pg_move(source.params(), fresh, state="prepared")
    assert prepared["changed"] is True, prepared
    again = pg_move(source.params(), fresh, state="prepared")
    assert again["changed"] is False, again
    with psycopg.connect(target.conninfo("fresh"), autocommit=True) as conn:
        conn.execute("INSERT INTO authors VALUES (5000, 'only on the target')")
    failed = pg_move(source.params(), fresh, state="cutover", app_roles=["app"])
    assert failed["failed"] is True
    assert "public.authors (rows 50 vs 51)" in failed["msg"]
    assert failed["failure"]["field"] == "target"
    assert failed["move"]["source_writes"] == "open"
    assert failed["move"]["write_pause_s"] > 0
    assert app_can_write(source)
    assert sql(target, "SELECT subname FROM pg_subscription", database="fresh") == [("sigma_move",)]

    # state=absent removes the leftovers; again, nothing to remove.
    gone = pg_move(source.params(), fresh, state="absent")
    assert gone["changed"] is True
    assert sorted(gone["move"]["dropped"]) == ["publication sigma_move", "subscription sigma_move"]
    assert sql(source, "SELECT count(*) FROM pg_publication") == [(0,)]
    assert sql(source, "SELECT count(*) FROM pg_replication_slots") == [(0,)]
    assert pg_move(source.params(), fresh, state="absent")["changed"] is False


def test_source_without_logical_wal_is_refused(clusters):
    source, _target = clusters
    plain = start_cluster("plain", wal_level="replica")
    try:
        sql(plain, "CREATE DATABASE app", database="postgres")
        result = pg_move(plain.params(), source.params(), state="prepared")
        assert result["failed"] is True
        assert "wal_level=replica" in result["msg"]
        assert "wal_level = logical" in result["msg"]
        assert result["failure"]["field"] == "source"
    finally:
        remove_cluster(plain)
