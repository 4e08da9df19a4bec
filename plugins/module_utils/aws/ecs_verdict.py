# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The verdict on one ECS deployment of a service, from ``describe_services``, and the words
that explain a failure, from the tasks the deployment started and that stopped. Pure
functions of plain data.

How ECS documents a rolling deployment (``Deployment.rolloutState``, the deployment circuit
breaker): ``update_service`` makes a new deployment, ``PRIMARY``, ``IN_PROGRESS``; the one
before becomes ``ACTIVE`` and drains. When the service reaches a steady state the new one is
``COMPLETED``. When its tasks keep failing and the circuit breaker is on, it turns ``FAILED``
and launches no more tasks; with ``rollback`` on, ECS then starts another deployment, which is
``PRIMARY``, of the last ``COMPLETED`` deployment's task definition, and the failed one goes on
as ``ACTIVE`` (``FAILED``) until it is drained and leaves the list. A task records the
deployment that started it in ``startedBy`` (the deployment id).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
FAILED = "failed"
ROLLED_BACK = "rolled_back"
SUPERSEDED = "superseded"  # another deployment (not a rollback) replaced ours


def short_arn(arn: str | None) -> str:
    """``notes-api:8`` for ``arn:aws:ecs:...:task-definition/notes-api:8``; a task's id."""
    return (arn or "").rsplit("/", 1)[-1]


def find_deployment(service: Mapping[str, Any], deployment_id: str) -> dict[str, Any] | None:
    return next((d for d in service.get("deployments") or [] if d.get("id") == deployment_id), None)


def primary_deployment(service: Mapping[str, Any]) -> dict[str, Any] | None:
    return next((d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), None)


def _mentions_failure(service: Mapping[str, Any], deployment_id: str) -> bool:
    """Whether a service event says that deployment failed (ECS writes ``(deployment <id>)
    deployment failed: ...`` when the circuit breaker trips)."""
    for event in service.get("events") or []:
        message = str(event.get("message") or "")
        if deployment_id in message and "fail" in message.lower():
            return True
    return False


def _steady_without_rollout_state(service: Mapping[str, Any], ours: Mapping[str, Any]) -> bool:
    """A service that reports no rolloutState (no circuit breaker support) is steady when our
    deployment is the only one and runs all its tasks."""
    return (
        len(service.get("deployments") or []) == 1
        and ours.get("runningCount") == ours.get("desiredCount")
        and not ours.get("pendingCount")
    )


def verdict(service: Mapping[str, Any], deployment_id: str) -> dict[str, Any]:
    """Where deployment ``deployment_id`` of ``service`` stands.

    ``state``: ``in_progress``, ``completed``, ``failed`` (FAILED and no rollback),
    ``rolled_back`` (FAILED, and the circuit breaker made another deployment PRIMARY) or
    ``superseded`` (another deployment replaced it, with no failure of ours on record).
    ``settled`` says whether it will change no more: a rollback is settled once its own
    deployment is no longer IN_PROGRESS. ``rollback`` is the deployment that replaced ours.
    """
    ours = find_deployment(service, deployment_id)
    primary = primary_deployment(service)
    result: dict[str, Any] = {
        "deployment_id": deployment_id,
        "task_definition": (ours or {}).get("taskDefinition"),
        "rollout_state": (ours or {}).get("rolloutState"),
        "reason": (ours or {}).get("rolloutStateReason"),
        "rollback": None,
    }
    if ours is not None and ours.get("status") == "PRIMARY":
        rollout = ours.get("rolloutState")
        if rollout == "COMPLETED" or (
            rollout is None and _steady_without_rollout_state(service, ours)
        ):
            state = COMPLETED
        elif rollout == "FAILED":
            state = FAILED
        else:
            state = IN_PROGRESS
        return dict(result, state=state, settled=state != IN_PROGRESS)
    if primary is not None:
        result["rollback"] = {
            "deployment_id": primary.get("id"),
            "task_definition": primary.get("taskDefinition"),
            "rollout_state": primary.get("rolloutState"),
        }
    failed = (ours or {}).get("rolloutState") == "FAILED" or (
        ours is None and _mentions_failure(service, deployment_id)
    )
    if failed:
        settled = primary is None or primary.get("rolloutState") != "IN_PROGRESS"
        return dict(result, state=ROLLED_BACK, settled=settled)
    return dict(result, state=SUPERSEDED, settled=True)


def stopped_task(task: Mapping[str, Any]) -> dict[str, Any]:
    """What a stopped task says about its end: its id, ``stoppedReason``, ``stopCode`` and
    each container's exit code and reason."""
    return {
        "task_id": short_arn(task.get("taskArn")),
        "stopped_reason": task.get("stoppedReason"),
        "stop_code": task.get("stopCode"),
        "containers": [
            {"name": c.get("name"), "exit_code": c.get("exitCode"), "reason": c.get("reason")}
            for c in task.get("containers") or []
        ],
    }


def task_words(task: Mapping[str, Any]) -> str:
    """``Essential container in task exited (app: exit code 1)`` for a :func:`stopped_task`:
    the containers that exited non-zero or say why; all of them when none did."""
    containers = task.get("containers") or []
    telling = [c for c in containers if c.get("exit_code") not in (0, None) or c.get("reason")]
    details = []
    for container in telling or containers:
        parts = []
        if container.get("exit_code") is not None:
            parts.append(f"exit code {container['exit_code']}")
        if container.get("reason"):
            parts.append(str(container["reason"]))
        if parts:
            details.append(f"{container.get('name')}: {', '.join(parts)}")
    reason = task.get("stopped_reason") or task.get("stop_code") or "stopped, no reason given"
    return f"{reason} ({'; '.join(details)})" if details else str(reason)


def stopped_summary(tasks: Sequence[Mapping[str, Any]]) -> str:
    """The stopped tasks' reasons, the same ones counted once: ``3 tasks: <words>; <words>``;
    the most frequent first."""
    counts = Counter(task_words(t) for t in tasks)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "; ".join(f"{n} tasks: {words}" if n > 1 else words for words, n in ordered)


def failure_message(
    service_name: str, found: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]]
) -> str:
    """Why a deployment did not complete, in one message: its verdict (:func:`verdict`), ECS's
    reason and what its stopped tasks (:func:`stopped_task`) say."""
    ours = f"deployment {found['deployment_id']} of service {service_name}"
    if found.get("task_definition"):
        ours += f" (task definition {short_arn(found['task_definition'])})"
    state = found["state"]
    rollback = found.get("rollback") or {}
    target = (
        f"deployment {rollback.get('deployment_id')} "
        f"(task definition {short_arn(rollback.get('task_definition'))}, "
        f"{rollback.get('rollout_state') or 'no rollout state'})"
    )
    if state == ROLLED_BACK:
        text = f"{ours} failed and the circuit breaker rolled the service back to {target}"
    elif state == SUPERSEDED:
        text = f"{ours} was replaced by {target} before it completed"
    elif state == FAILED:
        text = f"{ours} failed"
    elif state == IN_PROGRESS:
        text = f"{ours} did not complete in time (still IN_PROGRESS)"
    else:
        text = f"{ours} completed"
    if found.get("reason"):
        text += f": {found['reason']}"
    if tasks:
        text = text.rstrip(".") + f". Stopped tasks: {stopped_summary(tasks)}"
    return text
