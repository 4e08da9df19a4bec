"""The shared API client: errors, retry and backoff, pagination, TLS settings, secrets."""

from __future__ import annotations

import pytest
import requests

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import (
    ApiClient,
    ApiError,
    RetryPolicy,
    link_next_page,
    parse_retry_after,
    redact,
    retryable_status,
)
from ansible_collections.sigma.deploy.plugins.module_utils.client.retry import may_resend
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.client import HetznerClient
from tests.unit.plugins.fakes import FakeResponse

TOKEN = "s3cr3t-token-value"


def hetzner(session, clock, retries=3, total=60.0, rand=lambda: 0.5, **kw) -> HetznerClient:
    return HetznerClient(
        "https://api.example/v1/",
        TOKEN,
        retry=RetryPolicy(retries=retries, total=total, rand=rand),
        clock=clock,
        sleep=clock.sleep,
        session=session,
        **kw,
    )


def error_body(code, message, field=None):
    details = {"fields": [{"name": field, "messages": ["bad"]}]} if field else None
    return {"error": {"code": code, "message": message, "details": details}}


# --- ApiError --------------------------------------------------------------------------------
def test_api_error_names_vendor_field_and_code():
    err = ApiError(
        "Hetzner", 422, "invalid_input", "invalid input in field 'server_type'", "server_type"
    )
    assert str(err) == (
        "Hetzner API error 'invalid_input' (HTTP 422) for field 'server_type': "
        "invalid input in field 'server_type'"
    )
    assert err.failure() == {
        "vendor": "Hetzner",
        "status": 422,
        "code": "invalid_input",
        "message": "invalid input in field 'server_type'",
        "field": "server_type",
    }


def test_api_error_without_status_or_field():
    err = ApiError("Hetzner", None, "unreachable", "cannot reach x")
    assert str(err) == "Hetzner API error 'unreachable': cannot reach x"


# --- pure retry helpers -------------------------------------------------------------------------
def test_backoff_is_full_jitter_doubling_up_to_the_cap():
    policy = RetryPolicy(base=1.0, cap=8.0, rand=lambda: 1.0)
    assert [policy.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    half = RetryPolicy(base=1.0, cap=8.0, rand=lambda: 0.5)
    assert [half.delay(n) for n in range(1, 5)] == [0.5, 1.0, 2.0, 4.0]


def test_retry_after_is_a_floor():
    policy = RetryPolicy(base=1.0, cap=8.0, rand=lambda: 0.5)
    assert policy.delay(1, retry_after=3.0) == 3.0
    assert policy.delay(5, retry_after=1.0) == 4.0


def test_next_delay_stops_at_the_retry_count_and_the_total_time():
    policy = RetryPolicy(retries=2, total=10.0, base=1.0, cap=30.0, rand=lambda: 1.0)
    assert policy.next_delay(1, elapsed=0.0) == 1.0
    assert policy.next_delay(2, elapsed=1.0) == 2.0
    assert policy.next_delay(3, elapsed=3.0) is None  # retries spent
    assert policy.next_delay(1, elapsed=9.5) is None  # the wait would pass the total
    assert policy.next_delay(1, elapsed=0.0, retry_after=11.0) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (501, False),
        (400, False),
        (401, False),
        (404, False),
        (409, False),
        (422, False),
        (None, False),
    ],
)
def test_retryable_status(status, expected):
    assert retryable_status(status) is expected


@pytest.mark.parametrize(
    ("method", "status", "sent", "expected"),
    [
        ("GET", 503, True, True),
        ("PUT", 500, True, True),
        ("DELETE", None, True, True),  # a read timeout
        ("HEAD", 502, True, True),
        ("POST", 429, True, True),  # refused: nothing was done
        ("POST", 409, True, True),  # refused (Hetzner "conflict")
        ("POST", None, False, True),  # a connect error: it never left
        ("POST", 500, True, False),  # it may have been done
        ("POST", 503, True, False),
        ("POST", None, True, False),  # a read timeout: it may have been done
        ("PATCH", 500, True, False),
    ],
)
def test_may_resend(method, status, sent, expected):
    assert may_resend(method, status, sent) is expected


def test_parse_retry_after():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-2") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    # an HTTP date 7 s after "now" (1445412480 = Wed, 21 Oct 2015 07:28:00 GMT)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:07 GMT", now=1445412480.0) == 7.0


def test_link_next_page_for_digitalocean_style_links():
    url = "https://api.digitalocean.com/v2/droplets?page=3&per_page=20"
    assert link_next_page(url, {"per_page": 20, "page": 2}) == {"per_page": 20, "page": 3}
    assert link_next_page(None, {"page": 2}) is None
    assert link_next_page("https://x/v2/droplets", {}) is None


def test_redact():
    assert redact(f"token {TOKEN} leaked", [TOKEN]) == "token ******** leaked"
    assert redact("abc", ["", None, "ab"]) == "abc"


# --- the client against a scripted session ------------------------------------------------------
def test_sends_the_token_only_in_the_authorization_header(session, clock):
    session.answer(FakeResponse(200, {"servers": []}))
    client = hetzner(session, clock)
    assert client.get("/servers", {"name": "a"}) == {"servers": []}
    assert session.headers["Authorization"] == f"Bearer {TOKEN}"
    call = session.calls[0]
    assert call["url"] == "https://api.example/v1/servers"
    assert call["params"] == {"name": "a"}
    assert TOKEN not in str(call)
    assert call["verify"] is None  # requests then honours REQUESTS_CA_BUNDLE
    assert call["timeout"] == 30.0


@pytest.mark.parametrize(
    ("validate_certs", "ca_path", "verify"),
    [
        (True, None, None),
        (True, "/ca.pem", "/ca.pem"),
        (False, "/ca.pem", False),
        (False, None, False),
    ],
)
def test_tls_settings(session, clock, validate_certs, ca_path, verify):
    session.answer(FakeResponse(200, {}))
    hetzner(session, clock, validate_certs=validate_certs, ca_path=ca_path).get("/x")
    assert session.calls[0]["verify"] == verify


def test_retries_429_and_5xx_honouring_retry_after(session, clock):
    session.answer(
        FakeResponse(429, error_body("rate_limit_exceeded", "slow down"), {"Retry-After": "3"}),
        FakeResponse(503, error_body("unavailable", "busy")),
        FakeResponse(200, {"ok": True}),
    )
    assert hetzner(session, clock).get("/x") == {"ok": True}
    assert clock.sleeps == [3.0, 1.0]  # Retry-After, then rand 0.5 * 2 s
    assert len(session.calls) == 3


def test_a_get_is_retried_after_a_503_honouring_retry_after(session, clock):
    session.answer(
        FakeResponse(503, error_body("unavailable", "busy"), {"Retry-After": "2"}),
        FakeResponse(200, {"servers": []}),
    )
    assert hetzner(session, clock).get("/servers") == {"servers": []}
    assert clock.sleeps == [2.0]
    assert [c["method"] for c in session.calls] == ["GET", "GET"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "HEAD"])
def test_idempotent_methods_are_retried_after_a_server_error(session, clock, method):
    session.answer(FakeResponse(500, error_body("server_error", "oops")), FakeResponse(204))
    assert hetzner(session, clock).request(method, "/servers/1") is None
    assert [c["method"] for c in session.calls] == [method, method]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_post_is_not_sent_again_after_a_server_error(session, clock, status):
    session.answer(FakeResponse(status, error_body("unavailable", "busy"), {"Retry-After": "1"}))
    with pytest.raises(ApiError) as caught:
        hetzner(session, clock).post("/servers", {"name": "a"})
    assert caught.value.status == status
    assert "gave up" not in caught.value.message
    assert len(session.calls) == 1
    assert clock.sleeps == []


def test_a_throttled_post_is_sent_again(session, clock):
    session.answer(
        FakeResponse(429, error_body("rate_limit_exceeded", "slow down"), {"Retry-After": "3"}),
        FakeResponse(201, {"server": {"id": 1}}),
    )
    assert hetzner(session, clock).post("/servers", {"name": "a"}) == {"server": {"id": 1}}
    assert clock.sleeps == [3.0]
    assert [c["method"] for c in session.calls] == ["POST", "POST"]


def test_a_post_the_caller_calls_idempotent_is_retried_after_a_server_error(session, clock):
    session.answer(FakeResponse(500, error_body("server_error", "oops")), FakeResponse(204))
    assert hetzner(session, clock).post("/tags", {"name": "web"}, idempotent=True) is None
    assert len(session.calls) == 2


def test_a_post_is_sent_again_after_a_connect_error(session, clock):
    session.answer(
        requests.exceptions.ConnectTimeout("connect timed out"), FakeResponse(201, {"ok": 1})
    )
    assert hetzner(session, clock).post("/servers", {"name": "a"}) == {"ok": 1}
    assert len(session.calls) == 2


def test_gives_up_after_the_retries_with_the_vendor_code(session, clock):
    throttled = FakeResponse(
        429, error_body("rate_limit_exceeded", "limit reached"), {"Retry-After": "1"}
    )
    session.answer(throttled, throttled, throttled)
    with pytest.raises(ApiError) as caught:
        hetzner(session, clock, retries=2).get("/x")
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.status == 429
    assert caught.value.message == "limit reached (gave up after 3 attempts in 2.0s)"
    assert clock.sleeps == [1.0, 1.0]


def test_gives_up_when_the_total_time_is_spent(session, clock):
    throttled = FakeResponse(429, error_body("rate_limit_exceeded", "limit"), {"Retry-After": "4"})
    session.answer(throttled, throttled, throttled)
    with pytest.raises(ApiError):
        hetzner(session, clock, retries=10, total=6.0).get("/x")
    assert clock.sleeps == [4.0]
    assert len(session.calls) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_never_retries_client_errors(session, clock, status):
    session.answer(FakeResponse(status, error_body("invalid_input", "bad", "server_type")))
    with pytest.raises(ApiError) as caught:
        hetzner(session, clock).post("/servers", {"name": "a"})
    assert len(session.calls) == 1
    assert clock.sleeps == []
    assert caught.value.field == "server_type"


def test_retries_hetzner_conflict_and_locked(session, clock):
    session.answer(
        FakeResponse(409, error_body("conflict", "changed meanwhile")),
        FakeResponse(423, error_body("locked", "action running")),
        FakeResponse(201, {"action": {"id": 1}}),
    )
    assert hetzner(session, clock).post("/servers/1/actions/poweron") == {"action": {"id": 1}}
    assert len(session.calls) == 3


def test_does_not_retry_uniqueness_errors(session, clock):
    session.answer(
        FakeResponse(409, error_body("uniqueness_error", "name is already used", "name"))
    )
    with pytest.raises(ApiError) as caught:
        hetzner(session, clock).post("/servers", {"name": "a"})
    assert str(caught.value) == (
        "Hetzner API error 'uniqueness_error' (HTTP 409) for field 'name': name is already used"
    )
    assert len(session.calls) == 1


def test_network_errors_retry_idempotent_requests_only(session, clock):
    session.answer(requests.exceptions.ReadTimeout("read timed out"), FakeResponse(200, {}))
    assert hetzner(session, clock).get("/x") == {}
    session.answer(requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(ApiError) as caught:
        hetzner(session, clock).post("/servers", {"name": "a"})
    assert caught.value.code == "timeout"
    assert caught.value.status is None
    assert len(session.calls) == 3  # the POST went once


def test_unreachable_api_is_one_clear_error(session, clock):
    refused = requests.exceptions.ConnectionError("Connection refused")
    session.answer(refused, refused)
    with pytest.raises(ApiError) as caught:
        hetzner(session, clock, retries=1).get("/servers")
    err = caught.value
    assert (err.vendor, err.status, err.code) == ("Hetzner", None, "unreachable")
    assert err.message.startswith("cannot reach https://api.example/v1 (Connection refused)")


def test_tls_failure_is_not_retried_and_says_what_to_do(session, clock):
    session.answer(requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(ApiError) as caught:
        hetzner(session, clock).get("/servers")
    assert caught.value.code == "tls_error"
    assert "ca_path" in caught.value.message
    assert len(session.calls) == 1


def test_the_token_is_removed_from_error_messages(session, clock):
    session.answer(FakeResponse(401, error_body("unauthorized", f"token {TOKEN} is invalid")))
    with pytest.raises(ApiError) as caught:
        hetzner(session, clock).get("/servers")
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value.failure())
    assert caught.value.message == "token ******** is invalid (check api_token or HCLOUD_TOKEN)"


def test_an_answer_that_is_not_json(session, clock):
    class Html(FakeResponse):
        @property
        def content(self):
            return b"<html>bad gateway</html>"

        def json(self):
            raise ValueError("not json")

    session.answer(Html(502), Html(502))
    with pytest.raises(ApiError) as caught:
        hetzner(session, clock, retries=1).get("/x")
    assert (caught.value.status, caught.value.code) == (502, "http_502")


# --- pagination ----------------------------------------------------------------------------------
def page(items, number, following):
    return FakeResponse(
        200,
        {
            "servers": items,
            "meta": {"pagination": {"page": number, "per_page": 2, "next_page": following}},
        },
    )


def test_paginate_reads_every_page(session, clock):
    session.answer(page([{"id": 1}, {"id": 2}], 1, 2), page([{"id": 3}, {"id": 4}], 2, 3))
    session.answer(page([{"id": 5}], 3, None))
    items = hetzner(session, clock).paginate("/servers", "servers", {"label_selector": "a=b"})
    assert [i["id"] for i in items] == [1, 2, 3, 4, 5]
    assert [c["params"] for c in session.calls] == [
        {"label_selector": "a=b", "per_page": 50},
        {"label_selector": "a=b", "per_page": 50, "page": 2},
        {"label_selector": "a=b", "per_page": 50, "page": 3},
    ]


def test_paginate_stops_when_a_page_points_at_itself(session, clock):
    session.answer(page([{"id": 1}], 1, 2), page([{"id": 2}], 2, 2))
    items = hetzner(session, clock).paginate("/servers", "servers")
    assert [i["id"] for i in items] == [1, 2]


def test_a_provider_plugs_in_link_pagination(session, clock):
    class LinkClient(ApiClient):
        vendor = "DigitalOcean"

        def next_page(self, body, params):
            return link_next_page(
                ((body.get("links") or {}).get("pages") or {}).get("next"), params
            )

    session.answer(
        FakeResponse(
            200, {"droplets": [1], "links": {"pages": {"next": "https://d/v2/droplets?page=2"}}}
        ),
        FakeResponse(200, {"droplets": [2], "links": {}}),
    )
    client = LinkClient("https://d/v2", TOKEN, clock=clock, sleep=clock.sleep, session=session)
    assert client.paginate("/droplets", "droplets") == [1, 2]
    assert session.calls[1]["params"] == {"page": 2}
