"""The ALB engine: real HTTP by listener rules and weights to healthy targets only, target
health as DescribeTargetHealth tells it, draining that lets requests in flight finish."""

from __future__ import annotations

import datetime
import itertools
import threading
from collections import Counter

import pytest

from tests.unit.cloudsim.elb_helpers import Target, get, wait_for

PORT = 8080


@pytest.fixture
def elb(sim):
    sim.admin("aws/elb/settings", {"time_scale": 0.01})  # 5 s intervals become 50 ms
    return sim.aws("elbv2")


@pytest.fixture
def targets():
    made: list[Target] = []

    def make(number: int, name: str) -> Target:
        made.append(Target(f"127.0.0.{number}", name))
        return made[-1]

    yield make
    for target in made:
        target.close()


def network(sim):
    ec2 = sim.aws("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    return vpc, subnets


def target_group(elb, vpc: str, name: str, **settings) -> str:
    group = elb.create_target_group(
        Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
        HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthyThresholdCount=2,
        UnhealthyThresholdCount=2, **settings,
    )["TargetGroups"][0]  # fmt: skip
    return group["TargetGroupArn"]


def register(elb, group: str, *servers: Target) -> None:
    elb.register_targets(
        TargetGroupArn=group, Targets=[{"Id": s.address, "Port": s.port} for s in servers]
    )


def health(elb, group: str) -> dict[str, tuple]:
    found = elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return {
        d["Target"]["Id"]: (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"))
        for d in found
    }


def all_healthy(elb, group: str, count: int) -> bool:
    states = health(elb, group)
    return len(states) == count and {s for s, _reason in states.values()} == {"healthy"}


def forward(*groups: tuple[str, int]) -> list[dict]:
    config = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in groups]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": config}}]


def load_balancer(sim, elb, subnets, actions) -> tuple[str, str, str]:
    lb = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=PORT, DefaultActions=actions
    )["Listeners"][0]
    url = sim.admin("aws/albs")[lb["DNSName"]]
    return url, listener["ListenerArn"], lb["DNSName"]


def answers(url: str, count: int, path: str = "/") -> list[str]:
    return [get(url, path).body.decode().split()[0] for _number in range(count)]


def test_rules_route_by_path_and_host_then_the_default(sim, elb, targets):
    vpc, subnets = network(sim)
    web, api = targets(2, "web"), targets(3, "api")
    web_group, api_group = target_group(elb, vpc, "web"), target_group(elb, vpc, "api")
    register(elb, web_group, web)
    register(elb, api_group, api)
    url, listener, _dns = load_balancer(sim, elb, subnets, forward((web_group, 1)))
    elb.create_rule(
        ListenerArn=listener, Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
        Actions=forward((api_group, 1)),
    )  # fmt: skip
    elb.create_rule(
        ListenerArn=listener, Priority=5,
        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["admin.*"]}}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "403", "ContentType": "text/plain", "MessageBody": "no admins"}}],
    )  # fmt: skip
    wait_for(lambda: all_healthy(elb, web_group, 1) and all_healthy(elb, api_group, 1), "healthy")
    assert get(url, "/api/jobs?x=1").body == b"api /api/jobs?x=1"
    assert get(url, "/apix").body == b"web /apix"
    denied = get(url, "/api/jobs", host="ADMIN.example.com")
    assert (denied.status, denied.body) == (403, b"no admins")
    assert api.paths == ["/api/jobs?x=1"]
    assert web.paths == ["/apix"]


def test_weights_100_0_then_50_50_alternate_exactly(sim, elb, targets):
    vpc, subnets = network(sim)
    blue, green = targets(2, "blue"), targets(3, "green")
    blue_group, green_group = target_group(elb, vpc, "blue"), target_group(elb, vpc, "green")
    register(elb, blue_group, blue)
    register(elb, green_group, green)
    url, listener, dns = load_balancer(
        sim, elb, subnets, forward((blue_group, 100), (green_group, 0))
    )
    wait_for(lambda: all_healthy(elb, blue_group, 1) and all_healthy(elb, green_group, 1), "up")
    assert answers(url, 10) == ["blue"] * 10
    both = forward((blue_group, 50), (green_group, 50))
    elb.modify_listener(ListenerArn=listener, DefaultActions=both)
    assert Counter(answers(url, 10)) == {"blue": 5, "green": 5}
    pairs = answers(url, 6)
    assert all(a != b for a, b in itertools.pairwise(pairs))  # strictly alternating
    stats = sim.admin("aws/albs/stats")[dns]
    assert (stats["requests"], stats["5xx"], stats["failures"]) == (26, 0, 0)


def test_an_unhealthy_target_gets_no_traffic_and_says_why(sim, elb, targets):
    vpc, subnets = network(sim)
    good, bad = targets(2, "good"), targets(3, "bad")
    bad.health_status = 503
    group = target_group(elb, vpc, "app")
    register(elb, group, good, bad)
    url, _listener, _dns = load_balancer(sim, elb, subnets, forward((group, 1)))
    wait_for(lambda: health(elb, group)[bad.address][0] == "unhealthy", "bad is unhealthy")
    wait_for(lambda: health(elb, group)[good.address][0] == "healthy", "good is healthy")
    assert health(elb, group)[bad.address] == ("unhealthy", "Target.ResponseCodeMismatch")
    described = elb.describe_target_health(
        TargetGroupArn=group, Targets=[{"Id": bad.address, "Port": bad.port}]
    )["TargetHealthDescriptions"]
    assert described[0]["TargetHealth"]["Description"] == (
        "Health checks failed with these codes: [503]"
    )
    assert answers(url, 6) == ["good"] * 6
    assert bad.paths == []


def test_with_no_healthy_target_the_alb_fails_open(sim, elb, targets):
    vpc, subnets = network(sim)
    only = targets(2, "only")
    only.health_status = 500
    group = target_group(elb, vpc, "app")
    register(elb, group, only)
    url, _listener, _dns = load_balancer(sim, elb, subnets, forward((group, 1)))
    wait_for(lambda: health(elb, group)[only.address][0] == "unhealthy", "unhealthy")
    assert answers(url, 2) == ["only", "only"]


def test_a_target_group_without_targets_is_a_503_counted_as_the_albs(sim, elb):
    vpc, subnets = network(sim)
    group = target_group(elb, vpc, "empty")
    url, _listener, dns = load_balancer(sim, elb, subnets, forward((group, 1)))
    reply = get(url, "/")
    assert reply.status == 503
    assert b"503 Service Temporarily Unavailable" in reply.body
    stats = sim.admin("aws/albs/stats")[dns]
    assert (stats["requests"], stats["5xx"], stats["failures"]) == (1, 1, 1)


def test_draining_finishes_requests_in_flight_and_takes_no_new_ones(sim, elb, targets):
    vpc, subnets = network(sim)
    old, new = targets(2, "old"), targets(3, "new")
    group = target_group(elb, vpc, "app")
    register(elb, group, old)
    url, _listener, _dns = load_balancer(sim, elb, subnets, forward((group, 1)))
    wait_for(lambda: all_healthy(elb, group, 1), "old is healthy")
    slow: list = []
    request = threading.Thread(target=lambda: slow.append(get(url, "/slow")))
    request.start()
    assert old.slow_started.wait(10)
    register(elb, group, new)
    wait_for(lambda: health(elb, group).get(new.address, ("",))[0] == "healthy", "new healthy")
    elb.deregister_targets(TargetGroupArn=group, Targets=[{"Id": old.address, "Port": old.port}])
    assert health(elb, group)[old.address] == ("draining", "Target.DeregistrationInProgress")
    assert answers(url, 4) == ["new"] * 4
    old.release.set()
    request.join(10)
    assert (slow[0].status, slow[0].body) == (200, b"old /slow")
    elb.modify_target_group_attributes(
        TargetGroupArn=group,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "0"}],
    )
    wait_for(lambda: old.address not in health(elb, group), "old is gone")
    gone = elb.describe_target_health(
        TargetGroupArn=group, Targets=[{"Id": old.address, "Port": old.port}]
    )["TargetHealthDescriptions"][0]["TargetHealth"]
    assert (gone["State"], gone["Reason"]) == ("unused", "Target.NotRegistered")


def test_target_health_through_a_registrations_life(sim, elb, targets):
    vpc, subnets = network(sim)
    server = targets(2, "app")
    group = target_group(elb, vpc, "app")
    register(elb, group, server)
    assert health(elb, group) == {server.address: ("unused", "Target.NotInUse")}
    sim.admin("aws/elb/settings", {"time_scale": 100})  # no health check before we look
    load_balancer(sim, elb, subnets, forward((group, 1)))
    assert health(elb, group) == {server.address: ("initial", "Elb.RegistrationInProgress")}
    sim.admin("aws/elb/settings", {"time_scale": 0.01})  # the next check is due within 50 ms
    engine = next(v for v in sim.sim.vendors if v.name == "aws").engine("elb")
    wait_for(lambda: all_healthy(elb, group, 1), "healthy")
    assert engine.target_health(group, server.address, server.port) == ("healthy", None)
    server.health_status = 500
    wait_for(lambda: health(elb, group)[server.address][0] == "unhealthy", "unhealthy")
    assert health(elb, group)[server.address] == ("unhealthy", "Target.ResponseCodeMismatch")


def test_an_address_no_prober_answers_for_is_never_contacted(sim, elb):
    vpc, subnets = network(sim)
    group = target_group(elb, vpc, "remote")
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.0.5", "Port": 8080}])
    url, _listener, dns = load_balancer(sim, elb, subnets, forward((group, 1)))
    wait_for(lambda: health(elb, group)["10.0.0.5"][0] == "unhealthy", "unhealthy")
    assert health(elb, group)["10.0.0.5"] == ("unhealthy", "Target.Timeout")
    assert get(url, "/").status == 502  # failed open, yet not contacted
    assert sim.admin("aws/albs/stats")[dns]["connection_errors"] == 1
    engine = next(v for v in sim.sim.vendors if v.name == "aws").engine("elb")
    asked = []

    def prober(target_id, port, path, timeout):
        asked.append((target_id, port, path))
        return True if target_id == "10.0.0.5" else None

    engine.probers.append(prober)
    try:
        wait_for(lambda: all_healthy(elb, group, 1), "healthy by the prober")
    finally:
        engine.probers.remove(prober)
    assert asked[0] == ("10.0.0.5", 8080, "/health")


def test_what_targets_answer_reaches_cloudwatch_per_target_group(sim, elb, targets):
    """A blue-green shift's metric gate reads these back (plugins/module_utils/aws)."""
    vpc, subnets = network(sim)
    blue, green = targets(2, "blue"), targets(3, "green")
    blue_group, green_group = target_group(elb, vpc, "blue"), target_group(elb, vpc, "green")
    register(elb, blue_group, blue)
    register(elb, green_group, green)
    load_balancer(sim, elb, subnets, forward((blue_group, 50), (green_group, 50)))
    url = next(iter(sim.admin("aws/albs").values()))
    wait_for(lambda: all_healthy(elb, blue_group, 1) and all_healthy(elb, green_group, 1), "up")
    answers(url, 8)
    engine = next(v for v in sim.sim.vendors if v.name == "aws").engine("elb")
    engine.metrics.flush(everything=True)
    lb_arn = elb.describe_load_balancers(Names=["web"])["LoadBalancers"][0]["LoadBalancerArn"]
    lb_dimension = lb_arn.split(":loadbalancer/")[1]
    now = datetime.datetime.now(datetime.UTC)
    cloudwatch = sim.aws("cloudwatch")

    def numbers(group: str) -> dict[str, list[float]]:
        dimensions = [
            {"Name": "LoadBalancer", "Value": lb_dimension},
            {"Name": "TargetGroup", "Value": group.split(":", 5)[-1]},
        ]
        queries = [
            {"Id": query_id, "MetricStat": {"Metric": {
                "Namespace": "AWS/ApplicationELB", "MetricName": metric,
                "Dimensions": dimensions}, "Period": 60, "Stat": stat}}
            for query_id, metric, stat in (
                ("requests", "RequestCount", "Sum"),
                ("errors", "HTTPCode_Target_5XX_Count", "Sum"),
                ("p95", "TargetResponseTime", "p95"),
            )
        ]  # fmt: skip
        results = cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=now - datetime.timedelta(seconds=120),
            EndTime=now + datetime.timedelta(seconds=60),
        )["MetricDataResults"]
        return {r["Id"]: r["Values"] for r in results}

    for group in (blue_group, green_group):
        found = numbers(group)
        assert (sum(found["requests"]), sum(found["errors"])) == (4.0, 0.0)
        assert len(found["p95"]) >= 1
        assert all(value > 0 for value in found["p95"])
