"""DigitalOcean specifics: the error envelope and the field it names, pages by link, actions,
lookups by name or id, and a create that is never sent twice."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError, RetryPolicy
from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import Deadline
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.client import (
    DigitalOceanClient,
    action_done,
    action_error,
    api_base,
    digitalocean_error,
    digitalocean_next_page,
    error_field,
    looks_like_id,
    sent_fields,
)
from tests.unit.plugins.fakes import FakeResponse

BASE = "https://api.example/v2"
UUID = "bb4b2611-3d72-467b-8602-280330ecd65c"


def client(session, clock, retries=0) -> DigitalOceanClient:
    return DigitalOceanClient(
        "https://api.example",
        "tok-en-1234",
        retry=RetryPolicy(retries=retries, total=60, base=1, cap=1, rand=lambda: 1.0),
        clock=clock,
        sleep=clock.sleep,
        session=session,
    )


def envelope(error_id, message, request_id="req-1"):
    return {"id": error_id, "message": message, "request_id": request_id}


def action(ident, status, kind="create"):
    return {
        "id": ident,
        "status": status,
        "type": kind,
        "resource_id": 42,
        "resource_type": "droplet",
    }


def page(key, items, next_page=None):
    links = {"pages": {"next": f"{BASE}/x?page={next_page}&per_page=200"}} if next_page else {}
    return FakeResponse(200, {key: items, "links": links, "meta": {"total": 0}})


# --- errors --------------------------------------------------------------------------------------
def test_error_envelope_with_the_field_in_the_message():
    err = digitalocean_error(
        422, envelope("unprocessable_entity", "You specified an invalid size for Droplet creation.")
    )
    assert err.failure() == {
        "vendor": "DigitalOcean",
        "status": 422,
        "code": "unprocessable_entity",
        "message": "You specified an invalid size for Droplet creation.",
        "field": "size",
        "request_id": "req-1",
    }
    assert str(err) == (
        "DigitalOcean API error 'unprocessable_entity' (HTTP 422) for field 'size': "
        "You specified an invalid size for Droplet creation."
    )


LB_BODY = {
    "name": "lb",
    "region": "fra1",
    "forwarding_rules": [{"entry_protocol": "https", "entry_port": 443, "certificate_id": ""}],
    "health_check": {"port": 80},
}


@pytest.mark.parametrize(
    ("message", "body", "field"),
    [
        ("You specified an invalid region for Droplet creation.", None, "region"),
        ("tags: invalid tag name 'a b': tag names may contain ...", None, "tags"),
        ("name is required", None, "name"),
        ("forwarding_rules.entry_port must be a port", None, "forwarding_rules.entry_port"),
        ("droplet_ids: droplet 9 not found", None, "droplet_ids"),
        ("Droplet already has a pending event.", {"type": "resize"}, None),
        ("the region of a load balancer cannot change", LB_BODY, "region"),
        (
            "a https forwarding rule needs certificate_id or tls_passthrough",
            LB_BODY,
            "forwarding_rules.certificate_id",
        ),
        ("at least one forwarding rule", LB_BODY, "forwarding_rules"),
        ("SSH Key is already in use on your account", {"name": "k", "public_key": "x"}, None),
        ("renamed droplets keep their ids", {"name": "x"}, None),
    ],
)
def test_error_field(message, body, field):
    assert error_field(message, body) == field


def test_sent_fields_in_the_order_sent():
    assert sent_fields(LB_BODY) == [
        ("name", "name"),
        ("region", "region"),
        ("forwarding_rules", "forwarding_rules"),
        ("forwarding_rules.entry_protocol", "entry_protocol"),
        ("forwarding_rules.entry_port", "entry_port"),
        ("forwarding_rules.certificate_id", "certificate_id"),
        ("health_check", "health_check"),
        ("health_check.port", "port"),
    ]


def test_the_field_is_only_read_from_validation_errors():
    err = digitalocean_error(404, envelope("not_found", "name is required"))
    assert err.field is None


def test_unauthorized_points_at_the_token_options():
    err = digitalocean_error(401, {"id": "Unauthorized", "message": "Unable to authenticate you."})
    assert str(err) == (
        "DigitalOcean API error 'Unauthorized' (HTTP 401): Unable to authenticate you. "
        "(check api_token, DIGITALOCEAN_TOKEN or DO_API_TOKEN)"
    )
    assert err.failure()["request_id"] is None


@pytest.mark.parametrize("body", [None, {"message": "x"}, "text", {"id": ""}])
def test_answers_without_the_envelope(body):
    err = digitalocean_error(502, body)
    assert (err.status, err.code, err.field, err.message) == (
        502,
        "http_502",
        None,
        "unexpected answer with HTTP status 502",
    )


def test_the_field_comes_from_the_request_body_when_the_message_names_it(session, clock):
    session.answer(
        FakeResponse(422, envelope("unprocessable_entity", "the region of x cannot change"))
    )
    with pytest.raises(ApiError) as caught:
        client(session, clock).put(f"/load_balancers/{UUID}", {"name": "lb", "region": "fra1"})
    assert caught.value.field == "region"


@pytest.mark.parametrize(
    ("endpoint", "base"),
    [
        (None, "https://api.digitalocean.com/v2"),
        ("https://127.0.0.1:8765/digitalocean", "https://127.0.0.1:8765/digitalocean/v2"),
        ("https://127.0.0.1:8765/digitalocean/", "https://127.0.0.1:8765/digitalocean/v2"),
        ("https://api.digitalocean.com/v2/", "https://api.digitalocean.com/v2"),
    ],
)
def test_api_base_takes_the_endpoint_with_or_without_v2(endpoint, base):
    assert api_base(endpoint) == base


# --- pages ---------------------------------------------------------------------------------------
def test_next_page_from_the_link():
    body = {"links": {"pages": {"next": f"{BASE}/droplets?page=3&per_page=200&name=w"}}}
    assert digitalocean_next_page(body, {"per_page": 200, "name": "w"}) == {
        "per_page": 200,
        "name": "w",
        "page": 3,
    }
    assert digitalocean_next_page({"links": {}}, {}) is None
    assert digitalocean_next_page({"links": {"pages": {"prev": f"{BASE}/x?page=1"}}}, {}) is None
    assert digitalocean_next_page({}, {}) is None


def test_every_page_is_read_with_the_largest_page_size(session, clock):
    session.answer(
        page("droplets", [{"id": 1, "name": "a"}], next_page=2),
        page("droplets", [{"id": 2, "name": "b"}], next_page=3),
        page("droplets", [{"id": 3, "name": "c"}]),
    )
    assert [d["id"] for d in client(session, clock).list("droplets", tag_name="web")] == [1, 2, 3]
    assert [c["params"] for c in session.calls] == [
        {"tag_name": "web", "per_page": 200},
        {"tag_name": "web", "per_page": 200, "page": 2},
        {"tag_name": "web", "per_page": 200, "page": 3},
    ]
    assert session.calls[0]["url"] == f"{BASE}/droplets"


def test_a_name_found_only_on_the_last_page(session, clock):
    """ansible-modules-core #3899: the name check read only the first page."""
    session.answer(
        page("ssh_keys", [{"id": n, "name": f"k{n}"} for n in range(200)], next_page=2),
        page("ssh_keys", [{"id": 500, "name": "deploy"}]),
    )
    assert client(session, clock).find_unique("ssh_keys", "deploy") == {"id": 500, "name": "deploy"}
    assert session.calls[0]["url"] == f"{BASE}/account/keys"


def test_droplet_names_are_filtered_by_the_api_and_matched_exactly(session, clock):
    session.answer(page("droplets", [{"id": 1, "name": "WEB-1"}, {"id": 2, "name": "web-1"}]))
    assert client(session, clock).named("droplets", "web-1") == [{"id": 2, "name": "web-1"}]
    assert session.calls[0]["params"] == {"name": "web-1", "per_page": 200}


def test_several_with_one_name_is_an_error_that_lists_them(session, clock):
    session.answer(page("droplets", [{"id": 7, "name": "web"}, {"id": 9, "name": "web"}]))
    with pytest.raises(ApiError) as caught:
        client(session, clock).find_unique("droplets", "web")
    assert caught.value.failure() == {
        "vendor": "DigitalOcean",
        "status": None,
        "code": "duplicate_name",
        "message": "2 droplets are named 'web' (ids 7, 9); this task needs the name to be "
        "unique: delete the extra ones or give the id",
        "field": "name",
        "request_id": None,
    }


# --- lookups -------------------------------------------------------------------------------------
def test_get_by_id_maps_404_to_none(session, clock):
    session.answer(FakeResponse(404, envelope("not_found", "The resource could not be found.")))
    assert client(session, clock).get_by_id("firewalls", UUID) is None
    assert session.calls[0]["url"] == f"{BASE}/firewalls/{UUID}"


def test_fingerprints_are_quoted_in_paths(session, clock):
    session.answer(FakeResponse(200, {"ssh_key": {"id": 5}}))
    assert client(session, clock).get_by_id("ssh_keys", "aa:bb") == {"id": 5}
    assert session.calls[0]["url"] == f"{BASE}/account/keys/aa%3Abb"


@pytest.mark.parametrize(
    ("collection", "text", "is_id"),
    [
        ("droplets", "123", True),
        ("droplets", "web-1", False),
        ("ssh_keys", "512189", True),
        ("ssh_keys", "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa", True),
        ("ssh_keys", "deploy", False),
        ("firewalls", UUID, True),
        ("firewalls", "123", False),
        ("load_balancers", "shop", False),
    ],
)
def test_looks_like_id(collection, text, is_id):
    assert looks_like_id(collection, text) is is_id


def test_resolve_by_name_without_trying_a_name_as_an_id(session, clock):
    session.answer(page("firewalls", [{"id": UUID, "name": "web"}]))
    assert client(session, clock).resolve("firewalls", "web", "firewalls") == UUID
    assert [c["url"] for c in session.calls] == [f"{BASE}/firewalls"]


def test_resolve_names_the_field_when_nothing_matches(session, clock):
    session.answer(page("droplets", []))
    with pytest.raises(ApiError) as caught:
        client(session, clock).resolve("droplets", "web-9", "droplets")
    assert str(caught.value) == (
        "DigitalOcean API error 'not_found' (HTTP 404) for field 'droplets': "
        "droplet 'web-9' not found"
    )


# --- actions -------------------------------------------------------------------------------------
def test_action_readiness_is_a_pure_predicate():
    assert action_done(action(1, "in-progress")) is False
    assert action_done(action(1, "completed")) is True
    assert action_done(action(1, "errored")) is True


def test_action_error():
    err = action_error(action(7, "errored", kind="resize"))
    assert str(err) == (
        "DigitalOcean API error 'action_errored': action 'resize' (7) on droplet 42 errored"
    )


def test_wait_actions_polls_until_completed(session, clock):
    session.answer(
        FakeResponse(200, {"action": action(5, "in-progress")}),
        FakeResponse(200, {"action": action(5, "in-progress")}),
        FakeResponse(200, {"action": action(5, "completed")}),
    )
    spent = client(session, clock).wait_actions([action(5, "in-progress")], Deadline(60, clock))
    assert spent == 3.0  # pauses of 1 s and 2 s
    assert clock.sleeps == [1.0, 2.0]
    assert [c["url"] for c in session.calls] == [f"{BASE}/actions/5"] * 3


def test_wait_actions_skips_finished_and_missing_actions(session, clock):
    api = client(session, clock)
    assert api.wait_actions([None, action(1, "completed")], Deadline(5, clock)) == 0
    assert session.calls == []


def test_an_errored_action_raises(session, clock):
    session.answer(FakeResponse(200, {"action": action(9, "errored")}))
    with pytest.raises(ApiError) as caught:
        client(session, clock).wait_actions([action(9, "in-progress")], Deadline(60, clock))
    assert (caught.value.code, caught.value.status) == ("action_errored", None)


def test_wait_actions_gives_up_at_the_deadline(session, clock):
    session.answer(*[FakeResponse(200, {"action": action(3, "in-progress")})] * 10)
    with pytest.raises(ApiError) as caught:
        client(session, clock).wait_actions([action(3, "in-progress")], Deadline(4, clock))
    assert caught.value.failure() == {
        "vendor": "DigitalOcean",
        "status": None,
        "code": "timeout",
        "message": "action 'create' (3) still not done after 4s (wait_timeout)",
        "field": "wait_timeout",
        "request_id": None,
    }
    assert clock.now == 1004.0


# --- retries -------------------------------------------------------------------------------------
def test_a_create_is_not_sent_again_after_a_server_error(session, clock):
    session.answer(FakeResponse(503, envelope("server_error", "Server was unable to answer.")))
    with pytest.raises(ApiError) as caught:
        client(session, clock, retries=3).post("/droplets", {"name": "web-1"})
    assert caught.value.status == 503
    assert len(session.calls) == 1


def test_a_throttled_create_is_sent_again(session, clock):
    session.answer(
        FakeResponse(
            429, envelope("too_many_requests", "API Rate limit exceeded."), {"Retry-After": "2"}
        ),
        FakeResponse(202, {"droplet": {"id": 1}}),
    )
    assert client(session, clock, retries=3).post("/droplets", {"name": "w"}) == {
        "droplet": {"id": 1}
    }
    assert clock.sleeps == [2.0]


def test_other_requests_are_retried_after_a_server_error(session, clock):
    session.answer(
        FakeResponse(503, envelope("server_error", "Server was unable to answer.")),
        page("droplets", []),
    )
    assert client(session, clock, retries=3).list("droplets") == []
    assert len(session.calls) == 2
