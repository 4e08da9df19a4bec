"""The Fly simulator: app secrets, volumes, and the machine configs Fly refuses."""

from __future__ import annotations

import pytest

from tests.unit.cloudsim.fly_helpers import CONFIG, Fly


@pytest.fixture
def fly(sim) -> Fly:
    api = Fly(sim)
    api.app()
    return api


def env_of(fly: Fly, mid: str) -> dict:
    return fly.vendor.runtime.specs[mid].env


# --- secrets --------------------------------------------------------------------------------


def test_secrets_listed_without_values_set_and_deleted(fly):
    first = fly.ok("POST", "/apps/web/secrets/DATABASE_URL", 201, json={"value": "postgres://a"})
    assert first["name"] == "DATABASE_URL"
    assert first["version"] == 1
    assert "value" not in first
    many = fly.ok("POST", "/apps/web/secrets", json={"values": {"A": "1", "DATABASE_URL": None}})
    assert [s["name"] for s in many["secrets"]] == ["A"]
    assert many["version"] == 2
    listed = fly.ok("GET", "/apps/web/secrets")["secrets"]
    assert [sorted(s) for s in listed] == [["created_at", "digest", "name", "updated_at"]]
    assert fly.ok("DELETE", "/apps/web/secrets/A") == {"version": 3}
    assert fly.error("DELETE", "/apps/web/secrets/A", 404) == "secret A not found"
    assert fly.ok("GET", "/apps/web/secrets") == {"secrets": []}


def test_a_machine_sees_a_new_secret_only_after_update_or_restart(fly):
    fly.ok("POST", "/apps/web/secrets/TOKEN", 201, json={"value": "old"})
    m = fly.machine()
    assert env_of(fly, m["id"])["TOKEN"] == "old"
    fly.ok("POST", "/apps/web/secrets/TOKEN", 201, json={"value": "new"})
    assert env_of(fly, m["id"])["TOKEN"] == "old"  # still running with what it launched with
    fly.ok("POST", f"/apps/web/machines/{m['id']}/restart")
    fly.wait("web", m["id"], "started")
    assert env_of(fly, m["id"])["TOKEN"] == "new"
    fly.ok("POST", "/apps/web/secrets/TOKEN", 201, json={"value": "newer"})
    updated = fly.ok("POST", f"/apps/web/machines/{m['id']}", json={"config": CONFIG})
    fly.wait("web", m["id"], "started", instance_id=updated["instance_id"])
    assert env_of(fly, m["id"])["TOKEN"] == "newer"


# --- volumes --------------------------------------------------------------------------------


def test_volume_create_list_get_extend_delete(fly):
    vol = fly.ok("POST", "/apps/web/volumes", json={"name": "data", "region": "ams", "size_gb": 1})
    assert vol["id"].startswith("vol_")
    assert (vol["state"], vol["size_gb"], vol["attached_machine_id"]) == ("created", 1, None)
    assert [v["id"] for v in fly.ok("GET", "/apps/web/volumes")] == [vol["id"]]
    assert fly.ok("GET", f"/apps/web/volumes/{vol['id']}")["name"] == "data"
    extended = fly.ok("PUT", f"/apps/web/volumes/{vol['id']}/extend", json={"size_gb": 3})
    assert extended["volume"]["size_gb"] == 3
    assert extended["needs_restart"] is False
    message = fly.error("PUT", f"/apps/web/volumes/{vol['id']}/extend", 400, json={"size_gb": 2})
    assert message == "invalid size_gb: must be larger than the current 3 GB"
    assert fly.ok("DELETE", f"/apps/web/volumes/{vol['id']}")["state"] == "destroyed"
    assert fly.error("GET", f"/apps/web/volumes/{vol['id']}", 404) == "volume not found"


def test_an_attached_volume_cannot_be_deleted_until_its_machine_is_destroyed(fly):
    vol = fly.ok("POST", "/apps/web/volumes", json={"name": "data", "region": "ams"})
    config = dict(CONFIG, mounts=[{"volume": vol["id"], "path": "/data"}])
    m = fly.machine(config=config)
    assert fly.ok("GET", f"/apps/web/volumes/{vol['id']}")["attached_machine_id"] == m["id"]
    message = fly.error("DELETE", f"/apps/web/volumes/{vol['id']}", 409)
    assert message.startswith(f"volume {vol['id']} is attached to machine {m['id']}")
    taken = fly.error("POST", "/apps/web/machines", 400, json={"config": config, "region": "ams"})
    assert taken == f"invalid config.mounts[0].volume: volume {vol['id']} is attached to {m['id']}"
    fly.ok("DELETE", f"/apps/web/machines/{m['id']}", params={"force": "true"})
    fly.wait("web", m["id"], "destroyed")
    fly.ok("DELETE", f"/apps/web/volumes/{vol['id']}")


# --- validation -----------------------------------------------------------------------------


def _with(**changes) -> dict:
    return {k: v for k, v in {**CONFIG, **changes}.items() if v is not None}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (_with(image=None), "invalid config.image: an image reference is required"),
        (
            _with(guest={"cpu_kind": "turbo"}),
            "invalid config.guest.cpu_kind: must be one of shared, performance (got 'turbo')",
        ),
        (
            _with(guest={"cpu_kind": "shared", "cpus": 3}),
            "invalid config.guest.cpus: must be one of 1, 2, 4, 6, 8 for shared CPUs (got 3)",
        ),
        (
            _with(guest={"cpu_kind": "performance", "cpus": 1, "memory_mb": 256}),
            "invalid config.guest.memory_mb: must be a multiple of 256 from 2048 to 8192 for 1 "
            "performance CPU(s) (got 256)",
        ),
        (
            _with(services=[{"protocol": "tcp", "internal_port": 8080, "ports": [{"port": 0}]}]),
            "invalid config.services[0].ports[0].port: must be a port number from 1 to 65535 "
            "(got 0)",
        ),
        (
            _with(services=[{"protocol": "tcp", "internal_port": 70000}]),
            "invalid config.services[0].internal_port: must be a port number from 1 to 65535 "
            "(got 70000)",
        ),
        (
            _with(restart={"policy": "sometimes"}),
            "invalid config.restart.policy: must be one of no, always, on-failure "
            "(got 'sometimes')",
        ),
        (_with(env={"A": 1}), "invalid config.env: must be a map of strings"),
    ],
)
def test_configs_fly_refuses_name_the_field(fly, config, message):
    assert fly.error("POST", "/apps/web/machines", 400, json={"config": config}) == message
    assert fly.ok("GET", "/apps/web/machines") == []


def test_unknown_region_is_refused(fly):
    message = fly.error(
        "POST", "/apps/web/machines", 400, json={"config": CONFIG, "region": "mars"}
    )
    assert message.startswith("invalid region: unknown region 'mars', expected one of ams, cdg")


def test_an_image_that_cannot_be_pulled_fails_the_create_and_leaves_nothing(fly):
    config = dict(CONFIG, image="registry.fly.io/web:missing")
    message = fly.error("POST", "/apps/web/machines", 422, json={"config": config})
    assert message == (
        "failed to launch VM: unable to pull image registry.fly.io/web:missing: manifest unknown"
    )
    assert fly.ok("GET", "/apps/web/machines", params={"include_deleted": "true"}) == []


def test_an_update_to_a_missing_image_keeps_the_running_version(fly):
    m = fly.machine()
    config = dict(CONFIG, image="registry.fly.io/web:missing")
    fly.error("POST", f"/apps/web/machines/{m['id']}", 422, json={"config": config})
    fly.wait("web", m["id"], "started")
    after = fly.ok("GET", f"/apps/web/machines/{m['id']}")
    assert after["instance_id"] == m["instance_id"]
    assert after["config"]["image"] == CONFIG["image"]
    assert len(fly.ok("GET", f"/apps/web/machines/{m['id']}/versions")) == 1
