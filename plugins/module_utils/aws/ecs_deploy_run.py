# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The run of ``ecs_deploy``: read the service, choose what to do, register the release's task
definition, run the migration task, update the service and wait for the verdict. The
decisions are the pure functions of ``ecs_taskdef``, ``ecs_verdict``, ``ecs_migration`` and
``ecs_shapes``; this file calls ECS in their order.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_migration as mig
from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_taskdef as td
from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_verdict as ev
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_client import EcsClient
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_shapes import (
    shape_configuration,
    shape_events,
    wanted_configuration,
)
from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import (
    Deadline,
    wait_until,
)
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.release import (
    image_release_id,
)

# What a run does, chosen from the service as it is.
NONE = "none"  # the release serves, COMPLETED, with the deployment configuration asked for
DEPLOY = "deploy"  # register the release's task definition, new deployment
REDEPLOY = "redeploy"  # the task definition has the release but its deployment FAILED
CONFIGURE = "configure"  # only the deployment configuration differs
WAIT = "wait"  # the release's deployment is in progress already (a rerun after a timeout)
EVENTS_SHOWN = 50
STOPPED_TASKS_READ = 20


def check_params(params: Mapping[str, Any]) -> str:
    """Refuse, naming the option, what ECS would not be asked to do; the release id."""
    release_id = image_release_id(params["image"], params.get("release_id") or "")
    if not release_id:
        raise ApiError.refusal(
            f"release_id is required: image {params['image']} has neither a tag nor a digest"
        )
    low, high = params.get("minimum_healthy_percent"), params.get("maximum_percent")
    if low is not None and not 0 <= low <= 100:
        raise ApiError.refusal(f"minimum_healthy_percent must be from 0 to 100, got {low}")
    if high is not None and high < 100:
        raise ApiError.refusal(f"maximum_percent must be 100 or more, got {high}")
    if low is not None and high is not None and high <= low:
        raise ApiError.refusal(
            f"maximum_percent ({high}) must be above minimum_healthy_percent ({low}), "
            "or no task could ever be replaced"
        )
    if params.get("migrate") is not None and not params["migrate"]:
        raise ApiError.refusal("migrate must name a command, got an empty list")
    if params["wait_timeout"] < 1:
        raise ApiError.refusal(
            f"wait_timeout must be at least 1 second, got {params['wait_timeout']}"
        )
    if params["poll_interval"] <= 0:
        raise ApiError.refusal(
            f"poll_interval must be above 0 seconds, got {params['poll_interval']}"
        )
    return release_id


def choose(release_there: bool, config_same: bool, primary: Mapping[str, Any] | None) -> str:
    """What to do, from whether the service's task definition carries the release, whether its
    deployment configuration is the one asked for, and its PRIMARY deployment."""
    if not release_there:
        return DEPLOY
    rollout = (primary or {}).get("rolloutState")
    if rollout == "FAILED":
        return REDEPLOY
    if rollout == "IN_PROGRESS":
        return CONFIGURE if not config_same else WAIT
    return NONE if config_same else CONFIGURE


class EcsDeploy:
    """One run; ``result`` holds what it did, also when it raises."""

    def __init__(
        self,
        client: EcsClient,
        params: Mapping[str, Any],
        check_mode: bool = False,
        clock=None,
        sleep=None,
    ) -> None:
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep
        self.steps: list[str] = []
        self.changed = False
        self.deadline: Deadline | None = None
        self.result: dict[str, Any] = {"deployment": None, "task_definition": None}

    @property
    def api_calls(self) -> int:
        """The AWS calls the run made (retries not counted)."""
        return self.client.calls

    # --- reading -----------------------------------------------------------------------------
    def read(self, release_id: str) -> dict[str, Any]:
        params = self.params
        service = self.client.service(params["cluster"], params["service"])
        controller = (service.get("deploymentController") or {}).get("type", "ECS")
        if controller != "ECS":
            raise ApiError.refusal(
                f"service {params['service']} uses the {controller} deployment controller; "
                "ecs_deploy deploys services of the ECS (rolling) controller"
            )
        current = self.client.task_definition(service["taskDefinition"])
        try:
            names = td.chosen_containers(current, params.get("containers"))
            variables = td.release_environment(release_id, params.get("environment"))
        except td.TaskDefinitionError as err:
            raise ApiError(None, None, None, str(err), err.field) from err
        config = wanted_configuration(
            service.get("deploymentConfiguration"),
            params.get("minimum_healthy_percent"),
            params.get("maximum_percent"),
            params["circuit_breaker"],
        )
        return {
            "service": service,
            "current": current,
            "names": names,
            "variables": variables,
            "config": config,
            "release_there": td.carries_release(current, names, params["image"], variables),
            "config_same": config == (service.get("deploymentConfiguration") or {}),
        }

    # --- the run -----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        release_id = check_params(self.params)
        self.deadline = Deadline(self.params["wait_timeout"], self.clock)
        seen = self.read(release_id)
        service, current = seen["service"], seen["current"]
        primary = ev.primary_deployment(service) or {}
        action = choose(seen["release_there"], seen["config_same"], primary)
        previous = dict(
            td.container_release(current, seen["names"][0]),
            task_definition_arn=current.get("taskDefinitionArn"),
            deployment_id=primary.get("id"),
        )
        deployment: dict[str, Any] = {
            "cluster": service.get("clusterArn"),
            "service": service.get("serviceName"),
            "action": action,
            "release_id": release_id,
            "image": self.params["image"],
            "containers": seen["names"],
            "task_definition_arn": current.get("taskDefinitionArn"),
            "deployment_id": primary.get("id"),
            "deployment_configuration": shape_configuration(seen["config"]),
            "previous": previous,
            "migration": None,
            "state": None,
            "rollout_state": primary.get("rolloutState"),
            "rollout_state_reason": primary.get("rolloutStateReason"),
            "rolled_back_to": None,
            "stopped_tasks": [],
            "events": [],
            "waited_s": 0.0,
        }
        self.result["deployment"] = deployment
        self.result["diff"] = {
            "before": {
                "image": previous["image"],
                "release_id": previous["release_id"],
                "deployment_configuration": shape_configuration(
                    service.get("deploymentConfiguration")
                ),
            },
            "after": {
                "image": self.params["image"],
                "release_id": release_id,
                "deployment_configuration": shape_configuration(seen["config"]),
            },
        }
        wanted = None
        if action == DEPLOY:
            wanted = td.release_task_definition(
                current,
                self.params["image"],
                release_id,
                seen["names"],
                self.params.get("environment"),
            )
            self.result["task_definition"] = wanted
            deployment["task_definition_arn"] = None
        if action in (DEPLOY, REDEPLOY):
            deployment.update(deployment_id=None, rollout_state=None, rollout_state_reason=None)
        self.changed = action in (DEPLOY, REDEPLOY, CONFIGURE)
        if self.check_mode:
            self.steps.append(f"check mode: would {action}")
            if action in (NONE, WAIT):
                self.observe(service, primary.get("id"))
            return self.result
        if action == NONE:
            self.steps.append(
                f"release {release_id} serves already ({primary.get('id')} COMPLETED)"
            )
            self.observe(service, primary.get("id"))
            return self.result
        self.apply(action, seen, wanted, release_id)
        return self.result

    def apply(self, action: str, seen: Mapping[str, Any], wanted: Any, release_id: str) -> None:
        deployment = self.result["deployment"]
        service = seen["service"]
        arn = seen["current"]["taskDefinitionArn"]
        update: dict[str, Any] = {
            "cluster": service["clusterArn"],
            "service": service["serviceName"],
            "deploymentConfiguration": seen["config"],
        }
        registered = None
        if action == DEPLOY:
            try:
                registered = self.client.register_task_definition(wanted)
            except ApiError:
                self.changed = False
                raise
            arn = registered["taskDefinitionArn"]
            deployment["task_definition_arn"] = arn
            self.steps.append(f"registered task definition {ev.short_arn(arn)}")
        if action in (DEPLOY, REDEPLOY):
            try:
                if self.params.get("migrate"):
                    self.migrate(service, arn, seen["names"][0], release_id)
                update.update(taskDefinition=arn, forceNewDeployment=action == REDEPLOY)
                updated = self.client.update_service(**update)
            except ApiError:
                self.changed = False
                if registered is not None:
                    self.forget(arn)
                    deployment["task_definition_arn"] = seen["current"]["taskDefinitionArn"]
                raise
            ours = ev.primary_deployment(updated) or {}
            before = deployment["previous"]["deployment_id"]
            if ours.get("taskDefinition") != arn or ours.get("id") == before:
                raise ApiError(
                    None,
                    None,
                    None,
                    f"ECS updated service {service['serviceName']} but reports no new PRIMARY "
                    f"deployment of {ev.short_arn(arn)} (the PRIMARY is {ours.get('id')} of "
                    f"{ev.short_arn(ours.get('taskDefinition'))}): the deployment cannot be "
                    "followed",
                )
            deployment["deployment_id"] = ours.get("id")
            self.steps.append(
                f"service {service['serviceName']} updated: deployment {ours.get('id')}"
            )
        elif action == CONFIGURE:
            updated = self.client.update_service(**update)
            self.steps.append("deployment configuration updated")
        else:
            updated = service
        self.observe(updated, deployment["deployment_id"])
        if self.params["wait"] and deployment["deployment_id"]:
            self.wait(deployment["deployment_id"])

    def forget(self, arn: str) -> None:
        """Deregister the revision this run registered, as the service never used it."""
        try:
            self.client.deregister_task_definition(arn)
        except ApiError as err:
            self.changed = True
            self.steps.append(f"could not deregister {ev.short_arn(arn)}: {err}")
        else:
            self.steps.append(f"deregistered {ev.short_arn(arn)}: nothing was switched")

    # --- the migration -----------------------------------------------------------------------
    def migrate(
        self, service: Mapping[str, Any], arn: str, container: str, release_id: str
    ) -> None:
        command = self.params["migrate"]
        answer = self.client.run_task(
            mig.run_task_input(service, arn, container, command, release_id, uuid.uuid4().hex)
        )
        tasks = answer.get("tasks") or []
        if not tasks:
            raise ApiError(
                None,
                None,
                None,
                f"the migration task did not start: {mig.run_failures(answer)}",
                "migrate",
            )
        task_arn = tasks[0]["taskArn"]
        cluster = service["clusterArn"]
        migration = {
            "task_arn": task_arn,
            "command": list(command),
            "exit_code": None,
            "message": "",
        }
        self.result["deployment"]["migration"] = migration
        self.steps.append(f"migration task {ev.short_arn(task_arn)} started: {' '.join(command)}")
        done, task, took = wait_until(
            lambda: self.client.tasks(cluster, [task_arn])[0],
            lambda t: mig.outcome(t, container)["done"],
            self.deadline.remaining(),
            interval=self.params["poll_interval"],
            max_interval=self.params["poll_interval"],
            clock=self.clock,
            sleep=self.sleep,
        )
        found = mig.outcome(task, container)
        migration.update(exit_code=found["exit_code"], message=found["message"])
        if not done:
            self.client.stop_task(cluster, task_arn, "sigma.deploy: migration timed out")
            message = (
                f"the migration task {found['task_id']} did not end in {took:.0f}s; stopped it"
            )
            migration["message"] = message
            raise ApiError(None, None, None, message + ": nothing was switched", "wait_timeout")
        self.steps.append(found["message"])
        if not found["ok"]:
            raise ApiError(None, None, None, found["message"] + ": nothing was switched", "migrate")

    # --- waiting -----------------------------------------------------------------------------
    def observe(
        self, service: Mapping[str, Any], deployment_id: str | None
    ) -> dict[str, Any] | None:
        """Note the verdict on ``deployment_id`` and the events since it was created."""
        deployment = self.result["deployment"]
        if not deployment_id:
            return None
        found = ev.verdict(service, deployment_id)
        ours = ev.find_deployment(service, deployment_id) or {}
        rollback = found["rollback"]
        deployment.update(
            state=found["state"],
            rollout_state=found["rollout_state"],
            rollout_state_reason=found["reason"],
            rolled_back_to=None
            if found["state"] != ev.ROLLED_BACK
            else {
                "deployment_id": rollback["deployment_id"],
                "task_definition_arn": rollback["task_definition"],
                "rollout_state": rollback["rollout_state"],
            },
        )
        since = ours.get("createdAt")
        if since is not None or not deployment["events"]:
            deployment["events"] = shape_events(service.get("events") or [], since, EVENTS_SHOWN)
        return found

    def wait(self, deployment_id: str, service_name: str | None = None) -> None:
        """Wait for the verdict on ``deployment_id`` of ``service_name`` (default, the option
        ``service``); fail with ECS's reasons unless it COMPLETED."""
        params = self.params
        name = service_name or params["service"]
        done, service, took = wait_until(
            lambda: self.client.service(params["cluster"], name),
            lambda s: ev.verdict(s, deployment_id)["settled"],
            self.deadline.remaining(),
            interval=params["poll_interval"],
            max_interval=params["poll_interval"],
            clock=self.clock,
            sleep=self.sleep,
        )
        deployment = self.result["deployment"]
        deployment["waited_s"] = round(took, 3)
        found = self.observe(service, deployment_id)
        self.steps.append(f"deployment {deployment_id}: {found['state']} after {took:.0f}s")
        if found["state"] == ev.COMPLETED:
            return
        stopped = self.client.stopped_tasks(
            service["clusterArn"], deployment_id, STOPPED_TASKS_READ
        )
        tasks = [ev.stopped_task(t) for t in stopped]
        deployment["stopped_tasks"] = tasks
        message = ev.failure_message(service["serviceName"], found, tasks)
        if found["state"] == ev.ROLLED_BACK and not done:
            message += " (the rollback was still in progress when wait_timeout ran out)"
        raise ApiError(
            None, None, None, message, "wait_timeout" if found["state"] == ev.IN_PROGRESS else None
        )
