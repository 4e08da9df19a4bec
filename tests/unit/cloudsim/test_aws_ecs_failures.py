"""The ECS engine's failing releases (memory runtime rules: ``:failing`` images fail their
checks, ``:missing`` ones cannot be pulled): the deployment circuit breaker, with and without
rollback, and the stopped tasks' reasons."""

from __future__ import annotations

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


def _service(sim, ecs, image: str, rollback: bool) -> str:
    ecs.create_cluster(clusterName="main")
    arn = task_definition(ecs, image)
    ecs.create_service(
        cluster="main", serviceName="api", taskDefinition=arn, desiredCount=2,
        launchType="FARGATE", networkConfiguration=network(sim),
        deploymentConfiguration={
            "minimumHealthyPercent": 100, "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": rollback},
        },
    )  # fmt: skip
    wait_until("completed", lambda: primary(service_of(ecs))["rolloutState"] == "COMPLETED")
    return arn


def _state(ecs, deployment_id: str) -> str | None:
    found = [d for d in service_of(ecs)["deployments"] if d["id"] == deployment_id]
    return found[0]["rolloutState"] if found else None


def test_failing_tasks_trip_the_circuit_breaker_and_roll_back(sim, engine):
    ecs = sim.aws("ecs")
    good = _service(sim, ecs, "registry.example/notes:r1", rollback=True)
    first = primary(service_of(ecs))
    bad = task_definition(ecs, "registry.example/notes:failing")
    failed = primary(
        ecs.update_service(cluster="main", service="api", taskDefinition=bad)["service"]
    )
    assert failed["taskDefinition"] == bad

    def rolled_back():
        service = service_of(ecs)
        now = primary(service)
        return service if now["id"] != failed["id"] and now["rolloutState"] == "COMPLETED" else None

    service = wait_until("the rollback completes", rolled_back)
    rollback = primary(service)
    assert service["taskDefinition"] == good
    assert rollback["taskDefinition"] == good
    assert rollback["id"] not in (first["id"], failed["id"])
    assert rollback["rolloutStateReason"] == f"ECS deployment {rollback['id']} completed."
    gone = next(d for d in service["deployments"] if d["id"] == failed["id"])
    assert (gone["status"], gone["rolloutState"]) == ("INACTIVE", "FAILED")
    assert gone["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert gone["failedTasks"] >= 3
    messages = [e["message"] for e in service["events"]]
    assert (
        f"(service api) (deployment {failed['id']}) deployment failed: tasks failed to start."
        in messages
    )
    stopped = tasks(ecs, serviceName="api", desiredStatus="STOPPED", startedBy=failed["id"])
    assert len(stopped) == gone["failedTasks"]
    assert {(t["stopCode"], t["stoppedReason"], t["healthStatus"]) for t in stopped} == {
        ("ServiceSchedulerInitiated", "Task failed container health checks", "UNHEALTHY")
    }
    running = tasks(ecs, serviceName="api")
    assert {t["startedBy"] for t in running} == {rollback["id"]}
    assert len(running) == 2


def test_without_rollback_a_failed_deployment_stays_failed_and_the_old_tasks_serve(sim, engine):
    ecs = sim.aws("ecs")
    good = _service(sim, ecs, "registry.example/notes:r1", rollback=False)
    first = primary(service_of(ecs))
    bad = task_definition(ecs, "registry.example/notes:missing")
    failed = primary(
        ecs.update_service(cluster="main", service="api", taskDefinition=bad)["service"]
    )
    wait_until("the deployment fails", lambda: _state(ecs, failed["id"]) == "FAILED")
    for _round in range(20):  # it stays so: no new launch, no rollback
        engine.tick()
    service = service_of(ecs)
    assert [(d["id"], d["status"], d["rolloutState"]) for d in service["deployments"]] == [
        (failed["id"], "PRIMARY", "FAILED"), (first["id"], "ACTIVE", "COMPLETED"),
    ]  # fmt: skip
    assert service["taskDefinition"] == bad
    running = tasks(ecs, serviceName="api")
    assert [t["taskDefinitionArn"] for t in running] == [good, good]
    stopped = tasks(ecs, serviceName="api", desiredStatus="STOPPED")
    failed_tasks = service["deployments"][0]["failedTasks"]
    assert failed_tasks >= 3  # the threshold for 2 desired tasks; launches go 2 at a time
    assert len(stopped) == failed_tasks
    for task in stopped:
        assert (task["lastStatus"], task["stopCode"]) == ("STOPPED", "TaskFailedToStart")
        assert task["stoppedReason"].startswith("CannotPullContainerError: ")
        assert task["containers"][0]["reason"] == task["stoppedReason"]


def test_tasks_failing_their_target_groups_check_stop_naming_it(sim, engine):
    """Behind a target group, a ``:failing`` image's tasks are registered, found unhealthy by
    the ELB engine and stopped."""
    ecs, elb = sim.aws("ecs"), sim.aws("elbv2")
    sim.admin("aws/elb/settings", {"time_scale": 0.01})
    net = network(sim)
    vpc = sim.aws("ec2").describe_subnets(SubnetIds=net["awsvpcConfiguration"]["subnets"])
    group = elb.create_target_group(
        Name="api", Protocol="HTTP", Port=8000, TargetType="ip", HealthCheckPath="/healthz",
        VpcId=vpc["Subnets"][0]["VpcId"], UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    # A load balancer forwards to the group (targets of a group no listener uses are "unused",
    # and AWS refuses such a group for a service).
    lb = elb.create_load_balancer(Name="web", Subnets=net["awsvpcConfiguration"]["subnets"])
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"], Protocol="HTTP", Port=18080,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )  # fmt: skip
    ecs.create_cluster(clusterName="main")
    arn = task_definition(ecs, "registry.example/notes:failing", health=False)
    ecs.create_service(
        cluster="main", serviceName="api", taskDefinition=arn, desiredCount=1,
        launchType="FARGATE", networkConfiguration=net,
        loadBalancers=[{"targetGroupArn": group, "containerName": "app", "containerPort": 8000}],
    )  # fmt: skip
    stopped = wait_until(
        "a task is stopped", lambda: tasks(ecs, serviceName="api", desiredStatus="STOPPED")
    )
    assert stopped[0]["stoppedReason"] == f"Task failed ELB health checks in (target-group {group})"
    messages = [e["message"] for e in service_of(ecs)["events"]]
    assert f"(service api) registered 1 targets in (target-group {group})" in messages
    assert f"(service api) deregistered 1 targets in (target-group {group})" in messages
    assert (
        f"(service api) (port 8000) is unhealthy in (target-group {group}) due to "
        "(reason Health checks failed)." in messages
    )
