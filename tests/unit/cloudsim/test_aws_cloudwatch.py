"""The local AWS's CloudWatch answers percentile statistics (moto alone answers none)."""

from __future__ import annotations

import datetime

from tests.cloudsim.aws.cloudwatch import percentile


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 95) == 19.0
    assert percentile(values, 50) == 10.0
    assert percentile(values, 100) == 20.0
    assert percentile([7.0], 99.9) == 7.0
    assert percentile([], 95) is None


def test_get_metric_statistics_and_data_answer_p95(sim):
    cloudwatch = sim.aws("cloudwatch")
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    cloudwatch.put_metric_data(
        Namespace="Sim/Test",
        MetricData=[
            {"MetricName": "Latency", "Value": float(v), "Timestamp": now, "StorageResolution": 1}
            for v in range(1, 21)
        ],
    )
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "p",
                "MetricStat": {
                    "Metric": {"Namespace": "Sim/Test", "MetricName": "Latency"},
                    "Period": 10,
                    "Stat": "p95",
                },
            },
            {
                "Id": "s",
                "MetricStat": {
                    "Metric": {"Namespace": "Sim/Test", "MetricName": "Latency"},
                    "Period": 10,
                    "Stat": "Sum",
                },
            },
        ],
        StartTime=now - datetime.timedelta(seconds=20),
        EndTime=now + datetime.timedelta(seconds=10),
    )
    values = {r["Id"]: r["Values"] for r in answer["MetricDataResults"]}
    assert values == {"p": [19.0], "s": [210.0]}
