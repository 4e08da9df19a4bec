"""The local AWS's ECS: services deploy as AWS documents and their tasks really run.

moto stores clusters, task definitions and services; this engine (``engine.py``) owns each
service's deployments (rolling update within minimum/maximum percent, rolloutState, the
deployment circuit breaker with rollback, ``rollout.py``) and the tasks, which run through the
vendor's runtime (``aws.runtime``: memory for unit tests, podman for real containers). Task
health: ``health.py`` and ``targets.py`` (container health checks; target groups through the
ELB engine when it is installed). The calls it answers or completes: ``hooks.py``.

``install(aws)`` returns the :class:`EcsEngine`; its ``settings`` (``engine.Settings``) are
the intervals and retentions tests shrink.
"""

from __future__ import annotations

from typing import Any

from .engine import EcsEngine, ServiceState, Settings
from .hooks import Hooks


def install(aws: Any) -> EcsEngine:
    engine = EcsEngine(aws)
    Hooks(engine).install()
    return engine


__all__ = ["EcsEngine", "ServiceState", "Settings", "install"]
