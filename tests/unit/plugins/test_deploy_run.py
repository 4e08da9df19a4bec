"""The deploy as a whole (module_utils/deploy/state.py, filters deploy_start/_stop/_check/
_finish): built, stopped, checked and finished, by exact equality; a finished deploy refuses
every change."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.filter import deploy_run
from ansible_collections.sigma.deploy.plugins.module_utils.deploy import state

STARTED = "2026-12-07T20:00:00Z"


def deploy(**changes):
    """A deploy d1 as it starts, with ``changes``."""
    return {
        "id": "d1",
        "kind": "deploy",
        "strategy": "rolling",
        "who": "ann",
        "job_id": "",
        "started": STARTED,
        "started_at": 100.0,
        "abort": False,
        "error": "",
        "failed_hosts": [],
        "gone_hosts": [],
        "result": "running",
        "finished": "",
        "duration": "",
        **changes,
    }


def test_a_deploy_starts_running():
    got = state.deploy_start("d1", "deploy", "rolling", "ann", "", STARTED, 100.0)
    assert got == deploy()
    assert set(got) == set(state.DEPLOY_FIELDS)


def test_a_gate_stops_it_saying_why():
    assert state.deploy_stop(deploy(), "canary step 1 (25 %) failed: x") == deploy(
        abort=True, error="canary step 1 (25 %) failed: x"
    )


def test_a_second_stop_says_the_later_reason():
    first = state.deploy_stop(deploy(), "one")
    assert state.deploy_stop(first, "two") == deploy(abort=True, error="two")


def test_a_check_takes_the_outcome():
    outcome = {
        "failed_hosts": ["h2"],
        "abort": True,
        "error": "failed on h2: x",
        "host_results": {},
    }
    assert state.deploy_check(deploy(), outcome) == deploy(
        failed_hosts=["h2"], abort=True, error="failed on h2: x"
    )


def test_a_check_with_nothing_failed_leaves_it_running():
    outcome = {"failed_hosts": [], "abort": False, "error": ""}
    assert state.deploy_check(deploy(), outcome) == deploy()


@pytest.mark.parametrize(
    ("changes", "gone", "result"),
    [
        ({}, [], "succeeded"),
        ({"abort": True, "error": "e"}, [], "failed"),
        ({"failed_hosts": ["h1"]}, [], "failed"),
        ({}, ["h3"], "failed"),
    ],
)
def test_finish_says_the_result(changes, gone, result):
    got = state.deploy_finish(deploy(**changes), gone, "2026-12-07T20:01:00Z", 163.26)
    assert got == deploy(
        **changes,
        gone_hosts=gone,
        result=result,
        finished="2026-12-07T20:01:00Z",
        duration="63.3",
    )


def test_the_deploy_given_is_left_as_it_was():
    before = deploy(failed_hosts=["h1"])
    state.deploy_check(before, {"failed_hosts": ["h1", "h2"], "abort": True, "error": "x"})
    state.deploy_stop(before, "y")
    state.deploy_finish(before, ["h3"], "t", 101.0)
    assert before == deploy(failed_hosts=["h1"])


@pytest.mark.parametrize("result", ["succeeded", "failed"])
def test_a_finished_deploy_refuses_every_change(result):
    done = deploy(result=result)
    calls = [
        (lambda: state.deploy_stop(done, "x"), "stop"),
        (lambda: state.deploy_check(done, {"failed_hosts": [], "abort": False, "error": ""}),
         "be checked"),
        (lambda: state.deploy_finish(done, [], "t", 1.0), "finish"),
    ]  # fmt: skip
    for call, what in calls:
        with pytest.raises(state.StateError) as err:
            call()
        assert str(err.value) == f"deploy d1 is {result} already: it cannot {what}"


def test_a_dict_that_is_no_deploy_is_refused():
    with pytest.raises(state.StateError) as err:
        state.deploy_stop({"id": "d1", "result": "running"}, "x")
    assert str(err.value) == (
        "not a deploy (no abort, duration, error, failed_hosts, finished, gone_hosts, job_id,"
        " kind, started, started_at, strategy, who)"
    )


def test_the_filters_read_ansible_values_and_say_their_name():
    got = deploy_run.deploy_start("d1", "deploy", "rolling", "ann", 42, STARTED, "100")
    assert got == deploy(job_id="42")
    assert deploy_run.deploy_stop(got, "x") == deploy(job_id="42", abort=True, error="x")
    with pytest.raises(AnsibleFilterError) as err:
        deploy_run.deploy_stop(deploy(result="failed"), "x")
    assert str(err.value) == "deploy_stop: deploy d1 is failed already: it cannot stop"
    with pytest.raises(AnsibleFilterError) as err:
        deploy_run.deploy_check(deploy(), {"abort": True})
    assert str(err.value) == "deploy_check: outcome must be what deploy_outcome returned"
    with pytest.raises(AnsibleFilterError) as err:
        deploy_run.deploy_finish(deploy(), "h1", "t", 1.0)
    assert str(err.value) == "deploy_finish: gone_hosts must be a list of hosts"
    with pytest.raises(AnsibleFilterError) as err:
        deploy_run.deploy_stop("d1", "x")
    assert str(err.value) == "deploy_stop: _input must be a deploy (a dict)"
    with pytest.raises(AnsibleFilterError) as err:
        deploy_run.deploy_start("d1", "deploy", "rolling", "ann", "", STARTED, "soon")
    assert str(err.value).startswith("deploy_start: started_at must be a number")
