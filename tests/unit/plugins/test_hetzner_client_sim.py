"""The Hetzner client against the simulator (HTTPS, its own CA): pages, errors, faults,
actions and TLS settings, as a module would meet them."""

from __future__ import annotations

import base64
import struct
import time

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError, RetryPolicy
from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import Deadline
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.client import HetznerClient
from tests.unit.plugins.fakes import FakeClock


def ed25519_key(n: int) -> str:
    """A well-formed OpenSSH ed25519 public key, distinct for each n."""
    blob = b"".join(struct.pack(">I", len(p)) + p for p in (b"ssh-ed25519", n.to_bytes(32, "big")))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} key-{n}"


def client(sim, token=None, ca=True, retry=None) -> HetznerClient:
    return HetznerClient(
        sim.endpoint("hetzner"),
        token or sim.token,
        ca_path=sim.ca_path if ca else None,
        retry=retry or RetryPolicy(retries=3, total=10, base=0.05, cap=0.2),
    )


def test_every_page_is_read(sim):
    api = client(sim)
    for n in range(120):
        api.post("/ssh_keys", {"name": f"k{n}", "public_key": ed25519_key(n), "labels": {"t": "p"}})
    keys = api.list("ssh_keys", label_selector="t=p")
    assert sorted(k["name"] for k in keys) == sorted(f"k{n}" for n in range(120))


def test_find_by_name_and_id(sim):
    api = client(sim)
    made = api.post("/ssh_keys", {"name": "deploy", "public_key": ed25519_key(1)})["ssh_key"]
    assert api.get_by_name("ssh_keys", "deploy")["id"] == made["id"]
    assert api.get_by_id("ssh_keys", made["id"])["name"] == "deploy"
    assert api.get_by_id("ssh_keys", 999999) is None
    assert api.resolve("ssh_keys", "deploy", "ssh_keys") == made["id"]
    with pytest.raises(ApiError) as caught:
        api.resolve("ssh_keys", "nope", "ssh_keys")
    assert (caught.value.code, caught.value.field) == ("not_found", "ssh_keys")


def test_a_bad_token_is_one_clear_error_without_the_token(sim):
    with pytest.raises(ApiError) as caught:
        client(sim, token="wrong-token-123").list("servers")
    err = caught.value
    assert (err.vendor, err.status, err.code) == ("Hetzner", 401, "unauthorized")
    assert "wrong-token-123" not in str(err)


def test_invalid_input_names_the_field(sim):
    body = {"name": "s1", "server_type": "cx999", "image": "debian-12"}
    with pytest.raises(ApiError) as caught:
        client(sim).post("/servers", body)
    assert caught.value.status == 422
    assert caught.value.field == "server_type"


def test_a_taken_name_is_not_retried(sim):
    api = client(sim)
    api.post("/ssh_keys", {"name": "dup", "public_key": ed25519_key(1)})
    with pytest.raises(ApiError) as caught:
        api.post("/ssh_keys", {"name": "dup", "public_key": ed25519_key(2)})
    assert (caught.value.status, caught.value.code) == (409, "uniqueness_error")


def test_throttling_and_server_errors_are_retried(sim):
    sim.faults(rate_limit_next=2, retry_after=0, server_error_next=1)
    assert client(sim).list("servers") == []


def test_retries_end_with_the_vendor_code(sim):
    sim.faults(rate_limit_next=100, retry_after=0)
    with pytest.raises(ApiError) as caught:
        client(sim, retry=RetryPolicy(retries=2, total=5, base=0.01, cap=0.02)).list("servers")
    assert (caught.value.status, caught.value.code) == (429, "rate_limit_exceeded")
    assert "gave up after 3 attempts" in caught.value.message


def test_an_action_in_error_raises_its_code(sim):
    api = client(sim)
    sim.faults(action_error_next=1, action_delay=0.3)
    answer = api.post("/servers", {"name": "s1", "server_type": "cx22", "image": "debian-12"})
    with pytest.raises(ApiError) as caught:
        api.wait_actions([answer["action"], *answer.get("next_actions", [])], Deadline(20))
    assert caught.value.status is None
    assert caught.value.code not in ("timeout", None)


def test_waiting_for_a_slow_action(sim):
    # The client's clock counts only its pauses; each pause also really passes, for the
    # simulator's action, which ends 0.5 s after it started.
    clock = FakeClock()

    def pause(seconds: float) -> None:
        time.sleep(seconds)
        clock.sleep(seconds)

    api = client(sim)
    api.clock, api.sleep = clock, pause
    sim.faults(action_delay=0.5)
    answer = api.post("/servers", {"name": "s1", "server_type": "cx22", "image": "debian-12"})
    spent = api.wait_actions([answer["action"]], Deadline(20, clock=clock))
    action = api.get(f"/actions/{answer['action']['id']}")["action"]
    assert action["status"] == "success"  # it returns once the action has ended, not before
    assert spent == pytest.approx(sum(clock.sleeps))  # the time it waited, as its clock saw it
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0][: len(clock.sleeps)]  # backing off

    sim.faults(action_delay=3600)
    poweroff = api.post(f"/servers/{answer['server']['id']}/actions/poweroff")
    api.sleep = clock.sleep  # no action ends while this one waits: no need to pass real time
    with pytest.raises(ApiError) as caught:
        api.wait_actions([poweroff["action"]], Deadline(0.1, clock=clock))
    assert caught.value.code == "timeout"
    assert clock.sleeps[-1] == pytest.approx(0.1)  # never past the deadline


def test_tls_is_verified_by_default(sim, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(ApiError) as caught:
        client(sim, ca=False).list("servers")
    assert caught.value.code == "tls_error"


def test_requests_ca_bundle_is_honoured(sim, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_path)
    assert client(sim, ca=False).list("servers") == []


def test_an_unreachable_api(sim):
    api = HetznerClient(
        "https://127.0.0.1:9/hetzner/v1", "t0ken-xyz", retry=RetryPolicy(retries=1, base=0.01)
    )
    with pytest.raises(ApiError) as caught:
        api.list("servers")
    assert (caught.value.status, caught.value.code) == (None, "unreachable")
    assert "gave up after 2 attempts" in caught.value.message
