"""Blue-green on ECS, the decisions: settings, what a run does, the idle service's copy, the
checks through the test listener and the metric window."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.aws import ecs_bluegreen_plan as plan
from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError

ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
BLUE = f"{ELB}:targetgroup/blue/73e2d6bc24d8a067"
GREEN = f"{ELB}:targetgroup/green/2453ed029918f21f"
CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/main"
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}


def bluegreen(**changes):
    given = {
        "services": ["blue", "green"],
        "target_groups": ["blue", "green"],
        "listener_arn": "arn:prod",
        "test_listener_arn": "arn:test",
        "rule_arn": None,
        "test_url": None,
        "test_checks": None,
        "test_wait": 60.0,
        "traffic_steps": [50, 10],
        "step_seconds": 60.0,
        "metric_period": 60,
        "hold_seconds": 0.0,
        "keep_old": False,
    }
    return dict(given, **changes)


def params(**changes):
    given = {
        "bluegreen": bluegreen(),
        "canary": {"max_error_rate": 0.01, "max_p95_ms": 500.0, "min_requests": 20},
        "service": None,
        "wait": True,
    }
    return dict(given, **changes)


def test_settings_add_the_plan():
    assert plan.settings(params()) == dict(bluegreen(), plan=[10, 50, 100])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"target_groups": [BLUE]},
            f"bluegreen.target_groups: expected two different names, blue then green, got "
            f"['{BLUE}']",
        ),
        ({"test_listener_arn": None}, "bluegreen.test_listener_arn is required with strategy "
                                      "bluegreen"),
        ({"metric_period": 0}, "bluegreen.metric_period: expected 1, 5, 10, 30 or a multiple of "
                               "60, got 0"),
        ({"step_seconds": -1}, "bluegreen.step_seconds: expected 0 or more seconds, got -1"),
        (
            {"test_checks": [{"path": "healthz"}]},
            "bluegreen.test_checks[0].path: expected a path from /, got 'healthz'",
        ),
    ],
)  # fmt: skip
def test_settings_refuse_naming_the_field(changes, message):
    with pytest.raises(ApiError) as raised:
        plan.settings(params(bluegreen=bluegreen(**changes)))
    assert str(raised.value) == message


def test_settings_refuse_wait_false_and_a_service():
    with pytest.raises(ApiError) as raised:
        plan.settings(params(wait=False, service="api"))
    assert str(raised.value) == (
        "service is not used with strategy bluegreen: name the two services in "
        "bluegreen.services; wait: false is not possible with strategy bluegreen: traffic "
        "moves only to a deployment that completed"
    )


def service(desired=2, rollout="COMPLETED", running=None):
    return {
        "desiredCount": desired,
        "deployments": [
            {
                "status": "PRIMARY",
                "rolloutState": rollout,
                "runningCount": desired if running is None else running,
            }
        ],
    }


def seen(**changes):
    given = {
        "live": service(),
        "idle": service(desired=0),
        "live_carries": False,
        "idle_carries": False,
        "idle_weight": 0,
        "test_weights": {GREEN: 1},
        "live_group": BLUE,
        "config_same": True,
        "keep_old": False,
    }
    return dict(given, **changes)


@pytest.mark.parametrize(
    ("changes", "action"),
    [
        ({}, plan.DEPLOY),
        ({"idle": None}, plan.DEPLOY),
        # the release serves from the live group, the old one at 0, the test listener on it
        ({"live_carries": True, "test_weights": {BLUE: 100, GREEN: 0}}, plan.NONE),
        ({"live_carries": True, "test_weights": {BLUE: 1}, "idle": None}, plan.NONE),
        # ... but the test listener is elsewhere, or the old service still runs
        ({"live_carries": True}, plan.FINISH),
        ({"live_carries": True, "test_weights": {BLUE: 1}, "idle": service()}, plan.FINISH),
        (
            {"live_carries": True, "test_weights": {BLUE: 1}, "idle": service(),
             "keep_old": True},
            plan.NONE,
        ),
        # the idle service has the release: scaled to 0 after a failure, or failed, or running
        ({"idle_carries": True}, plan.REDEPLOY),
        ({"idle_carries": True, "idle": service(rollout="FAILED")}, plan.REDEPLOY),
        ({"idle_carries": True, "idle": service(running=1)}, plan.REDEPLOY),
        ({"idle_carries": True, "idle": service(), "config_same": False}, plan.REDEPLOY),
        ({"idle_carries": True, "idle": service()}, plan.SHIFT),
        # a shift that stopped half-way is taken up again
        ({"idle_carries": True, "idle": service(), "idle_weight": 50}, plan.SHIFT),
        # the live service has the release but the idle group still takes traffic
        ({"live_carries": True, "idle_weight": 50}, plan.DEPLOY),
    ],
)  # fmt: skip
def test_choose(changes, action):
    assert plan.choose(seen(**changes)) == action


def test_the_idle_service_is_a_copy_of_the_live_one_in_the_idle_group_with_no_tasks():
    live = {
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/main/blue",
        "serviceName": "blue",
        "clusterArn": CLUSTER,
        "status": "ACTIVE",
        "desiredCount": 2,
        "runningCount": 2,
        "taskDefinition": "arn:td/notes:4",
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": NETWORK,
        "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 200},
        "loadBalancers": [
            {"targetGroupArn": BLUE, "containerName": "api", "containerPort": 8000},
            {"targetGroupArn": "arn:internal", "containerName": "api", "containerPort": 8000},
        ],
        "placementConstraints": [],
        "schedulingStrategy": "REPLICA",
        "deploymentController": {"type": "ECS"},
        "propagateTags": "SERVICE",
        "enableExecuteCommand": False,
        "tags": [{"key": "app", "value": "notes"}, {"key": "aws:cloudformation:stack-name"}],
        "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY"}],
        "events": [{"message": "steady"}],
    }
    assert plan.idle_service_input(live, "green", BLUE, GREEN) == {
        "cluster": CLUSTER,
        "serviceName": "green",
        "taskDefinition": "arn:td/notes:4",
        "desiredCount": 0,
        "loadBalancers": [{"targetGroupArn": GREEN, "containerName": "api", "containerPort": 8000}],
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": NETWORK,
        "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 200},
        "schedulingStrategy": "REPLICA",
        "deploymentController": {"type": "ECS"},
        "propagateTags": "SERVICE",
        "enableExecuteCommand": False,
        "tags": [{"key": "app", "value": "notes"}],
    }
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    spot = plan.idle_service_input(
        dict(live, capacityProviderStrategy=strategy), "green", BLUE, GREEN
    )
    assert (spot["capacityProviderStrategy"], "launchType" in spot) == (strategy, False)


def test_the_test_url_and_checks():
    balancer = {"DNSName": "notes-1.us-east-1.elb.amazonaws.com"}
    assert (
        plan.default_test_url(balancer, {"Protocol": "HTTP", "Port": 8080})
        == "http://notes-1.us-east-1.elb.amazonaws.com:8080"
    )
    assert (
        plan.default_test_url(balancer, {"Protocol": "HTTPS", "Port": 8443})
        == "https://notes-1.us-east-1.elb.amazonaws.com:8443"
    )
    assert plan.test_checks(None, "http://lb:8080/", "/healthz") == [
        {"name": "/healthz", "url": "http://lb:8080/healthz", "status": 200, "contains": None,
         "json": None},
    ]  # fmt: skip
    given = [{"path": "/version", "name": "version", "status": 200, "contains": "r2"}]
    assert plan.test_checks(given, "http://lb:8080", "/healthz") == [
        {"name": "version", "url": "http://lb:8080/version", "status": 200, "contains": "r2",
         "json": None},
    ]  # fmt: skip


def test_forwards_only_to():
    assert plan.forwards_only_to({BLUE: 0, GREEN: 100}, GREEN) is True
    assert plan.forwards_only_to({GREEN: 1}, GREEN) is True
    assert plan.forwards_only_to({BLUE: 10, GREEN: 90}, GREEN) is False
    assert plan.forwards_only_to({}, GREEN) is False


def test_the_metric_window_is_whole_seconds_and_never_empty():
    start = datetime.datetime(2026, 8, 1, 10, 0, 0, 400000, tzinfo=datetime.UTC)
    first, last = plan.metric_window(start, start + datetime.timedelta(seconds=60.3))
    assert (first, last) == (
        datetime.datetime(2026, 8, 1, 10, 0, 0, tzinfo=datetime.UTC),
        datetime.datetime(2026, 8, 1, 10, 1, 1, tzinfo=datetime.UTC),
    )
    assert plan.metric_window(start, start) == (
        datetime.datetime(2026, 8, 1, 10, 0, 0, tzinfo=datetime.UTC),
        datetime.datetime(2026, 8, 1, 10, 0, 1, tzinfo=datetime.UTC),
    )
