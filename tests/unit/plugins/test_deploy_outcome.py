"""deploy_outcome: which hosts failed, whether the deploy stops, and each host's ledger result,
by exact equality (the rules abort_check.yml and finish.yml had in Jinja before)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.filter.deploy_outcome import deploy_outcome
from ansible_collections.sigma.deploy.plugins.module_utils.deploy import outcome as oc
from ansible_collections.sigma.deploy.plugins.module_utils.deploy import state

HOSTS = ["h1", "h2", "h3", "h4", "h5"]
INFO = {
    "active_slot": "blue",
    "serving_release": "r1",
    "slots": {"blue": {"release_id": "r1", "api_active": True, "web_active": True}},
}


def facts(result=None, error=None, old_release=None, old_slot=None, new_slot=None):
    """One host's variables with the part of its target that is given (a field not given is not
    there)."""
    before = {k: v for k, v in (("release", old_release), ("slot", old_slot)) if v is not None}
    target = {
        k: v
        for k, v in (
            ("result", result),
            ("error", error),
            ("before", before or None),
            ("after", {"slot": new_slot} if new_slot is not None else None),
        )
        if v is not None
    }
    return {"inventory_hostname": "x", "__app_deploy_target": target}


def hostvars(**per_host):
    return {host: per_host.get(host, {"inventory_hostname": host}) for host in HOSTS}


def row(result, source="", slot="", error=""):
    return {"result": result, "from": source, "slot": slot, "error": error}


NOT_STARTED = row("not started")
GONE = row("failed or unreachable")


def test_nothing_noted_yet():
    assert deploy_outcome(HOSTS, hostvars(), HOSTS) == {
        "failed_hosts": [],
        "abort": False,
        "error": "",
        "host_results": dict.fromkeys(HOSTS, NOT_STARTED),
    }


def test_failed_hosts_stop_the_deploy_and_say_why():
    hv = hostvars(
        h1=facts("succeeded", "", "r1", "blue", "green"),
        h2=facts("failed", "boom: x", "r1", "green", "blue"),
        h3=facts("unchanged", "", "r2", "blue", "green"),
        h4=facts("failed"),
    )
    assert deploy_outcome(HOSTS, hv, HOSTS) == {
        "failed_hosts": ["h2", "h4"],
        "abort": True,
        "error": "failed on h2, h4: boom: x; unreachable",
        "host_results": {
            "h1": row("succeeded", "r1", "green"),
            "h2": row("failed", "r1", "green", "boom: x"),
            "h3": row("unchanged", "r2", "blue"),
            "h4": row("failed"),
            "h5": NOT_STARTED,
        },
    }


def test_gone_hosts_come_first_sorted_then_the_marked_ones_in_play_order():
    hv = hostvars(h2=facts("failed", "e2"), h5=facts("rolled_back", ""))
    alive = ["h2", "h3", "h5"]
    assert deploy_outcome(HOSTS, hv, alive, max_fail_percentage=50) == {
        "failed_hosts": ["h1", "h4", "h2"],
        "abort": True,  # 3 of 5 is 60 %
        "error": "failed on h1, h4, h2: unreachable; unreachable; e2",
        "host_results": {
            "h1": GONE,
            "h2": row("failed", error="e2"),
            "h3": NOT_STARTED,
            "h4": GONE,
            "h5": row("rolled_back"),
        },
    }


def test_a_gone_host_that_noted_an_empty_error_is_named_without_one():
    hv = hostvars(h5=facts("pending", ""))
    result = deploy_outcome(HOSTS, hv, HOSTS[:4])
    assert (result["failed_hosts"], result["abort"], result["error"]) == (
        ["h5"],
        True,
        "failed on h5: ",
    )
    assert result["host_results"]["h5"] == GONE


@pytest.mark.parametrize(
    ("percent", "abort"),
    [(0, True), (39, True), (40, False), ("40", False), (40.0, False), ("x", True)],
)
def test_failures_up_to_the_percentage_are_tolerated(percent, abort):
    hv = hostvars(h1=facts("failed", "e1"), h2=facts("failed", "e2"))  # 2 of 5: 40 %
    result = deploy_outcome(HOSTS, hv, HOSTS, max_fail_percentage=percent)
    assert (result["failed_hosts"], result["abort"]) == (["h1", "h2"], abort)
    assert result["error"] == ("failed on h1, h2: e1; e2" if abort else "")


def test_a_stopped_deploy_keeps_its_error():
    hv = hostvars(h2=facts("failed", "e2"))
    result = deploy_outcome(
        HOSTS, hv, HOSTS, aborted=True, error="the migration failed", max_fail_percentage=100
    )
    assert (result["failed_hosts"], result["abort"], result["error"]) == (
        ["h2"],
        True,
        "the migration failed",
    )


@pytest.mark.parametrize(("aborted", "abort"), [(True, True), ("True", True), (False, False)])
def test_aborted_is_read_as_a_boolean(aborted, abort):
    result = deploy_outcome(HOSTS, hostvars(), HOSTS, aborted=aborted)
    assert (result["abort"], result["error"]) == (abort, "failed on : " if abort else "")


def test_the_serving_slot_is_the_new_one_only_after_a_success():
    views = {
        "h1": {"result": "succeeded", "old_slot": "blue", "new_slot": "green"},
        "h2": {"result": "rolled_back", "old_slot": "blue", "new_slot": "green"},
        "h3": {"old_slot": "green", "new_slot": "blue"},
    }
    assert oc.host_results(["h1", "h2", "h3"], ["h1", "h2", "h3"], views) == {
        "h1": row("succeeded", slot="green"),
        "h2": row("rolled_back", slot="blue"),
        "h3": row("not started", slot="green"),
    }


def test_host_view_takes_only_the_fields_that_are_set():
    assert oc.host_view({"__app_deploy_target": {"result": "failed"}, "other": 1}) == {
        "result": "failed"
    }
    assert oc.host_view({"__app_deploy_target": {"before": {"slot": "blue"}}}) == {
        "old_slot": "blue"
    }
    assert oc.host_view({}) == {}


def test_host_view_of_a_whole_target():
    target = state.target_new(INFO, "r2", "h1", "h1", 10.0)
    assert oc.host_view({"__app_deploy_target": target}) == {
        "result": "pending",
        "error": "",
        "old_release": "r1",
        "old_slot": "blue",
        "new_slot": "green",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("h1", {}, []), "deploy_outcome: _input must be a list of hosts"),
        ((["h1"], {}, None), "deploy_outcome: alive must be a list of hosts"),
        ((["h1"], [], ["h1"]), "deploy_outcome: hostvars must be hostvars (a mapping)"),
    ],
)
def test_wrong_inputs_are_refused(args, message):
    with pytest.raises(AnsibleFilterError) as err:
        deploy_outcome(*args)
    assert str(err.value) == message
