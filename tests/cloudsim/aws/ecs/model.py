"""The ECS engine's data: deployments, tasks and each service's rollout state, and the pure
rules of a rolling update (AWS's rounding of the percentages, the circuit breaker's
threshold, the texts ECS writes).

Deployments and the deployment configuration are objects whose snake_case attributes moto's
JSON serializer reads (``rollout_state`` renders as ``rolloutState``): the engine sets them on
moto's own ``Service`` object, so every ECS answer about a service (Create, Update, Describe,
Delete) shows the engine's truth. Tasks are rendered by :func:`task_json`.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Task lifecycle (AWS: "Amazon ECS task lifecycle"), in order.
PROVISIONING, PENDING, ACTIVATING, RUNNING = "PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"
DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED = (
    "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED",
)  # fmt: skip

# Stop codes (AWS: Task.stopCode).
TASK_FAILED_TO_START = "TaskFailedToStart"
ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"
USER_INITIATED = "UserInitiated"
SCHEDULER_INITIATED = "ServiceSchedulerInitiated"

# stoppedReason texts, as ECS writes them.
EXITED = "Essential container in task exited"
SCALING_IN = "Scaling activity initiated by (deployment {deployment})"
ELB_FAILED = "Task failed ELB health checks in (target-group {target_group})"
CONTAINER_UNHEALTHY = "Task failed container health checks"
USER_STOPPED = "Task stopped by user"
SERVICE_DELETED = "Service {service} was deleted"


def now() -> datetime:
    return datetime.now(UTC)


def deployment_id() -> str:
    """``ecs-svc/<19 digits>``, as ECS names deployments."""
    return f"ecs-svc/{random.randint(10**18, 10**19 - 1)}"


def task_id() -> str:
    return uuid.uuid4().hex


def min_healthy(desired: int, percent: int) -> int:
    """The fewest healthy tasks a rolling update keeps: ``minimumHealthyPercent`` of the desired
    count, rounded up (AWS: "rounded up to the nearest integer")."""
    return math.ceil(desired * percent / 100)


def max_tasks(desired: int, percent: int) -> int:
    """The most tasks a rolling update runs at once: ``maximumPercent`` of the desired count,
    rounded down (AWS: "rounded down to the nearest integer")."""
    return math.floor(desired * percent / 100)


def breaker_threshold(desired: int) -> int:
    """The deployment circuit breaker's failure threshold: 0.5 x the desired count, rounded
    up, at least 3 and at most 200 (AWS: ServiceDeploymentCircuitBreaker.threshold)."""
    return max(3, min(200, math.ceil(0.5 * desired)))


@dataclass
class CircuitBreaker:
    enable: bool = False
    rollback: bool = False


@dataclass
class DeploymentConfiguration:
    """What a service's ``deploymentConfiguration`` holds (AWS's defaults for the ECS rolling
    update: 100 and 200 percent, no circuit breaker)."""

    minimum_healthy_percent: int = 100
    maximum_percent: int = 200
    deployment_circuit_breaker: CircuitBreaker = field(default_factory=CircuitBreaker)

    @classmethod
    def parse(cls, raw: dict | None, base: DeploymentConfiguration | None = None):
        base = base or cls()
        raw = raw or {}
        breaker = raw.get("deploymentCircuitBreaker")
        return cls(
            minimum_healthy_percent=int(
                raw.get("minimumHealthyPercent", base.minimum_healthy_percent)
            ),
            maximum_percent=int(raw.get("maximumPercent", base.maximum_percent)),
            deployment_circuit_breaker=(
                CircuitBreaker(bool(breaker.get("enable")), bool(breaker.get("rollback")))
                if isinstance(breaker, dict)
                else base.deployment_circuit_breaker
            ),
        )


@dataclass
class Deployment:
    """One deployment of a service (attributes named as moto's serializer reads them)."""

    id: str
    task_definition: str
    desired_count: int
    status: str = "PRIMARY"  # PRIMARY, ACTIVE, INACTIVE
    pending_count: int = 0
    running_count: int = 0
    failed_tasks: int = 0
    rollout_state: str = "IN_PROGRESS"
    rollout_state_reason: str = ""
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    launch_type: str | None = None
    platform_version: str | None = None
    network_configuration: dict | None = None
    # The engine's own, not rendered (moto's serializer reads only the API's member names).
    breaker_failures: int = 0  # failures the circuit breaker counts (reset by a healthy task)
    inactive_since: float | None = None

    def __post_init__(self) -> None:
        if not self.rollout_state_reason:
            self.rollout_state_reason = f"ECS deployment {self.id} in progress."

    def set_rollout(self, state: str, reason: str) -> None:
        self.rollout_state, self.rollout_state_reason = state, reason
        self.updated_at = now()


@dataclass
class Container:
    name: str
    image: str
    essential: bool = True
    last_status: str = PENDING
    exit_code: int | None = None
    reason: str | None = None
    health_status: str = "UNKNOWN"


@dataclass
class Task:
    """One ECS task, run by the runtime under the key :attr:`id`."""

    id: str
    arn: str
    region: str
    cluster_arn: str
    task_definition_arn: str
    group: str
    started_by: str | None
    launch_type: str
    container: Container
    private_ip: str
    subnet_id: str | None
    service: str | None = None  # the engine's service key, for service tasks
    deployment: str | None = None
    last_status: str = PROVISIONING
    desired_status: str = RUNNING
    health_status: str = "UNKNOWN"
    stopped_reason: str | None = None
    stop_code: str | None = None
    created_at: datetime = field(default_factory=now)
    started_at: datetime | None = None
    stopping_at: datetime | None = None
    stopped_at: datetime | None = None
    stopped_mono: float | None = None  # when it stopped (monotonic), for pruning
    health_check: dict | None = None  # the container's healthCheck
    container_port: int | None = None
    targets: list[tuple[str, int]] = field(default_factory=list)  # (target group, port)
    check_failures: int = 0  # consecutive container health check failures
    ever_healthy: bool = False
    started_mono: float = 0.0
    last_probe: float = 0.0
    drain_started: float = 0.0
    stop_timeout: float = 30.0
    start_error: str | None = None  # why it will fail to start (its secrets), on the next round
    cpu: str | None = None
    memory: str | None = None
    overrides: dict = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        return self.last_status != STOPPED

    @property
    def live(self) -> bool:
        """Wanted running (not being stopped)."""
        return self.desired_status == RUNNING and self.last_status != STOPPED

    def stop_requested(self, reason: str, code: str) -> None:
        if self.desired_status != STOPPED:
            self.desired_status = STOPPED
            self.stopping_at = now()
        self.stopped_reason = self.stopped_reason or reason
        self.stop_code = self.stop_code or code


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def task_json(task: Task) -> dict[str, Any]:
    """A task as DescribeTasks answers it."""
    container = task.container
    eni = f"eni-{task.id[:17]}"
    attachment = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, task.arn)),
        "type": "ElasticNetworkInterface",
        "status": "DELETED" if task.last_status == STOPPED else "ATTACHED",
        "details": [
            {"name": "subnetId", "value": task.subnet_id or ""},
            {"name": "networkInterfaceId", "value": eni},
            {"name": "privateIPv4Address", "value": task.private_ip},
        ],
    }
    container_json: dict[str, Any] = {
        "containerArn": task.arn.replace(":task/", ":container/") + f"/{container.name}",
        "taskArn": task.arn,
        "name": container.name,
        "image": container.image,
        "lastStatus": container.last_status,
        "healthStatus": container.health_status,
        "networkInterfaces": [
            {"attachmentId": attachment["id"], "privateIpv4Address": task.private_ip}
        ],
    }
    if container.exit_code is not None:
        container_json["exitCode"] = container.exit_code
    if container.reason:
        container_json["reason"] = container.reason
    answer: dict[str, Any] = {
        "taskArn": task.arn,
        "clusterArn": task.cluster_arn,
        "taskDefinitionArn": task.task_definition_arn,
        "group": task.group,
        "launchType": task.launch_type,
        "lastStatus": task.last_status,
        "desiredStatus": task.desired_status,
        "healthStatus": task.health_status,
        "containers": [container_json],
        "attachments": [attachment],
        "createdAt": _epoch(task.created_at),
        "overrides": task.overrides or {"containerOverrides": []},
        "version": 1,
    }
    if task.cpu:
        answer["cpu"] = task.cpu
    if task.memory:
        answer["memory"] = task.memory
    if task.started_by:
        answer["startedBy"] = task.started_by
    for key, value in (
        ("startedAt", task.started_at),
        ("stoppingAt", task.stopping_at),
        ("stoppedAt", task.stopped_at),
    ):
        if value is not None:
            answer[key] = _epoch(value)
    if task.stopped_reason:
        answer["stoppedReason"] = task.stopped_reason
    if task.stop_code:
        answer["stopCode"] = task.stop_code
    return answer
