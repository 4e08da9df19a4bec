# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The canary gate of ``fly_deploy``: the numbers of one canary machine from Fly's Prometheus
API (``https://api.fly.io/prometheus/<org>/api/v1/query``, the app's token), judged by the
same rules as the VPS canary (``deploy/canary.py``, ``judge_step``).

Two instant queries over the last ``window_s`` seconds: the responses of each machine by
status (``fly_app_http_responses_count``), and the p95 of each machine's response times
(``fly_app_http_response_time_seconds_bucket``). Prometheus's ``instance`` label is the
machine id. A request is an error as for the access log stats (status 500 or more, 499 never).
No series for the canary counts as no requests, and the step fails, as no data does on a VPS.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiClient, ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.access_log import is_error
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.canary import judge_step

DEFAULT_METRICS_URL = "https://api.fly.io/prometheus/{org}"
ERROR_STATUS = 500
DEFAULTS = {
    "max_error_rate": 0.01,
    "max_p95_ms": 500.0,
    "min_requests": 20,
    "window_s": 60,
    "metrics_url": None,
}


def responses_query(app: str, window_s: int) -> str:
    selector = f'fly_app_http_responses_count{{app="{app}"}}'
    return f"sum by (instance, status) (increase({selector}[{window_s}s]))"


def p95_query(app: str, window_s: int) -> str:
    selector = f'fly_app_http_response_time_seconds_bucket{{app="{app}"}}'
    return f"histogram_quantile(0.95, sum by (le, instance) (rate({selector}[{window_s}s])))"


def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def samples(body: Mapping[str, Any] | None) -> list[tuple[dict[str, str], float | None]]:
    """The (labels, value) pairs of an instant query's vector answer; NaN is None."""
    data = (body or {}).get("data") or {}
    if (body or {}).get("status") != "success" or data.get("resultType") != "vector":
        raise ValueError("not a Prometheus vector answer")
    out = []
    for item in data.get("result") or []:
        value = item.get("value") or [None, None]
        out.append((dict(item.get("metric") or {}), _number(value[1])))
    return out


def machine_stats(
    machine_id: str,
    responses: Sequence[tuple[Mapping[str, str], float | None]],
    p95: Sequence[tuple[Mapping[str, str], float | None]],
) -> dict[str, Any]:
    """One machine's numbers in the shape ``judge_step`` reads."""
    statuses: dict[str, int] = {}
    for labels, value in responses:
        if labels.get("instance") != machine_id or value is None:
            continue
        status = labels.get("status", "")
        statuses[status] = statuses.get(status, 0) + round(value)
    requests = sum(statuses.values())
    errors = sum(
        n for code, n in statuses.items() if code.isdigit() and is_error(int(code), ERROR_STATUS)
    )
    seconds = [v for labels, v in p95 if labels.get("instance") == machine_id and v is not None]
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": errors / requests if requests else 0.0,
        "p95_ms": round(seconds[0] * 1000, 3) if seconds else None,
        "statuses": dict(sorted(statuses.items())),
    }


class PrometheusClient(ApiClient):
    """Fly's Prometheus API (the same token as the Machines API)."""

    vendor = "Fly Prometheus"

    def error_from_response(self, status, body):
        body = body if isinstance(body, dict) else {}
        code = body.get("errorType") or f"http_{status}"
        message = body.get("error") or f"unexpected HTTP status {status}"
        return ApiError(self.vendor, status, code, message)

    def query(self, text: str) -> list[tuple[dict[str, str], float | None]]:
        body = self.get("/api/v1/query", {"query": text})
        try:
            return samples(body)
        except ValueError as err:
            raise ApiError(self.vendor, 200, "invalid_response", str(err)) from None


def metrics_url(setting: str | None, org: str | None) -> str:
    """Where the queries go: ``canary.metrics_url``, else Fly's for the app's organization."""
    if setting:
        return setting.rstrip("/")
    if not org:
        raise ApiError.refusal(
            "canary.metrics_url is needed: the app's organization is not known to build "
            "Fly's Prometheus URL"
        )
    return DEFAULT_METRICS_URL.format(org=org)


def judge_canary(
    prometheus: PrometheusClient, app: str, machine_id: str, limits: Mapping[str, Any]
) -> tuple[bool, str, dict[str, Any]]:
    """Whether the canary machine's numbers over the window pass the limits, with the
    message ``judge_step`` writes and the numbers."""
    window = int(limits["window_s"])
    stats = machine_stats(
        machine_id,
        prometheus.query(responses_query(app, window)),
        prometheus.query(p95_query(app, window)),
    )
    passed, message = judge_step(
        stats,
        float(limits["max_error_rate"]),
        float(limits["max_p95_ms"]),
        int(limits["min_requests"]),
        name=f"canary {machine_id} over {window}s",
    )
    return passed, message, stats
