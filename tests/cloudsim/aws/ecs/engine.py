"""The ECS engine: services' deployments and their tasks, moved on by its own thread.

State lives here (:attr:`EcsEngine.services`, :attr:`EcsEngine.tasks`); moto keeps clusters,
task definitions and services, and the engine publishes each service's deployments, counts
and events onto moto's ``Service`` object (``model.py``). Every change happens under the
gateway's lock and is short; the runtime's launch/stop/destroy return at once and report back
on their own threads (:meth:`reporter`); health probes run with the lock released.

The reconcile loop (:meth:`tick`, every ``settings.tick_s`` or sooner when a report wakes it):
probe running tasks (``health.py``), then step each service's rollout (``rollout.py``) and move
each stopping task one stage on (deregister → drain → stop → deprovision).
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import health, model, rollout, targets
from .model import Container, Deployment, DeploymentConfiguration, Task


@dataclass
class Settings:
    """What tests (and the demo) may shrink. AWS's own values are slower."""

    tick_s: float = 1.0  # between two reconcile rounds
    health_interval_s: float = 2.0  # between two probes of a task (AWS: healthCheck.interval)
    stop_timeout_s: float = 30.0  # SIGTERM to SIGKILL (AWS default; a container's stopTimeout wins)
    stopped_retention_s: float = 3600.0  # how long a STOPPED task stays listable (AWS: >= 1 h)
    inactive_retention_s: float = 300.0  # how long an INACTIVE deployment stays in the list
    drain_limit_s: float = 900.0  # the longest the engine waits for a target to drain


@dataclass
class ServiceState:
    arn: str
    region: str
    cluster: str
    name: str
    moto: Any  # moto's Service object
    config: DeploymentConfiguration
    deployments: list[Deployment] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    last_completed: Deployment | None = None  # the last COMPLETED deployment (rollback target)
    steady: bool = False
    deleting: bool = False

    @property
    def primary(self) -> Deployment:
        return self.deployments[0]

    def event(self, message: str) -> None:
        self.events.insert(
            0, {"id": str(uuid.uuid4()), "createdAt": model.now(), "message": message}
        )
        del self.events[100:]  # AWS shows the 100 most recent

    def say(self, text: str) -> None:
        self.event(f"(service {self.name}) {text}")


class EcsEngine:
    def __init__(self, aws: Any, settings: Settings | None = None) -> None:
        self.aws = aws
        self.gateway = aws.gateway
        self.runtime = aws.runtime
        self.elb = aws.engine("elb")
        if self.elb is None:
            raise RuntimeError("the ECS engine needs the ELB engine: install elb before ecs")
        self.settings = settings or Settings()
        self.services: dict[str, ServiceState] = {}
        self.tasks: dict[str, Task] = {}
        # Called under the lock after each service's step: (service, counts); tests record.
        self.on_step: list[Callable[[ServiceState, dict], None]] = []
        self._ips: dict[str, int] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.elb.probers.append(self.probe_target)

    @property
    def lock(self) -> threading.RLock:
        return self.gateway.lock

    # -- the loop ------------------------------------------------------------------------

    def wake(self) -> None:
        """Reconcile soon; starts the engine's thread at its first use."""
        if self._thread is None or not self._thread.is_alive():
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._loop, args=(self._stop,), name="aws-ecs", daemon=True
            )
            self._thread.start()
        self._wake.set()

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                self.tick()
            except Exception:  # one bad round must not end the engine; the next one retries
                import logging

                logging.getLogger(__name__).exception("ECS reconcile round failed")
            self._wake.wait(self.settings.tick_s)

    def tick(self) -> None:
        """One reconcile round (tests may call it to step synchronously)."""
        health.probe_round(self)
        with self.lock:
            for service in list(self.services.values()):
                rollout.step(self, service)
            for task in list(self.tasks.values()):
                if task.start_error and task.alive:
                    self._failed(task, task.start_error)
                self._advance_stop(task)
            self._prune()
            for service in self.services.values():
                self.publish(service)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()

    def reset(self) -> None:
        """Forget everything; remove the containers of tasks still alive."""
        self.close()
        with self.lock:
            for task in self.tasks.values():
                if task.alive:
                    self.runtime.destroy(task.id, lambda *_: None)
            self.services.clear()
            self.tasks.clear()
            self._ips.clear()

    # -- tasks ---------------------------------------------------------------------------

    def new_task(
        self, region: str, cluster_arn: str, task_definition: Any, *, group: str,
        started_by: str | None, launch_type: str, subnets: list[str], spec_and_container,
        service: ServiceState | None = None, deployment: Deployment | None = None,
        overrides: dict | None = None,
    ) -> Task:  # fmt: skip
        """Create a task and launch it (under the lock). ``spec_and_container`` is
        ``runspec.run_spec``'s answer, or the :class:`SecretError` it raised."""
        tid = model.task_id()
        account_region = cluster_arn.split(":cluster/", maxsplit=1)[0]
        cluster_name = cluster_arn.rsplit("/", 1)[-1]
        arn = f"{account_region}:task/{cluster_name}/{tid}"
        subnet = subnets[0] if subnets else None
        failure = spec_and_container if isinstance(spec_and_container, Exception) else None
        spec, container_def = (None, {}) if failure else spec_and_container
        image = spec.image if spec else model_image(task_definition)
        task = Task(
            id=tid, arn=arn, region=region, cluster_arn=cluster_arn,
            task_definition_arn=task_definition.arn, group=group, started_by=started_by,
            launch_type=launch_type,
            container=Container(name=container_def.get("name") or "app", image=image),
            private_ip=self._allocate_ip(region, subnet), subnet_id=subnet,
            service=service.arn if service else None,
            deployment=deployment.id if deployment else None,
            health_check=container_def.get("healthCheck"),
            cpu=getattr(task_definition, "cpu", None),
            memory=getattr(task_definition, "memory", None),
            overrides=overrides or {},
        )  # fmt: skip
        task.stop_timeout = float(container_def.get("stopTimeout") or self.settings.stop_timeout_s)
        self.tasks[tid] = task
        if failure is not None:  # it fails on the engine's next round, as ECS answers first
            task.start_error = (
                f"ResourceInitializationError: unable to pull secrets or registry auth: {failure}"
            )
            self.wake()
            return task
        task.last_status = model.PENDING
        self.runtime.launch(tid, spec, self.reporter(tid))
        self.wake()
        return task

    def stop_task(self, task: Task, reason: str, code: str) -> None:
        """Ask a task to stop (under the lock); the loop drains and stops it."""
        if not task.alive:
            return
        task.stop_requested(reason, code)
        self._advance_stop(task)
        self.wake()

    def reporter(self, tid: str) -> Callable[[str, dict], None]:
        def report(event: str, details: dict) -> None:
            with self.lock:
                task = self.tasks.get(tid)
                if task is not None:
                    self._apply(task, event, details)
            self.wake()

        return report

    def _apply(self, task: Task, event: str, details: dict) -> None:
        container = task.container
        if event == "started":
            address = self.runtime.address(task.id)
            if address:
                task.private_ip = address
            container.last_status = model.RUNNING
            task.started_at = model.now()
            task.started_mono = time.monotonic()
            if task.desired_status == model.RUNNING:
                task.last_status = model.RUNNING
                self._register(task)
        elif event == "failed":
            error = details.get("error") or "unknown error"
            kind = (
                "CannotPullContainerError"
                if details.get("reason") == "image"
                else ("CannotStartContainerError")
            )
            self._failed(task, f"{kind}: {error}")
        elif event in ("exited", "stopped"):
            container.last_status = model.STOPPED
            if "exit_code" in details:
                container.exit_code = int(details["exit_code"])
            if task.desired_status == model.RUNNING:  # it ended by itself
                task.stop_requested(model.EXITED, model.ESSENTIAL_CONTAINER_EXITED)
                self._count_failure(task)
                if task.targets:
                    self._deregister(task)
            if task.last_status not in (model.DEPROVISIONING, model.STOPPED):
                task.last_status = model.DEPROVISIONING
                self.runtime.destroy(task.id, self.reporter(task.id))
        elif event == "destroyed":
            self._stopped(task)

    def _failed(self, task: Task, reason: str) -> None:
        """The task could not start: it is STOPPED at once (no container to remove)."""
        task.container.reason = reason
        task.container.last_status = model.STOPPED
        task.stop_requested(reason, model.TASK_FAILED_TO_START)
        self._count_failure(task)
        self._stopped(task)

    def _stopped(self, task: Task) -> None:
        if task.last_status == model.STOPPED:
            return
        task.last_status = model.STOPPED
        task.container.last_status = model.STOPPED
        task.stopped_at = model.now()
        task.stopped_mono = time.monotonic()

    def _count_failure(self, task: Task) -> None:
        service = self.services.get(task.service or "")
        deployment = rollout.deployment_of(service, task) if service else None
        if deployment is not None and task.stop_code != model.USER_INITIATED:
            deployment.failed_tasks += 1
            if deployment.rollout_state == "IN_PROGRESS":
                deployment.breaker_failures += 1

    def _advance_stop(self, task: Task) -> None:
        """Move a stopping task one stage on: deregister, wait for draining, stop."""
        if task.desired_status != model.STOPPED or task.last_status in (
            model.STOPPING, model.DEPROVISIONING, model.STOPPED,
        ):  # fmt: skip
            return
        if task.last_status != model.DEACTIVATING and task.targets:
            self._deregister(task)
            task.last_status = model.DEACTIVATING
            task.drain_started = time.monotonic()
            return
        waited = time.monotonic() - task.drain_started
        draining = task.last_status == model.DEACTIVATING and self._draining(task)
        if draining and waited < self.settings.drain_limit_s:
            return
        task.last_status = model.STOPPING
        self.runtime.stop(task.id, "SIGTERM", task.stop_timeout, self.reporter(task.id))

    # -- load balancers ------------------------------------------------------------------

    def _register(self, task: Task) -> None:
        service = self.services.get(task.service or "")
        if service is None or not service.moto.load_balancers:
            return
        for arn in targets.register(self.gateway, task.region, task, service.moto.load_balancers):
            service.say(f"registered 1 targets in (target-group {arn})")
        if not task.targets:  # no such target group in moto: health by the runtime
            task.targets = []

    def _deregister(self, task: Task) -> None:
        service = self.services.get(task.service or "")
        groups = targets.deregister(self.gateway, task.region, task)
        if service is not None and groups:
            service.say("has begun draining connections on 1 tasks.")
            for arn in groups:
                service.say(f"deregistered 1 targets in (target-group {arn})")

    def _draining(self, task: Task) -> bool:
        return any(
            self.elb.target_health(arn, task.private_ip, port)[0] == "draining"
            for arn, port in task.targets
        )

    def target_state(self, task: Task) -> str | None:
        """The task's target health (the worst of its groups), or None when not behind one."""
        if not task.targets:
            return None
        states = [
            self.elb.target_health(arn, task.private_ip, port)[0] for arn, port in task.targets
        ]
        for state in ("unhealthy", "unused", "draining", "initial"):
            if state in states:
                return state
        return "healthy"

    def probe_target(self, target_id: str, port: int, path: str, timeout: float) -> bool | None:
        """The ELB engine's prober for our tasks' addresses (None: not one of ours)."""
        with self.lock:
            task = next(
                (t for t in self.tasks.values() if t.private_ip == target_id and t.alive), None
            )
        if task is None:
            return None
        check = {"type": "http", "port": port, "path": path or "/", "timeout": timeout}
        return self.runtime.probe(task.id, check)[0]

    # -- helpers -------------------------------------------------------------------------

    def _allocate_ip(self, region: str, subnet_id: str | None) -> str:
        """A private address in the task's subnet (the runtime's own replaces it once the
        task runs, when it has one)."""
        cidr = "10.0.0.0/16"
        if subnet_id:
            with contextlib.suppress(Exception):  # an unknown subnet: the default range
                cidr = self.gateway.backend("ec2", region).get_subnet(subnet_id).cidr_block
        network = ipaddress.ip_network(cidr, strict=False)
        index = self._ips.get(cidr, 9) + 1
        self._ips[cidr] = index
        return str(network.network_address + (index % max(network.num_addresses - 2, 1)) + 1)

    def publish(self, service: ServiceState) -> None:
        """Put the engine's view of a service onto moto's object (what every answer shows)."""
        rollout.count(self, service)
        svc = service.moto
        svc.deployments = list(service.deployments)
        svc.deployment_configuration = service.config
        svc.events = service.events
        svc.running_count = sum(d.running_count for d in service.deployments)
        svc.pending_count = sum(d.pending_count for d in service.deployments)

    def _prune(self) -> None:
        cutoff = time.monotonic() - self.settings.stopped_retention_s
        for tid, task in list(self.tasks.items()):
            if task.stopped_mono is not None and task.stopped_mono < cutoff:
                del self.tasks[tid]
        inactive_cutoff = time.monotonic() - self.settings.inactive_retention_s
        for service in self.services.values():
            service.deployments = [
                d for d in service.deployments
                if d.inactive_since is None or d.inactive_since >= inactive_cutoff
            ]  # fmt: skip


def model_image(task_definition: Any) -> str:
    containers = getattr(task_definition, "container_definitions", None) or [{}]
    return next((c for c in containers if c.get("essential", True)), containers[0]).get("image", "")
