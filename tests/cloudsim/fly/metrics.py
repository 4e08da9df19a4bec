"""The numbers behind Fly's Prometheus API, for the canary gate.

:class:`Stats` is filled by the proxy stand-in (``record``), or by tests through
``POST /_admin/fly/stats`` (``{"records": [{"app", "machine_id", "status", "seconds"}]}``).
:class:`PrometheusVendor` serves ``GET /fly/prometheus/{org}/api/v1/query?query=...`` with the
same token, answering Prometheus's JSON for exactly two query shapes:

1. ``sum by (instance, status) (increase(fly_app_http_responses_count{app="<app>"}[<N>s]))``
2. ``histogram_quantile(0.95, sum by (le, instance)
   (rate(fly_app_http_response_time_seconds_bucket{app="<app>"}[<N>s])))``

and 400 ``{"status": "error", "errorType": "bad_data", ...}`` for anything else. The p95 is
taken from the recorded latencies themselves (nearest rank), not interpolated from buckets.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable

from ..core import JSON, ApiError, Faults, Request, Response, Router, Vendor

_COUNT = re.compile(
    r"sum by \(instance, ?status\) \(increase\(fly_app_http_responses_count"
    r"\{app=\"(?P<app>[^\"]+)\"\}\[(?P<window>\d+)s\]\)\)"
)
_P95 = re.compile(
    r"histogram_quantile\(0\.95, ?sum by \(le, ?instance\) \(rate\("
    r"fly_app_http_response_time_seconds_bucket\{app=\"(?P<app>[^\"]+)\"\}"
    r"\[(?P<window>\d+)s\]\)\)\)"
)


class Stats:
    """Responses the proxy served, per app and machine, with their time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()  # the proxy records without the simulator's lock
        self._records: list[tuple[float, str, str, int, float]] = []

    def record(self, app: str, machine_id: str, status: int, seconds: float) -> None:
        with self._lock:
            self._records.append((self.clock(), app, machine_id, int(status), float(seconds)))

    def window(self, app: str, seconds: float) -> dict[str, JSON]:
        since = self.clock() - seconds
        out: dict[str, JSON] = {}
        with self._lock:
            for at, rec_app, machine_id, status, latency in self._records:
                if rec_app != app or at < since:
                    continue
                entry = out.setdefault(machine_id, {"statuses": {}, "latencies": []})
                entry["statuses"][status] = entry["statuses"].get(status, 0) + 1
                entry["latencies"].append(latency)
        return out

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


def p95(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def evaluate(stats: Stats, query: str) -> list[JSON]:
    """The result vector of one of the two supported queries (ApiError 400 otherwise)."""
    now = time.time()
    text = " ".join(query.split())
    if m := _COUNT.fullmatch(text):
        result = []
        for machine_id, entry in sorted(stats.window(m["app"], int(m["window"])).items()):
            for status, count in sorted(entry["statuses"].items()):
                metric = {"instance": machine_id, "status": str(status)}
                result.append({"metric": metric, "value": [now, str(count)]})
        return result
    if m := _P95.fullmatch(text):
        window = stats.window(m["app"], int(m["window"]))
        return [
            {"metric": {"instance": machine_id}, "value": [now, repr(p95(entry["latencies"]))]}
            for machine_id, entry in sorted(window.items())
            if entry["latencies"]
        ]
    raise ApiError(400, "bad_data", f"unsupported query for the simulator: {query!r}")


class PrometheusVendor(Vendor):
    """``/fly/prometheus``: Fly's metrics API (api.fly.io/prometheus), backed by ``Stats``."""

    name = "fly-prometheus"
    prefix = "/fly/prometheus"

    def __init__(self, faults: Faults, backend, fly) -> None:
        super().__init__(faults, backend)
        self.fly = fly
        self.router = Router()
        self.router.add("GET", "/{org}/api/v1/query", self.query)

    def query(self, req: Request) -> Response:
        text = req.arg("query")
        if not text:
            raise ApiError(400, "bad_data", "missing query")
        return Response(
            200,
            {
                "status": "success",
                "data": {"resultType": "vector", "result": evaluate(self.fly.stats, text)},
            },
        )

    def authorized(self, header: str, token: str) -> bool:
        return header in (f"Bearer {token}", f"FlyV1 {token}")

    def error_body(self, err: ApiError) -> JSON:
        kind = "bad_data" if err.status == 400 else err.code
        return {"status": "error", "errorType": kind, "error": err.message}

    def reset(self) -> None:
        """The stats belong to the Fly vendor, which clears them."""
