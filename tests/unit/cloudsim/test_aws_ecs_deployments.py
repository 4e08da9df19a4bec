"""The ECS engine's deployments through boto3: rolling updates as AWS documents them."""

from __future__ import annotations

import re

import pytest

from tests.unit.cloudsim.aws_ecs_helpers import (
    fast_engine,
    network,
    primary,
    service_of,
    task_definition,
    tasks,
    wait_until,
)


@pytest.fixture
def engine(sim):
    yield from fast_engine(sim)


def _create(sim, ecs, image: str, desired: int = 2, **config) -> tuple[str, dict]:
    ecs.create_cluster(clusterName="main")
    arn = task_definition(ecs, image)
    net = network(sim)
    ecs.create_service(
        cluster="main", serviceName="api", taskDefinition=arn, desiredCount=desired,
        launchType="FARGATE", networkConfiguration=net,
        deploymentConfiguration={
            "minimumHealthyPercent": config.get("min", 100),
            "maximumPercent": config.get("max", 200),
            "deploymentCircuitBreaker": {
                "enable": config.get("breaker", False), "rollback": config.get("rollback", False),
            },
        },
    )  # fmt: skip
    return arn, net


def _completed(ecs):
    service = service_of(ecs)
    return service if primary(service)["rolloutState"] == "COMPLETED" else None


def test_a_new_service_completes_its_deployment_with_the_desired_tasks(sim, engine):
    ecs = sim.aws("ecs")
    arn, net = _create(sim, ecs, "registry.example/notes:r1")
    service = wait_until("the first deployment completes", lambda: _completed(ecs))
    deployment = primary(service)
    assert re.fullmatch(r"ecs-svc/\d{19}", deployment["id"])
    assert (deployment["taskDefinition"], deployment["desiredCount"]) == (arn, 2)
    assert (deployment["runningCount"], deployment["pendingCount"], deployment["failedTasks"]) == (
        2, 0, 0,
    )  # fmt: skip
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} completed."
    assert (service["runningCount"], service["pendingCount"]) == (2, 0)
    assert service["deploymentConfiguration"] == {
        "minimumHealthyPercent": 100,
        "maximumPercent": 200,
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    }
    messages = [e["message"] for e in service["events"]]
    assert messages[0] == "(service api) has reached a steady state."
    assert re.fullmatch(
        r"\(service api\) has started 2 tasks: \(task \w{32}\) \(task \w{32}\)\.", messages[-1]
    )
    running = tasks(ecs, serviceName="api")
    assert len(running) == 2
    subnet = net["awsvpcConfiguration"]["subnets"][0]
    for task in running:
        assert (task["lastStatus"], task["desiredStatus"], task["healthStatus"]) == (
            "RUNNING", "RUNNING", "HEALTHY",
        )  # fmt: skip
        assert (task["startedBy"], task["group"]) == (deployment["id"], "service:api")
        details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
        assert details["subnetId"] == subnet
        assert details["privateIPv4Address"].startswith("10.1.2.")
    assert len({t["attachments"][0]["details"][2]["value"] for t in running}) == 2


def test_a_rolling_update_keeps_the_healthy_floor_and_the_ceiling(sim, engine):
    ecs = sim.aws("ecs")
    old_arn, _net = _create(sim, ecs, "registry.example/notes:r1", desired=4, min=50, max=150)
    first = primary(wait_until("the first deployment completes", lambda: _completed(ecs)))
    steps = []
    engine.on_step.append(lambda service, counts: steps.append(counts))
    new_arn = task_definition(ecs, "registry.example/notes:r2")
    during = ecs.update_service(cluster="main", service="api", taskDefinition=new_arn)["service"]
    assert [(d["status"], d["taskDefinition"]) for d in during["deployments"]] == [
        ("PRIMARY", new_arn), ("ACTIVE", old_arn),
    ]  # fmt: skip
    assert during["taskDefinition"] == new_arn
    assert during["deployments"][1]["id"] == first["id"]
    service = wait_until("the update completes", lambda: _completed(ecs))
    second = primary(service)
    assert second["id"] != first["id"]
    assert [d["status"] for d in service["deployments"]] == ["PRIMARY", "INACTIVE"]
    assert steps, "the engine never stepped"
    assert {(s["floor"], s["ceiling"]) for s in steps} == {(2, 6)}
    assert min(s["healthy"] for s in steps) >= 2
    assert max(s["alive"] for s in steps) <= 6
    running = tasks(ecs, serviceName="api")
    assert sorted({t["taskDefinitionArn"] for t in running}) == [new_arn]
    assert len(running) == 4
    stopped = tasks(ecs, serviceName="api", desiredStatus="STOPPED")
    assert len(stopped) == 4
    assert {(t["lastStatus"], t["stopCode"], t["stoppedReason"]) for t in stopped} == {
        (
            "STOPPED",
            "ServiceSchedulerInitiated",
            f"Scaling activity initiated by (deployment {first['id']})",
        )
    }


def test_desired_count_changes_without_a_new_deployment(sim, engine):
    ecs = sim.aws("ecs")
    _create(sim, ecs, "registry.example/notes:r1", desired=1)
    first = primary(wait_until("completed", lambda: _completed(ecs)))
    ecs.update_service(cluster="main", service="api", desiredCount=3)
    wait_until("three tasks run", lambda: service_of(ecs)["runningCount"] == 3)
    service = service_of(ecs)
    assert [d["id"] for d in service["deployments"]] == [first["id"]]
    assert primary(service)["desiredCount"] == 3


def test_delete_service_stops_its_tasks(sim, engine):
    ecs = sim.aws("ecs")
    _create(sim, ecs, "registry.example/notes:r1")
    wait_until("completed", lambda: _completed(ecs))
    answer = ecs.delete_service(cluster="main", service="api", force=True)["service"]
    assert (answer["status"], answer["desiredCount"]) == ("DRAINING", 0)
    wait_until("the service is inactive", lambda: service_of(ecs)["status"] == "INACTIVE")
    assert tasks(ecs, serviceName="api") == []
    stopped = tasks(ecs, serviceName="api", desiredStatus="STOPPED")
    assert [t["lastStatus"] for t in stopped] == ["STOPPED", "STOPPED"]
