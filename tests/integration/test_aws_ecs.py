"""ECS on the local AWS with real containers: a service's tasks run the app's image (pulled by
its ECR name from the local registry), answer GET /healthz at their address, and a rolling
update replaces them."""

from __future__ import annotations

import http.client

from tests.integration.aws_support import AwsWorld

ENV = [
    {"name": "DATABASE_URL", "value": "sqlite:////tmp/notes.db"},
    {"name": "WEB_CONCURRENCY", "value": "1"},
]


def _task_definition(ecs, image: str, release: str) -> str:
    answer = ecs.register_task_definition(
        family="notes-api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512",
        containerDefinitions=[{
            "name": "api", "image": image, "essential": True,
            "portMappings": [{"containerPort": 8000}],
            "environment": [*ENV, {"name": "RELEASE_ID", "value": release}],
            "healthCheck": {
                "command": ["CMD-SHELL", "python3 -c \"import urllib.request as u; "
                            "u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)\""],
                "retries": 5, "startPeriod": 30, "interval": 5,
            },
        }],
    )  # fmt: skip
    return answer["taskDefinition"]["taskDefinitionArn"]


def _get(address: str, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(address, 8000, timeout=5)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def _service(ecs) -> dict:
    return ecs.describe_services(cluster="it", services=["notes"])["services"][0]


def _primary(ecs) -> dict:
    return next(d for d in _service(ecs)["deployments"] if d["status"] == "PRIMARY")


def _running(ecs) -> list[dict]:
    arns = ecs.list_tasks(cluster="it", serviceName="notes")["taskArns"]
    return ecs.describe_tasks(cluster="it", tasks=arns)["tasks"] if arns else []


def _address(task: dict) -> str:
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    return details["privateIPv4Address"]


def test_service_tasks_run_the_image_and_a_rolling_update_replaces_them(aws_world: AwsWorld):
    engine = aws_world.ecs_engine
    engine.settings.tick_s = engine.settings.health_interval_s = 1.0
    ecs, ec2 = aws_world.client("ecs"), aws_world.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    ecs.create_cluster(clusterName="it")
    first = _task_definition(ecs, aws_world.image, "r1")
    ecs.create_service(
        cluster="it", serviceName="notes", taskDefinition=first, desiredCount=2,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
        deploymentConfiguration={
            "minimumHealthyPercent": 50, "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
    )  # fmt: skip
    aws_world.wait(
        "the first deployment completes", lambda: _primary(ecs)["rolloutState"] == "COMPLETED"
    )
    old = _running(ecs)
    assert len(old) == 2
    for task in old:
        assert task["healthStatus"] == "HEALTHY"
        status, body = _get(_address(task), "/healthz")
        assert status == 200, body
        assert _get(_address(task), "/version")[1].count(b"r1") == 1

    second = _task_definition(ecs, aws_world.image, "r2")
    ecs.update_service(cluster="it", service="notes", taskDefinition=second)
    aws_world.wait(
        "the rolling update completes",
        lambda: (
            _primary(ecs)["taskDefinition"] == second
            and _primary(ecs)["rolloutState"] == "COMPLETED"
        ),
    )
    new = _running(ecs)
    assert sorted(t["taskDefinitionArn"] for t in new) == [second, second]
    assert not {t["taskArn"] for t in new} & {t["taskArn"] for t in old}
    for task in new:
        status, _body = _get(_address(task), "/healthz")
        assert status == 200
        assert b"r2" in _get(_address(task), "/version")[1]
    stopped = ecs.describe_tasks(cluster="it", tasks=[t["taskArn"] for t in old])["tasks"]
    assert {(t["lastStatus"], t["stopCode"]) for t in stopped} == {
        ("STOPPED", "ServiceSchedulerInitiated")
    }
    ecs.delete_service(cluster="it", service="notes", force=True)
    aws_world.wait(
        "the service is gone", lambda: _service(ecs)["status"] == "INACTIVE", timeout=120
    )
