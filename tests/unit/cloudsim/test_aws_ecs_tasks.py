"""One-off ECS tasks (RunTask), StopTask and what a task runs: image, env, command, secrets."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from tests.unit.cloudsim.aws_ecs_helpers import fast_engine, network, task_definition, wait_until


@pytest.fixture
def engine(sim):
    yield from fast_engine(sim)


@pytest.fixture
def launched(engine, monkeypatch):
    """What the runtime was asked to run, by task id."""
    specs = {}
    launch = engine.runtime.launch

    def record(key, spec, report):
        specs[key] = spec
        launch(key, spec, report)

    monkeypatch.setattr(engine.runtime, "launch", record)
    return specs


def _run(sim, ecs, arn: str, **overrides) -> dict:
    answer = ecs.run_task(
        cluster="main", taskDefinition=arn, launchType="FARGATE", startedBy="migrate-r2",
        networkConfiguration=network(sim),
        overrides={"containerOverrides": [{"name": "app", **overrides}]},
    )  # fmt: skip
    assert answer["failures"] == []
    (task,) = answer["tasks"]
    assert (task["desiredStatus"], task["startedBy"], task["group"]) == (
        "RUNNING", "migrate-r2", "family:web",
    )  # fmt: skip
    return task


def _stopped(ecs, task: dict) -> dict:
    def done():
        found = ecs.describe_tasks(cluster="main", tasks=[task["taskArn"]])["tasks"][0]
        return found if found["lastStatus"] == "STOPPED" else None

    return wait_until("the task stops", done)


@pytest.mark.parametrize("code", [0, 1])
def test_run_task_stops_when_its_command_exits_with_the_exit_code(sim, launched, code):
    ecs = sim.aws("ecs")
    ecs.create_cluster(clusterName="main")
    arn = task_definition(ecs, "registry.example/notes:r2", health=False)
    task = _run(
        sim, ecs, arn, command=["alembic", "upgrade", "head"],
        environment=[{"name": "SIM_EXIT_CODE", "value": str(code)}],
    )  # fmt: skip
    stopped = _stopped(ecs, task)
    assert (stopped["stopCode"], stopped["stoppedReason"]) == (
        "EssentialContainerExited", "Essential container in task exited",
    )  # fmt: skip
    assert stopped["containers"][0]["exitCode"] == code
    assert stopped["overrides"]["containerOverrides"][0]["command"] == [
        "alembic",
        "upgrade",
        "head",
    ]
    spec = launched[task["taskArn"].rsplit("/", 1)[-1]]
    assert spec.cmd == ["alembic", "upgrade", "head"]
    assert spec.env == {"RELEASE_ID": "r2", "SIM_EXIT_CODE": str(code)}
    listed = ecs.list_tasks(cluster="main", family="web", desiredStatus="STOPPED")["taskArns"]
    assert listed == [task["taskArn"]]
    assert ecs.list_tasks(cluster="main", family="web")["taskArns"] == []


def test_secrets_come_from_secrets_manager_and_ssm(sim, engine, launched):
    ecs = sim.aws("ecs")
    ecs.create_cluster(clusterName="main")
    secret = sim.aws("secretsmanager").create_secret(
        Name="notes/db", SecretString=json.dumps({"password": "s3cret"})
    )["ARN"]
    sim.aws("ssm").put_parameter(Name="/notes/queue", Value="https://sqs/q", Type="SecureString")
    arn = task_definition(
        ecs, "registry.example/notes:r2", health=False,
        secrets=[
            {"name": "DB_PASSWORD", "valueFrom": f"{secret}:password::"},
            {"name": "DB_JSON", "valueFrom": secret},
            {"name": "JOB_QUEUE_URL", "valueFrom": "/notes/queue"},
        ],
    )  # fmt: skip
    task = _run(sim, ecs, arn)
    wait_until(
        "running", lambda: engine.tasks[task["taskArn"].rsplit("/", 1)[-1]].last_status == "RUNNING"
    )
    env = launched[task["taskArn"].rsplit("/", 1)[-1]].env
    assert env == {
        "RELEASE_ID": "r2",
        "DB_PASSWORD": "s3cret",
        "DB_JSON": '{"password": "s3cret"}',
        "JOB_QUEUE_URL": "https://sqs/q",
    }
    stopped = ecs.stop_task(cluster="main", task=task["taskArn"], reason="release r3")["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    final = _stopped(ecs, task)
    assert (final["stopCode"], final["stoppedReason"]) == ("UserInitiated", "release r3")


def test_a_secret_that_does_not_exist_fails_the_task_at_start(sim, engine):
    ecs = sim.aws("ecs")
    ecs.create_cluster(clusterName="main")
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    arn = task_definition(
        ecs, "registry.example/notes:r2", health=False,
        secrets=[{"name": "DB_PASSWORD", "valueFrom": missing}],
    )  # fmt: skip
    stopped = _stopped(ecs, _run(sim, ecs, arn))
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith(
        "ResourceInitializationError: unable to pull secrets or registry auth: "
    )
    assert missing in stopped["stoppedReason"]


def test_task_calls_name_what_is_wrong(sim, engine):
    ecs = sim.aws("ecs")
    with pytest.raises(botocore.exceptions.ClientError) as no_cluster:
        ecs.run_task(cluster="nope", taskDefinition="web")
    assert no_cluster.value.response["Error"]["Code"] == "ClusterNotFoundException"
    ecs.create_cluster(clusterName="main")
    arn = task_definition(ecs, "registry.example/notes:r2", health=False)
    with pytest.raises(botocore.exceptions.ClientError) as no_network:
        ecs.run_task(cluster="main", taskDefinition=arn, launchType="FARGATE")
    assert no_network.value.response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    }
    with pytest.raises(botocore.exceptions.ClientError) as no_task:
        ecs.stop_task(cluster="main", task="0" * 32)
    assert no_task.value.response["Error"]["Code"] == "InvalidParameterException"
    missing = ecs.describe_tasks(cluster="main", tasks=["0" * 32])
    assert missing["failures"] == [
        {"arn": f"arn:aws:ecs:us-east-1:123456789012:task/main/{'0' * 32}", "reason": "MISSING"}
    ]
