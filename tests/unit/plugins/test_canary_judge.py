"""module_utils/deploy/canary.py (judging a canary step, for one host or merged over
several) and the canary_judge filter."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.filter.canary_judge import FilterModule
from ansible_collections.sigma.deploy.plugins.module_utils.deploy import canary
from tests.unit.plugins.access_log_lines import EMPTY, aggregate, line

# --- judging a step -----------------------------------------------------------------------

LIMITS = {"max_error_rate": 0.01, "max_p95_ms": 500.0, "min_requests": 20}


def stats(requests: int, errors: int, p95: float | None) -> dict:
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": errors / requests if requests else 0.0,
        "p95_ms": p95,
    }


def test_judge_step_passes_within_the_limits():
    assert canary.judge_step(stats(120, 0, 41.0), **LIMITS) == (
        True,
        "canary: 120 requests, 0 errors (0.00 %), p95 41 ms: pass "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    )


def test_judge_step_passes_at_the_limits():
    assert canary.judge_step(stats(100, 1, 500.0), **LIMITS)[0]
    assert canary.judge_step(stats(20, 0, 1.0), **LIMITS)[0]


def test_judge_step_fails_without_data():
    assert canary.judge_step(stats(0, 0, None), **LIMITS, name="web") == (
        False,
        "web: 0 requests, 0 errors (0.00 %), p95 - ms: fail: no requests "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    )


def test_judge_step_fails_without_latencies():
    """Enough requests but no latency among them (say, no upstream answered): fail closed."""
    assert canary.judge_step(stats(120, 0, None), **LIMITS) == (
        False,
        "canary: 120 requests, 0 errors (0.00 %), p95 - ms: fail: no latencies "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    )


def test_judge_step_names_every_reason():
    passed, message = canary.judge_step(stats(10, 2, 612.5), **LIMITS)
    assert not passed
    assert message == (
        "canary: 10 requests, 2 errors (20.00 %), p95 612.5 ms: "
        "fail: too few requests, too many errors, p95 too slow "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)"
    )


def test_judge_step_fails_on_errors_alone():
    assert canary.judge_step(stats(200, 3, 40.0), **LIMITS) == (
        False,
        "canary: 200 requests, 3 errors (1.50 %), p95 40 ms: fail: too many errors "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    )


def test_canary_judge_filter():
    judge = FilterModule().filters()["canary_judge"]
    assert judge(stats(120, 0, 41.0), max_error_rate="0.01", max_p95_ms=500, min_requests=20) == {
        "passed": True,
        "message": "canary: 120 requests, 0 errors (0.00 %), p95 41 ms: pass "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    }
    assert judge(stats(5, 0, 41.0))["passed"] is False
    with pytest.raises(AnsibleFilterError, match="expects one group's numbers"):
        judge([1, 2])
    with pytest.raises(AnsibleFilterError, match="canary_judge: "):
        judge(stats(5, 0, 1.0), max_p95_ms="fast")


def test_canary_judge_of_one_dict_ignores_its_histogram():
    judge = FilterModule().filters()["canary_judge"]
    one = {**stats(120, 0, 41.0), "latency_histogram": {"338": 120}}
    assert judge(one, max_p95_ms=500) == {
        "passed": True,
        "message": "canary: 120 requests, 0 errors (0.00 %), p95 41 ms: pass "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    }


# --- judging a step over several hosts ----------------------------------------------------


def host_canary(fast: int, slow: int = 0, errors: int = 0) -> dict:
    """One host's canary numbers as the module returns them: requests of 4 ms, of 800 ms,
    and of 4 ms that failed with 500."""
    lines = [line(request_time=0.004)] * fast + [line(request_time=0.8)] * slow
    lines += [line(status=500, request_time=0.004)] * errors
    return json.loads(json.dumps(aggregate(lines)["groups"]["canary"]))


def test_merging_two_hosts_takes_the_p95_over_all_their_requests():
    slow_tail = host_canary(fast=89, slow=10, errors=1)
    fast = host_canary(fast=100)
    # The worst host's own p95 is slow: 800 ms is above the limit.
    assert slow_tail["p95_ms"] == 800.0
    assert canary.judge_step(slow_tail, **LIMITS)[0] is False
    judge = FilterModule().filters()["canary_judge"]
    assert judge([slow_tail, fast], **LIMITS) == {
        "passed": True,
        "message": "canary, merged over 2 hosts: 200 requests, 1 errors (0.50 %), p95 4.08 ms: "
        "pass (limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
        "merged": {
            "hosts": 2,
            "hosts_without_histogram": 0,
            "requests": 200,
            "errors": 1,
            "error_rate": 0.005,
            "p50_ms": 4.08,
            "p95_ms": 4.08,
            "p99_ms": 806.972,
            "latency_histogram": {"71": 190, "338": 10},
            "max_ms": 800.0,
        },
    }


def test_the_merged_p95_is_slow_when_enough_of_all_requests_are():
    merged = canary.merge_stats([host_canary(fast=80, slow=20), host_canary(fast=100)])
    assert (merged["p50_ms"], merged["p95_ms"], merged["p99_ms"]) == (4.08, 806.972, 806.972)
    assert merged["latency_histogram"] == {"71": 180, "338": 20}


def test_a_host_without_a_histogram_falls_back_to_the_worst_host_s_p95():
    older = host_canary(fast=89, slow=10, errors=1)
    del older["latency_histogram"]
    passed, message, merged = canary.judge_hosts(
        [older, host_canary(fast=100)], **LIMITS, name="web"
    )
    assert passed is False
    assert message == (
        "web, merged over 2 hosts: 200 requests, 1 errors (0.50 %), p95 800 ms "
        "(the worst host's: 1 host of 2 sent no latency histogram): fail: p95 too slow "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)"
    )
    assert merged == {
        "hosts": 2,
        "hosts_without_histogram": 1,
        "requests": 200,
        "errors": 1,
        "error_rate": 0.005,
        "p50_ms": 4.0,
        "p95_ms": 800.0,
        "p99_ms": 800.0,
        "max_ms": 800.0,
    }


def test_a_list_without_requests_fails():
    judge = FilterModule().filters()["canary_judge"]
    verdict = judge([dict(EMPTY), dict(EMPTY)], **LIMITS)
    assert verdict["passed"] is False
    assert verdict["message"] == (
        "canary, merged over 2 hosts: 0 requests, 0 errors (0.00 %), p95 - ms: fail: no requests "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)"
    )
    assert verdict["merged"]["p95_ms"] is None
    assert verdict["merged"]["latency_histogram"] == {}
    nothing = judge([], **LIMITS)
    assert nothing["passed"] is False
    assert nothing["message"].startswith(
        "canary, merged over 0 hosts: 0 requests, 0 errors (0.00 %), p95 - ms: fail: no requests"
    )


def test_a_list_with_requests_but_no_latencies_fails():
    judge = FilterModule().filters()["canary_judge"]
    counted = {**EMPTY, "requests": 30, "statuses": {"200": 30}}
    verdict = judge([dict(counted), dict(counted)], **LIMITS)
    assert verdict["passed"] is False
    assert verdict["message"] == (
        "canary, merged over 2 hosts: 60 requests, 0 errors (0.00 %), p95 - ms: "
        "fail: no latencies (limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)"
    )
    older = {key: value for key, value in counted.items() if key != "latency_histogram"}
    assert judge([older, dict(older)], **LIMITS)["passed"] is False


def test_a_list_of_one_host_is_judged_by_its_histogram():
    assert canary.judge_hosts([host_canary(fast=30)], **LIMITS)[:2] == (
        True,
        "canary, merged over 1 host: 30 requests, 0 errors (0.00 %), p95 4.08 ms: pass "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    )


def test_canary_judge_refuses_a_list_of_what_is_not_numbers():
    judge = FilterModule().filters()["canary_judge"]
    with pytest.raises(AnsibleFilterError, match="or a list of them, one per host; item 2 is int"):
        judge([host_canary(fast=1), 5])
    with pytest.raises(AnsibleFilterError, match="one per host, got str"):
        judge("canary")
    with pytest.raises(
        AnsibleFilterError, match="canary_judge: latency_histogram: bucket 'x' is not an integer"
    ):
        judge([{**host_canary(fast=1), "latency_histogram": {"x": 1}}])
