"""Shared by the ECS engine's unit tests: a fast engine, a cluster, task definitions, waits."""

from __future__ import annotations

import time
from dataclasses import replace

from tests.cloudsim.aws import vendor_of

HANG_GUARD_S = 60.0  # only against a hang: the engine steps every 10 ms here


def fast_engine(sim):
    """The ECS engine, ticking every 10 ms and probing on every tick; its recorders removed
    after the test (a test file's ``engine`` fixture yields from this)."""
    vendor = vendor_of(sim.sim)
    ecs_engine = vendor.engine("ecs")
    saved = ecs_engine.settings
    ecs_engine.settings = replace(saved, tick_s=0.01, health_interval_s=0.0, stop_timeout_s=1.0)
    yield ecs_engine
    ecs_engine.settings = saved
    ecs_engine.on_step.clear()


def wait_until(what: str, probe, guard: float = HANG_GUARD_S):
    """Poll ``probe()`` until it answers something true; fail naming ``what`` on a hang."""
    deadline = time.monotonic() + guard
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def network(sim) -> dict:
    ec2 = sim.aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.2.0/24")["Subnet"]["SubnetId"]
    return {"awsvpcConfiguration": {"subnets": [subnet], "assignPublicIp": "DISABLED"}}


def task_definition(ecs, image: str, *, family: str = "web", health: bool = True, **container):
    definition = {
        "name": "app",
        "image": image,
        "essential": True,
        "portMappings": [{"containerPort": 8000}],
        "environment": [{"name": "RELEASE_ID", "value": image.rsplit(":", 1)[-1]}],
        **container,
    }
    if health:
        definition["healthCheck"] = {
            "command": ["CMD-SHELL", "curl -f http://localhost:8000/healthz || exit 1"],
            "retries": 2,
        }
    answer = ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512", containerDefinitions=[definition],
    )  # fmt: skip
    return answer["taskDefinition"]["taskDefinitionArn"]


def service_of(ecs, name: str = "api", cluster: str = "main") -> dict:
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def primary(service: dict) -> dict:
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def tasks(ecs, cluster: str = "main", **filters) -> list[dict]:
    arns = ecs.list_tasks(cluster=cluster, **filters)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
