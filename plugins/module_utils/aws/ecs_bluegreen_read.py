# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a blue-green deploy on ECS reads before it decides: the target groups, the production
listener (or rule) and the test listener, which group is live, both services and the live
one's task definition. Only reads; every problem is an :class:`ApiError` naming the option.
And the result's shape before anything changes (``shape_start``, pure).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.aws import bluegreen as bg
from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_bluegreen_plan as plan
from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_taskdef as td
from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_verdict as ev
from ansible_collections.sigma.deploy.plugins.module_utils.aws.alb_client import ElbClient
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_client import EcsClient
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_shapes import (
    shape_configuration,
    wanted_configuration,
)
from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError


def group_name(arn: str) -> str:
    """``notes-blue`` for ``arn:...:targetgroup/notes-blue/73e2d6bc24d8a067``."""
    parts = arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) > 1 else arn


def refusal(message: str, field: str) -> ApiError:
    return ApiError(None, None, None, message, field)


def production_weights(
    listener: Mapping[str, Any], rule: Mapping[str, Any] | None, field: str
) -> dict[str, int]:
    try:
        return bg.forward_weights(rule["Actions"] if rule else listener["DefaultActions"])
    except bg.BlueGreenError as err:
        raise refusal(f"{field}: {err}", field) from None


def find(services: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The service ``name`` (a name or an ARN) of a describe_services answer; None when it is
    missing or INACTIVE (deleted)."""
    for service in services:
        if name in (service.get("serviceName"), service.get("serviceArn")):
            return None if service.get("status") == "INACTIVE" else service
    return None


def check_service(service: Mapping[str, Any], group: str, role: str) -> None:
    name = service.get("serviceName")
    if service.get("status") == "DRAINING":
        raise refusal(
            f"bluegreen.services: the {role} service {name} is being deleted (DRAINING); "
            "deploy again once it is INACTIVE, and it is made anew",
            "bluegreen.services",
        )
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    if controller != "ECS":
        raise refusal(
            f"bluegreen.services: service {name} uses the {controller} deployment controller; "
            "ecs_deploy moves traffic itself and needs the ECS controller",
            "bluegreen.services",
        )
    groups = [lb.get("targetGroupArn") for lb in service.get("loadBalancers") or []]
    if group not in groups:
        raise refusal(
            f"bluegreen.target_groups: the {role} service {name} is not in target group "
            f"{group} (its load balancers: {', '.join(map(str, groups)) or 'none'}); the "
            "services and target_groups are paired in order, blue first",
            "bluegreen.target_groups",
        )


def read_pair(
    ecs: EcsClient,
    elb: ElbClient,
    params: Mapping[str, Any],
    settings: Mapping[str, Any],
    release_id: str,
) -> dict[str, Any]:
    """Everything ``ecs_bluegreen_plan.choose`` and the run need, read."""
    groups = elb.target_groups(settings["target_groups"])
    blue, green = (g["TargetGroupArn"] for g in groups)
    listener = elb.listener(settings["listener_arn"], "bluegreen.listener_arn")
    rule = elb.rule(settings["rule_arn"]) if settings.get("rule_arn") else None
    field = "bluegreen.rule_arn" if rule else "bluegreen.listener_arn"
    weights = production_weights(listener, rule, field)
    try:
        live_group, idle_group = bg.live_and_idle(weights, blue, green)
    except bg.BlueGreenError as err:
        raise refusal(f"{field}: {err}", field) from None
    test = elb.listener(settings["test_listener_arn"], "bluegreen.test_listener_arn")
    try:
        test_weights = bg.forward_weights(test["DefaultActions"])
    except bg.BlueGreenError:
        test_weights = {}  # a fixed response, say: the deploy points it at the idle group
    by_group = dict(zip((blue, green), settings["services"], strict=True))
    live_name, idle_name = by_group[live_group], by_group[idle_group]
    found = ecs.services(params["cluster"], [live_name, idle_name], tags=True)
    live, idle = find(found, live_name), find(found, idle_name)
    if live is None or live.get("status") != "ACTIVE":
        raise refusal(
            f"bluegreen.services: the production listener forwards to "
            f"{group_name(live_group)}, whose service {live_name} is not active in cluster "
            f"{params['cluster']}",
            "bluegreen.services",
        )
    check_service(live, live_group, "live")
    if idle is not None:
        check_service(idle, idle_group, "idle")
    live_taskdef = ecs.task_definition(live["taskDefinition"])
    try:
        names = td.chosen_containers(live_taskdef, params.get("containers"))
        variables = td.release_environment(release_id, params.get("environment"))
    except td.TaskDefinitionError as err:
        raise refusal(str(err), err.field) from err
    idle_taskdef = None
    if idle is not None:
        same = idle["taskDefinition"] == live["taskDefinition"]
        idle_taskdef = live_taskdef if same else ecs.task_definition(idle["taskDefinition"])
    config = wanted_configuration(
        (idle or live).get("deploymentConfiguration"),
        params.get("minimum_healthy_percent"),
        params.get("maximum_percent"),
        params["circuit_breaker"],
    )
    image = params["image"]
    return {
        "listener": listener,
        "rule": rule,
        "test": test,
        "weights": weights,
        "test_weights": test_weights,
        "live_group": live_group,
        "idle_group": idle_group,
        "live_tg": groups[0] if live_group == blue else groups[1],
        "idle_tg": groups[1] if live_group == blue else groups[0],
        "live_name": live_name,
        "idle_name": idle_name,
        "live": live,
        "idle": idle,
        "services": {live_name: live, idle_name: idle},
        "groups_by_service": {live_name: live_group, idle_name: idle_group},
        "live_taskdef": live_taskdef,
        "names": names,
        "live_carries": td.carries_release(live_taskdef, names, image, variables),
        "idle_carries": idle_taskdef is not None
        and td.carries_release(idle_taskdef, names, image, variables),
        "idle_weight": weights.get(idle_group, 0),
        "config": config,
        "config_same": idle is not None and config == (idle.get("deploymentConfiguration") or {}),
        "keep_old": settings["keep_old"],
    }


def shape_start(
    seen: Mapping[str, Any], action: str, release_id: str, image: str, steps: list[int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``deployment`` result and the ``diff`` of a run, before it changes anything: the
    service that gets the release (the one serving it already, with nothing or only the end
    left to do) and the pair's roles."""
    live, idle = seen["live"], seen["idle"]
    done = action in (plan.NONE, plan.FINISH)
    target = live if done else idle
    primary = (ev.primary_deployment(target) or {}) if target else {}
    live_primary = ev.primary_deployment(live) or {}
    previous = dict(
        td.container_release(seen["live_taskdef"], seen["names"][0]),
        task_definition_arn=live.get("taskDefinition"),
        deployment_id=live_primary.get("id"),
    )
    keeps = action in (plan.NONE, plan.FINISH, plan.SHIFT)  # no new deployment
    deployment = {
        "cluster": live.get("clusterArn"),
        "service": seen["live_name"] if done else seen["idle_name"],
        "action": action,
        "release_id": release_id,
        "image": image,
        "containers": seen["names"],
        "task_definition_arn": None
        if action == plan.DEPLOY
        else (target or {}).get("taskDefinition"),
        "deployment_id": primary.get("id") if keeps else None,
        "deployment_configuration": shape_configuration(seen["config"]),
        "previous": previous,
        "migration": None,
        "state": None,
        "rollout_state": primary.get("rolloutState") if keeps else None,
        "rollout_state_reason": primary.get("rolloutStateReason") if keeps else None,
        "rolled_back_to": None,
        "stopped_tasks": [],
        "events": [],
        "waited_s": 0.0,
        "bluegreen": {
            "live_service": seen["live_name"],
            "live_target_group": seen["live_group"],
            "idle_service": seen["idle_name"],
            "idle_target_group": seen["idle_group"],
            "idle_service_created": idle is None and not done,
            "serving_target_group": seen["live_group"],
            "traffic_steps": list(steps),
            "test_url": None,
            "test_checks": [],
            "shifts": [],
            "scaled_to_zero": None,
            "timings": {"deploy_s": 0.0, "test_s": 0.0, "shift_s": 0.0, "total_s": 0.0},
        },
    }
    after_group = seen["live_group"] if done else seen["idle_group"]
    diff = {
        "before": {
            "image": previous["image"],
            "release_id": previous["release_id"],
            "live_target_group": group_name(seen["live_group"]),
        },
        "after": {
            "image": image,
            "release_id": release_id,
            "live_target_group": group_name(after_group),
        },
    }
    return deployment, diff
