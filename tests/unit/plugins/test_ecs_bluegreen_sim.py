"""ecs_deploy with strategy bluegreen against the local AWS (moto behind the ECS and ALB
engines, memory runtime): the green service made and deployed, checked through the test
listener, the traffic shifted by the metric gate, blue scaled to 0; the way back to blue; a
rerun that changes nothing; failures that leave production as it was.

The checks through the test listener are recorded, not sent (memory tasks have no address);
the metric gate reads what :class:`bluegreen_world.Traffic` puts into the local CloudWatch.
"""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_bluegreen_run
from ansible_collections.sigma.deploy.plugins.modules import ecs_deploy
from tests.unit.cloudsim.aws_ecs_helpers import fast_engine, primary, service_of, tasks, wait_until
from tests.unit.plugins.bluegreen_world import REPO, Traffic, make_world, weights


@pytest.fixture
def engine(sim):
    yield from fast_engine(sim)


@pytest.fixture
def world(sim, engine):
    return make_world(sim)


@pytest.fixture
def traffic(sim, world):
    feed = Traffic(sim.aws("cloudwatch"), world.lb, [world.blue, world.green])
    yield feed
    feed.stop()


class Checks:
    """Stands in for http_check.run_checks: records the checks, answers ``passing``."""

    def __init__(self) -> None:
        self.calls: list[list[dict]] = []
        self.passing = True

    def __call__(self, checks, timeout, validate_certs, wait, interval):
        self.calls.append([{"name": c["name"], "url": c["url"]} for c in checks])
        status = 200 if self.passing else 503
        return [
            {
                "name": check["name"],
                "url": check["url"],
                "status": status,
                "passed": self.passing,
                "reason": "" if self.passing else "status 503, expected 200",
                "elapsed_ms": 1.0,
                "attempts": 1,
            }
            for check in checks
        ]


@pytest.fixture
def checks(monkeypatch):
    recorder = Checks()
    monkeypatch.setattr(ecs_bluegreen_run, "run_checks", recorder)
    return recorder


@pytest.fixture
def deploy(sim, run, world, traffic, checks):
    def go(release: str, check: bool = False, **params):
        aws = {
            "region": "us-east-1",
            "access_key": "testing",
            "secret_key": "testing",
            "endpoint_url": sim.aws_url,
            "aws_ca_bundle": sim.ca_path,
        }
        bluegreen = {
            "services": ["blue", "green"],
            "target_groups": ["blue", "green"],
            "listener_arn": world.listener,
            "test_listener_arn": world.test_listener,
            "step_seconds": 1,
            "metric_period": 1,
            **params.pop("bluegreen", {}),
        }
        base = {
            "cluster": "main",
            "strategy": "bluegreen",
            "image": f"{REPO}:{release}",
            "release_id": release,
            "bluegreen": bluegreen,
            "canary": {"min_requests": 5},
            "poll_interval": 0.05,
            "wait_timeout": 60,
        }
        return run(ecs_deploy, check=check, **{**aws, **base, **params})

    return go


@pytest.fixture
def changes(sim, monkeypatch):
    """The AWS actions sent through the gateway that are not reads (the traffic's
    PutMetricData left out), in order."""
    gateway = next(v for v in sim.sim.vendors if v.name == "aws").gateway
    seen: list[str] = []
    answer = gateway._answer

    def recording(call, environ):
        if call is not None and not call.action.startswith(NOT_CHANGES):
            seen.append(call.action)
        return answer(call, environ)

    monkeypatch.setattr(gateway, "_answer", recording)
    return seen


NOT_CHANGES = ("Describe", "List", "Get", "PutMetricData")  # PutMetricData: the traffic


def served_by(elb, listener: str) -> set[str]:
    """The target groups a listener sends traffic to (weight above 0)."""
    return {group for group, weight in weights(elb, listener).items() if weight > 0}


def running_images(ecs, service: str) -> set[str]:
    return {t["containers"][0]["image"] for t in tasks(ecs, serviceName=service)}


def test_a_deploy_makes_green_shifts_to_it_and_scales_blue_to_zero(sim, world, deploy, checks):
    ecs, elb = sim.aws("ecs"), sim.aws("elbv2")
    result = deploy("r2", _ansible_diff=True)
    assert result["failed"] is False, (result["msg"], result["steps"])
    assert result["changed"] is True
    assert weights(elb, world.listener) == {world.blue: 0, world.green: 100}
    assert served_by(elb, world.test_listener) == {world.green}
    green, blue = service_of(ecs, "green"), service_of(ecs, "blue")
    assert primary(green)["rolloutState"] == "COMPLETED"
    assert (green["desiredCount"], blue["desiredCount"]) == (2, 0)
    assert running_images(ecs, "green") == {f"{REPO}:r2"}
    # green is a copy of blue, in its own target group
    assert green["loadBalancers"] == [
        {"targetGroupArn": world.green, "containerName": "app", "containerPort": 8000}
    ]
    assert green["networkConfiguration"] == blue["networkConfiguration"]
    assert green["launchType"] == "FARGATE"
    assert green["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    tags = ecs.list_tags_for_resource(resourceArn=green["serviceArn"])["tags"]
    assert tags == [{"key": "app", "value": "notes"}]
    assert checks.calls == [[{"name": "/healthz", "url": f"http://{world.dns}:8080/healthz"}]]

    deployment = result["deployment"]
    assert (deployment["action"], deployment["service"], deployment["state"]) == (
        "deploy",
        "green",
        "completed",
    )
    assert deployment["previous"]["release_id"] == "r1"
    bgr = deployment["bluegreen"]
    assert {k: bgr[k] for k in ("live_service", "idle_service", "idle_service_created")} == {
        "live_service": "blue",
        "idle_service": "green",
        "idle_service_created": True,
    }
    assert (bgr["live_target_group"], bgr["idle_target_group"]) == (world.blue, world.green)
    assert (bgr["serving_target_group"], bgr["scaled_to_zero"]) == (world.green, True)
    assert bgr["test_url"] == f"http://{world.dns}:8080"
    assert [(s["percent"], s["passed"]) for s in bgr["shifts"]] == [
        (10, True),
        (50, True),
        (100, None),
    ]
    for step in bgr["shifts"][:2]:
        assert step["stats"]["requests"] >= 5
        assert (step["stats"]["errors"], step["stats"]["p95_ms"]) == (0, 50.0)
    assert bgr["shifts"][2]["stats"] is None
    assert result["diff"] == {
        "before": {"image": f"{REPO}:r1", "release_id": "r1", "live_target_group": "blue"},
        "after": {"image": f"{REPO}:r2", "release_id": "r2", "live_target_group": "green"},
    }
    wait_until("blue's tasks stop", lambda: not tasks(ecs, serviceName="blue"))


def test_the_next_deploy_goes_back_to_blue_and_a_rerun_changes_nothing(sim, world, deploy, changes):
    ecs, elb = sim.aws("ecs"), sim.aws("elbv2")
    assert deploy("r2")["failed"] is False
    third = deploy("r3")
    assert third["failed"] is False, (third["msg"], third["steps"])
    assert weights(elb, world.listener) == {world.green: 0, world.blue: 100}
    assert served_by(elb, world.test_listener) == {world.blue}
    blue, green = service_of(ecs, "blue"), service_of(ecs, "green")
    assert (blue["desiredCount"], green["desiredCount"]) == (2, 0)
    wait_until("blue runs r3 only", lambda: running_images(ecs, "blue") == {f"{REPO}:r3"})
    bgr = third["deployment"]["bluegreen"]
    assert (bgr["live_service"], bgr["idle_service"], bgr["idle_service_created"]) == (
        "green",
        "blue",
        False,
    )
    assert third["deployment"]["previous"]["release_id"] == "r2"

    changes.clear()
    again = deploy("r3")
    assert (again["failed"], again["changed"]) == (False, False)
    assert again["deployment"]["action"] == "none"
    assert again["deployment"]["service"] == "blue"
    assert again["deployment"]["state"] == "completed"
    assert changes == []
    assert weights(elb, world.listener) == {world.green: 0, world.blue: 100}


def test_a_failing_check_through_the_test_listener_moves_no_traffic(sim, world, deploy, checks):
    ecs, elb = sim.aws("ecs"), sim.aws("elbv2")
    checks.passing = False
    result = deploy("r2")
    assert (result["failed"], result["changed"]) == (True, True)
    assert result["msg"] == (
        f"the release failed its checks through the test listener (http://{world.dns}:8080): "
        "1 of 1 checks failed: /healthz (status 503, expected 200); production traffic was "
        "not moved"
    )
    assert weights(elb, world.listener) == {world.blue: 1}
    assert service_of(ecs, "green")["desiredCount"] == 0
    assert service_of(ecs, "blue")["desiredCount"] == 2
    assert result["deployment"]["bluegreen"]["shifts"] == []


def test_a_failed_gate_puts_production_back_on_blue_and_names_the_numbers(
    sim, world, deploy, traffic
):
    ecs, elb = sim.aws("ecs"), sim.aws("elbv2")
    traffic.error_rate[world.green] = 0.5
    result = deploy("r2")
    assert (result["failed"], result["changed"]) == (True, True)
    shifts = result["deployment"]["bluegreen"]["shifts"]
    assert [(s["percent"], s["passed"]) for s in shifts] == [(10, False)]
    stats = shifts[0]["stats"]
    assert stats["error_rate"] == 0.5
    assert result["msg"] == (
        f"green at 10 % over {shifts[0]['window_s']}s: {stats['requests']} requests, "
        f"{stats['errors']} errors (50.00 %), p95 50 ms: fail: too many errors (limits: errors "
        "<= 1.00 %, p95 <= 500 ms, at least 5 requests); production traffic is back on blue "
        "(100 %)"
    )
    assert weights(elb, world.listener) == {world.blue: 100, world.green: 0}
    assert service_of(ecs, "green")["desiredCount"] == 0
    assert service_of(ecs, "blue")["desiredCount"] == 2
    assert result["deployment"]["bluegreen"]["serving_target_group"] == world.blue


def test_a_green_deployment_rolled_back_by_the_circuit_breaker_moves_no_traffic(
    sim, world, deploy, checks
):
    ecs, elb = sim.aws("ecs"), sim.aws("elbv2")
    result = deploy("failing")
    assert result["failed"] is True
    assert result["deployment"]["state"] == "rolled_back"
    assert "circuit breaker" in result["msg"], result["msg"]
    assert result["msg"].endswith("; production traffic was not moved"), result["msg"]
    assert weights(elb, world.listener) == {world.blue: 1}
    assert service_of(ecs, "green")["desiredCount"] == 0
    assert running_images(ecs, "blue") == {f"{REPO}:r1"}
    assert checks.calls == []


def test_check_mode_plans_and_changes_nothing(sim, world, deploy, checks, changes):
    ecs, elb = sim.aws("ecs"), sim.aws("elbv2")
    result = deploy("r2", check=True)
    assert (result["failed"], result["changed"]) == (False, True)
    assert changes == []
    assert checks.calls == []
    assert result["steps"] == ["check mode: would deploy"]
    deployment = result["deployment"]
    assert (deployment["action"], deployment["service"], deployment["deployment_id"]) == (
        "deploy",
        "green",
        None,
    )
    bgr = deployment["bluegreen"]
    assert (bgr["idle_service_created"], bgr["traffic_steps"]) == (True, [10, 50, 100])
    assert result["task_definition"]["containerDefinitions"][0]["image"] == f"{REPO}:r2"
    assert ecs.describe_services(cluster="main", services=["green"])["services"] == []
    assert weights(elb, world.listener) == {world.blue: 1}


def test_keep_old_leaves_blue_running_and_a_rerun_without_it_finishes(sim, deploy, changes):
    ecs = sim.aws("ecs")
    kept = deploy("r2", bluegreen={"keep_old": True})
    assert kept["failed"] is False, (kept["msg"], kept["steps"])
    assert kept["deployment"]["bluegreen"]["scaled_to_zero"] is False
    assert service_of(ecs, "blue")["desiredCount"] == 2

    changes.clear()
    finished = deploy("r2")
    assert (finished["failed"], finished["changed"]) == (False, True)
    assert (finished["deployment"]["action"], finished["deployment"]["service"]) == (
        "finish",
        "green",
    )
    assert finished["deployment"]["bluegreen"]["scaled_to_zero"] is True
    assert changes == ["UpdateService"]
    assert service_of(ecs, "blue")["desiredCount"] == 0
    assert deploy("r2")["changed"] is False


def test_a_listener_rule_is_weighted_and_the_default_action_left_alone(sim, world, deploy):
    elb = sim.aws("elbv2")
    not_found = [
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}},
    ]
    elb.modify_listener(ListenerArn=world.listener, DefaultActions=not_found)
    rule = elb.create_rule(
        ListenerArn=world.listener, Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": world.blue}],
    )["Rules"][0]["RuleArn"]  # fmt: skip
    result = deploy("r2", bluegreen={"rule_arn": rule})
    assert result["failed"] is False, (result["msg"], result["steps"])
    action = elb.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"][0]
    assert action["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": world.blue, "Weight": 0},
        {"TargetGroupArn": world.green, "Weight": 100},
    ]
    default = elb.describe_listeners(ListenerArns=[world.listener])["Listeners"][0]
    assert default["DefaultActions"][0]["Type"] == "fixed-response"


def test_a_shift_that_stopped_half_way_starts_again_from_its_first_step(
    sim, world, deploy, changes
):
    ecs, elb = sim.aws("ecs"), sim.aws("elbv2")
    assert deploy("r2", bluegreen={"keep_old": True})["failed"] is False
    half = [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": world.blue, "Weight": 50},
                    {"TargetGroupArn": world.green, "Weight": 50},
                ]
            },
        }
    ]
    elb.modify_listener(ListenerArn=world.listener, DefaultActions=half)
    changes.clear()
    result = deploy("r2")
    assert result["failed"] is False, (result["msg"], result["steps"])
    assert result["deployment"]["action"] == "shift"
    assert result["steps"][0] == (
        "production: back to 100 % on blue (an earlier shift had stopped at 50 of 100)"
    )
    assert [s["percent"] for s in result["deployment"]["bluegreen"]["shifts"]] == [10, 50, 100]
    assert "RegisterTaskDefinition" not in changes
    assert weights(elb, world.listener) == {world.blue: 0, world.green: 100}
    assert service_of(ecs, "blue")["desiredCount"] == 0
