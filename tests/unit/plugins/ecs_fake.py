"""A fake boto3 ECS client for the module tests: every call's parameters are validated
against botocore's own ECS model (a parameter ECS would refuse fails the test), answers have
the API's shapes, and deployments and tasks move only when the module sleeps, by a script the
test chooses:

- ``completes``: the new deployment is COMPLETED after the first pause, the old one gone;
- ``rolls_back``: the new deployment's tasks stop (exit code 1), it turns FAILED and a
  rollback deployment of the previous task definition becomes PRIMARY, IN_PROGRESS, then
  COMPLETED after the next pause;
- ``stays``: the new deployment stays IN_PROGRESS;
- ``no_deployment``: update_service makes no deployment (as plain moto 5.2.6 does).

The migration task stops after the first pause with the exit code ``migration_exit``.
"""

from __future__ import annotations

import copy
import datetime

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from tests.unit.plugins import ecs_fixtures as fx

_MODEL = botocore.session.get_session().get_service_model("ecs")


def client_error(operation: str, code: str, message: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        operation,
    )


class FakeTime:
    """The clock and the pause of the run: a pause moves the fake ECS on."""

    def __init__(self, ecs: FakeEcs) -> None:
        self.now = 1000.0
        self.ecs = ecs

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.ecs.tick()


class FakeEcs:
    def __init__(self, script: str = "completes", migration_exit: int = 0) -> None:
        self.script = script
        self.migration_exit = migration_exit
        self.calls: list[tuple[str, dict]] = []
        self.taskdefs = {fx.taskdef_arn(1): fx.taskdef(1)}
        self.revision = 1
        self.deployments = 1
        self.service = fx.service([fx.deployment(1, 1, "PRIMARY", "COMPLETED")])
        self.tasks: dict[str, dict] = {}
        self.pending: list[str] = []  # migration tasks that stop at the next pause
        self.rollback_step = 0
        self.register_error = ""  # the message of a ClientException register_task_definition raises

    # --- plumbing ---------------------------------------------------------------------------
    def _record(self, operation: str, params: dict) -> None:
        name = _MODEL.operation_model(
            "".join(p.capitalize() for p in operation.split("_"))
        ).input_shape
        report = ParamValidator().validate(params, name)
        assert not report.has_errors(), report.generate_report()
        self.calls.append((operation, copy.deepcopy(params)))

    def operations(self) -> list[str]:
        """The operations called, in order."""
        return [call[0] for call in self.calls]

    def called(self, operation: str) -> list[dict]:
        return [params for name, params in self.calls if name == operation]

    def _check_cluster(self, operation: str, cluster: str) -> None:
        if cluster not in (fx.CLUSTER, fx.CLUSTER_ARN):
            raise client_error(operation, "ClusterNotFoundException", "Cluster not found.")

    # --- the API ----------------------------------------------------------------------------
    def describe_services(self, aws_retry=False, **params):
        self._record("describe_services", params)
        self._check_cluster("DescribeServices", params["cluster"])
        ours = (fx.SERVICE, fx.SERVICE_ARN)
        return {
            "services": [copy.deepcopy(self.service) for n in params["services"] if n in ours],
            "failures": [
                {"arn": n, "reason": "MISSING"} for n in params["services"] if n not in ours
            ],
        }

    def describe_task_definition(self, aws_retry=False, **params):
        self._record("describe_task_definition", params)
        return {"taskDefinition": copy.deepcopy(self.taskdefs[params["taskDefinition"]])}

    def register_task_definition(self, aws_retry=False, **params):
        self._record("register_task_definition", params)
        if self.register_error:
            raise client_error("RegisterTaskDefinition", "ClientException", self.register_error)
        self.revision += 1
        registered = dict(
            copy.deepcopy(params),
            taskDefinitionArn=fx.taskdef_arn(self.revision),
            revision=self.revision,
            status="ACTIVE",
            compatibilities=["EC2", "FARGATE"],
            registeredAt=fx.T0,
        )
        self.taskdefs[registered["taskDefinitionArn"]] = registered
        return {"taskDefinition": copy.deepcopy(registered)}

    def deregister_task_definition(self, aws_retry=False, **params):
        self._record("deregister_task_definition", params)
        self.taskdefs[params["taskDefinition"]]["status"] = "INACTIVE"
        return {"taskDefinition": copy.deepcopy(self.taskdefs[params["taskDefinition"]])}

    def update_service(self, aws_retry=False, **params):
        self._record("update_service", params)
        service = self.service
        if "deploymentConfiguration" in params:
            service["deploymentConfiguration"] = copy.deepcopy(params["deploymentConfiguration"])
        if "taskDefinition" in params and self.script == "no_deployment":  # moto 5.2.6 does so
            service["taskDefinition"] = params["taskDefinition"]
        elif "taskDefinition" in params:
            self.deployments += 1
            revision = int(params["taskDefinition"].rsplit(":", 1)[1])
            for old in service["deployments"]:
                old["status"] = "ACTIVE"
            new = fx.deployment(self.deployments, revision, "PRIMARY", "IN_PROGRESS", 0)
            service["deployments"].insert(0, new)
            service["taskDefinition"] = params["taskDefinition"]
            service["events"].insert(
                0, self._event(f"has started 2 tasks: (deployment {new['id']})")
            )
        return {"service": copy.deepcopy(service)}

    def run_task(self, aws_retry=False, **params):
        self._record("run_task", params)
        number = len(self.tasks) + 100
        task = fx.stopped_task(number, params["startedBy"], None, "")
        task.update(lastStatus="PROVISIONING", desiredStatus="RUNNING", stopCode=None)
        task["taskDefinitionArn"] = params["taskDefinition"]
        self.tasks[task["taskArn"]] = task
        self.pending.append(task["taskArn"])
        return {"tasks": [copy.deepcopy(task)], "failures": []}

    def describe_tasks(self, aws_retry=False, **params):
        self._record("describe_tasks", params)
        return {"tasks": [copy.deepcopy(self.tasks[a]) for a in params["tasks"]], "failures": []}

    def list_tasks(self, aws_retry=False, **params):
        self._record("list_tasks", params)
        arns = [
            arn
            for arn, task in self.tasks.items()
            if task["startedBy"] == params.get("startedBy")
            and task["desiredStatus"] == params.get("desiredStatus", "RUNNING")
        ]
        return {"taskArns": arns}

    def stop_task(self, aws_retry=False, **params):
        self._record("stop_task", params)
        self.tasks[params["task"]].update(lastStatus="STOPPED", desiredStatus="STOPPED")
        return {"task": copy.deepcopy(self.tasks[params["task"]])}

    def list_services(self, aws_retry=False, **params):
        self._record("list_services", params)
        self._check_cluster("ListServices", params["cluster"])
        return {"serviceArns": [fx.SERVICE_ARN]}

    # --- time passing -----------------------------------------------------------------------
    def _event(self, text: str) -> dict:
        number = len(self.service["events"]) + 1
        created = fx.T0 + datetime.timedelta(minutes=self.deployments, seconds=number)
        return {
            "id": f"event-{number}",
            "createdAt": created,
            "message": f"(service {fx.SERVICE}) {text}",
        }

    def tick(self) -> None:
        for arn in self.pending:
            task = self.tasks[arn]
            task.update(lastStatus="STOPPED", desiredStatus="STOPPED")
            task["stopCode"] = "EssentialContainerExited"
            task["stoppedReason"] = "Essential container in task exited"
            task["containers"][1]["exitCode"] = self.migration_exit
        self.pending = []
        deployments = self.service["deployments"]
        ours = deployments[0]
        if self.script == "completes" and ours["rolloutState"] == "IN_PROGRESS":
            ours.update(
                rolloutState="COMPLETED",
                runningCount=2,
                rolloutStateReason=f"ECS deployment {ours['id']} completed.",
            )
            del deployments[1:]
            self.service["events"].insert(0, self._event("has reached a steady state."))
        elif self.script == "rolls_back" and self.rollback_step == 0 and len(deployments) > 1:
            self.rollback_step = 1
            for n in range(3):
                task = fx.stopped_task(n, ours["id"], 1, "Essential container in task exited")
                self.tasks[task["taskArn"]] = task
            ours.update(
                status="ACTIVE",
                rolloutState="FAILED",
                failedTasks=3,
                rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
            )
            self.deployments += 1
            last_good = deployments[1]["taskDefinition"]
            rollback = fx.deployment(
                self.deployments, int(last_good.rsplit(":", 1)[1]), "PRIMARY", "IN_PROGRESS", 2
            )
            deployments.insert(0, rollback)
            self.service["taskDefinition"] = last_good
            self.service["events"].insert(
                0,
                self._event(f"(deployment {ours['id']}) deployment failed: tasks failed to start."),
            )
            self.service["events"].insert(
                0, self._event(f"rolling back to deployment {rollback['id']}.")
            )
        elif self.script == "rolls_back" and self.rollback_step == 1:
            self.rollback_step = 2
            deployments[0].update(rolloutState="COMPLETED")
            del deployments[2:]
