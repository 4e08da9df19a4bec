"""Blue-green on ECS: the listener's weights and the metric gate's CloudWatch numbers."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.aws.alb_metrics import (
    dimension,
    metric_queries,
    window_stats,
)
from ansible_collections.sigma.deploy.plugins.module_utils.aws.bluegreen import (
    BlueGreenError,
    forward_action,
    forward_weights,
    live_and_idle,
    shift_plan,
)

ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
LB = f"{ELB}:loadbalancer/app/notes/50dc6c495c0c9188"
BLUE = f"{ELB}:targetgroup/notes-blue/73e2d6bc24d8a067"
GREEN = f"{ELB}:targetgroup/notes-green/2453ed029918f21f"


def test_dimensions_are_the_arns_resource_parts():
    assert dimension(LB) == "app/notes/50dc6c495c0c9188"
    assert dimension(BLUE) == "targetgroup/notes-blue/73e2d6bc24d8a067"


def test_forward_weights_reads_both_forms_of_a_forward_action():
    weighted = [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": BLUE, "Weight": 90},
                    {"TargetGroupArn": GREEN, "Weight": 10},
                ]
            },
        }
    ]
    assert forward_weights(weighted) == {BLUE: 90, GREEN: 10}
    single = [{"Type": "fixed-response"}, {"Type": "forward", "TargetGroupArn": GREEN}]
    assert forward_weights(single) == {GREEN: 1}
    with pytest.raises(BlueGreenError, match="no forward action"):
        forward_weights([{"Type": "redirect"}])


def test_the_live_group_is_the_one_with_weight():
    assert live_and_idle({BLUE: 1}, BLUE, GREEN) == (BLUE, GREEN)
    assert live_and_idle({BLUE: 0, GREEN: 100}, BLUE, GREEN) == (GREEN, BLUE)
    # Halfway through an interrupted shift: blue still counts as live, green is redeployed.
    assert live_and_idle({BLUE: 50, GREEN: 50}, BLUE, GREEN) == (BLUE, GREEN)
    with pytest.raises(BlueGreenError, match="not the blue-green pair: arn:other"):
        live_and_idle({"arn:other": 1}, BLUE, GREEN)


def test_the_shift_plan_ends_at_100_and_refuses_other_numbers():
    assert shift_plan([50, 10]) == [10, 50, 100]
    assert shift_plan([100]) == [100]
    assert shift_plan([]) == [100]
    with pytest.raises(ValueError, match="from 1 to 100"):
        shift_plan([0, 50])


def test_forward_action_splits_the_traffic_by_percent():
    assert forward_action(BLUE, GREEN, 10) == [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": BLUE, "Weight": 90},
                    {"TargetGroupArn": GREEN, "Weight": 10},
                ],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        }
    ]


def test_window_stats_with_and_without_datapoints():
    results = [
        {"Id": "requests", "Values": [60.0, 40.0]},
        {"Id": "errors", "Values": [1.0]},
        {"Id": "p95", "Values": [0.12, 0.2]},
    ]
    assert window_stats(results) == {
        "requests": 100,
        "errors": 1,
        "error_rate": 0.01,
        "p95_ms": 200.0,
    }
    empty = [{"Id": "requests", "Values": []}, {"Id": "errors", "Values": []}]
    assert window_stats(empty) == {"requests": 0, "errors": 0, "error_rate": 0.0, "p95_ms": None}


def test_the_queries_read_what_cloudwatch_holds(sim):
    """The local AWS's CloudWatch (moto) answers the queries as built: a high-resolution
    window of one target group, the other group's data left out."""
    cloudwatch = sim.aws("cloudwatch")
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    def put(tg: str, metric: str, value: float) -> None:
        cloudwatch.put_metric_data(
            Namespace="AWS/ApplicationELB",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [
                        {"Name": "LoadBalancer", "Value": dimension(LB)},
                        {"Name": "TargetGroup", "Value": dimension(tg)},
                    ],
                    "Value": value,
                    "Timestamp": now,
                    "StorageResolution": 1,
                }
            ],
        )

    put(GREEN, "RequestCount", 40)
    put(GREEN, "HTTPCode_Target_5XX_Count", 2)
    put(GREEN, "TargetResponseTime", 0.25)
    put(BLUE, "RequestCount", 1000)
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=metric_queries(LB, GREEN, 10),
        StartTime=now - datetime.timedelta(seconds=30),
        EndTime=now + datetime.timedelta(seconds=10),
    )
    stats = window_stats(answer["MetricDataResults"])
    assert stats == {"requests": 40, "errors": 2, "error_rate": 0.05, "p95_ms": 250.0}
