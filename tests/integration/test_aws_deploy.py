"""ecs_deploy on the local AWS, under a steady load through the ALB stand-in.

The stack is made with boto3 as a provisioning playbook would: a VPC, an ALB whose listener
forwards to a target group of the service's tasks, an RDS PostgreSQL instance (a real database
in a container), the app's DATABASE_URL in Secrets Manager, a cluster and a service of two
tasks. Every task is a container of the app's image; the ALB forwards only to healthy targets
and lets deregistered ones drain; the load generator counts every failed request.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from dataclasses import dataclass

import pytest

from tests.integration.aws_support import AwsWorld
from tests.integration.sim_support import module_play
from tools.loadgen import LoadGen

CLUSTER, SERVICE, FAMILY = "rung", "notes-rung", "notes-rung-api"
COUNT = 2
HEALTH = [
    "CMD-SHELL",
    'python3 -c "import urllib.request as u; '
    "u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)\"",
]


@dataclass
class Stack:
    alb_url: str
    alb_dns: str
    target_group: str
    db_secret: str
    green_group: str
    listener: str
    test_listener: str
    queue_url: str
    dlq_url: str
    subnets: list[str]


def _wait_db(world: AwsWorld, rds, identifier: str) -> dict:
    def available():
        db = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        return db if db["DBInstanceStatus"] == "available" else None

    return world.wait(f"{identifier} is available", available, timeout=240)


def _target_group(elb, vpc: str, name: str) -> str:
    arn = elb.create_target_group(
        Name=name, Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip",
        HealthCheckPath="/healthz", HealthCheckIntervalSeconds=5, HealthyThresholdCount=2,
        UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elb.modify_target_group_attributes(
        TargetGroupArn=arn,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "10"}],
    )
    return arn


def _listener(elb, lb_arn: str, port: int, group: str) -> str:
    return elb.create_listener(
        LoadBalancerArn=lb_arn, Protocol="HTTP", Port=port,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )["Listeners"][0]["ListenerArn"]  # fmt: skip


@pytest.fixture(scope="module")
def stack(aws_world: AwsWorld) -> Stack:
    world = aws_world
    world.engine("ecs").settings.tick_s = world.engine("ecs").settings.health_interval_s = 1.0
    world.engine("elb").time_scale = 0.4  # health checks every 2 s, a 4 s drain
    ec2, elb, rds = world.client("ec2"), world.client("elbv2"), world.client("rds")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{n}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for n, zone in ((1, "us-east-1a"), (2, "us-east-1b"))
    ]
    password = secrets.token_urlsafe(16)
    rds.create_db_instance(
        DBInstanceIdentifier="it-db", Engine="postgres", DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20, MasterUsername="notes", MasterUserPassword=password,
        DBName="notes", MultiAZ=True,
    )  # fmt: skip
    endpoint = _wait_db(world, rds, "it-db")["Endpoint"]
    url = f"postgresql+psycopg://notes:{password}@{endpoint['Address']}:{endpoint['Port']}/notes"
    secret = world.client("secretsmanager").create_secret(Name="it/database-url", SecretString=url)
    sqs = world.client("sqs")
    dlq_url = sqs.create_queue(QueueName="it-jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": "2"}
    queue_url = sqs.create_queue(
        QueueName="it-jobs",
        Attributes={"VisibilityTimeout": "2", "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    group, green = _target_group(elb, vpc, "it-blue"), _target_group(elb, vpc, "it-green")
    lb = elb.create_load_balancer(Name="it-alb", Subnets=subnets)["LoadBalancers"][0]
    listener = _listener(elb, lb["LoadBalancerArn"], 80, group)
    test_listener = _listener(elb, lb["LoadBalancerArn"], 8080, green)
    ecs = world.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    first = ecs.register_task_definition(
        family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512",
        containerDefinitions=[{
            "name": "api", "image": world.image, "essential": True,
            "portMappings": [{"containerPort": 8000}],
            "environment": [
                {"name": "RELEASE_ID", "value": "r0"}, {"name": "WEB_CONCURRENCY", "value": "1"},
                {"name": "JOB_QUEUE_URL", "value": queue_url},
            ],
            "secrets": [{"name": "DATABASE_URL", "valueFrom": secret["ARN"]}],
            "healthCheck": {"command": HEALTH, "retries": 5, "startPeriod": 30, "interval": 5},
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    ecs.create_service(
        cluster=CLUSTER, serviceName=SERVICE, taskDefinition=first, desiredCount=COUNT,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
        loadBalancers=[{"targetGroupArn": group, "containerName": "api", "containerPort": 8000}],
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200},
    )  # fmt: skip
    alb_url = world.admin("albs")[lb["DNSName"]]
    return Stack(
        alb_url, lb["DNSName"], group, secret["ARN"], green, listener, test_listener,
        queue_url, dlq_url, subnets,
    )  # fmt: skip


def deploy(world: AwsWorld, tmp_path, name: str, release_id: str, **extra):
    args = {
        "cluster": CLUSTER,
        "service": SERVICE,
        "image": extra.pop("image", world.image),
        "release_id": release_id,
        "circuit_breaker": {"enable": True, "rollback": True},
        "wait_timeout": 420,
        "poll_interval": 2,
        **extra,
    }
    if args.get("strategy") == "bluegreen":
        del args["service"]  # bluegreen.services names the pair
    return module_play("sigma.deploy.ecs_deploy", args, world.env, tmp_path, name)


def under_load(stack: Stack, action):
    """Run ``action()`` while a bounded load goes through the ALB; returns (its value, report)."""
    load = LoadGen(stack.alb_url, paths=["/version"], rate=15, max_seconds=600, max_requests=9000)
    load.start()
    try:
        value = action()
    finally:
        report = load.stop()
    return value, report


def serving(world: AwsWorld) -> list[str]:
    """The release of every task of the service that is RUNNING."""
    ecs = world.client("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="RUNNING")
    found = ecs.describe_tasks(cluster=CLUSTER, tasks=arns["taskArns"])["tasks"] if arns else []
    releases = []
    for task in found:
        definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])
        env = definition["taskDefinition"]["containerDefinitions"][0]["environment"]
        releases.append(next(e["value"] for e in env if e["name"] == "RELEASE_ID"))
    return sorted(releases)


@pytest.fixture(scope="module")
def released(aws_world: AwsWorld, stack: Stack, tmp_path_factory) -> Stack:
    """Release r1 deployed with its migration (the database's tables)."""
    rc, result, output = deploy(
        aws_world, tmp_path_factory.mktemp("r1"), "r1", "r1", migrate=["notes-api-migrate"]
    )
    assert rc == 0, output[-6000:]
    assert result["deployment"]["state"] == "completed"
    assert serving(aws_world) == ["r1"] * COUNT
    return stack


def test_rolling_drops_no_request(aws_world, released, tmp_path):
    (rc, result, output), report = under_load(
        released, lambda: deploy(aws_world, tmp_path, "r2", "r2")
    )
    assert rc == 0, output[-6000:]
    assert result["changed"] is True
    assert report.failed == 0, report.summary()
    assert report.sent > 50, report.summary()
    assert serving(aws_world) == ["r2"] * COUNT
    assert report.all_after(report.started + report.seconds - 1) == {"r2"}
    again_rc, again, again_output = deploy(aws_world, tmp_path, "r2-again", "r2")
    assert again_rc == 0, again_output[-4000:]
    assert again["changed"] is False


def test_an_image_that_does_not_exist_is_rolled_back_and_traffic_stays(
    aws_world, released, tmp_path
):
    missing = aws_world.image.rsplit(":", 1)[0] + ":no-such-tag"
    before = serving(aws_world)
    (rc, result, output), report = under_load(
        released, lambda: deploy(aws_world, tmp_path, "missing", "r-missing", image=missing)
    )
    assert rc == 1, output[-6000:]
    assert result["deployment"]["state"] == "rolled_back", result["msg"]
    assert "CannotPullContainerError" in result["msg"], result["msg"]
    assert report.failed == 0, report.summary()
    assert serving(aws_world) == before


def test_a_failed_migration_switches_nothing(aws_world, released, tmp_path):
    before = serving(aws_world)
    (rc, result, output), report = under_load(
        released,
        lambda: deploy(
            aws_world, tmp_path, "bad-migration", "r-bad", migrate=["sh", "-c", "exit 3"]
        ),
    )
    assert rc == 1, output[-6000:]
    assert "exit code 3" in result["msg"], result["msg"]
    assert report.failed == 0, report.summary()
    assert serving(aws_world) == before


def test_bluegreen_checks_the_test_listener_then_shifts_with_no_request_dropped(
    aws_world, released, tmp_path
):
    bluegreen = {
        "services": [SERVICE, f"{SERVICE}-green"],
        "target_groups": [released.target_group, released.green_group],
        "listener_arn": released.listener,
        "test_listener_arn": released.test_listener,
        "test_url": released.alb_url + ":8080",
        "test_checks": [{"path": "/version", "contains": "r-bg"}],
        "traffic_steps": [10, 50, 100],
        "step_seconds": 6,
        "metric_period": 1,
    }
    canary = {"max_error_rate": 0.0, "max_p95_ms": 2000, "min_requests": 3}
    settings = {"strategy": "bluegreen", "bluegreen": bluegreen, "canary": canary}
    (rc, result, output), report = under_load(
        released, lambda: deploy(aws_world, tmp_path, "bluegreen", "r-bg", **settings)
    )
    assert rc == 0, output[-6000:]
    steps = result["deployment"]["bluegreen"]
    assert steps["serving_target_group"] == released.green_group, steps
    assert [shift["percent"] for shift in steps["shifts"]] == [10, 50, 100]
    assert all(shift["passed"] for shift in steps["shifts"][:-1]), steps["shifts"]
    assert steps["scaled_to_zero"], steps
    assert report.failed == 0, report.summary()
    assert report.all_after(report.started + report.seconds - 1) == {"r-bg"}
    again_rc, again, again_output = deploy(aws_world, tmp_path, "again", "r-bg", **settings)
    assert again_rc == 0, again_output[-4000:]
    assert again["changed"] is False


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def test_the_worker_runs_queued_jobs_and_a_poisoned_one_lands_in_the_dlq(aws_world, released):
    """The worker service (the same image, command notes-api-worker) takes jobs the API queued
    on SQS; a job that always fails is received maxReceiveCount (2) times, then SQS's redrive
    moves it to the dead-letter queue and the job is dead."""
    ecs = aws_world.client("ecs")
    worker = ecs.register_task_definition(
        family="notes-rung-worker", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512",
        containerDefinitions=[{
            "name": "worker", "image": aws_world.image, "essential": True,
            "command": ["notes-api-worker"],
            "environment": [
                {"name": "RELEASE_ID", "value": "r1"}, {"name": "JOB_POLL_SECONDS", "value": "1"},
                {"name": "JOB_QUEUE_URL", "value": released.queue_url},
            ],
            "secrets": [{"name": "DATABASE_URL", "valueFrom": released.db_secret}],
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    ecs.create_service(
        cluster=CLUSTER, serviceName="notes-rung-worker", taskDefinition=worker, desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": released.subnets}},
    )  # fmt: skip
    done = _post(released.alb_url + "/jobs", {"kind": "echo", "payload": {"n": 7}})
    poisoned = _post(released.alb_url + "/jobs", {"kind": "fail", "payload": {}})

    def status(job: dict, wanted: str):
        found = _get_json(f"{released.alb_url}/jobs/{job['id']}")
        return found if found["status"] == wanted else None

    echoed = aws_world.wait("the echo job is done", lambda: status(done, "done"), timeout=180)
    assert echoed["attempts"] == 1
    dead = aws_world.wait("the poisoned job is dead", lambda: status(poisoned, "dead"), 180)
    assert dead["attempts"] == 2
    sqs = aws_world.client("sqs")
    messages = aws_world.wait(
        "the poisoned message is in the dead-letter queue",
        lambda: sqs.receive_message(QueueUrl=released.dlq_url, WaitTimeSeconds=1).get("Messages"),
        timeout=60,
    )
    assert json.loads(messages[0]["Body"]) == {"job_id": poisoned["id"]}


def test_a_multi_az_failover_keeps_the_data(aws_world, released):
    note = json.dumps({"title": "kept", "body": "across a failover"}).encode()
    request = urllib.request.Request(
        released.alb_url + "/notes", data=note, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        created = json.loads(answer.read())
    rds = aws_world.client("rds")
    rds.reboot_db_instance(DBInstanceIdentifier="it-db", ForceFailover=True)
    _wait_db(aws_world, rds, "it-db")

    def read_back():
        try:
            with urllib.request.urlopen(
                f"{released.alb_url}/notes/{created['id']}", timeout=10
            ) as answer:
                return json.loads(answer.read())
        except OSError:
            return None  # the app's connections reconnect after the restart

    found = aws_world.wait("the note is read back", read_back, timeout=60)
    assert (found["title"], found["body"]) == ("kept", "across a failover")
