# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The metric gate of a blue-green shift on ECS: one target group's numbers behind an
application load balancer, from CloudWatch (namespace ``AWS/ApplicationELB``), judged by the
same rules as the VPS canary (``deploy/canary.py``, ``judge_step``).

Three metrics over the window, each with the dimensions ``LoadBalancer`` and ``TargetGroup``
(the ARNs' resource parts, ``app/<name>/<id>`` and ``targetgroup/<name>/<id>``):
``RequestCount`` (Sum), ``HTTPCode_Target_5XX_Count`` (Sum) and ``TargetResponseTime`` (p95,
seconds). The ALB publishes them each minute (``period`` 60); a shorter period needs
high-resolution data, which the local AWS publishes. No datapoint counts as no requests, and
the step fails, as no data does on a VPS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NAMESPACE = "AWS/ApplicationELB"


def dimension(arn: str) -> str:
    """The CloudWatch dimension value of a load balancer's or target group's ARN: what follows
    ``loadbalancer/`` (``app/<name>/<id>``) or the resource part (``targetgroup/<name>/<id>``).
    """
    resource = arn.split(":", 5)[-1]
    if resource.startswith("loadbalancer/"):
        return resource[len("loadbalancer/") :]
    return resource


def metric_queries(lb_arn: str, tg_arn: str, period: int) -> list[dict[str, Any]]:
    """The GetMetricData queries of one target group's window (ids requests, errors, p95)."""
    dimensions = [
        {"Name": "LoadBalancer", "Value": dimension(lb_arn)},
        {"Name": "TargetGroup", "Value": dimension(tg_arn)},
    ]

    def query(query_id: str, metric: str, stat: str) -> dict[str, Any]:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
                "Period": period,
                "Stat": stat,
            },
            "ReturnData": True,
        }

    return [
        query("requests", "RequestCount", "Sum"),
        query("errors", "HTTPCode_Target_5XX_Count", "Sum"),
        query("p95", "TargetResponseTime", "p95"),
    ]


def window_stats(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The window's numbers from GetMetricData's ``MetricDataResults``: requests and errors
    summed over the periods, and the slowest period's p95 in milliseconds (None without one)."""
    values = {result.get("Id"): list(result.get("Values") or []) for result in results}
    requests = int(sum(values.get("requests", [])))
    errors = int(sum(values.get("errors", [])))
    p95s = values.get("p95", [])
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": errors / requests if requests else 0.0,
        "p95_ms": round(max(p95s) * 1000.0, 3) if p95s else None,
    }
