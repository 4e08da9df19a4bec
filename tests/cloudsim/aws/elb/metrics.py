"""The ALB's CloudWatch metrics: what the proxies answered, published to the local CloudWatch
(moto's backend, namespace ``AWS/ApplicationELB``) each second, as high-resolution data.

Per target group behind a load balancer (dimensions ``LoadBalancer`` and ``TargetGroup``, the
ARNs' resource parts): ``RequestCount``, ``HTTPCode_Target_5XX_Count`` and
``TargetResponseTime`` (seconds, one value per request). AWS publishes them per minute; a
blue-green shift's metric gate reads them back with ``GetMetricData``
(``plugins/module_utils/aws/alb_metrics.py``). The load balancer's own 5xx (no target) are in
its stats only.
"""

from __future__ import annotations

import datetime
import threading
from collections import defaultdict
from typing import Any

NAMESPACE = "AWS/ApplicationELB"
FLUSH_INTERVAL = 1.0


def dimension(arn: str) -> str:
    resource = arn.split(":", 5)[-1]
    return resource[len("loadbalancer/") :] if resource.startswith("loadbalancer/") else resource


class Bucket:
    def __init__(self) -> None:
        self.requests = 0
        self.target_5xx = 0
        self.times: list[float] = []


class Metrics:
    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str, int], Bucket] = defaultdict(Bucket)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alb-metrics", daemon=True)
        self._thread.start()

    def record(self, lb_arn: str, tg_arn: str, status: int, seconds: float) -> None:
        """One request a target answered (``status``) in ``seconds``."""
        key = (lb_arn.split(":")[3], dimension(lb_arn), dimension(tg_arn), int(_now()))
        with self._lock:
            bucket = self._buckets[key]
            bucket.requests += 1
            bucket.target_5xx += 1 if status >= 500 else 0
            bucket.times.append(seconds)

    def flush(self, everything: bool = False) -> None:
        """Publish the seconds that have ended (every second with ``everything``)."""
        current = int(_now())
        with self._lock:
            done = [k for k in self._buckets if everything or k[3] < current]
            taken = [(k, self._buckets.pop(k)) for k in done]
        by_region: dict[str, list[dict]] = defaultdict(list)
        for (region, lb, tg, second), bucket in taken:
            by_region[region].extend(_data(lb, tg, second, bucket))
        for region, data in by_region.items():
            with self.gateway.lock:
                self.gateway.backend("cloudwatch", region).put_metric_data(NAMESPACE, data)

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL):
            self.flush()


def _now() -> float:
    return datetime.datetime.now(datetime.UTC).timestamp()


def _data(lb: str, tg: str, second: int, bucket: Bucket) -> list[dict[str, Any]]:
    # moto keeps naive UTC timestamps (as it parses them from an API call)
    when = datetime.datetime.fromtimestamp(second, datetime.UTC).replace(tzinfo=None)
    dimensions = [{"Name": "LoadBalancer", "Value": lb}, {"Name": "TargetGroup", "Value": tg}]

    def datum(name: str, **value: Any) -> dict[str, Any]:
        return {
            "MetricName": name,
            "Dimensions": dimensions,
            "Timestamp": when,
            "StorageResolution": 1,
            **value,
        }

    data = [
        datum("RequestCount", Value=float(bucket.requests), Unit="Count"),
        datum("HTTPCode_Target_5XX_Count", Value=float(bucket.target_5xx), Unit="Count"),
    ]
    if bucket.times:
        data.append(datum("TargetResponseTime", Values=bucket.times, Unit="Seconds"))
    return data
