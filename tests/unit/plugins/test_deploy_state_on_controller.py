"""The deploy lock and the release ledger kept on the controller, as a deploy with no server to
keep them runs the modules (``delegate_to: localhost``, ``path`` a directory of the project):
deploy_lock, release_ledger and release_info (``served: false``) run their main() in-process on
a state directory that does not exist yet, and nothing of a VPS (systemctl, slots, nginx) is
asked for."""

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.modules import (
    deploy_lock,
    release_info,
    release_ledger,
)


@pytest.fixture
def state(tmp_path, monkeypatch):
    """``<project>/.state``, neither of them created yet; any command or program looked up by a
    module fails the test."""

    def no_command(unused_self, *args, **kwargs):
        raise AssertionError(f"a VPS command was run: {args}")

    def no_program(unused_self, name, *args, **kwargs):
        raise AssertionError(f"a program was looked for: {name}")

    monkeypatch.setattr(AnsibleModule, "run_command", no_command)
    monkeypatch.setattr(AnsibleModule, "get_bin_path", no_program)
    return tmp_path / "project" / ".state"


def files_under(root):
    return sorted(
        os.path.relpath(os.path.join(d, name), root)
        for d, dirs, names in os.walk(root)
        for name in dirs + names
    )


def test_a_deploy_without_servers_keeps_its_lock_and_ledger_on_the_controller(run, state):
    path = str(state)
    taken = run(
        deploy_lock,
        app="notes",
        path=path,
        owner="alice@laptop",
        token="d1",
        details={"release_id": "r1"},
        ledger={"release_id": "r1", "strategy": "rolling", "result": "running"},
    )
    assert (taken["changed"], taken["failed"], taken["warnings"]) == (True, False, [])
    assert taken["entry"] == {
        "deploy_id": "d1",
        "app": "notes",
        "release_id": "r1",
        "strategy": "rolling",
        "result": "running",
    }

    refused = run(deploy_lock, app="notes", path=path, owner="bob@ci", token="d2")
    assert refused["failed"] is True
    assert refused["failure"]["reason"] == "held"
    assert refused["failure"]["lock"]["token"] == "d1"

    opened = run(release_ledger, app="notes", path=path, deploy_id="d1", entry={"hosts": []})
    assert (opened["changed"], opened["failed"]) == (True, False)

    closed = run(
        deploy_lock,
        app="notes",
        path=path,
        token="d1",
        state="absent",
        ledger={"result": "succeeded", "finished": "2026-12-07T20:00:00Z"},
    )
    assert (closed["changed"], closed["failed"], closed["lock"]) == (True, False, {})

    entry = {
        "deploy_id": "d1",
        "app": "notes",
        "release_id": "r1",
        "strategy": "rolling",
        "result": "succeeded",
        "hosts": [],
        "finished": "2026-12-07T20:00:00Z",
    }
    assert run(release_info, app="notes", path=path, served=False) == {
        "changed": False,
        "ledger_found": True,
        "ledger": [entry],
        "current": entry,
        "previous": None,
        "lock": None,
        "lock_expired": None,
        "failed": False,
        "warnings": [],
    }
    assert [json.loads(line) for line in (state / "notes" / "ledger.jsonl").open()] == [entry]
    assert files_under(state) == [
        "notes",
        "notes/ledger.guard",
        "notes/ledger.jsonl",
        "notes/lock.guard",
    ]
    assert stat.S_IMODE(os.stat(state / "notes").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "notes" / "ledger.jsonl").st_mode) == 0o600


def test_the_next_deploy_on_the_controller_sees_the_lock_and_the_previous_release(run, state):
    path = str(state)
    for deploy_id, release in (("d1", "r1"), ("d2", "r2")):
        entry = {"release_id": release, "result": "succeeded"}
        assert run(release_ledger, app="notes", path=path, deploy_id=deploy_id, entry=entry)[
            "changed"
        ]
    run(deploy_lock, app="notes", path=path, owner="alice@laptop", token="d3", ttl=600)

    seen = run(release_info, app="notes", path=path, served=False, limit=1)
    assert (seen["current"]["release_id"], seen["previous"]["release_id"]) == ("r2", "r1")
    assert [e["deploy_id"] for e in seen["ledger"]] == ["d2"]
    assert (seen["lock"]["token"], seen["lock"]["owner"], seen["lock_expired"]) == (
        "d3",
        "alice@laptop",
        False,
    )
    assert sorted(seen) == [
        "changed", "current", "failed", "ledger", "ledger_found", "lock", "lock_expired",
        "previous", "warnings",
    ]  # fmt: skip


def test_reading_a_controller_state_that_does_not_exist_creates_nothing(run, state):
    assert run(release_info, app="notes", path=str(state), served=False, check=True) == {
        "changed": False,
        "ledger_found": False,
        "ledger": [],
        "current": None,
        "previous": None,
        "lock": None,
        "lock_expired": None,
        "failed": False,
        "warnings": [],
    }
    assert not state.parent.exists()
