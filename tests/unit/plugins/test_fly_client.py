"""Fly Machines API specifics against a scripted session: paths, the lease nonce header, Fly's
error bodies and the field they are about, /wait asked again after 408, and the request count."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError, RetryPolicy
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import (
    NONCE_HEADER,
    FlyClient,
    api_base,
)
from ansible_collections.sigma.deploy.plugins.module_utils.fly.errors import (
    error_field,
    fly_error,
    lease_holder,
)
from tests.unit.plugins.fakes import FakeResponse

BASE = "https://api.example/v1"
OK = FakeResponse(200, {"ok": True})


def client(session, clock, retries=0, token="tok-en-1234", timeout=30.0) -> FlyClient:
    return FlyClient(
        "https://api.example",
        token,
        timeout=timeout,
        retry=RetryPolicy(retries=retries, total=60, base=1, cap=1, rand=lambda: 1.0),
        clock=clock,
        sleep=clock.sleep,
        session=session,
    )


def test_api_base_appends_v1_once():
    assert api_base("https://api.machines.dev") == "https://api.machines.dev/v1"
    assert api_base("https://127.0.0.1:8765/fly/v1/") == "https://127.0.0.1:8765/fly/v1"
    assert api_base(None) == "https://api.machines.dev/v1"


@pytest.mark.parametrize(
    ("token", "header"),
    [("abc-123-token", "Bearer abc-123-token"), ("FlyV1 fm2_xyz", "FlyV1 fm2_xyz")],
)
def test_authorization_keeps_a_token_scheme(session, clock, token, header):
    assert client(session, clock, token=token).session.headers["Authorization"] == header


def test_paths_bodies_and_the_nonce_header(session, clock):
    api = client(session, clock)
    session.answer(*[OK] * 9)
    api.update_machine("my app", "m1", {"config": {"image": "x"}}, "n-1")
    api.stop_machine("a", "m1", signal="SIGTERM", timeout=10, nonce="n-1")
    api.delete_machine("a", "m1", force=True, nonce="n-1")
    api.list_machines("a", include_deleted=True, metadata={"sigma_release": "r7"}, region="ams")
    api.set_secrets("a", {"DB": "pw-1234"})
    api.extend_volume("a", "vol_1", 5)
    api.set_metadata("a", "m1", "role", "web")
    api.create_app("a", "personal")
    api.start_machine("a", "m1")
    calls = [
        (c["method"], c["url"], c["params"], c["json"], c.get("headers")) for c in session.calls
    ]
    nonce = {NONCE_HEADER: "n-1"}
    assert calls == [
        ("POST", f"{BASE}/apps/my%20app/machines/m1", None, {"config": {"image": "x"}}, nonce),
        (
            "POST",
            f"{BASE}/apps/a/machines/m1/stop",
            None,
            {"signal": "SIGTERM", "timeout": "10s"},
            nonce,
        ),
        ("DELETE", f"{BASE}/apps/a/machines/m1", {"force": "true", "kill": "true"}, None, nonce),
        (
            "GET",
            f"{BASE}/apps/a/machines",
            {"include_deleted": "true", "region": "ams", "metadata.sigma_release": "r7"},
            None,
            None,
        ),
        ("POST", f"{BASE}/apps/a/secrets", None, {"values": {"DB": "pw-1234"}}, None),
        ("PUT", f"{BASE}/apps/a/volumes/vol_1/extend", None, {"size_gb": 5}, None),
        ("POST", f"{BASE}/apps/a/machines/m1/metadata/role", None, {"value": "web"}, None),
        (
            "POST",
            f"{BASE}/apps",
            None,
            {"name": "a", "app_name": "a", "org_slug": "personal"},
            None,
        ),
        ("POST", f"{BASE}/apps/a/machines/m1/start", None, None, None),
    ]
    assert api.api_calls == 9


def test_get_app_is_none_when_fly_does_not_know_it(session, clock):
    session.answer(FakeResponse(404, {"error": "app not found"}))
    assert client(session, clock).get_app("ghost") is None


def test_an_error_names_the_field_it_is_about(session, clock):
    api = client(session, clock)
    session.answer(
        FakeResponse(404, {"error": "app not found"}),
        FakeResponse(422, {"error": "invalid config.guest.cpus: must be 1, 2, 4 or 8"}),
        FakeResponse(400, {"error": "region 'xyz' is not a valid region"}),
        FakeResponse(401, {"error": "You must be authenticated to view this."}),
    )
    found = []
    for call in (
        lambda: api.list_machines("ghost"),
        lambda: api.create_machine("a", {"region": "ams", "config": {"guest": {"cpus": 3}}}),
        lambda: api.create_machine("a", {"region": "xyz", "config": {"image": "i"}}),
        lambda: api.list_apps("personal"),
    ):
        with pytest.raises(ApiError) as caught:
            call()
        found.append((caught.value.status, caught.value.code, caught.value.field))
    assert found == [
        (404, "not_found", "app"),
        (422, "invalid", "config.guest.cpus"),
        (400, "invalid", "region"),
        (401, "unauthorized", "api_token"),
    ]


def test_fly_status_becomes_the_code_and_the_token_never_shows():
    err = fly_error(422, {"error": "no capacity in ams", "status": "insufficient_capacity"})
    assert (err.code, err.message) == ("insufficient_capacity", "no capacity in ams")
    assert fly_error(502, None).message == "unexpected answer with HTTP status 502"


def test_a_refused_token_is_not_repeated_in_the_message(session, clock):
    session.answer(FakeResponse(401, {"error": "token tok-en-1234 is not valid"}))
    with pytest.raises(ApiError) as caught:
        client(session, clock).list_apps("personal")
    assert "tok-en-1234" not in str(caught.value)
    assert "FLY_API_TOKEN" in str(caught.value)


def test_error_field_prefers_the_deepest_field_named():
    body = {"region": "ams", "config": {"image": "i", "guest": {"cpus": 3, "memory_mb": 256}}}
    assert error_field("config.guest.memory_mb too small", body) == "config.guest.memory_mb"
    assert error_field("image 'i' not found", body) == "config.image"
    assert error_field("something else broke", body) is None


def test_throttling_is_retried_and_counted(session, clock):
    api = client(session, clock, retries=2)
    session.answer(FakeResponse(429, {"error": "slow down"}, {"Retry-After": "2"}), OK)
    assert api.get_machine("a", "m1") == {"ok": True}
    assert (api.api_calls, clock.sleeps) == (2, [2.0])


def test_a_create_is_not_sent_again_after_a_server_error(session, clock):
    api = client(session, clock, retries=3)
    session.answer(FakeResponse(500, {"error": "boom"}))
    with pytest.raises(ApiError) as caught:
        api.create_machine("a", {"config": {"image": "i"}})
    assert (caught.value.status, api.api_calls) == (500, 1)


def test_wait_asks_again_after_408_until_its_deadline(session, clock):
    api = client(session, clock)
    slow408 = FakeResponse(408, {"error": "deadline exceeded"})

    def waited(seconds):
        def answer(method, url, params, body):
            clock.sleep(seconds)
            return slow408

        return answer

    session.answer(waited(28), waited(28), OK)
    assert api.wait_machine("a", "m1", "started", instance_id="i-2", timeout_s=100) == {"ok": True}
    params = [c["params"] for c in session.calls]
    assert params == [
        {"state": "started", "timeout": 28, "instance_id": "i-2"},
        {"state": "started", "timeout": 28, "instance_id": "i-2"},
        {"state": "started", "timeout": 28, "instance_id": "i-2"},
    ]


def test_wait_gives_up_with_a_408_naming_the_machine(session, clock):
    api = client(session, clock)
    session.answer(*[FakeResponse(408, {"error": "deadline exceeded"})] * 3)
    with pytest.raises(ApiError) as caught:
        api.wait_machine("a", "m1", "stopped", timeout_s=2)
    err = caught.value
    assert (err.status, err.code, err.field) == (408, "timeout", "wait_timeout")
    assert err.message == "machine m1 of app a not stopped after 2s"
    assert clock.sleeps == [1.0, 1.0]  # instant 408s do not spin


def test_acquire_lease_returns_the_nonce_of_either_shape(session, clock):
    api = client(session, clock)
    session.answer(
        FakeResponse(200, {"status": "success", "data": {"nonce": "n-9", "expires_at": 1}}),
        FakeResponse(200, {"nonce": "n-8", "expires_at": 1}),
    )
    assert api.acquire_lease("a", "m1", ttl_s=60, description="deploy r7") == "n-9"
    assert api.acquire_lease("a", "m1") == "n-8"
    first = session.calls[0]
    assert (first["params"], first["json"]) == (
        {"ttl": 60},
        {"ttl": 60, "description": "deploy r7"},
    )


def test_a_lease_held_by_another_names_holder_and_expiry(session, clock):
    api = client(session, clock)
    held = {
        "data": {"owner": "ci@example.com", "description": "deploy r6", "expires_at": 1785578400}
    }
    session.answer(FakeResponse(409, {"error": "lease currently held"}), FakeResponse(200, held))
    with pytest.raises(ApiError) as caught:
        api.acquire_lease("a", "m1")
    err = caught.value
    assert (err.status, err.field) == (409, "lease")
    assert err.message == (
        "machine m1 is leased by ci@example.com (deploy r6), until 2026-08-01T10:00:00Z: "
        "lease currently held"
    )


def test_lease_holder_without_an_expiry():
    assert lease_holder({"owner": "bob"}) == "bob"


def test_a_create_or_an_update_may_take_as_long_as_a_launch(session, clock):
    api = client(session, clock, timeout=30.0)
    session.answer(*[OK] * 3)
    api.create_machine("a", {"config": {"image": "x"}})
    api.update_machine("a", "m1", {"config": {"image": "x"}}, "n-1")
    api.get_machine("a", "m1")
    assert [c["timeout"] for c in session.calls] == [120, 120, 30.0]
