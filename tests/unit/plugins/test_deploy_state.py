"""module_utils/deploy/ledger.py: the lock, the ledger and the served state as plain data."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import host_state as hs
from ansible_collections.sigma.deploy.plugins.module_utils.deploy import ledger as ds

T0 = 1795721402.0  # 2026-11-26T19:30:02Z
LOCK = {
    "app": "notes",
    "owner": "alice@laptop",
    "token": "d1",
    "since": "2026-11-26T19:30:02Z",
    "expires": "2026-11-26T20:30:02Z",
    "details": {"release_id": "r1"},
}


# --- time and the lock --------------------------------------------------------------------------
def test_iso_utc_and_back():
    assert ds.iso_utc(T0) == "2026-11-26T19:30:02Z"
    assert ds.parse_iso("2026-11-26T19:30:02Z") == T0
    assert ds.parse_iso("2026-11-26T20:30:02+01:00") == T0
    assert ds.parse_iso("2026-11-26T19:30:02") == T0
    assert [ds.parse_iso(v) for v in ("", "soon", None, 5)] == [None, None, None, None]


def test_new_lock():
    assert ds.new_lock("notes", "alice@laptop", "d1", T0, 3600, {"release_id": "r1"}) == LOCK
    assert ds.new_lock("notes", "bob", "d2", T0, 60)["details"] == {}


def test_parse_lock():
    assert ds.parse_lock(json.dumps(LOCK)) == LOCK
    assert ds.parse_lock("") is None
    assert ds.parse_lock("{not json") is None
    assert ds.parse_lock("[1]") is None
    assert ds.parse_lock(json.dumps(dict(LOCK, token=None))) is None
    assert ds.parse_lock(json.dumps(dict(LOCK, expires="never"))) is None


def test_unreadable_lock_is_held_by_unknown_for_ttl_after_mtime():
    assert ds.unreadable_lock("notes", T0, 60, "bad") == {
        "app": "notes",
        "owner": "unknown",
        "token": None,
        "since": "2026-11-26T19:30:02Z",
        "expires": "2026-11-26T19:31:02Z",
        "details": {},
        "unreadable": "bad",
    }


def test_lock_expired():
    assert ds.lock_expired(LOCK, T0 + 3599) is False
    assert ds.lock_expired(LOCK, T0 + 3600) is True
    assert ds.lock_expired({}, T0) is False


@pytest.mark.parametrize(
    ("current", "token", "now", "break_lock", "expected"),
    [
        (None, "d1", T0, False, ds.TAKE),
        ({}, "d1", T0, False, ds.TAKE),
        (LOCK, "d1", T0, False, ds.KEEP),
        (LOCK, "d1", T0 + 7200, True, ds.KEEP),
        (LOCK, "d2", T0, False, ds.REFUSE),
        (LOCK, "d2", T0, True, ds.BREAK),
        (LOCK, "d2", T0 + 3600, False, ds.TAKE_OVER_EXPIRED),
        (LOCK, "d2", T0 + 3600, True, ds.TAKE_OVER_EXPIRED),
    ],
)
def test_lock_decision(current, token, now, break_lock, expected):
    assert ds.lock_decision(current, token, now, break_lock) == expected


def test_refusal_message_names_holder_times_and_details():
    assert ds.refusal_message("notes", LOCK) == (
        "The deploy lock of notes is held by alice@laptop (deploy d1) since "
        '2026-11-26T19:30:02Z, expiring 2026-11-26T20:30:02Z; details: {"release_id": "r1"}. '
        "Wait for that deploy to end, or break the lock if it is stale (break_lock=true; "
        "deploy_lock_break=true in the deploy playbooks)."
    )


def test_describe_an_unreadable_lock():
    assert ds.describe_holder(ds.unreadable_lock("notes", T0, 60, "bad json")) == (
        "unknown since 2026-11-26T19:30:02Z, expiring 2026-11-26T19:31:02Z; "
        "the lock file is unreadable: bad json"
    )


# --- the ledger ---------------------------------------------------------------------------------
LEDGER = (
    '{"deploy_id": "a", "app": "notes", "release_id": "r1", "result": "succeeded"}\n'
    "\n"
    "garbage {\n"
    '{"deploy_id": "b", "app": "notes", "release_id": "r2", "result": "failed"}\n'
    '{"no": "id"}\n'
)
A = {"deploy_id": "a", "app": "notes", "release_id": "r1", "result": "succeeded"}
B = {"deploy_id": "b", "app": "notes", "release_id": "r2", "result": "failed"}


def test_parse_ledger_keeps_lines_that_are_not_entries():
    assert ds.parse_ledger(LEDGER) == [A, "garbage {", B, '{"no": "id"}']
    assert ds.unparsed_lines(LEDGER) == [3, 5]
    assert ds.parse_ledger("") == []


def test_render_ledger_round_trips():
    assert ds.render_ledger(ds.parse_ledger(LEDGER)) == LEDGER.replace("\n\n", "\n")
    assert ds.render_ledger([]) == ""


def test_merge_appends_a_new_entry():
    records = ds.parse_ledger(LEDGER)
    updated, before, after = ds.merge_entry(records, "notes", "c", {"result": "running"})
    assert (before, after) == ({}, {"deploy_id": "c", "app": "notes", "result": "running"})
    assert updated == [*records, after]
    assert records == [A, "garbage {", B, '{"no": "id"}']


def test_merge_updates_the_entry_in_place():
    records = [A, "x", B]
    updated, before, after = ds.merge_entry(records, "notes", "a", {"result": "rolled_back"})
    assert before == A
    assert after == dict(A, result="rolled_back")
    assert updated == [after, "x", B]
    assert records == [A, "x", B]


def test_merge_refuses_another_deploy_id():
    with pytest.raises(ds.DeployStateError):
        ds.merge_entry([], "notes", "a", {"deploy_id": "b"})
    assert ds.merge_entry([], "notes", "a", {"deploy_id": "a"})[2] == {
        "deploy_id": "a",
        "app": "notes",
    }


def test_trim_drops_the_oldest_entries_only():
    entries = [{"deploy_id": str(n)} for n in range(5)]
    records = [entries[0], "bad", *entries[1:]]
    assert ds.trim_ledger(records, 2) == ["bad", entries[3], entries[4]]
    assert ds.trim_ledger(records, 2, spare="0") == [entries[0], "bad", entries[4]]
    assert ds.trim_ledger(records, 10) == records


def test_current_and_previous():
    def entry(deploy_id, release_id, result):
        return {"deploy_id": deploy_id, "release_id": release_id, "result": result}

    records = [
        entry("1", "r1", "succeeded"),
        entry("2", "r2", "succeeded"),
        entry("3", "r3", "failed"),
        entry("4", "r2", "succeeded"),  # a second deploy of r2
        entry("5", "r4", "running"),
    ]
    newest = ds.newest_first(records)
    assert [e["deploy_id"] for e in newest] == ["5", "4", "3", "2", "1"]
    assert ds.current_and_previous(newest) == (records[3], records[0])
    assert ds.current_and_previous(newest[:3]) == (records[3], None)
    assert ds.current_and_previous([records[2]]) == (None, None)
    assert ds.current_and_previous([]) == (None, None)


# --- what a host serves -------------------------------------------------------------------------
def test_parse_state_line():
    host = {"mode": "host", "active_slot": "green", "canary_weight": 10}
    text = f"upstream notes_api {{\n}}\n  # sigma-state: {json.dumps(host)}\n"
    assert hs.parse_state_line(text) == host
    assert hs.traffic(host) == ("green", 10)
    lb = {"mode": "lb", "backends": ["10.0.0.3:80"], "drained": []}
    assert hs.parse_state_line(f"# sigma-state: {json.dumps(lb)}") == lb
    assert hs.traffic(lb) == (None, None)
    assert hs.parse_state_line("# sigma-state: {broken") is None
    assert hs.parse_state_line("# sigma-state: [1]") is None
    assert hs.parse_state_line("upstream x {}\n") is None
    assert hs.traffic(None) == (None, None)
    assert hs.traffic({"mode": "host", "active_slot": 1, "canary_weight": True}) == (None, None)


def test_release_of_target():
    assert hs.release_of_target("/srv/notes/releases/r1") == "r1"
    assert hs.release_of_target("../releases/r1/") == "r1"
    assert hs.release_of_target(None) is None
    assert hs.release_of_target("") is None


# --- the files ----------------------------------------------------------------------------------
@pytest.mark.parametrize("app", ["", ".", "..", "a/b"])
def test_app_dir_refuses_names_that_are_not_one_directory(app):
    with pytest.raises(ds.DeployStateError):
        ds.app_dir("/var/lib/sigma-deploy", app)


def test_files(tmp_path):
    directory = str(tmp_path / "state" / "notes")
    ds.ensure_dir(directory)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    target = os.path.join(directory, "f")
    assert ds.read_text(target) is None
    assert ds.create_exclusive(target, "one")
    assert not ds.create_exclusive(target, "two")
    assert ds.read_text(target) == "one"
    ds.write_atomic(target, "three")
    assert ds.read_text(target) == "three"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(os.listdir(directory)) == ["f"]
    with ds.guarded(directory, "g"):
        pass
    with ds.guarded(str(tmp_path / "missing"), "g", exclusive=False):
        pass
    assert sorted(os.listdir(directory)) == ["f", "g"]


def test_read_lock(tmp_path):
    directory = str(tmp_path)
    assert ds.read_lock(directory, "notes", 60) is None
    (tmp_path / "lock.json").write_text(ds.dump_lock(LOCK))
    assert ds.read_lock(directory, "notes", 60) == LOCK
    (tmp_path / "lock.json").write_text("{")
    os.utime(tmp_path / "lock.json", (T0, T0))
    assert ds.read_lock(directory, "notes", 60) == ds.unreadable_lock(
        "notes", T0, 60, "not a JSON lock with a token and an expiry"
    )
