"""Task health: one probe round (container health checks; the ELB engine checks targets), then
the verdicts the service scheduler acts on.

A task is healthy for its deployment when it is RUNNING, its container health check (if it
has one) passes, and, behind a load balancer, its target is ``healthy`` (the engine contract).
Its container turns UNHEALTHY after ``retries`` consecutive failures (AWS default 3) once its
``startPeriod`` has passed; the first pass makes it HEALTHY. A service task whose container is
UNHEALTHY, or whose target is ``unhealthy``, is stopped and replaced, and counts as a failure
for its deployment (the circuit breaker's count).
"""

from __future__ import annotations

import time
from typing import Any

from . import model, targets
from .model import Task


def probe_round(engine: Any) -> None:
    now = time.monotonic()
    with engine.lock:
        due = []
        for task in engine.tasks.values():
            if not _running(task) or now - task.last_probe < engine.settings.health_interval_s:
                continue
            task.last_probe = now
            if task.health_check:
                due.append((task.id, task.health_check))
    results = []
    for tid, health_check in due:  # the lock released: probes may take seconds
        results.append((tid, targets.container_check(engine.runtime, tid, health_check)))
    with engine.lock:
        for tid, container in results:
            task = engine.tasks.get(tid)
            if task is not None and _running(task):
                _container_result(task, container[0], now)
        for task in list(engine.tasks.values()):
            if _running(task):
                judge(engine, task)


def _running(task: Task) -> bool:
    return task.last_status == model.RUNNING and task.desired_status == model.RUNNING


def _container_result(task: Task, passed: bool, now: float) -> None:
    check = task.health_check or {}
    if passed:
        task.check_failures = 0
        task.container.health_status = "HEALTHY"
    elif now - task.started_mono >= float(check.get("startPeriod") or 0):
        task.check_failures += 1
        if task.check_failures >= int(check.get("retries") or 3):
            task.container.health_status = "UNHEALTHY"
    task.health_status = task.container.health_status


def healthy(engine: Any, task: Task) -> bool:
    if not _running(task):
        return False
    if task.health_check and task.container.health_status != "HEALTHY":
        return False
    return engine.target_state(task) in (None, "healthy")


def judge(engine: Any, task: Task) -> None:
    """Act on a running task's health: replace a failing service task, or note a healthy one
    (a healthy task resets its deployment's circuit breaker count: resetOnHealthyTask)."""
    service = engine.services.get(task.service or "")
    if service is None:
        return
    short = task.id
    if task.health_check and task.container.health_status == "UNHEALTHY":
        service.say(f"(task {short}) failed container health checks.")
        engine.stop_task(task, model.CONTAINER_UNHEALTHY, model.SCHEDULER_INITIATED)
        engine._count_failure(task)
        return
    if engine.target_state(task) == "unhealthy":
        arn, port = task.targets[0]
        service.say(
            f"(port {port}) is unhealthy in (target-group {arn}) "
            "due to (reason Health checks failed)."
        )
        engine.stop_task(task, model.ELB_FAILED.format(target_group=arn), model.SCHEDULER_INITIATED)
        engine._count_failure(task)
        return
    if not task.ever_healthy and healthy(engine, task):
        task.ever_healthy = True
        deployment = next((d for d in service.deployments if d.id == task.deployment), None)
        if deployment is not None:
            deployment.breaker_failures = 0
