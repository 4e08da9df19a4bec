"""Hetzner specifics: the error envelope, pages, actions and lookups by name or id."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError, RetryPolicy
from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import Deadline
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.client import (
    HetznerClient,
    action_done,
    action_error,
    hetzner_error,
    hetzner_next_page,
)
from tests.unit.plugins.fakes import FakeResponse


def client(session, clock) -> HetznerClient:
    return HetznerClient(
        "https://api.example/v1",
        "tok-en-1234",
        retry=RetryPolicy(retries=0),
        clock=clock,
        sleep=clock.sleep,
        session=session,
    )


def action(ident, status, error=None, command="start_server"):
    return {"id": ident, "command": command, "status": status, "error": error, "progress": 0}


# --- errors --------------------------------------------------------------------------------------
def test_error_envelope_with_a_named_field():
    body = {
        "error": {
            "code": "invalid_input",
            "message": "invalid input in field 'server_type'",
            "details": {"fields": [{"name": "server_type", "messages": ["unknown"]}]},
        }
    }
    err = hetzner_error(422, body)
    assert err.failure() == {
        "vendor": "Hetzner",
        "status": 422,
        "code": "invalid_input",
        "message": "invalid input in field 'server_type'",
        "field": "server_type",
    }


def test_error_envelope_without_details():
    err = hetzner_error(
        409, {"error": {"code": "uniqueness_error", "message": "name taken", "details": {}}}
    )
    assert (err.code, err.field, err.message) == ("uniqueness_error", None, "name taken")


def test_unauthorized_points_at_the_token_option():
    err = hetzner_error(
        401, {"error": {"code": "unauthorized", "message": "unable to authenticate"}}
    )
    assert str(err) == (
        "Hetzner API error 'unauthorized' (HTTP 401): unable to authenticate "
        "(check api_token or HCLOUD_TOKEN)"
    )


@pytest.mark.parametrize("body", [None, {"message": "x"}, "text", {"error": "flat"}])
def test_answers_without_the_envelope(body):
    err = hetzner_error(502, body)
    assert (err.status, err.code, err.field) == (502, "http_502", None)


def test_next_page():
    body = {"meta": {"pagination": {"page": 1, "next_page": 2, "last_page": 3}}}
    assert hetzner_next_page(body, {"per_page": 50}) == {"per_page": 50, "page": 2}
    assert hetzner_next_page({"meta": {"pagination": {"next_page": None}}}, {}) is None
    assert hetzner_next_page({}, {}) is None


# --- actions -------------------------------------------------------------------------------------
def test_action_readiness_is_a_pure_predicate():
    assert action_done(action(1, "running")) is False
    assert action_done(action(1, "success")) is True
    assert action_done(action(1, "error")) is True


def test_action_error_carries_the_action_code():
    err = action_error(
        action(7, "error", {"code": "server_start_failed", "message": "no capacity"})
    )
    assert str(err) == (
        "Hetzner API error 'server_start_failed': action 'start_server' (7) failed: no capacity"
    )


def test_wait_actions_polls_until_success(session, clock):
    session.answer(
        FakeResponse(200, {"action": action(5, "running")}),
        FakeResponse(200, {"action": action(5, "success")}),
    )
    spent = client(session, clock).wait_actions([action(5, "running")], Deadline(60, clock))
    assert spent == 0.5  # one pause of 0.5 s between the two reads
    assert [c["url"] for c in session.calls] == ["https://api.example/v1/actions/5"] * 2


def test_wait_actions_skips_finished_and_missing_actions(session, clock):
    assert (
        client(session, clock).wait_actions([None, action(1, "success")], Deadline(5, clock)) == 0
    )
    assert session.calls == []


def test_wait_actions_raises_the_error_of_a_failed_action(session, clock):
    failed = action(9, "error", {"code": "action_failed", "message": "boom"})
    session.answer(FakeResponse(200, {"action": failed}))
    with pytest.raises(ApiError) as caught:
        client(session, clock).wait_actions([action(9, "running")], Deadline(60, clock))
    assert (caught.value.code, caught.value.status) == ("action_failed", None)


def test_wait_actions_gives_up_at_the_deadline(session, clock):
    session.answer(*[FakeResponse(200, {"action": action(3, "running")})] * 10)
    with pytest.raises(ApiError) as caught:
        client(session, clock).wait_actions([action(3, "running")], Deadline(4, clock))
    assert caught.value.code == "timeout"
    assert caught.value.message == "action 'start_server' (3) still running after 4s (wait_timeout)"
    assert clock.now == 1004.0


# --- lookups -------------------------------------------------------------------------------------
def test_get_by_id_maps_404_to_none(session, clock):
    session.answer(FakeResponse(404, {"error": {"code": "not_found", "message": "not found"}}))
    assert client(session, clock).get_by_id("servers", 5) is None


def test_get_by_name_needs_an_exact_match(session, clock):
    session.answer(FakeResponse(200, {"servers": [{"id": 1, "name": "web-10"}]}))
    assert client(session, clock).get_by_name("servers", "web-1") is None
    assert session.calls[0]["params"] == {"name": "web-1"}


def test_resolve_by_id_then_by_name(session, clock):
    session.answer(FakeResponse(200, {"firewall": {"id": 12, "name": "web"}}))
    assert client(session, clock).resolve("firewalls", "12", "firewalls") == 12
    session.answer(FakeResponse(200, {"firewalls": [{"id": 13, "name": "web"}]}))
    assert client(session, clock).resolve("firewalls", "web", "firewalls") == 13


def test_resolve_names_the_field_when_nothing_matches(session, clock):
    session.answer(FakeResponse(200, {"ssh_keys": []}))
    with pytest.raises(ApiError) as caught:
        client(session, clock).resolve("ssh_keys", "deploy", "ssh_keys")
    assert str(caught.value) == (
        "Hetzner API error 'not_found' (HTTP 404) for field 'ssh_keys': ssh key 'deploy' not found"
    )


def test_select_for_info_modules(session, clock):
    session.answer(FakeResponse(404, {"error": {"code": "not_found", "message": "gone"}}))
    assert client(session, clock).select("servers", ident=4) == []
    session.answer(FakeResponse(200, {"servers": [{"id": 1}], "meta": {"pagination": {}}}))
    assert client(session, clock).select("servers", label_selector="app=x") == [{"id": 1}]
    assert session.calls[-1]["params"] == {"label_selector": "app=x", "per_page": 50}
