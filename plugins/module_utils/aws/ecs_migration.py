# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one-off migration task of ``ecs_deploy``: the new task definition run once, with a
command override on one container, where the service runs its tasks (its network
configuration, launch type or capacity providers and platform version); it succeeds only
when that container exits 0. Pure functions of plain data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_verdict import (
    short_arn,
    stopped_task,
    task_words,
)

STARTED_BY_PREFIX = "sigma-deploy/migrate/"
# What the service tells run_task about where its tasks run.
PLACEMENT_FIELDS = (
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "networkConfiguration",
)


def started_by(release_id: str) -> str:
    """The migration task's ``startedBy``: ECS allows up to 128 letters, digits, ``-``, ``_``
    and ``/``; other characters of the release id become ``_``."""
    return (STARTED_BY_PREFIX + re.sub(r"[^A-Za-z0-9_/-]", "_", release_id))[:128]


def run_task_input(
    service: Mapping[str, Any],
    task_definition_arn: str,
    container: str,
    command: Sequence[str],
    release_id: str,
    client_token: str,
) -> dict[str, Any]:
    """The ``run_task`` input of the migration: one task of ``task_definition_arn`` where the
    service runs its tasks, ``command`` instead of ``container``'s own. ``client_token`` makes
    a retried call start one task only."""
    wanted: dict[str, Any] = {
        "cluster": service["clusterArn"],
        "taskDefinition": task_definition_arn,
        "count": 1,
        "startedBy": started_by(release_id),
        "overrides": {"containerOverrides": [{"name": container, "command": list(command)}]},
        "clientToken": client_token,
    }
    for field in PLACEMENT_FIELDS:
        if service.get(field):
            wanted[field] = service[field]
    if "launchType" in wanted and "capacityProviderStrategy" in wanted:
        del wanted["launchType"]  # ECS takes one or the other; the strategy is the finer one
    return wanted


def outcome(task: Mapping[str, Any], container: str) -> dict[str, Any]:
    """Where the migration task stands: ``done`` once STOPPED; ``ok`` when ``container``
    exited 0; ``exit_code`` (None when it never ran); ``message`` in words."""
    task_id = short_arn(task.get("taskArn"))
    status = task.get("lastStatus")
    if status != "STOPPED":
        return {
            "done": False,
            "ok": False,
            "exit_code": None,
            "task_id": task_id,
            "message": f"migration task {task_id} is {status}",
        }
    ours = next((c for c in task.get("containers") or [] if c.get("name") == container), {})
    code = ours.get("exitCode")
    if code == 0:
        message = f"migration task {task_id} ended: {container} exited 0"
    else:
        message = f"migration task {task_id} failed: {task_words(stopped_task(task))}"
        if code is None:
            message += f"; {container} never exited with a code"
    return {
        "done": True,
        "ok": code == 0,
        "exit_code": code,
        "task_id": task_id,
        "message": message,
    }


def run_failures(answer: Mapping[str, Any]) -> str:
    """``run_task``'s ``failures`` in words (``arn: RESOURCE:MEMORY``), empty when none."""
    return "; ".join(
        f"{f.get('arn') or 'task'}: {f.get('reason')}"
        + (f" ({f['detail']})" if f.get("detail") else "")
        for f in answer.get("failures") or []
    )
