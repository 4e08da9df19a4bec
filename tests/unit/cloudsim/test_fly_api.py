"""The Fly Machines simulator over HTTPS: apps, machines and their state machine, wait, leases.

Every exchange is also checked against the 2024 Machines OpenAPI file (with fly-go's
differences, ``tests/cloudsim/fly/spec_fixes.py``) at the end of the session.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.unit.cloudsim.fly_helpers import CONFIG, Fly


@pytest.fixture
def fly(sim) -> Fly:
    return Fly(sim)


# --- apps -----------------------------------------------------------------------------------


def test_app_create_get_list_delete(fly):
    created = fly.app("web", "acme")
    assert created["name"] == "web"
    assert created["organization"] == {"name": "acme", "slug": "acme"}
    assert created["status"] == "pending"
    fly.app("other", "personal")
    assert fly.ok("GET", "/apps/web")["id"] == created["id"]
    listed = fly.ok("GET", "/apps", params={"org_slug": "acme"})
    assert listed["total_apps"] == 1
    assert [a["name"] for a in listed["apps"]] == ["web"]
    fly.machine("web")
    assert fly.ok("GET", "/apps/web")["machine_count"] == 1
    fly.ok("DELETE", "/apps/web", 202)
    assert fly.error("GET", "/apps/web", 404) == "app not found"
    fly.app("web", "acme")  # the name is free again, and nothing of the old app is left
    assert fly.ok("GET", "/apps/web/machines", params={"include_deleted": "true"}) == []


def test_app_name_taken_and_bad_names(fly):
    fly.app("web")
    response = fly.call("POST", "/apps", json={"name": "web", "org_slug": "personal"})
    assert response.status_code == 422
    assert response.json() == {"error": "Name has already been taken", "status": "name_taken"}
    assert "invalid name" in fly.error("POST", "/apps", 400, json={"name": "Web!", "org_slug": "x"})
    assert "org_slug" in fly.error("POST", "/apps", 400, json={"name": "web2"})


def test_token_bearer_and_flyv1_accepted_and_bad_token_refused(sim):
    assert Fly(sim, "FlyV1").call("GET", "/apps", params={"org_slug": "x"}).status_code == 200
    bad = Fly(sim)
    bad.session.headers["Authorization"] = "Bearer nope"
    assert bad.call("GET", "/apps", params={"org_slug": "x"}).status_code == 401


# --- machines -------------------------------------------------------------------------------


def test_machine_create_shape_and_get(fly):
    fly.app()
    m = fly.machine(name="web-1")
    assert m["state"] == "started"
    assert m["name"] == "web-1"
    assert m["region"] == "ams"
    assert m["config"]["image"] == CONFIG["image"]
    assert m["config"]["guest"] == {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256}
    assert m["image_ref"]["registry"] == "registry.fly.io"
    assert m["image_ref"]["repository"] == "web"
    assert m["image_ref"]["tag"] == "v1"
    assert m["instance_id"] == m["version"]
    assert m["cordoned"] is False
    assert [e["type"] for e in m["events"]] == ["start", "launch"]
    got = fly.ok("GET", f"/apps/web/machines/{m['id']}")
    assert got["id"] == m["id"]
    spec = fly.vendor.runtime.specs[m["id"]]
    assert spec.cmd == ["serve", "--port", "8080"]
    assert spec.env == {"GREETING": "hello"}
    assert fly.error("GET", "/apps/web/machines/nope", 404) == "machine not found"
    assert fly.error("GET", "/apps/nope/machines", 404) == "app not found"


def test_state_machine_stop_start_restart_delete(fly):
    fly.app()
    m = fly.machine()
    path = f"/apps/web/machines/{m['id']}"
    fly.ok("POST", f"{path}/stop", json={"signal": "SIGTERM", "timeout": "10s"})
    fly.wait("web", m["id"], "stopped")
    assert fly.ok("GET", path)["state"] == "stopped"
    assert fly.ok("POST", f"{path}/start") == {
        "previous_state": "stopped", "migrated": False, "new_host": ""
    }  # fmt: skip
    fly.wait("web", m["id"], "started")
    assert "current state 'started'" in fly.error("POST", f"{path}/start", 409)
    fly.ok("POST", f"{path}/restart", params={"signal": "SIGTERM", "timeout": "5s"})
    fly.wait("web", m["id"], "started")
    message = fly.error("DELETE", path, 409)
    assert message.startswith("unable to destroy machine, not currently stopped")
    fly.ok("DELETE", path, params={"force": "true"})
    fly.wait("web", m["id"], "destroyed")
    types = [e["type"] for e in fly.ok("GET", f"{path}/events")]
    assert types[:2] == ["destroy", "destroy"]
    assert "restart" in types
    assert "stop" in types


def test_delete_a_stopped_machine_without_force(fly):
    fly.app()
    m = fly.machine(skip_launch=True)
    assert m["state"] == "created"
    fly.ok("DELETE", f"/apps/web/machines/{m['id']}")
    fly.wait("web", m["id"], "destroyed")


def test_list_filters_metadata_region_and_include_deleted(fly):
    fly.app()
    one = fly.machine()
    other = dict(CONFIG, metadata={"fly_process_group": "app", "sigma_release": "r2"})
    two = fly.machine(config=other, region="fra")
    ids = lambda **params: sorted(  # noqa: E731
        m["id"] for m in fly.ok("GET", "/apps/web/machines", params=params)
    )
    assert ids() == sorted([one["id"], two["id"]])
    assert ids(**{"metadata.sigma_release": "r2"}) == [two["id"]]
    assert ids(**{"metadata.sigma_release": "r1", "metadata.fly_process_group": "app"}) == [
        one["id"]
    ]
    assert ids(region="fra") == [two["id"]]
    fly.ok("DELETE", f"/apps/web/machines/{one['id']}", params={"force": "true"})
    fly.wait("web", one["id"], "destroyed")
    assert ids() == [two["id"]]
    assert ids(include_deleted="true") == sorted([one["id"], two["id"]])


def test_update_makes_a_new_version_and_relaunches(fly):
    fly.app()
    m = fly.machine()
    new_config = dict(CONFIG, image="registry.fly.io/web:v2")
    updated = fly.ok("POST", f"/apps/web/machines/{m['id']}", json={"config": new_config})
    assert updated["instance_id"] != m["instance_id"]
    fly.wait("web", m["id"], "started", instance_id=updated["instance_id"])
    assert fly.vendor.runtime.specs[m["id"]].image == "registry.fly.io/web:v2"
    versions = fly.ok("GET", f"/apps/web/machines/{m['id']}/versions")
    assert [v["version"] for v in versions] == [updated["instance_id"], m["instance_id"]]
    assert versions[0]["user_config"]["image"] == "registry.fly.io/web:v2"


def test_metadata_get_set_delete(fly):
    fly.app()
    m = fly.machine()
    path = f"/apps/web/machines/{m['id']}/metadata"
    assert fly.ok("GET", path) == {"fly_process_group": "app", "sigma_release": "r1"}
    fly.ok("POST", f"{path}/role", 204, json={"value": "green"})
    assert fly.ok("GET", path)["role"] == "green"
    fly.ok("DELETE", f"{path}/role", 204)
    assert "role" not in fly.ok("GET", path)


def test_cordon_and_uncordon(fly):
    fly.app()
    m = fly.machine(skip_service_registration=True)
    path = f"/apps/web/machines/{m['id']}"
    assert m["cordoned"] is True
    fly.ok("POST", f"{path}/uncordon")
    assert fly.ok("GET", path)["cordoned"] is False
    fly.ok("POST", f"{path}/cordon")
    assert fly.ok("GET", path)["cordoned"] is True


# --- wait -----------------------------------------------------------------------------------


def test_wait_times_out_with_408(fly):
    fly.app()
    m = fly.machine(skip_launch=True)
    message = fly.error(
        "GET", f"/apps/web/machines/{m['id']}/wait", 408, params={"state": "started", "timeout": 1}
    )
    assert message.startswith("deadline_exceeded:")
    assert "did not reach state started within 1s (state: created)" in message


def test_wait_rejects_an_unknown_state(fly):
    fly.app()
    m = fly.machine()
    message = fly.error("GET", f"/apps/web/machines/{m['id']}/wait", 400, params={"state": "up"})
    assert message.startswith("invalid state 'up'")


def test_wait_returns_when_another_request_changes_state_and_holds_no_lock(fly):
    """The waiter sleeps without the simulator's lock: the start, sent while it waits, goes
    through and wakes it. Were the lock held, the start would queue behind it until the wait
    timed out, and the wait would answer 408."""
    fly.app()
    m = fly.machine(skip_launch=True)
    result = {}

    def waiter():
        result["response"] = fly.call(
            "GET", f"/apps/web/machines/{m['id']}/wait", params={"state": "started", "timeout": 30}
        )

    thread = threading.Thread(target=waiter)
    thread.start()
    for _ in range(500):  # until the wait is being served (at most 5 s)
        if fly.vendor.waiters:
            break
        time.sleep(0.01)
    assert fly.vendor.waiters == 1
    # Other requests are served while the waiter waits.
    assert fly.ok("GET", "/apps/web")["name"] == "web"
    assert fly.ok("GET", f"/apps/web/machines/{m['id']}")["state"] == "created"
    fly.ok("POST", f"/apps/web/machines/{m['id']}/start")
    thread.join(40)
    assert result["response"].status_code == 200, result["response"].text
    assert result["response"].json() == {"ok": True, "state": "started"}


# --- leases ---------------------------------------------------------------------------------


def test_lease_acquire_show_release_and_conflicts(fly):
    fly.app()
    m = fly.machine()
    path = f"/apps/web/machines/{m['id']}"
    lease = fly.ok("POST", f"{path}/lease", params={"ttl": 30}, json={"description": "deploy r2"})
    assert lease["status"] == "success"
    nonce = lease["data"]["nonce"]
    assert fly.ok("GET", f"{path}/lease")["data"]["nonce"] == nonce
    held = fly.error("POST", f"{path}/lease", 409, params={"ttl": 30})
    assert "currently held by sim@cloudsim.invalid (deploy r2)" in held
    assert ", expires at 20" in held
    # Changing calls without the nonce: 409 naming the holder; with another nonce: 412.
    assert "deploy r2" in fly.error("POST", f"{path}/stop", 409)
    assert fly.error("POST", f"{path}/cordon", 412, nonce="wrong").startswith(
        "lease nonce mismatch"
    )
    fly.ok("POST", f"{path}/cordon", nonce=nonce)
    new_config = dict(CONFIG, image="registry.fly.io/web:v3")
    fly.error("POST", path, 409, json={"config": new_config})
    fly.ok("POST", path, json={"config": new_config}, nonce=nonce)
    # The holder refreshes; a release needs the nonce.
    refreshed = fly.ok("POST", f"{path}/lease", params={"ttl": 60}, nonce=nonce)
    assert refreshed["data"]["nonce"] == nonce
    fly.error("DELETE", f"{path}/lease", 409)
    fly.ok("DELETE", f"{path}/lease", nonce=nonce)
    fly.error("GET", f"{path}/lease", 404)
    fly.ok("POST", f"{path}/stop")


def test_lease_expires_after_its_ttl(fly, monkeypatch):
    fly.app()
    m = fly.machine()
    path = f"/apps/web/machines/{m['id']}"
    now = [1_800_000_000.0]
    monkeypatch.setattr(fly.vendor, "clock", lambda: now[0])
    lease = fly.ok("POST", f"{path}/lease", params={"ttl": 5})
    assert lease["data"]["expires_at"] == 1_800_000_005
    assert "(in 5s)" in fly.error("POST", f"{path}/stop", 409)
    now[0] += 5
    fly.error("GET", f"{path}/lease", 404)
    fly.ok("POST", f"{path}/stop")


def test_create_with_lease_ttl_returns_the_nonce(fly):
    fly.app()
    m = fly.machine(lease_ttl=30)
    assert m["nonce"]
    path = f"/apps/web/machines/{m['id']}"
    assert fly.ok("GET", f"{path}/lease")["data"]["nonce"] == m["nonce"]
    fly.error("POST", f"{path}/stop", 409)
    fly.ok("POST", f"{path}/stop", nonce=m["nonce"])
