"""Access log lines as nginx's ``sigma_json`` log format writes them, and what the
aggregator of module_utils/deploy/access_log.py makes of them: shared by the access_log and
canary_judge tests."""

from __future__ import annotations

import json

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import access_log

GROUPS = {
    "canary": ["127.0.0.1:8002", "127.0.0.1:3002"],
    "stable": ["127.0.0.1:8001", "127.0.0.1:3001"],
}
EMPTY = {
    "requests": 0,
    "errors": 0,
    "error_rate": 0.0,
    "p50_ms": None,
    "p95_ms": None,
    "p99_ms": None,
    "max_ms": None,
    "statuses": {},
    "latency_histogram": {},
}


def line(
    addr: str = "127.0.0.1:3002",
    status: int = 200,
    request_time: float = 0.004,
    uri: str = "/x",
    msec: float = 1764180000.123,
    upstream_status: str | None = None,
    upstream_time: str | None = None,
) -> str:
    """One access log line as nginx's sigma_json format writes it."""
    return json.dumps(
        {
            "time": "2026-11-26T18:00:00.123+00:00",
            "msec": msec,
            "remote_addr": "10.89.213.1",
            "request_id": "abc",
            "method": "GET",
            "uri": uri,
            "status": status,
            "bytes": 12,
            "request_time": request_time,
            "upstream": "notes_web" if addr else "",
            "upstream_addr": addr,
            "upstream_status": (str(status) if addr else "")
            if upstream_status is None
            else upstream_status,
            "upstream_response_time": (str(request_time) if addr else "")
            if upstream_time is None
            else upstream_time,
            "upstream_connect_time": "0.000" if addr else "",
            "http_user_agent": "test",
            "host": "example.test",
            "scheme": "https",
            "protocol": "HTTP/2.0",
        },
        separators=(",", ":"),
    )


def aggregate(lines: list[str], **options) -> dict:
    aggregator = access_log.Aggregator(GROUPS, **options)
    for text in lines:
        aggregator.add_line(text)
    return aggregator.result()
