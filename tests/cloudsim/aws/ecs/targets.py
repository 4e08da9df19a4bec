"""Tasks behind load balancers, and task health.

A task's targets are registered in moto's elbv2 backend and their health is the ELB engine's
``target_health`` (``aws.engine("elb")``, installed before ECS); ECS adds a prober to
``elb.probers`` that answers for its own tasks' addresses through the runtime (real HTTP with
podman; the memory runtime's rules otherwise: a ``:failing`` image fails).

A container ``healthCheck`` (``CMD-SHELL``/``CMD``) runs inside the container with podman
(``podman exec``; exit 0 passes); with the memory runtime it follows the runtime's check rules.
"""

from __future__ import annotations

import subprocess
from typing import Any

from .model import Task

EXEC_TIMEOUT = 10.0


def container_check(runtime: Any, key: str, health_check: dict) -> tuple[bool, str]:
    """Run a container health check once: (passed, output). Called without the lock."""
    command = list(health_check.get("command") or [])
    if hasattr(runtime, "container") and command:  # the podman runtime: exec in the container
        kind, args = command[0], command[1:]
        argv = ["sh", "-c", " ".join(args)] if kind == "CMD-SHELL" else args
        timeout = min(float(health_check.get("timeout") or 5), EXEC_TIMEOUT)
        try:
            done = subprocess.run(
                ["podman", "exec", runtime.container(key), *argv],
                capture_output=True, text=True, check=False, timeout=timeout,
                env=getattr(runtime, "env", None),
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return False, f"health check timed out after {timeout:g} s"
        output = (done.stdout + done.stderr).strip()[-200:]
        return done.returncode == 0, output or f"exit code {done.returncode}"
    return runtime.probe(key, {"type": "cmd", "command": command})


def register(gateway: Any, region: str, task: Task, load_balancers: list[dict]) -> list[str]:
    """Register the task's (ip, containerPort) in each target group; the groups registered."""
    backend = gateway.backend("elbv2", region)
    done = []
    for lb in load_balancers:
        arn, port = lb.get("targetGroupArn"), int(lb.get("containerPort") or 0)
        if not arn or arn not in backend.target_groups:
            continue
        backend.register_targets(arn, [{"Id": task.private_ip, "Port": port}])
        task.targets.append((arn, port))
        done.append(arn)
    return done


def deregister(gateway: Any, region: str, task: Task) -> list[str]:
    backend = gateway.backend("elbv2", region)
    done = []
    for arn, _port in task.targets:
        group = backend.target_groups.get(arn)
        if group is not None and task.private_ip in group.targets:
            backend.deregister_targets(arn, [{"Id": task.private_ip}])
            done.append(arn)
    return done
