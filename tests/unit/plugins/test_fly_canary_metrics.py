"""fly_deploy's canary gate: the Prometheus queries, their answers read into one machine's
numbers, and the verdict of the VPS canary's judge."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.fly import canary_metrics as cm
from tests.unit.plugins.fakes import FakeResponse, FakeSession

LIMITS = {"max_error_rate": 0.01, "max_p95_ms": 500.0, "min_requests": 20, "window_s": 30}


def vector(*items):
    return {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": labels, "value": [1767225600.0, value]} for labels, value in items
            ],
        },
    }


def test_queries_are_the_two_shapes_fly_answers():
    assert cm.responses_query("notes", 30) == (
        'sum by (instance, status) (increase(fly_app_http_responses_count{app="notes"}[30s]))'
    )
    assert cm.p95_query("notes", 30) == (
        "histogram_quantile(0.95, sum by (le, instance) "
        '(rate(fly_app_http_response_time_seconds_bucket{app="notes"}[30s])))'
    )


def test_samples_read_values_and_nan():
    body = vector(({"instance": "m1"}, "0.25"), ({"instance": "m2"}, "NaN"))
    assert cm.samples(body) == [({"instance": "m1"}, 0.25), ({"instance": "m2"}, None)]
    with pytest.raises(ValueError, match="not a Prometheus vector answer"):
        cm.samples({"status": "error", "errorType": "bad_data"})


def test_machine_stats_counts_only_the_canary():
    responses = [
        ({"instance": "m1", "status": "200"}, 97.0),
        ({"instance": "m1", "status": "503"}, 2.0),
        ({"instance": "m1", "status": "499"}, 1.0),
        ({"instance": "m2", "status": "500"}, 50.0),
    ]
    p95 = [({"instance": "m1"}, 0.1234), ({"instance": "m2"}, 2.0)]
    assert cm.machine_stats("m1", responses, p95) == {
        "requests": 100,
        "errors": 2,
        "error_rate": 0.02,
        "p95_ms": 123.4,
        "statuses": {"200": 97, "499": 1, "503": 2},
    }
    assert cm.machine_stats("m3", responses, p95) == {
        "requests": 0,
        "errors": 0,
        "error_rate": 0.0,
        "p95_ms": None,
        "statuses": {},
    }


def prometheus(*answers):
    session = FakeSession().answer(*answers)
    return cm.PrometheusClient("https://prom.test/prometheus/acme", "tok", session=session), session


def test_a_good_canary_passes_and_the_queries_go_to_the_metrics_url():
    client, session = prometheus(
        FakeResponse(200, vector(({"instance": "m1", "status": "200"}, "40"))),
        FakeResponse(200, vector(({"instance": "m1"}, "0.05"))),
    )
    passed, message, stats = cm.judge_canary(client, "notes", "m1", LIMITS)
    assert passed
    assert message == (
        "canary m1 over 30s: 40 requests, 0 errors (0.00 %), p95 50 ms: pass "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)"
    )
    assert stats["requests"] == 40
    assert [call["url"] for call in session.calls] == [
        "https://prom.test/prometheus/acme/api/v1/query"
    ] * 2
    assert session.calls[0]["params"] == {"query": cm.responses_query("notes", 30)}


def test_no_data_fails_the_step():
    client = prometheus(FakeResponse(200, vector()), FakeResponse(200, vector()))[0]
    passed, message = cm.judge_canary(client, "notes", "m1", LIMITS)[:2]
    assert not passed
    assert "0 requests" in message
    assert "fail: no requests" in message


def test_errors_and_slowness_fail_the_step():
    client = prometheus(
        FakeResponse(
            200,
            vector(
                ({"instance": "m1", "status": "500"}, "5"),
                ({"instance": "m1", "status": "200"}, "45"),
            ),
        ),
        FakeResponse(200, vector(({"instance": "m1"}, "0.9"))),
    )[0]
    passed, message = cm.judge_canary(client, "notes", "m1", LIMITS)[:2]
    assert not passed
    assert "fail: too many errors, p95 too slow" in message


def test_a_refused_query_is_an_api_error_with_prometheus_words():
    body = {"status": "error", "errorType": "bad_data", "error": "unknown query"}
    client = prometheus(FakeResponse(400, body))[0]
    with pytest.raises(ApiError) as caught:
        client.query("up")
    assert (caught.value.vendor, caught.value.status, caught.value.code) == (
        "Fly Prometheus",
        400,
        "bad_data",
    )
    assert caught.value.message == "unknown query"


def test_metrics_url():
    assert cm.metrics_url(None, "acme") == "https://api.fly.io/prometheus/acme"
    assert cm.metrics_url("https://sim/fly/prometheus/acme/", "x") == (
        "https://sim/fly/prometheus/acme"
    )
    with pytest.raises(ApiError, match=r"canary\.metrics_url is needed"):
        cm.metrics_url(None, None)
