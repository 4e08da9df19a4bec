"""A blue-green world in the local AWS for ecs_deploy's tests: an ALB with a production
listener (port 80, to blue) and a test listener (port 8080, to green), target groups blue and
green (target type ip), cluster ``main`` and service ``blue`` running release r1.

The memory runtime gives tasks no address the ALB could reach, so the tests stand in for the
traffic: :class:`Traffic` puts the ALB's numbers of both groups into the local CloudWatch
(as the ALB engine would publish them), good or with 5xx, several times a second.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field

from ansible_collections.sigma.deploy.plugins.module_utils.aws.alb_metrics import dimension
from tests.unit.cloudsim.aws_ecs_helpers import (
    network,
    primary,
    service_of,
    task_definition,
    wait_until,
)

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/notes"
PUT_INTERVAL = 0.2
REQUESTS_PER_PUT = 10


@dataclass
class World:
    lb: str
    dns: str
    listener: str
    test_listener: str
    blue: str
    green: str
    first_taskdef: str


def make_world(sim) -> World:
    sim.admin("aws/elb/settings", {"time_scale": 0.01})  # 5 s health intervals become 50 ms
    ecs, elb, ec2 = sim.aws("ecs"), sim.aws("elbv2"), sim.aws("ec2")
    net = network(sim)
    subnet = net["awsvpcConfiguration"]["subnets"][0]
    vpc = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.3.0/24")["Subnet"]["SubnetId"]
    groups = {}
    for name in ("blue", "green"):
        groups[name] = elb.create_target_group(
            Name=name, Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip",
            HealthCheckPath="/healthz", HealthCheckIntervalSeconds=5, HealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
        elb.modify_target_group_attributes(
            TargetGroupArn=groups[name],
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}],
        )
    lb = elb.create_load_balancer(Name="notes", Subnets=[subnet, other])["LoadBalancers"][0]

    def listener(port: int, group: str) -> str:
        return elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
        )["Listeners"][0]["ListenerArn"]  # fmt: skip

    world = World(
        lb=lb["LoadBalancerArn"],
        dns=lb["DNSName"],
        listener=listener(80, groups["blue"]),
        test_listener=listener(8080, groups["green"]),
        blue=groups["blue"],
        green=groups["green"],
        first_taskdef=task_definition(ecs, f"{REPO}:r1", family="notes"),
    )
    ecs.create_cluster(clusterName="main")
    ecs.create_service(
        cluster="main", serviceName="blue", taskDefinition=world.first_taskdef, desiredCount=2,
        launchType="FARGATE", networkConfiguration=net,
        loadBalancers=[{"targetGroupArn": world.blue, "containerName": "app",
                        "containerPort": 8000}],
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200,
                                 "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        tags=[{"key": "app", "value": "notes"}],
    )  # fmt: skip
    wait_until(
        "blue serves r1", lambda: primary(service_of(ecs, "blue"))["rolloutState"] == "COMPLETED"
    )
    return world


def weights(elb, listener: str) -> dict[str, int]:
    """The listener's forward weights (a single target group weighs 1)."""
    action = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
    if not groups:
        return {action["TargetGroupArn"]: 1}
    return {g["TargetGroupArn"]: g["Weight"] for g in groups}


@dataclass
class Traffic:
    """Puts each group's ALB numbers into the local CloudWatch every PUT_INTERVAL seconds:
    REQUESTS_PER_PUT requests, ``error_rate[group]`` of them 5xx, 50 ms each."""

    cloudwatch: object
    lb: str
    groups: list[str]
    error_rate: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bluegreen-traffic", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(PUT_INTERVAL):
            now = datetime.datetime.now(datetime.UTC)
            for group in self.groups:
                errors = round(REQUESTS_PER_PUT * self.error_rate.get(group, 0.0))
                self.cloudwatch.put_metric_data(
                    Namespace="AWS/ApplicationELB", MetricData=self._data(group, now, errors)
                )

    def _data(self, group: str, now: datetime.datetime, errors: int) -> list[dict]:
        dimensions = [
            {"Name": "LoadBalancer", "Value": dimension(self.lb)},
            {"Name": "TargetGroup", "Value": dimension(group)},
        ]
        common = {"Dimensions": dimensions, "Timestamp": now, "StorageResolution": 1}
        return [
            {"MetricName": "RequestCount", "Value": REQUESTS_PER_PUT, **common},
            {"MetricName": "HTTPCode_Target_5XX_Count", "Value": errors, **common},
            {"MetricName": "TargetResponseTime", "Values": [0.05], **common},
        ]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
