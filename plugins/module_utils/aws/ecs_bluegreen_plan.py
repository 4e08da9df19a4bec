# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The decisions of a blue-green deploy on ECS (``ecs_deploy`` with ``strategy: bluegreen``),
as pure functions of plain data: the settings checked, what a run does, the idle service made
as a copy of the live one, the checks through the test listener and the metric window.
The run itself (``ecs_bluegreen_run``) calls AWS in their order.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.aws.bluegreen import shift_plan
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_verdict import (
    primary_deployment,
)
from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError

# What a run does.
NONE = "none"  # the release serves from the live group at 100 %, nothing left to do
FINISH = "finish"  # the release serves at 100 %; the test listener or the old service remain
DEPLOY = "deploy"  # a new task definition revision for the idle service, then test and shift
REDEPLOY = "redeploy"  # the idle service has the release's revision but does not run it fully
SHIFT = "shift"  # the idle service runs the release (COMPLETED): test and shift only

# AWS's GetMetricData periods: 1, 5, 10, 30 (high-resolution data) or a multiple of 60.
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 30)
# The fields of describe_services that create_service takes as they are.
COPIED_FIELDS = (
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "networkConfiguration",
    "deploymentConfiguration",
    "deploymentController",
    "healthCheckGracePeriodSeconds",
    "placementConstraints",
    "placementStrategy",
    "schedulingStrategy",
    "enableECSManagedTags",
    "propagateTags",
    "enableExecuteCommand",
)


def settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``bluegreen`` option checked, with the shift plan (``plan``); a refusal naming
    every wrong field."""
    given = dict(params.get("bluegreen") or {})
    problems = resource_problems(given)
    try:
        given["plan"] = shift_plan(given.get("traffic_steps") or [])
    except ValueError as err:
        problems.append(f"bluegreen.traffic_steps: {err}")
    problems.extend(timing_problems(given))
    for index, check in enumerate(given.get("test_checks") or []):
        if not str(check.get("path") or "").startswith("/"):
            problems.append(
                f"bluegreen.test_checks[{index}].path: expected a path from /, "
                f"got {check.get('path')!r}"
            )
    problems.extend(canary_problems(params.get("canary") or {}))
    if params.get("service"):
        problems.append(
            "service is not used with strategy bluegreen: name the two services in "
            "bluegreen.services"
        )
    if not params.get("wait", True):
        problems.append(
            "wait: false is not possible with strategy bluegreen: traffic moves only to a "
            "deployment that completed"
        )
    if problems:
        raise ApiError.refusal("; ".join(problems))
    return given


def resource_problems(given: Mapping[str, Any]) -> list[str]:
    """What is wrong with the services, target groups and listeners named."""
    problems = []
    for key in ("services", "target_groups"):
        pair = given.get(key) or []
        if len(pair) != 2 or len(set(pair)) != 2:
            problems.append(
                f"bluegreen.{key}: expected two different names, blue then green, got {pair}"
            )
    for key in ("listener_arn", "test_listener_arn"):
        if not given.get(key):
            problems.append(f"bluegreen.{key} is required with strategy bluegreen")
    if given.get("listener_arn") and given.get("listener_arn") == given.get("test_listener_arn"):
        problems.append("bluegreen.test_listener_arn must not be the production listener")
    return problems


def timing_problems(given: Mapping[str, Any]) -> list[str]:
    problems = []
    period = given.get("metric_period") or 0
    if period not in HIGH_RESOLUTION_PERIODS and (period <= 0 or period % 60):
        problems.append(
            f"bluegreen.metric_period: expected 1, 5, 10, 30 or a multiple of 60, got {period}"
        )
    for key in ("step_seconds", "hold_seconds", "test_wait"):
        if (given.get(key) or 0) < 0:
            problems.append(f"bluegreen.{key}: expected 0 or more seconds, got {given[key]}")
    return problems


def canary_problems(limits: Mapping[str, Any]) -> list[str]:
    problems = []
    rate = limits.get("max_error_rate")
    if rate is not None and not 0 <= rate <= 1:
        problems.append(f"canary.max_error_rate: expected 0 to 1 (0.01 = 1 %), got {rate}")
    if limits.get("max_p95_ms") is not None and limits["max_p95_ms"] <= 0:
        problems.append(f"canary.max_p95_ms: expected above 0, got {limits['max_p95_ms']}")
    if limits.get("min_requests") is not None and limits["min_requests"] < 0:
        problems.append(f"canary.min_requests: expected 0 or more, got {limits['min_requests']}")
    return problems


def forwards_only_to(weights: Mapping[str, int], group: str) -> bool:
    """Whether a forward action's weights send everything to ``group``."""
    return {arn for arn, weight in weights.items() if weight > 0} == {group}


def choose(seen: Mapping[str, Any]) -> str:
    """What to do, from what the run read: ``live`` and ``idle`` (services, idle None when
    there is none), ``live_carries`` / ``idle_carries`` (their task definitions carry the
    release), ``idle_weight`` (the idle group's weight on the production listener),
    ``test_weights`` (the test listener's), ``live_group``, ``config_same`` (the idle service's
    deployment configuration is the one asked for) and ``keep_old``."""
    live, idle = seen["live"], seen["idle"]
    live_primary = primary_deployment(live) or {}
    serving = seen["idle_weight"] == 0 and seen["live_carries"]
    if serving and live_primary.get("rolloutState") == "COMPLETED":
        old_runs = idle is not None and idle.get("desiredCount", 0) > 0 and not seen["keep_old"]
        if old_runs or not forwards_only_to(seen["test_weights"], seen["live_group"]):
            return FINISH
        return NONE
    if idle is None or not seen["idle_carries"]:
        return DEPLOY
    primary = primary_deployment(idle) or {}
    steady = (
        primary.get("rolloutState") == "COMPLETED"
        and idle.get("desiredCount") == live.get("desiredCount")
        and primary.get("runningCount") == idle.get("desiredCount")
        and seen["config_same"]
    )
    return SHIFT if steady else REDEPLOY


def idle_service_input(
    live: Mapping[str, Any], name: str, live_group: str, idle_group: str
) -> dict[str, Any]:
    """The ``create_service`` input of the idle service, a copy of the live one: its task
    definition, where and how its tasks run, its deployment configuration, its tags (AWS's own
    ``aws:`` tags left out), the load balancer entry of the live group moved to the idle
    group, and no tasks yet."""
    wanted: dict[str, Any] = {
        "cluster": live["clusterArn"],
        "serviceName": name,
        "taskDefinition": live["taskDefinition"],
        "desiredCount": 0,
        "loadBalancers": [
            dict(entry, targetGroupArn=idle_group)
            for entry in live.get("loadBalancers") or []
            if entry.get("targetGroupArn") == live_group
        ],
    }
    for field in COPIED_FIELDS:
        if live.get(field) not in (None, [], {}):
            wanted[field] = live[field]
    if "launchType" in wanted and "capacityProviderStrategy" in wanted:
        del wanted["launchType"]  # ECS takes one or the other
    tags = [t for t in live.get("tags") or [] if not str(t.get("key", "")).startswith("aws:")]
    if tags:
        wanted["tags"] = tags
    return wanted


def default_test_url(load_balancer: Mapping[str, Any], listener: Mapping[str, Any]) -> str:
    """``http://<load balancer DNS name>:<test listener port>`` (https for an HTTPS one)."""
    scheme = "https" if str(listener.get("Protocol", "")).upper() == "HTTPS" else "http"
    return f"{scheme}://{load_balancer['DNSName']}:{listener['Port']}"


def test_checks(
    checks: Sequence[Mapping[str, Any]] | None, base_url: str, health_path: str | None
) -> list[dict[str, Any]]:
    """The checks of ``http_check.run_checks`` through the test listener: each ``path`` under
    ``base_url``; without checks, one of the idle target group's health check path."""
    given = list(checks or []) or [{"path": health_path or "/", "status": 200}]
    return [
        {
            "name": check.get("name") or check["path"],
            "url": base_url.rstrip("/") + check["path"],
            "status": check.get("status") or 200,
            "contains": check.get("contains"),
            "json": check.get("json"),
        }
        for check in given
    ]


def metric_window(
    start: datetime.datetime, end: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime]:
    """The GetMetricData window ``[StartTime, EndTime)`` of a step from ``start`` to ``end``:
    whole seconds, the second ``end`` falls in included, never empty."""
    first = start.replace(microsecond=0)
    last = end.replace(microsecond=0) + datetime.timedelta(seconds=1)
    return first, max(last, first + datetime.timedelta(seconds=1))
