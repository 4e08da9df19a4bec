# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The task definition of a release, for ``ecs_deploy``: the service's current task
definition (``describe_task_definition``'s ``taskDefinition``) with the release's image in the
named containers and ``RELEASE_ID`` (and the given variables) in their environment, as the
input of ``register_task_definition``. Pure functions of plain data.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

RELEASE_ENV = "RELEASE_ID"

# What describe_task_definition returns that register_task_definition does not take.
READ_ONLY_FIELDS = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
)


class TaskDefinitionError(ValueError):
    """The task definition cannot carry the release as asked; ``field`` is the option at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def default_container(taskdef: Mapping[str, Any]) -> str:
    """The name of the first essential container (a container is essential unless it says
    ``essential: false``)."""
    for container in taskdef.get("containerDefinitions") or []:
        if container.get("essential", True):
            return str(container["name"])
    raise TaskDefinitionError(
        f"task definition {taskdef.get('family')} has no essential container", "containers"
    )


def chosen_containers(taskdef: Mapping[str, Any], names: Sequence[str] | None) -> list[str]:
    """``names``, each checked to be a container of the task definition; by default the first
    essential one."""
    if not names:
        return [default_container(taskdef)]
    known = [c.get("name") for c in taskdef.get("containerDefinitions") or []]
    for name in names:
        if name not in known:
            raise TaskDefinitionError(
                f"containers: task definition {taskdef.get('family')} has no container "
                f"{name!r} (it has {', '.join(map(str, known))})",
                "containers",
            )
    return list(names)


def merged_environment(
    current: Sequence[Mapping[str, str]], additions: Mapping[str, str]
) -> list[dict[str, str]]:
    """A container's ``environment`` with ``additions`` set: the variables it has keep their
    order (those named in ``additions`` take the new value), new ones follow sorted by name."""
    merged = []
    seen = set()
    for entry in current:
        name = entry.get("name")
        value = additions.get(name, entry.get("value")) if name is not None else None
        merged.append({"name": name, "value": value})
        seen.add(name)
    merged.extend({"name": n, "value": additions[n]} for n in sorted(additions) if n not in seen)
    return merged


def release_environment(release_id: str, environment: Mapping[str, Any] | None) -> dict[str, str]:
    """The variables a release sets: ``environment`` (values as strings) and RELEASE_ID."""
    variables = {str(k): str(v) for k, v in (environment or {}).items()}
    if RELEASE_ENV in variables:
        raise TaskDefinitionError(
            f"environment: {RELEASE_ENV} is set by the module from release_id, remove it",
            "environment",
        )
    variables[RELEASE_ENV] = release_id
    return variables


def release_task_definition(
    current: Mapping[str, Any],
    image: str,
    release_id: str,
    containers: Sequence[str] | None = None,
    environment: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``register_task_definition`` input of a release: ``current`` without its read-only
    fields, the named containers (default: the first essential one) on ``image`` with
    RELEASE_ID and ``environment`` in their environment. ``current`` is not changed."""
    names = chosen_containers(current, containers)
    variables = release_environment(release_id, environment)
    wanted = {k: copy.deepcopy(v) for k, v in current.items() if k not in READ_ONLY_FIELDS}
    for container in wanted.get("containerDefinitions") or []:
        if container.get("name") in names:
            container["image"] = image
            container["environment"] = merged_environment(
                container.get("environment") or [], variables
            )
    return wanted


def container_release(taskdef: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``{image, release_id}`` of one container of a task definition (release_id None when
    its environment has no RELEASE_ID)."""
    for container in taskdef.get("containerDefinitions") or []:
        if container.get("name") == name:
            env = {e.get("name"): e.get("value") for e in container.get("environment") or []}
            return {"image": container.get("image"), "release_id": env.get(RELEASE_ENV)}
    return {"image": None, "release_id": None}


def carries_release(
    taskdef: Mapping[str, Any], names: Sequence[str], image: str, variables: Mapping[str, str]
) -> bool:
    """Whether every named container of ``taskdef`` runs ``image`` with ``variables`` (a
    :func:`release_environment`) in its environment: the release is there already."""
    by_name = {c.get("name"): c for c in taskdef.get("containerDefinitions") or []}
    for name in names:
        container = by_name.get(name) or {}
        env = {e.get("name"): e.get("value") for e in container.get("environment") or []}
        if container.get("image") != image or any(env.get(k) != v for k, v in variables.items()):
            return False
    return True
