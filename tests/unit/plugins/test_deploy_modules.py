"""deploy_lock, release_ledger and release_info: their main() run in-process on a temporary
state directory and /srv tree, systemctl stubbed; and the lock raced by threads and processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import ledger as ds
from ansible_collections.sigma.deploy.plugins.modules import (
    deploy_lock,
    release_info,
    release_ledger,
)
from tests.unit.plugins.fakes import FakeModule

ROOT = Path(__file__).resolve().parents[3]
YEAR_AGO = 1764185402.0  # 2025-11-26T19:30:02Z: a lock taken then has expired


@pytest.fixture
def state(tmp_path):
    return tmp_path / "state"


def lock(run, root, token="d1", owner="alice@laptop", **params):
    return run(deploy_lock, app="notes", path=str(root), token=token, owner=owner, **params)


def stored_lock(state):
    return json.loads((state / "notes" / "lock.json").read_text())


def write_lock(state, **fields):
    (state / "notes").mkdir(parents=True, exist_ok=True)
    held = ds.new_lock("notes", "bob@ci", "other", YEAR_AGO, 3600, {"release_id": "r9"})
    held.update(fields)
    (state / "notes" / "lock.json").write_text(json.dumps(held))
    return held


# --- deploy_lock --------------------------------------------------------------------------------
def test_take_the_free_lock(run, state):
    result = lock(run, state, details={"release_id": "r1"}, ttl=600)
    assert (result["changed"], result["failed"], result["previous"]) == (True, False, {})
    held = stored_lock(state)
    assert result["lock"] == held
    assert {k: held[k] for k in ("app", "owner", "token", "details")} == {
        "app": "notes",
        "owner": "alice@laptop",
        "token": "d1",
        "details": {"release_id": "r1"},
    }
    assert ds.parse_iso(held["expires"]) - ds.parse_iso(held["since"]) == 600
    assert result["diff"] == {"before": {}, "after": held}
    assert stat.S_IMODE(os.stat(state / "notes").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "notes" / "lock.json").st_mode) == 0o600


def test_taking_it_again_with_the_same_token_is_no_change(run, state):
    first = lock(run, state)
    again = lock(run, state, owner="alice@elsewhere")
    assert (again["changed"], again["failed"]) == (False, False)
    assert again["lock"] == first["lock"] == stored_lock(state)


def test_a_lock_held_by_another_deploy_fails_naming_it(run, state):
    held = write_lock(state, expires="2999-01-01T00:00:00Z")
    result = lock(run, state)
    assert result["failed"]
    assert result["msg"] == (
        "The deploy lock of notes is held by bob@ci (deploy other) since 2025-11-26T19:30:02Z, "
        'expiring 2999-01-01T00:00:00Z; details: {"release_id": "r9"}. Wait for that deploy to '
        "end, or break the lock if it is stale (break_lock=true; deploy_lock_break=true in the "
        "deploy playbooks)."
    )
    assert result["failure"] == {"reason": "held", "lock": held}
    assert stored_lock(state) == held


def test_an_expired_lock_is_taken_over_with_a_warning(run, state):
    held = write_lock(state)  # expired long ago
    result = lock(run, state)
    assert (result["changed"], result["previous"]) == (True, held)
    assert stored_lock(state)["token"] == "d1"
    assert result["diff"]["before"] == held
    assert len(result["warnings"]) == 1
    assert "from bob@ci (deploy other)" in result["warnings"][0]
    assert "it had expired" in result["warnings"][0]


def test_break_lock_takes_over_a_live_lock(run, state):
    held = write_lock(state, expires="2999-01-01T00:00:00Z")
    result = lock(run, state, break_lock=True)
    assert (result["changed"], result["previous"]) == (True, held)
    assert stored_lock(state)["token"] == "d1"
    assert "bob@ci" in result["warnings"][0]
    assert "broke it" in result["warnings"][0]


def test_an_unreadable_lock_is_held_by_unknown_until_broken(run, state):
    (state / "notes").mkdir(parents=True)
    (state / "notes" / "lock.json").write_text("{half a lock")
    refused = lock(run, state)
    assert refused["failed"]
    assert "held by unknown since" in refused["msg"]
    assert "the lock file is unreadable" in refused["msg"]
    broken = lock(run, state, break_lock=True)
    assert broken["changed"]
    assert broken["previous"]["owner"] == "unknown"
    assert stored_lock(state)["token"] == "d1"


def test_an_old_unreadable_lock_has_expired(run, state):
    (state / "notes").mkdir(parents=True)
    (state / "notes" / "lock.json").write_text("")
    os.utime(state / "notes" / "lock.json", (1000.0, 1000.0))
    result = lock(run, state)
    assert result["changed"]
    assert stored_lock(state)["token"] == "d1"


def test_release_only_with_the_holding_token(run, state):
    lock(run, state)
    other = lock(run, state, token="d2", state="absent")
    assert (other["changed"], other["failed"]) == (False, False)
    assert other["lock"]["token"] == "d1"
    assert other["warnings"] == [
        f"The deploy lock of notes is now held by {ds.describe_holder(stored_lock(state))}; "
        "left in place."
    ]
    mine = lock(run, state, state="absent")
    assert (mine["changed"], mine["lock"]) == (True, {})
    assert mine["diff"]["after"] == {}
    assert not (state / "notes" / "lock.json").exists()
    again = lock(run, state, state="absent")
    assert (again["changed"], again["warnings"]) == (False, [])


def test_release_without_state_dir_changes_nothing(run, state):
    result = lock(run, state, state="absent", owner=None)
    assert (result["changed"], result["failed"]) == (False, False)
    assert not state.exists()


def test_check_mode_writes_nothing(run, state):
    result = lock(run, state, check=True)
    assert result["changed"]
    assert result["lock"]["token"] == "d1"
    assert not state.exists()
    held = write_lock(state, expires="2999-01-01T00:00:00Z")
    assert lock(run, state, check=True)["failed"]
    broke = lock(run, state, check=True, break_lock=True)
    assert (broke["changed"], broke["previous"]) == (True, held)
    assert broke["warnings"][0].startswith("Would take over")
    lock(run, state, token="other", state="absent", check=True)
    assert stored_lock(state) == held
    assert sorted(os.listdir(state / "notes")) == ["lock.json"]


def test_present_needs_an_owner_and_a_positive_ttl(run, state):
    assert lock(run, state, owner=None)["msg"] == "owner is required to take the deploy lock"
    no_owner = run(deploy_lock, app="notes", path=str(state), token="d1")
    assert no_owner["msg"] == "state is present but all of the following are missing: owner"
    assert lock(run, state, ttl=0)["msg"] == "ttl must be at least 1 second, not 0"


def test_take_the_lock_and_open_the_ledger_entry_in_one_call(run, state):
    result = lock(run, state, ledger={"release_id": "r1", "result": "running"})
    entry = {"deploy_id": "d1", "app": "notes", "release_id": "r1", "result": "running"}
    assert (result["changed"], result["entry"]) == (True, entry)
    assert stored_lock(state)["token"] == "d1"
    assert json.loads((state / "notes" / "ledger.jsonl").read_text()) == entry
    lock_diff, entry_diff = result["diff"]
    assert (lock_diff["before"], lock_diff["after"]) == ({}, stored_lock(state))
    assert (entry_diff["before"], entry_diff["after"]) == ({}, entry)
    assert entry_diff["before_header"] == f"{state}/notes/ledger.jsonl (d1)"
    again = lock(run, state, ledger={"release_id": "r1", "result": "running"})
    assert (again["changed"], again["entry"]) == (False, entry)


def test_a_refused_lock_writes_no_ledger_entry(run, state):
    held = write_lock(state, expires="2999-01-01T00:00:00Z")
    result = lock(run, state, ledger={"result": "running"})
    assert result["failed"]
    assert stored_lock(state) == held
    assert not (state / "notes" / "ledger.jsonl").exists()


def test_a_ledger_that_cannot_be_written_puts_the_lock_back(run, state):
    free = lock(run, state, ledger={"deploy_id": "d9"})
    assert free["msg"] == "entry.deploy_id (d9) differs from deploy_id (d1)"
    assert not (state / "notes" / "lock.json").exists()
    held = write_lock(state, expires="2999-01-01T00:00:00Z")
    broke = lock(run, state, break_lock=True, ledger={"deploy_id": "d9"})
    assert broke["failed"]
    assert stored_lock(state) == held
    assert not (state / "notes" / "ledger.jsonl").exists()
    bad_keep = lock(run, state, ledger={}, ledger_keep=0)
    assert bad_keep["msg"] == "ledger_keep must be at least 1, not 0"
    assert stored_lock(state) == held


def test_close_the_ledger_entry_and_release_the_lock_in_one_call(run, state):
    lock(run, state, ledger={"result": "running"})
    done = lock(run, state, state="absent", ledger={"result": "succeeded"})
    assert (done["changed"], done["lock"]) == (True, {})
    assert done["entry"] == {"deploy_id": "d1", "app": "notes", "result": "succeeded"}
    assert not (state / "notes" / "lock.json").exists()
    assert json.loads((state / "notes" / "ledger.jsonl").read_text())["result"] == "succeeded"


def test_the_lock_is_released_even_when_the_ledger_cannot_be_written(run, state):
    lock(run, state)
    result = lock(run, state, state="absent", ledger={"deploy_id": "d9"})
    assert result["failed"]
    assert result["msg"] == (
        "entry.deploy_id (d9) differs from deploy_id (d1) (the deploy lock is released)"
    )
    assert not (state / "notes" / "lock.json").exists()
    write_lock(state, expires="2999-01-01T00:00:00Z")
    other = lock(run, state, state="absent", ledger={"deploy_id": "d9"})
    assert other["msg"].endswith("(the deploy lock is not held by this deploy)")
    assert stored_lock(state)["token"] == "other"


def test_the_ledger_entry_closes_though_another_deploy_took_the_lock(run, state):
    write_lock(state, expires="2999-01-01T00:00:00Z")
    result = lock(run, state, state="absent", ledger={"result": "failed"})
    assert (result["failed"], result["changed"]) == (False, True)
    assert stored_lock(state)["token"] == "other"
    assert json.loads((state / "notes" / "ledger.jsonl").read_text())["result"] == "failed"


def test_check_mode_with_the_ledger_writes_nothing(run, state):
    result = lock(run, state, check=True, ledger={"result": "running"})
    assert (result["changed"], result["entry"]["result"]) == (True, "running")
    assert not state.exists()
    lock(run, state, ledger={"result": "running"})
    text = (state / "notes" / "ledger.jsonl").read_text()
    closed = lock(run, state, check=True, state="absent", ledger={"result": "succeeded"})
    assert (closed["changed"], closed["entry"]["result"]) == (True, "succeeded")
    assert (state / "notes" / "ledger.jsonl").read_text() == text
    assert stored_lock(state)["token"] == "d1"


# deploy_lock with schema_revision: psql as it would run on the ledger host (runuser stubbed)
SQL = (
    "SELECT count(*) > 0 AS found, coalesce(min(n.nspname) FILTER (WHERE n.nspname = 'public'),"
    " min(n.nspname)) AS schema\n"
    "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
    " WHERE c.relname = 'alembic_version' AND c.relkind = 'r' \\gset\n"
    "\\if :found\n"
    "SELECT coalesce(string_agg(version_num, ' ' ORDER BY version_num), '')"
    ' FROM :"schema".alembic_version;\n'
    "\\endif"
)
PSQL_ARGV = ["/usr/sbin/runuser", "-u", "postgres", "--", "psql", "-XAtq", "-v", "ON_ERROR_STOP=1"]


@pytest.fixture
def psql(state, monkeypatch):
    """runuser at /usr/sbin/runuser; psql returns ``answer`` (rc, stdout, stderr), or running
    it raises OSError(*raises); each call records its argv, stdin, cwd and the lock's holder."""
    fake = {
        "answer": (0, "0002\n", ""),
        "raises": None,
        "calls": [],
        "runuser": "/usr/sbin/runuser",
    }

    def run_command(
        unused_self, argv, data=None, cwd=None, handle_exceptions=True, **unused_kwargs
    ):
        lock_file = state / "notes" / "lock.json"
        held = json.loads(lock_file.read_text())["token"] if lock_file.exists() else None
        fake["calls"].append({"argv": argv, "data": data, "cwd": cwd, "held_by": held})
        if fake["raises"] is not None:
            if handle_exceptions:  # AnsibleModule.run_command fails the task: fail_json exits
                raise SystemExit(1)
            raise OSError(*fake["raises"])
        return fake["answer"]

    def get_bin_path(unused_self, name, required=False, **unused_kwargs):
        assert (name, required) == ("runuser", False)
        return fake["runuser"]

    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(AnsibleModule, "get_bin_path", get_bin_path)
    return fake


def test_the_schema_revision_is_read_once_the_lock_is_taken(run, state, psql):
    result = lock(run, state, schema_revision={"database": "notes"})
    assert (result["changed"], result["failed"]) == (True, False)
    assert result["schema_revision"] == {"revision": "0002"}
    assert stored_lock(state)["token"] == "d1"
    assert psql["calls"] == [
        {"argv": [*PSQL_ARGV, "-d", "notes"], "data": SQL, "cwd": "/", "held_by": "d1"}
    ]
    psql["answer"] = (0, "\n", "")  # no alembic_version table
    kept = lock(run, state, schema_revision={"database": "notes db"})
    assert (kept["changed"], kept["schema_revision"]) == (False, {"revision": ""})
    assert psql["calls"][1]["argv"] == [*PSQL_ARGV, "-d", "notes db"]


def test_the_schema_revision_is_read_with_the_ledger_and_in_check_mode(run, state, psql):
    checked = lock(run, state, check=True, schema_revision={"database": "notes"})
    assert (checked["changed"], checked["schema_revision"]) == (True, {"revision": "0002"})
    assert not state.exists()
    assert len(psql["calls"]) == 1
    opened = lock(run, state, ledger={"result": "running"}, schema_revision={"database": "notes"})
    assert opened["entry"]["result"] == "running"
    assert opened["schema_revision"] == {"revision": "0002"}


@pytest.mark.parametrize(
    ("answer", "raises", "runuser", "error"),
    [
        (
            (2, "", 'psql: error: FATAL:  database "notes" does not exist\n'),
            None,
            "/usr/sbin/runuser",
            'psql: error: FATAL:  database "notes" does not exist',
        ),
        ((1, "", ""), None, "/usr/sbin/runuser", "non-zero return code 1"),
        ((1, "", "x" * 700), None, "/usr/sbin/runuser", "x" * 597 + "..."),
        ((0, "0002", ""), None, None, "runuser not found on this host"),
        (
            (0, "0002", ""),
            (13, "Permission denied"),
            "/usr/sbin/runuser",
            "cannot run psql: [Errno 13] Permission denied",
        ),
    ],
)
def test_a_schema_revision_that_cannot_be_read_leaves_the_lock_taken(
    run, state, psql, answer, raises, runuser, error
):
    psql.update(answer=answer, raises=raises, runuser=runuser)
    result = lock(run, state, schema_revision={"database": "notes"})
    assert (result["changed"], result["failed"], result["warnings"]) == (True, False, [])
    assert result["schema_revision"] == {"error": error}
    assert len(error) <= 600
    assert stored_lock(state)["token"] == "d1"
    assert result["lock"] == stored_lock(state)


def test_the_schema_revision_is_not_read_without_the_lock(run, state, psql):
    assert "schema_revision" not in lock(run, state)
    released = lock(run, state, state="absent", schema_revision={"database": "notes"})
    assert (released["changed"], released["failed"]) == (True, False)
    assert "schema_revision" not in released
    held = write_lock(state, expires="2999-01-01T00:00:00Z")
    refused = lock(run, state, schema_revision={"database": "notes"})
    assert refused["failed"]
    assert "schema_revision" not in refused
    not_recorded = lock(
        run, state, break_lock=True, ledger={"deploy_id": "d9"}, schema_revision={"database": "n"}
    )
    assert not_recorded["failed"]
    assert stored_lock(state) == held
    assert psql["calls"] == []
    no_database = lock(run, state, schema_revision={})
    assert no_database["msg"] == "missing required arguments: database found in schema_revision"


def race(count, make_params):
    """Run DeployLock for ``count`` tokens at once in threads; the tokens that won it."""
    barrier = threading.Barrier(count)
    winners, refused, errors = [], [], []

    def take(n):
        module = FakeModule(make_params(f"t{n}"))
        barrier.wait()
        try:
            result = deploy_lock.DeployLock(module).run()
        except ds.DeployStateError:
            refused.append(n)
        except Exception as err:  # any other error fails the test below
            errors.append(err)
        else:
            if result["changed"]:
                winners.append(f"t{n}")

    threads = [threading.Thread(target=take, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(winners) + len(refused) == count
    return winners


def lock_params(state, token):
    return {
        "app": "notes",
        "state": "present",
        "owner": token,
        "token": token,
        "ttl": 3600,
        "break_lock": False,
        "path": str(state),
        "details": None,
        "ledger": None,
        "ledger_keep": 500,
        "schema_revision": None,
    }


def test_threads_racing_for_a_free_lock_one_wins(state):
    for attempt in range(5):
        path = state / str(attempt)
        winners = race(16, lambda token, path=path: lock_params(path, token))
        assert len(winners) == 1
        assert json.loads((path / "notes" / "lock.json").read_text())["token"] == winners[0]


def test_threads_racing_for_an_expired_lock_one_wins(state):
    write_lock(state)
    winners = race(16, lambda token: lock_params(state, token))
    assert len(winners) == 1
    assert stored_lock(state)["token"] == winners[0]


def test_processes_racing_for_an_expired_lock_one_wins(tmp_path, state):
    write_lock(state)
    procs = []
    for n in range(8):
        args = tmp_path / f"args{n}.json"
        params = lock_params(state, f"p{n}")
        args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": params}))
        procs.append(
            subprocess.Popen(
                [sys.executable, str(ROOT / "plugins" / "modules" / "deploy_lock.py"), str(args)],
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            )
        )
    results = [json.loads(proc.communicate(timeout=60)[0]) for proc in procs]
    won = [r["lock"]["token"] for r in results if r.get("changed")]
    assert len(won) == 1
    assert all("held by" in r["msg"] for r in results if r.get("failed"))
    assert sum(bool(r.get("failed")) for r in results) == 7
    assert stored_lock(state)["token"] == won[0]


# --- release_ledger -----------------------------------------------------------------------------
def ledger(run, root, deploy_id="d1", check=False, **params):
    return run(
        release_ledger, check=check, app="notes", path=str(root), deploy_id=deploy_id, **params
    )


def stored_ledger(state):
    return (state / "notes" / "ledger.jsonl").read_text()


def test_ledger_appends_then_merges(run, state):
    first = ledger(run, state, entry={"kind": "deploy", "release_id": "r1", "result": "running"})
    entry = {"deploy_id": "d1", "app": "notes", "kind": "deploy", "release_id": "r1"}
    entry["result"] = "running"
    assert (first["changed"], first["entry"]) == (True, entry)
    assert first["diff"] == {"before": {}, "after": entry}
    second = ledger(run, state, deploy_id="d2", entry={"release_id": "r2"})
    assert second["entry"] == {"deploy_id": "d2", "app": "notes", "release_id": "r2"}
    merged = ledger(run, state, entry={"result": "succeeded", "duration_s": 42})
    after = dict(entry, result="succeeded", duration_s=42)
    assert (merged["changed"], merged["entry"]) == (True, after)
    assert merged["diff"] == {"before": entry, "after": after}
    assert [json.loads(line) for line in stored_ledger(state).splitlines()] == [
        after,
        second["entry"],
    ]
    assert stat.S_IMODE(os.stat(state / "notes" / "ledger.jsonl").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state / "notes").st_mode) == 0o700


def test_ledger_unchanged_entry_is_no_change(run, state):
    ledger(run, state, entry={"result": "succeeded"})
    before = os.stat(state / "notes" / "ledger.jsonl")
    again = ledger(run, state, entry={"result": "succeeded"})
    assert again["changed"] is False
    assert ledger(run, state)["changed"] is False
    assert os.stat(state / "notes" / "ledger.jsonl").st_ino == before.st_ino


def test_ledger_keeps_at_most_keep_entries(run, state):
    for n in range(5):
        ledger(run, state, deploy_id=f"d{n}", keep=3)
    assert [json.loads(line)["deploy_id"] for line in stored_ledger(state).splitlines()] == [
        "d2",
        "d3",
        "d4",
    ]
    ledger(run, state, deploy_id="d2", keep=1, entry={"result": "failed"})
    assert [json.loads(line)["deploy_id"] for line in stored_ledger(state).splitlines()] == ["d2"]
    assert ledger(run, state, keep=0)["msg"] == "keep must be at least 1, not 0"


def test_ledger_lines_that_are_not_entries_are_kept(run, state):
    (state / "notes").mkdir(parents=True)
    (state / "notes" / "ledger.jsonl").write_text('{"deploy_id": "d0"}\n\nnot json\n[1]\n')
    result = ledger(run, state, entry={"result": "running"})
    assert result["changed"]
    assert result["warnings"] == [
        f"{state}/notes/ledger.jsonl: line(s) 3, 4 are not ledger entries; kept as they are."
    ]
    assert stored_ledger(state) == (
        '{"deploy_id": "d0"}\nnot json\n[1]\n'
        '{"deploy_id": "d1", "app": "notes", "result": "running"}\n'
    )


def test_ledger_check_mode_writes_nothing(run, state):
    result = ledger(run, state, check=True, entry={"result": "running"})
    assert result["changed"]
    assert result["entry"] == {"deploy_id": "d1", "app": "notes", "result": "running"}
    assert not state.exists()
    ledger(run, state, entry={"result": "running"})
    text = stored_ledger(state)
    merged = ledger(run, state, check=True, entry={"result": "succeeded"})
    assert merged["changed"]
    assert merged["diff"]["after"]["result"] == "succeeded"
    assert stored_ledger(state) == text


def test_ledger_entry_cannot_rename_the_deploy(run, state):
    result = ledger(run, state, entry={"deploy_id": "d9"})
    assert result["failed"]
    assert result["msg"] == "entry.deploy_id (d9) differs from deploy_id (d1)"


# --- release_info -------------------------------------------------------------------------------
@pytest.fixture
def host(tmp_path, monkeypatch):
    """A host serving notes r2 from blue, r1 installed in green; blue's units active."""
    srv = tmp_path / "srv" / "notes"
    for release in ("r1", "r2"):
        (srv / "releases" / release / "api").mkdir(parents=True)
    (srv / "releases" / "r2" / "api" / ".installed").write_text("")
    (srv / "releases" / "README").write_text("not a release")
    (srv / "slots").mkdir()
    (srv / "slots" / "blue").symlink_to(srv / "releases" / "r2")
    (srv / "slots" / "green").symlink_to(srv / "releases" / "r1")
    upstreams = tmp_path / "notes-upstreams.conf"
    upstreams.write_text(
        "# managed\n"
        '# sigma-state: {"mode": "host", "active_slot": "blue", "canary_weight": 0}\n'
        "upstream notes_api { server 127.0.0.1:8001; }\n"
    )
    calls = []

    def run_command(unused_self, argv, **unused_kwargs):
        calls.append(argv)
        states = ["active" if unit.endswith("@blue.service") else "inactive" for unit in argv[2:]]
        return (0 if "active" in states else 3), "".join(f"{state}\n" for state in states), ""

    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda unused_self, name, **kw: "/x/" + name)
    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    return {
        "app": "notes",
        "srv_root": str(tmp_path / "srv"),
        "path": str(tmp_path / "state"),
        "nginx_upstreams": str(upstreams),
        "calls": calls,
    }


def info(run, host, **params):
    return run(release_info, **{**{k: v for k, v in host.items() if k != "calls"}, **params})


def test_info_reports_slots_traffic_and_releases(run, host):
    result = info(run, host, check=True)
    assert result["changed"] is False
    assert result["slots"] == {
        "blue": {
            "release_id": "r2",
            "installed": True,
            "api_active": True,
            "web_active": True,
            "retire_pending": False,
        },
        "green": {
            "release_id": "r1",
            "installed": False,
            "api_active": False,
            "web_active": False,
            "retire_pending": False,
        },
    }
    assert (result["active_slot"], result["canary_weight"]) == ("blue", 0)
    assert result["nginx_state"] == {"mode": "host", "active_slot": "blue", "canary_weight": 0}
    assert result["serving_release"] == "r2"
    assert result["releases"] == ["r1", "r2"]
    assert (result["ledger_found"], result["ledger"], result["lock"]) == (False, [], None)
    assert (result["current"], result["previous"], result["lock_expired"]) == (None, None, None)
    assert host["calls"] == [
        [
            "/x/systemctl", "is-active",
            "notes-api@blue.service", "notes-web@blue.service", "notes-retire-blue.timer",
            "notes-api@green.service", "notes-web@green.service", "notes-retire-green.timer",
        ]
    ]  # fmt: skip


def test_info_says_which_slot_a_timer_will_stop(run, host, monkeypatch):
    def run_command(unused_self, argv, **unused_kwargs):
        return 0, "".join("active\n" if "retire-green" in u else "inactive\n" for u in argv[2:]), ""

    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    result = info(run, host)
    assert [result["slots"][slot]["retire_pending"] for slot in ("blue", "green")] == [False, True]


def test_info_asks_unit_by_unit_when_systemctl_answers_out_of_step(run, host, monkeypatch):
    calls = []

    def run_command(unused_self, argv, **unused_kwargs):
        calls.append(argv)
        if len(argv) > 3:
            return 1, "active\n", ""  # one line for six units
        return 0, "active\n" if argv[2] == "notes-web@green.service" else "inactive\n", ""

    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    result = info(run, host)
    assert len(calls) == 7
    assert [result["slots"]["green"][k] for k in ("api_active", "web_active")] == [False, True]
    assert result["slots"]["blue"]["api_active"] is False


def test_info_without_systemctl_slots_or_nginx(run, host, tmp_path, monkeypatch):
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda unused_self, name, **kw: None)
    result = info(run, host, srv_root=str(tmp_path / "empty"), nginx_upstreams="/nonexistent")
    assert result["slots"]["blue"] == {
        "release_id": None,
        "installed": False,
        "api_active": None,
        "web_active": None,
        "retire_pending": None,
    }
    assert (result["active_slot"], result["canary_weight"], result["nginx_state"]) == (
        None,
        None,
        None,
    )
    assert (result["serving_release"], result["releases"]) == (None, [])
    assert host["calls"] == []


def test_info_returns_the_manifest_of_a_release_the_host_has(run, host):
    releases = Path(host["srv_root"]) / "notes" / "releases"
    (releases / "r1" / "manifest.json").write_text('{"release_id": "r1", "alembic_head": "0001"}')
    assert info(run, host)["release_manifest"] is None
    result = info(run, host, release_id="r1")
    assert result["release_manifest"] == {"release_id": "r1", "alembic_head": "0001"}
    assert info(run, host, release_id="r2")["release_manifest"] is None  # no manifest.json
    assert info(run, host, release_id="r9")["release_manifest"] is None  # not installed


@pytest.mark.parametrize(
    ("release_id", "content", "message"),
    [
        ("../r1", None, "release_id must be a release's name, not '../r1'"),
        ("r1", "{not json", "manifest.json is not JSON"),
        ("r1", "[1, 2]", "manifest.json holds no manifest (a JSON object)"),
    ],
)
def test_info_refuses_a_bad_release_id_or_manifest(run, host, release_id, content, message):
    if content is not None:
        (Path(host["srv_root"]) / "notes" / "releases" / "r1" / "manifest.json").write_text(content)
    result = info(run, host, release_id=release_id)
    assert result["failed"] is True
    assert message in result["msg"]


def test_info_lb_mode_returns_the_state(run, host):
    lb = {"mode": "lb", "backends": ["10.0.0.3:80", "10.0.0.4:80"], "drained": ["10.0.0.4:80"]}
    Path(host["nginx_upstreams"]).write_text(f"# sigma-state: {json.dumps(lb)}\n")
    result = info(run, host)
    assert result["nginx_state"] == lb
    assert (result["active_slot"], result["serving_release"]) == (None, None)


def test_info_reads_the_ledger_and_lock(run, host):
    state = Path(host["path"])
    for deploy_id, release, outcome in [
        ("d1", "r1", "succeeded"),
        ("d2", "r2", "succeeded"),
        ("d3", "r3", "failed"),
    ]:
        entry = {"release_id": release, "result": outcome}
        assert ledger(run, state, deploy_id=deploy_id, entry=entry)["changed"]
    lock(run, state, token="d4")
    result = info(run, host, limit=2)
    assert result["ledger_found"] is True
    assert [e["deploy_id"] for e in result["ledger"]] == ["d3", "d2"]
    assert result["current"] == {
        "deploy_id": "d2",
        "app": "notes",
        "release_id": "r2",
        "result": "succeeded",
    }
    assert result["previous"]["deploy_id"] == "d1"
    assert result["lock"] == stored_lock(state)
    assert result["lock_expired"] is False
    assert info(run, host, limit=-1)["msg"] == "limit must not be negative, not -1"
