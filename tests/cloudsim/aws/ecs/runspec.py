"""What a task runs: the task definition's essential container as a runtime ``RunSpec``.

The environment is the container's ``environment`` plus its ``secrets``, each ``valueFrom``
resolved from moto's Secrets Manager (a secret's ARN or name, optionally
``<arn>:<json-key>:<version-stage>:<version-id>`` as ECS allows) or SSM Parameter Store (a
parameter's ARN or name), then the RunTask overrides (``command``, ``environment``). Only the
first essential container runs (the apps here have one; sidecars are not simulated).
Call with the gateway's lock held: it reads moto's backends.
"""

from __future__ import annotations

import json
from typing import Any

from ...fly.runtime import RunSpec
from ..gateway import AwsError


class SecretError(Exception):
    """A secret of the task could not be fetched (the task fails to start)."""


def essential_container(task_definition: Any) -> dict:
    containers = task_definition.container_definitions or []
    if not containers:
        raise AwsError("ClientException", "Container list cannot be empty.")
    return next((c for c in containers if c.get("essential", True)), containers[0])


def _secret(gateway: Any, region: str, value_from: str) -> str:
    if ":ssm:" in value_from or ":" not in value_from:  # an SSM parameter's ARN or name
        name = value_from.split(":parameter", 1)[-1] if ":ssm:" in value_from else value_from
        ssm = gateway.backend("ssm", region)
        parameter = ssm.get_parameter(name) or ssm.get_parameter(name.lstrip("/"))
        if parameter is None:
            raise SecretError(f"ParameterNotFound: {name}")
        return parameter.decrypt(parameter.value) or ""  # a SecureString: ECS decrypts it
    # arn:aws:secretsmanager:<region>:<account>:secret:<name-suffix>[:json-key:stage:version]
    parts = value_from.split(":")
    secret_id, json_key = ":".join(parts[:7]), parts[7] if len(parts) > 7 else ""
    try:
        answer = gateway.backend("secretsmanager", region).get_secret_value(secret_id, None, None)
    except Exception as exc:  # moto's SecretNotFoundException and friends
        raise SecretError(
            f"ResourceNotFoundException: Secrets Manager can't find the specified secret "
            f"({secret_id}): {exc}"
        ) from exc
    text = answer.get("SecretString") or ""
    if not json_key:
        return text
    try:
        return str(json.loads(text)[json_key])
    except (ValueError, KeyError, TypeError) as exc:
        raise SecretError(f"the secret {secret_id} has no JSON key {json_key}") from exc


def run_spec(
    gateway: Any,
    region: str,
    task_definition: Any,
    overrides: dict | None = None,
    defaults: dict[str, str] | None = None,
) -> tuple[RunSpec, dict]:
    """The RunSpec of a task and its container definition; raises :class:`SecretError`.
    ``defaults`` (the vendor's ``task_env``: how the task's AWS SDK reaches the local AWS) are
    under everything the task definition sets."""
    container = essential_container(task_definition)
    env = dict(defaults or {})
    env.update({e["name"]: str(e.get("value", "")) for e in container.get("environment") or []})
    for secret in container.get("secrets") or []:
        env[secret["name"]] = _secret(gateway, region, secret["valueFrom"])
    command = container.get("command") or None
    for override in (overrides or {}).get("containerOverrides") or []:
        if override.get("name") not in (None, container.get("name")):
            continue
        env.update({e["name"]: str(e.get("value", "")) for e in override.get("environment") or []})
        command = override.get("command") or command
    init = {"entrypoint": container["entryPoint"]} if container.get("entryPoint") else {}
    spec = RunSpec(
        image=container.get("image") or "",
        env=env,
        cmd=list(command) if command else None,
        init=init,
        name=container.get("name") or "",
    )
    return spec, container
