"""ecs_deploy's main() against a fake ECS client (tests/unit/plugins/ecs_fake.py) whose calls
are validated against botocore's ECS model: a rolling deploy that completes, a circuit-breaker
rollback, a failed migration, a rerun, check mode, bad input."""

from __future__ import annotations

import types

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_deploy_run
from ansible_collections.sigma.deploy.plugins.modules import ecs_deploy
from tests.unit.plugins import ecs_fixtures as fx
from tests.unit.plugins.ecs_fake import FakeEcs, FakeTime

AWS = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}
BASE = {"cluster": fx.CLUSTER, "service": fx.SERVICE, "image": fx.NEW_IMAGE, "poll_interval": 5}


@pytest.fixture
def deploy(run, monkeypatch):
    """Run ecs_deploy against a FakeEcs: ``deploy(ecs, check=False, **params)``."""

    def go(ecs: FakeEcs, check: bool = False, **params):
        fake_time = FakeTime(ecs)
        monkeypatch.setattr(AnsibleAWSModule, "client", lambda unused, *a, **kw: ecs)
        monkeypatch.setattr(
            ecs_deploy_run,
            "time",
            types.SimpleNamespace(monotonic=fake_time.monotonic, sleep=fake_time.sleep),
        )
        return run(ecs_deploy, check=check, **{**AWS, **BASE, **params})

    return go


def app_container(taskdef: dict) -> dict:
    return next(c for c in taskdef["containerDefinitions"] if c["name"] == "api")


def test_a_rolling_deploy_that_completes(deploy):
    ecs = FakeEcs("completes")
    result = deploy(ecs, release_id="r2", environment={"WORKERS": "2"})
    assert result["failed"] is False, result["msg"] if result["failed"] else ""
    assert result["changed"] is True
    registered = ecs.called("register_task_definition")
    assert len(registered) == 1
    assert app_container(registered[0])["image"] == fx.NEW_IMAGE
    assert app_container(registered[0])["environment"] == [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "RELEASE_ID", "value": "r2"},
        {"name": "PORT", "value": "8000"},
        {"name": "WORKERS", "value": "2"},
    ]
    assert ecs.called("update_service") == [
        {
            "cluster": fx.CLUSTER_ARN,
            "service": fx.SERVICE,
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
            },
            "taskDefinition": fx.taskdef_arn(2),
            "forceNewDeployment": False,
        }
    ]
    deployment = result["deployment"]
    assert {
        k: deployment[k] for k in ("action", "state", "deployment_id", "task_definition_arn")
    } == {
        "action": "deploy",
        "state": "completed",
        "deployment_id": fx.deployment_id(2),
        "task_definition_arn": fx.taskdef_arn(2),
    }
    assert deployment["previous"] == {
        "image": fx.OLD_IMAGE,
        "release_id": "r1",
        "task_definition_arn": fx.taskdef_arn(1),
        "deployment_id": fx.deployment_id(1),
    }
    assert [e["message"] for e in deployment["events"]] == [
        f"(service notes-api) has started 2 tasks: (deployment {fx.deployment_id(2)})",
        "(service notes-api) has reached a steady state.",
    ]
    assert result["steps"] == [
        "registered task definition notes-api:2",
        f"service notes-api updated: deployment {fx.deployment_id(2)}",
        f"deployment {fx.deployment_id(2)}: completed after 5s",
    ]
    assert "diff" not in result  # diff mode off


def test_the_rerun_changes_nothing(deploy):
    ecs = FakeEcs("completes")
    assert deploy(ecs, release_id="r2")["changed"] is True
    calls = len(ecs.calls)
    again = deploy(ecs, release_id="r2")
    assert (again["failed"], again["changed"]) == (False, False)
    assert again["deployment"]["action"] == "none"
    assert again["deployment"]["state"] == "completed"
    assert ecs.operations()[calls:] == [
        "describe_services",
        "describe_task_definition",
    ]


def test_another_release_id_of_the_same_image_is_a_change(deploy):
    ecs = FakeEcs("completes")
    deploy(ecs, release_id="r2")
    result = deploy(ecs, release_id="r2b")
    assert (result["changed"], result["deployment"]["action"]) == (True, "deploy")
    assert result["deployment"]["previous"]["release_id"] == "r2"


def test_a_circuit_breaker_rollback_fails_naming_the_stopped_reason(deploy):
    ecs = FakeEcs("rolls_back")
    result = deploy(ecs, release_id="r2")
    assert result["failed"] is True
    ours, rollback = fx.deployment_id(2), fx.deployment_id(3)
    assert result["msg"] == (
        f"deployment {ours} of service notes-api (task definition notes-api:2) failed and the "
        f"circuit breaker rolled the service back to deployment {rollback} (task definition "
        "notes-api:1, COMPLETED): ECS deployment circuit breaker: tasks failed to start. "
        "Stopped tasks: 3 tasks: Essential container in task exited (api: exit code 1)"
    )
    deployment = result["deployment"]
    assert deployment["state"] == "rolled_back"
    assert deployment["rolled_back_to"] == {
        "deployment_id": rollback,
        "task_definition_arn": fx.taskdef_arn(1),
        "rollout_state": "COMPLETED",
    }
    assert len(deployment["stopped_tasks"]) == 3
    assert ecs.called("list_tasks") == [
        {"cluster": fx.CLUSTER_ARN, "startedBy": ours, "desiredStatus": "STOPPED", "maxResults": 20}
    ]
    assert result["changed"] is True  # a revision was registered and the service updated


def test_a_failed_migration_switches_nothing(deploy):
    ecs = FakeEcs("completes", migration_exit=1)
    result = deploy(ecs, release_id="r2", migrate=["notes-api-migrate"])
    assert result["failed"] is True
    assert result["changed"] is False
    assert ecs.called("update_service") == []
    task_id = f"{100:032x}"
    assert result["msg"] == (
        f"migration task {task_id} failed: Essential container in task exited "
        "(api: exit code 1): nothing was switched"
    )
    run = ecs.called("run_task")[0]
    assert run["overrides"] == {
        "containerOverrides": [{"name": "api", "command": ["notes-api-migrate"]}]
    }
    assert run["taskDefinition"] == fx.taskdef_arn(2)
    assert run["networkConfiguration"] == fx.NETWORK
    assert ecs.called("deregister_task_definition") == [{"taskDefinition": fx.taskdef_arn(2)}]
    assert ecs.service["taskDefinition"] == fx.taskdef_arn(1)
    assert result["deployment"]["migration"]["exit_code"] == 1
    assert result["deployment"]["task_definition_arn"] == fx.taskdef_arn(1)
    assert result["steps"][-1] == "deregistered notes-api:2: nothing was switched"


def test_a_migration_that_passes_comes_before_the_update(deploy):
    ecs = FakeEcs("completes", migration_exit=0)
    result = deploy(ecs, release_id="r2", migrate=["notes-api-migrate"])
    assert (result["failed"], result["deployment"]["state"]) == (False, "completed")
    order = [n for n in ecs.operations() if n in ("run_task", "update_service")]
    assert order == ["run_task", "update_service"]
    assert result["deployment"]["migration"]["exit_code"] == 0


def test_check_mode_reports_what_would_be_registered_and_changes_nothing(deploy):
    ecs = FakeEcs("completes")
    result = deploy(ecs, check=True, release_id="r2", _ansible_diff=True)
    assert (result["failed"], result["changed"]) == (False, True)
    assert ecs.operations() == ["describe_services", "describe_task_definition"]
    assert app_container(result["task_definition"])["image"] == fx.NEW_IMAGE
    assert "taskDefinitionArn" not in result["task_definition"]
    assert result["deployment"]["action"] == "deploy"
    assert result["deployment"]["task_definition_arn"] is None
    assert result["deployment"]["deployment_id"] is None
    assert result["diff"]["before"]["release_id"] == "r1"
    assert result["diff"]["after"]["release_id"] == "r2"
    assert result["diff"]["before"]["image"] == fx.OLD_IMAGE


def test_check_mode_of_a_release_that_serves_is_not_a_change(deploy):
    ecs = FakeEcs("completes")
    result = deploy(ecs, check=True, image=fx.OLD_IMAGE, release_id="r1")
    assert (result["failed"], result["changed"], result["deployment"]["action"]) == (
        False,
        False,
        "none",
    )


def test_without_wait_the_deployment_is_in_progress(deploy):
    ecs = FakeEcs("stays")
    result = deploy(ecs, release_id="r2", wait=False)
    assert (result["failed"], result["changed"]) == (False, True)
    assert result["deployment"]["state"] == "in_progress"


def test_a_deployment_still_in_progress_at_the_timeout_fails_and_a_rerun_waits(deploy):
    ecs = FakeEcs("stays")
    result = deploy(ecs, release_id="r2", wait_timeout=12)
    assert result["failed"] is True
    assert "did not complete in time (still IN_PROGRESS)" in result["msg"]
    ecs.script = "completes"
    again = deploy(ecs, release_id="r2")
    assert (again["failed"], again["changed"], again["deployment"]["action"]) == (
        False,
        False,
        "wait",
    )
    assert again["deployment"]["state"] == "completed"
    assert len(ecs.called("register_task_definition")) == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {
                "strategy": "bluegreen",
                "bluegreen": {
                    "services": ["blue", "blue"],
                    "target_groups": ["blue", "green"],
                    "listener_arn": "arn:listener",
                    "test_listener_arn": "arn:listener",
                    "traffic_steps": [0, 50],
                    "metric_period": 90,
                },
                "canary": {"max_error_rate": 5},
            },
            "bluegreen.services: expected two different names, blue then green, got "
            "['blue', 'blue']; bluegreen.test_listener_arn must not be the production listener; "
            "bluegreen.traffic_steps: steps must be percentages from 1 to 100, got [0, 50]; "
            "bluegreen.metric_period: expected 1, 5, 10, 30 or a multiple of 60, got 90; "
            "canary.max_error_rate: expected 0 to 1 (0.01 = 1 %), got 5.0; service is not used "
            "with strategy bluegreen: name the two services in bluegreen.services",
        ),
        (
            {"image": f"{fx.REPO}"},
            f"release_id is required: image {fx.REPO} has neither a tag nor a digest",
        ),
        (
            {"minimum_healthy_percent": 100, "maximum_percent": 100},
            "maximum_percent (100) must be above minimum_healthy_percent (100), "
            "or no task could ever be replaced",
        ),
        ({"migrate": []}, "migrate must name a command, got an empty list"),
        (
            {"containers": ["web"]},
            "containers: task definition notes-api has no container 'web' (it has log-router, api)",
        ),
        (
            {"environment": {"RELEASE_ID": "x"}},
            "environment: RELEASE_ID is set by the module from release_id, remove it",
        ),
    ],
)
def test_bad_input_is_refused_before_any_change(deploy, params, message):
    ecs = FakeEcs()
    result = deploy(ecs, **params)
    assert (result["failed"], result["changed"], result["msg"]) == (True, False, message)
    assert not ecs.called("register_task_definition")
    assert not ecs.called("update_service")


def test_strategy_bluegreen_needs_its_settings(deploy):
    ecs = FakeEcs()
    result = deploy(ecs, strategy="bluegreen", service=None)
    assert (result["failed"], result["msg"]) == (
        True,
        "strategy is bluegreen but all of the following are missing: bluegreen",
    )
    assert ecs.calls == []


def test_an_unknown_cluster_names_the_field(deploy):
    result = deploy(FakeEcs(), cluster="nope")
    assert result["failed"] is True
    assert result["msg"] == (
        "AWS ECS API error 'ClusterNotFoundException' (HTTP 400) for field 'cluster': "
        "Cluster not found."
    )
    assert result["failure"]["field"] == "cluster"


def test_an_unknown_service_names_the_field(deploy):
    result = deploy(FakeEcs(), service="nope")
    assert result["failed"] is True
    assert result["failure"]["field"] == "service"
    assert "cluster notes has no active service nope (MISSING)" in result["msg"]


def test_an_update_that_makes_no_deployment_is_not_followed_blindly(deploy):
    ecs = FakeEcs("no_deployment")
    result = deploy(ecs, release_id="r2")
    assert (result["failed"], result["changed"]) == (True, True)
    assert result["msg"] == (
        "ECS updated service notes-api but reports no new PRIMARY deployment of notes-api:2 "
        f"(the PRIMARY is {fx.deployment_id(1)} of notes-api:1): the deployment cannot be followed"
    )


def test_a_refused_registration_changes_nothing_and_names_the_field(deploy):
    ecs = FakeEcs()
    ecs.register_error = "Container.image repository should not be null or empty."
    result = deploy(ecs, release_id="r2")
    assert (result["failed"], result["changed"]) == (True, False)
    assert result["failure"] == {
        "vendor": "AWS ECS",
        "status": 400,
        "code": "ClientException",
        "message": "Container.image repository should not be null or empty.",
        "field": "image",
    }
    assert ecs.called("update_service") == []
