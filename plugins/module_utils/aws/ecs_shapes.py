# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ECS documents in the shape ``ecs_deploy`` and ``ecs_service_info`` return (snake_case,
flat, times as ISO 8601 text), and the deployment configuration a deploy asks for. Pure."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_taskdef import (
    container_release,
    default_container,
)


def iso(value: Any) -> str | None:
    """``2026-08-01T10:00:00+00:00`` for a datetime (boto3's times); text as it is."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return None if value is None else str(value)


def shape_configuration(config: Mapping[str, Any] | None) -> dict[str, Any]:
    config = config or {}
    breaker = config.get("deploymentCircuitBreaker") or {}
    return {
        "minimum_healthy_percent": config.get("minimumHealthyPercent"),
        "maximum_percent": config.get("maximumPercent"),
        "circuit_breaker": {
            "enable": bool(breaker.get("enable", False)),
            "rollback": bool(breaker.get("rollback", False)),
        },
    }


def wanted_configuration(
    current: Mapping[str, Any] | None,
    minimum_healthy_percent: int | None,
    maximum_percent: int | None,
    circuit_breaker: Mapping[str, bool],
) -> dict[str, Any]:
    """The ``deploymentConfiguration`` a deploy sends: the service's own (its alarms and any
    field the module does not manage stay), with the percentages given and the circuit
    breaker as asked."""
    config = copy.deepcopy(dict(current or {}))
    if minimum_healthy_percent is not None:
        config["minimumHealthyPercent"] = minimum_healthy_percent
    if maximum_percent is not None:
        config["maximumPercent"] = maximum_percent
    breaker = dict(config.get("deploymentCircuitBreaker") or {})
    breaker.update(enable=circuit_breaker["enable"], rollback=circuit_breaker["rollback"])
    config["deploymentCircuitBreaker"] = breaker
    return config


def shape_deployment(deployment: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": deployment.get("id"),
        "status": deployment.get("status"),
        "task_definition_arn": deployment.get("taskDefinition"),
        "rollout_state": deployment.get("rolloutState"),
        "rollout_state_reason": deployment.get("rolloutStateReason"),
        "desired_count": deployment.get("desiredCount"),
        "running_count": deployment.get("runningCount"),
        "pending_count": deployment.get("pendingCount"),
        "failed_tasks": deployment.get("failedTasks"),
        "created_at": iso(deployment.get("createdAt")),
        "updated_at": iso(deployment.get("updatedAt")),
    }


def shape_events(
    events: Sequence[Mapping[str, Any]], since: Any = None, limit: int = 10
) -> list[dict[str, Any]]:
    """The newest ``limit`` events (created at or after ``since``, a datetime, when given),
    oldest first. ECS lists a service's events newest first."""
    chosen = [
        e for e in events if since is None or (e.get("createdAt") and e["createdAt"] >= since)
    ]
    chosen = sorted(chosen, key=lambda e: iso(e.get("createdAt")) or "")[-limit:] if limit else []
    return [
        {"id": e.get("id"), "created_at": iso(e.get("createdAt")), "message": e.get("message")}
        for e in chosen
    ]


def shape_service(
    service: Mapping[str, Any], taskdef: Mapping[str, Any] | None = None, events: int = 10
) -> dict[str, Any]:
    """One service, flat: counts, deployments, load balancers, its newest ``events`` events and,
    when its task definition is given, the release its first essential container runs."""
    release = {"container": None, "image": None, "release_id": None}
    if taskdef:
        name = default_container(taskdef)
        release = dict(container_release(taskdef, name), container=name)
    return {
        "name": service.get("serviceName"),
        "arn": service.get("serviceArn"),
        "cluster_arn": service.get("clusterArn"),
        "status": service.get("status"),
        "task_definition_arn": service.get("taskDefinition"),
        "desired_count": service.get("desiredCount"),
        "running_count": service.get("runningCount"),
        "pending_count": service.get("pendingCount"),
        "launch_type": service.get("launchType"),
        "deployment_controller": (service.get("deploymentController") or {}).get("type", "ECS"),
        "deployment_configuration": shape_configuration(service.get("deploymentConfiguration")),
        "deployments": [shape_deployment(d) for d in service.get("deployments") or []],
        "load_balancers": [
            {
                "target_group_arn": lb.get("targetGroupArn"),
                "container_name": lb.get("containerName"),
                "container_port": lb.get("containerPort"),
            }
            for lb in service.get("loadBalancers") or []
        ],
        "events": shape_events(service.get("events") or [], limit=events),
        "container": release["container"],
        "image": release["image"],
        "release_id": release["release_id"],
    }
