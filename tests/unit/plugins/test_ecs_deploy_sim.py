"""ecs_deploy against the local AWS (moto behind the ECS engine, memory runtime): a rolling
deploy that completes and a rerun that changes nothing, a release whose tasks fail (the circuit
breaker rolls back and the module fails naming why), a failed migration that switches nothing.

The memory runtime's rules make failing releases: health checks fail for images whose
reference contains ``:failing``; a task whose environment has ``SIM_EXIT_CODE=<n>`` exits with
that code once started (a migration).
"""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.modules import ecs_deploy
from tests.unit.cloudsim.aws_ecs_helpers import (
    fast_engine,
    network,
    primary,
    service_of,
    task_definition,
    tasks,
    wait_until,
)

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/notes"


@pytest.fixture
def engine(sim):
    yield from fast_engine(sim)


@pytest.fixture
def service(sim, engine):
    """Service ``api`` of cluster ``main``: two tasks of release r1, deployed."""
    ecs = sim.aws("ecs")
    ecs.create_cluster(clusterName="main")
    arn = task_definition(ecs, f"{REPO}:r1")
    ecs.create_service(
        cluster="main", serviceName="api", taskDefinition=arn, desiredCount=2,
        launchType="FARGATE", networkConfiguration=network(sim),
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200},
    )  # fmt: skip
    wait_until("r1 is deployed", lambda: primary(service_of(ecs))["rolloutState"] == "COMPLETED")
    return ecs, arn


@pytest.fixture
def deploy(sim, run):
    def go(check: bool = False, **params):
        aws = {
            "region": "us-east-1",
            "access_key": "testing",
            "secret_key": "testing",
            "endpoint_url": sim.aws_url,
            "aws_ca_bundle": sim.ca_path,
        }
        base = {"cluster": "main", "service": "api", "poll_interval": 0.05, "wait_timeout": 60}
        return run(ecs_deploy, check=check, **{**aws, **base, **params})

    return go


def images(ecs) -> set[str]:
    running = tasks(ecs, desiredStatus="RUNNING")
    return {task["containers"][0]["image"] for task in running}


def test_a_rolling_deploy_completes_and_a_rerun_changes_nothing(service, deploy):
    ecs, _old = service
    result = deploy(image=f"{REPO}:r2", release_id="r2")
    assert result["failed"] is False, result.get("msg")
    assert result["changed"] is True
    assert result["deployment"]["state"] == "completed"
    current = service_of(ecs)
    assert current["taskDefinition"] == result["deployment"]["task_definition_arn"]
    assert primary(current)["rolloutState"] == "COMPLETED"
    assert [d["status"] for d in current["deployments"] if d["status"] != "INACTIVE"] == ["PRIMARY"]
    assert images(ecs) == {f"{REPO}:r2"}

    again = deploy(image=f"{REPO}:r2", release_id="r2")
    assert (again["failed"], again["changed"]) == (False, False)
    assert again["deployment"]["action"] == "none"


def test_a_release_whose_tasks_fail_is_rolled_back_and_the_module_says_why(service, deploy):
    ecs, old = service
    result = deploy(
        image=f"{REPO}:failing",
        release_id="bad",
        circuit_breaker={"enable": True, "rollback": True},
    )
    assert result["failed"] is True
    assert result["deployment"]["state"] == "rolled_back"
    assert "circuit breaker" in result["msg"].lower(), result["msg"]
    assert "health" in result["msg"].lower(), result["msg"]
    current = service_of(ecs)
    assert current["taskDefinition"] == old
    assert primary(current)["rolloutState"] == "COMPLETED"
    assert images(ecs) == {f"{REPO}:r1"}


def test_a_failed_migration_switches_nothing(service, deploy):
    ecs, old = service
    before = service_of(ecs)
    result = deploy(
        image=f"{REPO}:r3", release_id="r3", migrate=["notes-api-migrate"],
        environment={"SIM_EXIT_CODE": "3"},
    )  # fmt: skip
    assert result["failed"] is True
    assert "exit code 3" in result["msg"], result["msg"]
    after = service_of(ecs)
    assert after["taskDefinition"] == old
    assert [d["id"] for d in after["deployments"]] == [d["id"] for d in before["deployments"]]
    assert images(ecs) == {f"{REPO}:r1"}
