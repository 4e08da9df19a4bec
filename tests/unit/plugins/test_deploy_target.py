"""A deploy's target (module_utils/deploy/state.py, filters deploy_target_new/_note): built from
what release_info read, changed by events, every legal and illegal move, by exact equality."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.filter.deploy_target import (
    deploy_target_app,
    deploy_target_new,
    deploy_target_note,
)
from ansible_collections.sigma.deploy.plugins.module_utils.deploy import state

RUNNING = {"api_active": True, "web_active": True}


def info(serving="r1", active="blue", weight=None, idle_release="r0", idle_running=False):
    idle = "green" if active == "blue" else "blue"
    read = {
        "active_slot": active,
        "serving_release": serving,
        "slots": {
            active: {"release_id": serving, **RUNNING},
            idle: {"release_id": idle_release, **(RUNNING if idle_running else {})},
        },
    }
    if weight is not None:
        read["canary_weight"] = weight
    return read


def target(result="pending", **changes):
    """A target of h1 that moves blue -> green, with ``changes``."""
    return {
        "name": "h1",
        "lb_member": "lb-h1",
        "before": {"release": "r1", "slot": "blue"},
        "after": {"slot": "green"},
        "current": result == "unchanged",
        "warm": False,
        "result": result,
        "error": "",
        "started": False,
        "switched": False,
        "moved": False,
        "t0": 10.0,
        "t1": None,
        **changes,
    }


def test_a_host_to_move_is_pending():
    assert state.target_new(info(), "r2", "h1", "lb-h1", 10.0) == target()


def test_a_host_that_serves_the_release_is_unchanged():
    assert state.target_new(info(serving="r2"), "r2", "h1", "lb-h1", 10.0) == target(
        "unchanged", before={"release": "r2", "slot": "blue"}
    )


@pytest.mark.parametrize("weight", [5, "5"])
def test_a_host_with_a_canary_weight_is_not_current(weight):
    got = state.target_new(info(serving="r2", weight=weight), "r2", "h1", "h1", 1.0)
    assert (got["current"], got["result"]) == (False, "pending")


@pytest.mark.parametrize("weight", [0, "0", "", None])
def test_no_canary_weight_is_weight_zero(weight):
    got = state.target_new(info(serving="r2", weight=weight), "r2", "h1", "h1", 1.0)
    assert (got["current"], got["result"]) == (True, "unchanged")


def test_a_stopped_active_slot_is_not_current():
    read = info(serving="r2")
    read["slots"]["blue"]["web_active"] = False
    assert state.target_new(read, "r2", "h1", "h1", 1.0)["current"] is False


def test_green_active_moves_to_blue_and_an_empty_release_is_empty():
    read = {"active_slot": "green", "serving_release": None, "slots": {}}
    assert state.target_new(read, "r2", "h1", "lb-h1", 10.0) == target(
        before={"release": "", "slot": "green"}, after={"slot": "blue"}
    )


@pytest.mark.parametrize(
    ("idle_release", "idle_running", "warm"),
    [("r2", True, True), ("r2", False, False), ("r0", True, False)],
)
def test_the_idle_slot_is_warm_when_it_runs_the_release(idle_release, idle_running, warm):
    read = info(idle_release=idle_release, idle_running=idle_running)
    assert state.target_new(read, "r2", "h1", "h1", 1.0)["warm"] is warm


def test_a_host_without_a_slot_is_refused():
    with pytest.raises(state.StateError) as err:
        state.target_new({"active_slot": ""}, "r2", "h1", "h1", 1.0)
    assert str(err.value) == "h1 serves no slot (active_slot is '', not blue or green)"


@pytest.mark.parametrize(
    ("before", "event", "fields", "after"),
    [
        (target(), "activate", {}, target(started=True, switched=True)),
        (target(), "activate", {"switch": False}, target(started=True)),
        (target(warm=True), "activate", {}, target(warm=True, switched=True)),
        (
            target("started", started=True),
            "activate",
            {"start": False},
            target("started", started=True, switched=True),
        ),
        (target(), "activate", {"start": False, "switch": False}, target()),
        (target(switched=True), "done", {"at": 12.5}, target("succeeded", switched=True, t1=12.5)),
        (target(started=True), "done", {"at": 12.5}, target("started", started=True, t1=12.5)),
        (
            target("started", switched=True),
            "done",
            {"at": 13.0},
            target("succeeded", switched=True, t1=13.0),
        ),
        (target(), "fail", {"error": "boom"}, target("failed", error="boom")),
        (target("started"), "fail", {"error": "x"}, target("failed", error="x")),
        (target("started"), "move", {}, target("started", moved=True)),
        (target("failed"), "move", {}, target("failed", moved=True)),
        (target("pending"), "move", {}, target("pending", moved=True)),
        (target("succeeded"), "move", {}, target("succeeded", moved=True)),
        (
            target("succeeded", started=True, switched=True, t1=5.0),
            "revert",
            {"at": 9.0},
            target("rolled_back", t1=9.0),
        ),
        (
            target("started", started=True, moved=True),
            "revert",
            {"at": 9.0},
            target("rolled_back", t1=9.0),
        ),
        (target("pending", started=True), "revert", {"at": 9.0}, target("rolled_back", t1=9.0)),
        (
            target("failed", error="e", started=True, switched=True),
            "revert",
            {"at": 9.0},
            target("failed", error="e", t1=9.0),
        ),
    ],
)
def test_each_legal_event(before, event, fields, after):
    kept = {**before, "before": dict(before["before"]), "after": dict(before["after"])}
    assert state.target_note(before, event, **fields) == after
    assert before == kept  # a new dict; the one given is left as it was


ILLEGAL = [
    ("unchanged", "activate", {}),
    ("succeeded", "activate", {}),
    ("failed", "activate", {}),
    ("rolled_back", "activate", {}),
    ("unchanged", "done", {"at": 1.0}),
    ("succeeded", "done", {"at": 1.0}),
    ("failed", "done", {"at": 1.0}),
    ("rolled_back", "done", {"at": 1.0}),
    ("unchanged", "fail", {"error": "x"}),
    ("succeeded", "fail", {"error": "x"}),
    ("failed", "fail", {"error": "x"}),
    ("rolled_back", "fail", {"error": "x"}),
    ("unchanged", "move", {}),
    ("rolled_back", "move", {}),
    ("unchanged", "revert", {"at": 1.0}),
    ("rolled_back", "revert", {"at": 1.0}),
]


@pytest.mark.parametrize(("result", "event", "fields"), ILLEGAL)
def test_each_illegal_event_is_refused(result, event, fields):
    allowed = ", ".join(sorted(state.EVENTS[event][0]))
    with pytest.raises(state.StateError) as err:
        state.target_note(target(result), event, **fields)
    assert str(err.value) == (
        f"h1: a target that is {result} cannot be noted {event!r} (only one that is {allowed})"
    )


def test_every_result_and_event_is_either_legal_or_tested_illegal():
    results = ("pending", "unchanged", "started", "succeeded", "failed", "rolled_back")
    illegal = {(result, event) for result, event, _fields in ILLEGAL}
    for event, (allowed, _takes) in state.EVENTS.items():
        assert {r for r in results if (r, event) not in illegal} == allowed


def test_a_succeeded_host_cannot_start_again():
    with pytest.raises(state.StateError) as err:
        state.target_note(target("succeeded"), "activate", start=True, switch=False)
    assert str(err.value) == (
        "h1: a target that is succeeded cannot be noted 'activate'"
        " (only one that is pending, started)"
    )


@pytest.mark.parametrize(
    ("event", "fields", "message"),
    [
        ("launch", {}, "unknown event 'launch' (known: activate, done, fail, move, revert)"),
        ("fail", {}, "event 'fail' needs error"),
        ("done", {}, "event 'done' needs at"),
        ("move", {"at": 1.0}, "event 'move' takes no at"),
        ("activate", {"error": "x", "at": 1}, "event 'activate' takes no at, error"),
    ],
)
def test_unknown_events_and_fields_are_refused(event, fields, message):
    with pytest.raises(state.StateError) as err:
        state.target_note(target(), event, **fields)
    assert str(err.value) == message


def test_a_dict_that_is_no_target_is_refused():
    with pytest.raises(state.StateError) as err:
        state.target_note({"name": "h1", "result": "pending"}, "move")
    assert str(err.value).startswith("not a target (no after, before, current, error, lb_member,")


def test_the_schema_declares_exactly_the_fields_built():
    assert set(state.target_new(info(), "r2", "h1", "h1", 1.0)) == set(state.TARGET_FIELDS)


def test_the_filters_read_ansible_values_and_say_their_name():
    built = deploy_target_new(info(), "r2", "h1", "lb-h1", "10.0")
    assert built == target()
    assert deploy_target_note(built, "activate", start="false", switch="yes") == target(
        switched=True
    )
    with pytest.raises(AnsibleFilterError) as err:
        deploy_target_note(target("succeeded"), "fail", error="x")
    assert str(err.value).startswith("deploy_target_note: h1: a target that is succeeded")
    with pytest.raises(AnsibleFilterError) as err:
        deploy_target_new([], "r2", "h1", "h1", 1.0)
    assert str(err.value) == "deploy_target_new: _input must be what release_info read (a dict)"
    with pytest.raises(AnsibleFilterError) as err:
        deploy_target_note("x", "move")
    assert str(err.value) == "deploy_target_note: _input must be a target (a dict)"


# --- a whole app as the target (the Fly.io rung) ------------------------------------------


def app_target(result="pending", **changes):
    return {
        "name": "notes",
        "lb_member": "",
        "before": {"release": "r1", "slot": ""},
        "after": {"slot": ""},
        "current": result == "unchanged",
        "warm": False,
        "result": result,
        "error": "",
        "started": False,
        "switched": False,
        "moved": False,
        "t0": 10.0,
        "t1": None,
        **changes,
    }


def test_an_app_to_deploy_is_pending_and_one_that_serves_the_release_unchanged():
    assert state.target_new_app("r1", False, "notes", 10.0) == app_target()
    assert state.target_new_app("r1", True, "notes", 10.0) == app_target("unchanged")


def test_a_new_app_served_nothing_before():
    assert deploy_target_app(None, "false", "notes", "10") == app_target(
        before={"release": "", "slot": ""}
    )


def test_an_app_deployed_then_done_succeeded_and_failed_keeps_its_error():
    moved = deploy_target_note(deploy_target_app("r1", False, "notes", 10.0), "activate")
    assert (moved["started"], moved["switched"]) == (True, True)
    assert deploy_target_note(moved, "done", at=12.0) == app_target(
        "succeeded", started=True, switched=True, t1=12.0
    )
    assert deploy_target_note(moved, "fail", error="checks failed") == app_target(
        "failed", started=True, switched=True, error="checks failed"
    )
