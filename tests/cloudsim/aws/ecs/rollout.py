"""One step of a service's rolling update (the ECS deployment controller), under the lock.

- The PRIMARY deployment gets tasks until it has the desired count, while all the service's
  tasks not yet STOPPED stay within ``maximumPercent`` of the desired count (rounded down).
- Tasks of older deployments stop while the healthy tasks left stay at or above
  ``minimumHealthyPercent`` (rounded up); ones that are not healthy stop at once.
- The PRIMARY is COMPLETED once it runs the desired count of healthy tasks and no other
  deployment has a task left; drained deployments turn INACTIVE.
- Circuit breaker: when the PRIMARY's failed tasks reach the threshold (``model.
  breaker_threshold``) it turns FAILED and launches no more tasks; with rollback, a new PRIMARY
  deployment of the last COMPLETED task definition starts, and the service's task definition
  goes back to it.
"""

from __future__ import annotations

import time
from typing import Any

from . import health, model, runspec
from .model import Deployment, Task


def deployment_of(service: Any, task: Task) -> Deployment | None:
    return next((d for d in service.deployments if d.id == task.deployment), None)


def tasks_of(engine: Any, service: Any) -> list[Task]:
    return [t for t in engine.tasks.values() if t.service == service.arn]


def new_deployment(engine: Any, service: Any, task_definition: str, reason: str = "") -> Deployment:
    """Make a new PRIMARY deployment; the former ones turn ACTIVE (under the lock)."""
    svc = service.moto
    for old in service.deployments:
        if old.status == "PRIMARY":
            old.status = "ACTIVE"
            old.updated_at = model.now()
    deployment = Deployment(
        id=model.deployment_id(),
        task_definition=task_definition,
        desired_count=svc.desired_count,
        launch_type=svc.launch_type,
        platform_version=svc.platform_version,
        network_configuration=svc.network_configuration or None,
    )
    if reason:
        deployment.rollout_state_reason = reason
    service.deployments.insert(0, deployment)
    service.steady = False
    engine.wake()
    return deployment


def count(engine: Any, service: Any) -> None:
    """Each deployment's running and pending counts, from its tasks."""
    by_id = {d.id: d for d in service.deployments}
    for deployment in service.deployments:
        deployment.running_count = deployment.pending_count = 0
    for task in tasks_of(engine, service):
        deployment = by_id.get(task.deployment or "")
        if deployment is None or not task.live:
            continue
        if task.last_status == model.RUNNING:
            deployment.running_count += 1
        else:
            deployment.pending_count += 1


def step(engine: Any, service: Any) -> None:
    if service.deleting:
        _drain_deleted(engine, service)
        return
    tasks = tasks_of(engine, service)
    desired = service.moto.desired_count
    primary = service.primary
    primary.desired_count = desired
    config = service.config
    _breaker(engine, service)
    primary = service.primary
    healthy = {t.id for t in tasks if t.live and health.healthy(engine, t)}
    floor = model.min_healthy(desired, config.minimum_healthy_percent)
    ceiling = max(model.max_tasks(desired, config.maximum_percent), 1 if desired else 0)
    changed = False
    # Stop old deployments' tasks: the unhealthy at once, the healthy while the floor holds.
    if primary.rollout_state != "FAILED":  # a failed deployment, not rolled back, stays put
        old = [t for t in tasks if t.live and t.deployment != primary.id]
        old.sort(key=lambda t: t.id in healthy)  # not healthy first
        for task in old:
            if task.id in healthy and len(healthy) - 1 < floor:
                break
            healthy.discard(task.id)
            _scheduler_stop(engine, service, task)
            changed = True
    # Scale the primary in (a lower desired count), the unhealthy first.
    mine = [t for t in tasks if t.live and t.deployment == primary.id]
    mine.sort(key=lambda t: t.id in healthy)
    while len(mine) > desired:
        task = mine.pop(0)
        healthy.discard(task.id)
        _scheduler_stop(engine, service, task)
        changed = True
    # Start the primary's missing tasks within the ceiling (no launch once FAILED).
    if primary.rollout_state != "FAILED":
        alive = sum(1 for t in tasks_of(engine, service) if t.alive)
        room = min(desired - len(mine), ceiling - alive)
        started = [_start(engine, service, primary) for _number in range(max(room, 0))]
        if started:
            service.say(
                f"has started {len(started)} tasks: "
                + " ".join(f"(task {t.id})" for t in started)
                + "."
            )
            changed = True
    if changed:
        service.steady = False
    _settle(engine, service, healthy)
    for listener in engine.on_step:
        listener(service, _counts(engine, service, healthy, floor, ceiling))


def _counts(engine: Any, service: Any, healthy: set, floor: int, ceiling: int) -> dict:
    tasks = tasks_of(engine, service)
    return {
        "healthy": len(healthy),
        "alive": sum(1 for t in tasks if t.alive),
        "floor": floor,
        "ceiling": ceiling,
        "primary": service.primary.id,
    }


def _start(engine: Any, service: Any, deployment: Deployment) -> Task:
    svc = service.moto
    region = service.region
    backend = engine.gateway.backend("ecs", region)
    task_definition = backend.describe_task_definition(deployment.task_definition)
    try:
        spec = runspec.run_spec(
            engine.gateway, region, task_definition, defaults=engine.aws.task_env(region)
        )
    except runspec.SecretError as exc:
        spec = exc
    vpc = (svc.network_configuration or {}).get("awsvpcConfiguration") or {}
    return engine.new_task(
        region, svc.cluster_arn, task_definition, group=f"service:{service.name}",
        started_by=deployment.id, launch_type=svc.launch_type or "FARGATE",
        subnets=list(vpc.get("subnets") or []), spec_and_container=spec,
        service=service, deployment=deployment,
    )  # fmt: skip


def _scheduler_stop(engine: Any, service: Any, task: Task) -> None:
    deployment = deployment_of(service, task)
    reason = model.SCALING_IN.format(deployment=deployment.id if deployment else task.deployment)
    engine.stop_task(task, reason, model.SCHEDULER_INITIATED)
    service.say(f"has stopped 1 running tasks: (task {task.id}).")


def _breaker(engine: Any, service: Any) -> None:
    primary = service.primary
    breaker = service.config.deployment_circuit_breaker
    if not breaker.enable or primary.rollout_state != "IN_PROGRESS":
        return
    if primary.breaker_failures < model.breaker_threshold(primary.desired_count):
        return
    primary.set_rollout("FAILED", "ECS deployment circuit breaker: tasks failed to start.")
    service.say(f"(deployment {primary.id}) deployment failed: tasks failed to start.")
    target = service.last_completed
    if breaker.rollback and target is not None:
        reason = f"ECS deployment circuit breaker: rolling back to deploymentId {target.id}."
        rollback = new_deployment(engine, service, target.task_definition, reason)
        service.moto.task_definition = target.task_definition
        service.say(
            f"(deployment {primary.id}) rolling back to deployment {target.id} "
            f"({_short(target.task_definition)}) as deployment {rollback.id}."
        )


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _settle(engine: Any, service: Any, healthy: set) -> None:
    """Turn drained deployments INACTIVE; COMPLETED and the steady state when all is done."""
    tasks = tasks_of(engine, service)
    primary = service.primary
    for deployment in service.deployments[1:]:
        if deployment.status == "ACTIVE" and not any(
            t.alive for t in tasks if t.deployment == deployment.id
        ):
            deployment.status = "INACTIVE"
            deployment.inactive_since = time.monotonic()
            deployment.updated_at = model.now()
    others_left = any(t.alive and t.deployment != primary.id for t in tasks)
    mine_healthy = sum(1 for t in tasks if t.id in healthy and t.deployment == primary.id)
    mine_live = sum(1 for t in tasks if t.live and t.deployment == primary.id)
    done = not others_left and mine_healthy >= primary.desired_count == mine_live
    if done and primary.rollout_state == "IN_PROGRESS":
        primary.set_rollout("COMPLETED", f"ECS deployment {primary.id} completed.")
        service.last_completed = primary
        service.say(f"(deployment {primary.id}) deployment completed.")
    if done and not service.steady and primary.rollout_state == "COMPLETED":
        service.steady = True
        service.say("has reached a steady state.")


def _drain_deleted(engine: Any, service: Any) -> None:
    tasks = tasks_of(engine, service)
    for task in tasks:
        if task.live:
            _scheduler_stop(engine, service, task)
    if not any(t.alive for t in tasks):
        service.moto.status = "INACTIVE"
        for deployment in service.deployments:
            deployment.status = "INACTIVE"
        del engine.services[service.arn]
