"""The pure logic of ecs_deploy: the task definition of a release, the verdict on a
deployment and the words of a failure, the migration task. Exact equality throughout."""

from __future__ import annotations

import copy

import pytest
from botocore.exceptions import NoCredentialsError

from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_migration as mig
from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_taskdef as td
from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_verdict as ev
from ansible_collections.sigma.deploy.plugins.module_utils.aws.ecs_client import api_error
from tests.unit.plugins import ecs_fixtures as fx
from tests.unit.plugins.ecs_fake import client_error

# --- the task definition of a release ----------------------------------------------------------


def test_release_task_definition_is_the_register_input():
    current = fx.taskdef(3)
    before = copy.deepcopy(current)
    wanted = td.release_task_definition(current, fx.NEW_IMAGE, "r2", environment={"WORKERS": 2})
    sidecar, app = before["containerDefinitions"]
    assert wanted == {
        "family": "notes-api",
        "taskRoleArn": "arn:aws:iam::123456789012:role/notes-task",
        "executionRoleArn": "arn:aws:iam::123456789012:role/notes-execution",
        "networkMode": "awsvpc",
        "containerDefinitions": [
            sidecar,
            dict(
                app,
                image=fx.NEW_IMAGE,
                environment=[
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "RELEASE_ID", "value": "r2"},
                    {"name": "PORT", "value": "8000"},
                    {"name": "WORKERS", "value": "2"},
                ],
            ),
        ],
        "volumes": [],
        "placementConstraints": [],
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
    }
    assert current == before  # the input is not changed


def test_named_containers_all_get_the_release():
    wanted = td.release_task_definition(
        fx.taskdef(), fx.NEW_IMAGE, "r2", containers=["log-router", "api"]
    )
    sidecar, app = wanted["containerDefinitions"]
    assert (sidecar["image"], sidecar["environment"]) == (
        fx.NEW_IMAGE,
        [{"name": "RELEASE_ID", "value": "r2"}],
    )
    assert app["image"] == fx.NEW_IMAGE


def test_the_default_container_is_the_first_essential_one():
    assert td.default_container(fx.taskdef()) == "api"


def test_an_unknown_container_names_the_option():
    with pytest.raises(td.TaskDefinitionError) as err:
        td.release_task_definition(fx.taskdef(), fx.NEW_IMAGE, "r2", containers=["web"])
    assert err.value.field == "containers"
    assert str(err.value) == (
        "containers: task definition notes-api has no container 'web' (it has log-router, api)"
    )


def test_release_id_in_environment_is_refused():
    with pytest.raises(td.TaskDefinitionError) as err:
        td.release_task_definition(fx.taskdef(), fx.NEW_IMAGE, "r2", environment={"RELEASE_ID": 1})
    assert err.value.field == "environment"


def test_no_essential_container():
    taskdef = fx.taskdef()
    taskdef["containerDefinitions"][1]["essential"] = False
    with pytest.raises(td.TaskDefinitionError, match="has no essential container"):
        td.default_container(taskdef)


def test_carries_release():
    variables = td.release_environment("r1", {"LOG_LEVEL": "info"})
    assert td.carries_release(fx.taskdef(), ["api"], fx.OLD_IMAGE, variables) is True
    assert td.carries_release(fx.taskdef(), ["api"], fx.NEW_IMAGE, variables) is False
    other = td.release_environment("r1", {"LOG_LEVEL": "debug"})
    assert td.carries_release(fx.taskdef(), ["api"], fx.OLD_IMAGE, other) is False
    assert td.container_release(fx.taskdef(), "api") == {"image": fx.OLD_IMAGE, "release_id": "r1"}
    assert td.container_release(fx.taskdef(), "log-router")["release_id"] is None


# --- the verdict ---------------------------------------------------------------------------------
OURS = fx.deployment_id(2)
OLD = fx.deployment_id(1)
ROLLBACK = fx.deployment_id(3)


def test_in_progress_while_ours_is_primary_and_in_progress():
    service = fx.service(
        [
            fx.deployment(2, 2, "PRIMARY", "IN_PROGRESS", 1),
            fx.deployment(1, 1, "ACTIVE", "COMPLETED"),
        ]
    )
    assert ev.verdict(service, OURS) == {
        "deployment_id": OURS,
        "task_definition": fx.taskdef_arn(2),
        "rollout_state": "IN_PROGRESS",
        "reason": f"ECS deployment {OURS} in progress.",
        "rollback": None,
        "state": "in_progress",
        "settled": False,
    }


def test_completed():
    service = fx.service([fx.deployment(2, 2, "PRIMARY", "COMPLETED")], revision=2)
    found = ev.verdict(service, OURS)
    assert (found["state"], found["settled"]) == ("completed", True)


def test_failed_without_rollback():
    service = fx.service(
        [fx.deployment(2, 2, "PRIMARY", "FAILED", 0), fx.deployment(1, 1, "ACTIVE", "COMPLETED")]
    )
    found = ev.verdict(service, OURS)
    assert (found["state"], found["settled"], found["rollback"]) == ("failed", True, None)


def test_rolled_back_by_the_circuit_breaker_is_settled_once_the_rollback_ends():
    deployments = [
        fx.deployment(3, 1, "PRIMARY", "IN_PROGRESS", 1),
        fx.deployment(2, 2, "ACTIVE", "FAILED", 0),
        fx.deployment(1, 1, "ACTIVE", "COMPLETED"),
    ]
    found = ev.verdict(fx.service(deployments), OURS)
    assert found == {
        "deployment_id": OURS,
        "task_definition": fx.taskdef_arn(2),
        "rollout_state": "FAILED",
        "reason": "ECS deployment circuit breaker: tasks failed to start.",
        "rollback": {
            "deployment_id": ROLLBACK,
            "task_definition": fx.taskdef_arn(1),
            "rollout_state": "IN_PROGRESS",
        },
        "state": "rolled_back",
        "settled": False,
    }
    deployments[0]["rolloutState"] = "COMPLETED"
    assert ev.verdict(fx.service(deployments), OURS)["settled"] is True


def test_rolled_back_and_drained_is_read_from_the_events():
    events = [
        {
            "id": "e1",
            "createdAt": fx.T0,
            "message": f"(service notes-api) (deployment {OURS}) deployment failed: "
            "tasks failed to start.",
        }
    ]
    service = fx.service([fx.deployment(3, 1, "PRIMARY", "COMPLETED")], events=events)
    found = ev.verdict(service, OURS)
    assert (found["state"], found["settled"], found["task_definition"]) == (
        "rolled_back",
        True,
        None,
    )


def test_superseded_by_another_deploy():
    service = fx.service(
        [
            fx.deployment(3, 4, "PRIMARY", "IN_PROGRESS"),
            fx.deployment(2, 2, "ACTIVE", "IN_PROGRESS"),
        ]
    )
    found = ev.verdict(service, OURS)
    assert (found["state"], found["settled"]) == ("superseded", True)


def test_without_rollout_state_steady_means_completed():
    alone = fx.deployment(2, 2, "PRIMARY", None)
    assert ev.verdict(fx.service([alone]), OURS)["state"] == "completed"
    draining = [alone, fx.deployment(1, 1, "ACTIVE", None)]
    assert ev.verdict(fx.service(draining), OURS)["state"] == "in_progress"


def test_failure_message_names_the_stopped_reasons():
    deployments = [
        fx.deployment(3, 1, "PRIMARY", "COMPLETED"),
        fx.deployment(2, 2, "ACTIVE", "FAILED", 0),
    ]
    found = ev.verdict(fx.service(deployments), OURS)
    exited = "Essential container in task exited"
    tasks = [
        ev.stopped_task(fx.stopped_task(1, OURS, 1, exited)),
        ev.stopped_task(fx.stopped_task(2, OURS, 1, exited)),
        ev.stopped_task(fx.stopped_task(3, OURS, None, "Task failed ELB health checks")),
    ]
    assert tasks[0] == {
        "task_id": f"{1:032x}",
        "stopped_reason": exited,
        "stop_code": "EssentialContainerExited",
        "containers": [
            {"name": "log-router", "exit_code": 0, "reason": None},
            {"name": "api", "exit_code": 1, "reason": None},
        ],
    }
    assert ev.failure_message("notes-api", found, tasks) == (
        f"deployment {OURS} of service notes-api (task definition notes-api:2) failed and the "
        f"circuit breaker rolled the service back to deployment {ROLLBACK} (task definition "
        "notes-api:1, COMPLETED): ECS deployment circuit breaker: tasks failed to start. "
        "Stopped tasks: 2 tasks: Essential container in task exited (api: exit code 1); "
        "Task failed ELB health checks (log-router: exit code 0)"
    )


def test_failure_message_of_a_timeout_without_stopped_tasks():
    found = ev.verdict(fx.service([fx.deployment(2, 2, "PRIMARY", "IN_PROGRESS", 1)]), OURS)
    assert ev.failure_message("notes-api", found, []) == (
        f"deployment {OURS} of service notes-api (task definition notes-api:2) did not "
        f"complete in time (still IN_PROGRESS): ECS deployment {OURS} in progress."
    )


# --- the migration task ---------------------------------------------------------------------------


def test_run_task_input_runs_where_the_service_runs():
    service = fx.service([fx.deployment(1, 1, "PRIMARY", "COMPLETED")])
    assert mig.run_task_input(
        service, fx.taskdef_arn(2), "api", ["notes-api-migrate"], "2026-08-01.2", "tok"
    ) == {
        "cluster": fx.CLUSTER_ARN,
        "taskDefinition": fx.taskdef_arn(2),
        "count": 1,
        "startedBy": "sigma-deploy/migrate/2026-08-01_2",
        "overrides": {"containerOverrides": [{"name": "api", "command": ["notes-api-migrate"]}]},
        "clientToken": "tok",
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": fx.NETWORK,
    }


def test_run_task_input_prefers_the_capacity_provider_strategy():
    service = fx.service([])
    service["capacityProviderStrategy"] = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    wanted = mig.run_task_input(service, fx.taskdef_arn(2), "api", ["m"], "r2", "tok")
    assert "launchType" not in wanted
    assert wanted["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]


def test_migration_outcome():
    running = dict(fx.stopped_task(7, "x", None, ""), lastStatus="RUNNING")
    assert mig.outcome(running, "api") == {
        "done": False,
        "ok": False,
        "exit_code": None,
        "task_id": f"{7:032x}",
        "message": f"migration task {7:032x} is RUNNING",
    }
    good = fx.stopped_task(7, "x", 0, "Essential container in task exited")
    assert mig.outcome(good, "api") == {
        "done": True,
        "ok": True,
        "exit_code": 0,
        "task_id": f"{7:032x}",
        "message": f"migration task {7:032x} ended: api exited 0",
    }
    bad = fx.stopped_task(7, "x", 1, "Essential container in task exited")
    assert mig.outcome(bad, "api") == {
        "done": True,
        "ok": False,
        "exit_code": 1,
        "task_id": f"{7:032x}",
        "message": f"migration task {7:032x} failed: Essential container in task exited "
        "(api: exit code 1)",
    }
    never = fx.stopped_task(7, "x", None, "CannotPullContainerError: pull image manifest")
    never["stopCode"] = "TaskFailedToStart"
    assert mig.outcome(never, "api")["message"] == (
        f"migration task {7:032x} failed: CannotPullContainerError: pull image manifest "
        "(log-router: exit code 0); api never exited with a code"
    )


def test_run_failures_in_words():
    answer = {"failures": [{"arn": "arn:x", "reason": "RESOURCE:MEMORY", "detail": "none left"}]}
    assert mig.run_failures(answer) == "arn:x: RESOURCE:MEMORY (none left)"
    assert mig.run_failures({"tasks": [], "failures": []}) == ""


# --- errors --------------------------------------------------------------------------------------


def test_errors_name_the_option():
    refused = api_error(
        client_error("RegisterTaskDefinition", "ClientException", "Invalid image reference"),
        {"image": "image"},
    )
    assert refused.failure() == {
        "vendor": "AWS ECS",
        "status": 400,
        "code": "ClientException",
        "message": "Invalid image reference",
        "field": "image",
    }
    missing = api_error(NoCredentialsError())
    assert (missing.field, missing.code, missing.sent) == ("aws_access_key", "NoCredentials", False)
    assert str(missing).startswith("AWS ECS API error 'NoCredentials' for field 'aws_access_key'")
