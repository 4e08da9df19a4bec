"""The Fly modules through main() against the Fly simulator: each change three ways (check
mode, for real, again), the result and the diff, and bad input that names its field and leaves
nothing half made."""

from __future__ import annotations

import json

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import FlyClient
from ansible_collections.sigma.deploy.plugins.modules import (
    fly_app,
    fly_app_info,
    fly_machine,
    fly_machine_info,
    fly_secret,
    fly_secret_info,
    fly_volume,
    fly_volume_info,
)

IMAGE = "registry.fly.io/shop:r1"


@pytest.fixture
def fly(sim):
    """The auth options of a task against the simulator."""
    return {"api_token": sim.token, "api_url": sim.url + "/fly", "ca_path": sim.ca_path}


@pytest.fixture
def api(sim) -> FlyClient:
    return FlyClient(sim.url + "/fly", sim.token, ca_path=sim.ca_path)


@pytest.fixture
def shop(run, fly):
    assert run(fly_app, name="shop", **fly)["changed"] is True
    return "shop"


def three_ways(run, module, **params):
    """Check mode, for real, again: the three results."""
    return run(module, check=True, **params), run(module, **params), run(module, **params)


def failed_with(result):
    assert result["failed"] is True, result
    failure = result.get("failure") or {}
    return failure.get("status"), failure.get("field")


# --- apps ------------------------------------------------------------------------------------
def test_app_three_ways_and_back(run, fly, api):
    check, real, again = three_ways(run, fly_app, name="shop", org="acme", **fly)
    assert (check["changed"], real["changed"], again["changed"]) == (True, True, False)
    assert check["fly_app"]["id"] is None
    assert real["fly_app"]["org"] == "acme"
    assert real["fly_app"]["name"] == "shop"
    assert real["diff"] == {
        "before": {},
        "after": {"name": "shop", "org": "acme", "network": "default"},
    }
    listed = run(fly_app_info, org="acme", **fly)["fly_app_info"]
    assert [a["name"] for a in listed] == ["shop"]

    gone = three_ways(run, fly_app, name="shop", state="absent", **fly)
    assert [r["changed"] for r in gone] == [True, True, False]
    assert api.get_app("shop") is None


def test_an_app_name_that_is_taken_names_the_field(run, fly):
    run(fly_app, name="shop", **fly)
    result = run(fly_app, name="shop", org="other", **fly)
    assert result["failed"] is False  # same name, our app: a warning, not a second app
    assert result["warnings"] == [
        "app 'shop' is in org personal; an app cannot move to org other (delete it and create "
        "it there)"
    ]
    bad = run(fly_app, name="Not_Valid", **fly)
    assert failed_with(bad) == (400, "name")


def test_a_bad_token_is_an_error_naming_api_token_without_the_token(run, fly):
    result = run(fly_app_info, **dict(fly, api_token="wrong-token-42"))
    assert failed_with(result) == (401, "api_token")
    assert "wrong-token-42" not in json.dumps(result)


# --- machines --------------------------------------------------------------------------------
def machine(shop, fly, **params):
    base = {"app": shop, "name": "web-1", "region": "ams", "config": {"image": IMAGE}}
    return dict(base, **fly, **params)


def test_machine_three_ways(run, fly, shop, api):
    check, real, again = three_ways(run, fly_machine, **machine(shop, fly))
    assert (check["changed"], real["changed"], again["changed"]) == (True, True, False)
    assert check["fly_machine"]["id"] is None
    assert api.list_machines(shop) != []
    made = real["fly_machine"]
    assert (made["name"], made["region"], made["state"], made["image"]) == (
        "web-1", "ams", "started", IMAGE,
    )  # fmt: skip
    assert again["fly_machine"]["id"] == made["id"]
    assert len(api.list_machines(shop)) == 1


def test_machine_update_shows_the_config_in_the_diff_and_releases_its_lease(run, fly, shop, api):
    made = run(fly_machine, **machine(shop, fly))["fly_machine"]
    changed = {"image": "registry.fly.io/shop:r2", "env": {"MODE": "blue"}}
    check, real, again = three_ways(run, fly_machine, **machine(shop, fly, config=changed))
    assert [r["changed"] for r in (check, real, again)] == [True, True, False]
    assert real["diff"]["before"]["config"]["image"] == IMAGE
    assert real["diff"]["after"]["config"]["image"] == "registry.fly.io/shop:r2"
    assert real["fly_machine"]["instance_id"] != made["instance_id"]
    assert real["fly_machine"]["state"] == "started"
    with pytest.raises(ApiError) as no_lease:
        api.get_lease(shop, made["id"])
    assert no_lease.value.status == 404


def test_machine_stop_start_and_metadata(run, fly, shop):
    run(fly_machine, **machine(shop, fly))
    stopped = three_ways(run, fly_machine, **machine(shop, fly, state="stopped"))
    assert [r["changed"] for r in stopped] == [True, True, False]
    assert stopped[1]["fly_machine"]["state"] == "stopped"
    tagged = run(fly_machine, **machine(shop, fly, state="started", metadata={"role": "web"}))
    assert tagged["changed"] is True
    assert (tagged["fly_machine"]["state"], tagged["fly_machine"]["metadata"]) == (
        "started", {"role": "web"},
    )  # fmt: skip
    found = run(fly_machine_info, app=shop, metadata={"role": "web"}, **fly)["fly_machine_info"]
    assert [m["name"] for m in found] == ["web-1"]
    assert run(fly_machine_info, app=shop, metadata={"role": "db"}, **fly)["fly_machine_info"] == []


def test_machine_absent_three_ways(run, fly, shop, api):
    run(fly_machine, **machine(shop, fly))
    gone = three_ways(run, fly_machine, **machine(shop, fly, state="absent"))
    assert [r["changed"] for r in gone] == [True, True, False]
    assert gone[1]["fly_machine"] == {}
    assert api.list_machines(shop) == []


def test_a_lease_held_by_another_fails_naming_holder_and_expiry(run, fly, shop, api):
    made = run(fly_machine, **machine(shop, fly))["fly_machine"]
    api.acquire_lease(shop, made["id"], ttl_s=300, description="deploy r7 by ci")
    result = run(fly_machine, **machine(shop, fly, config={"image": "registry.fly.io/shop:r2"}))
    assert failed_with(result) == (409, "lease")
    assert "deploy r7 by ci" in result["msg"]
    assert "expires at" in result["msg"]
    assert api.get_machine(shop, made["id"])["config"]["image"] == IMAGE


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"config": {"image": IMAGE, "guest": {"cpus": 3}}}, "config.guest.cpus"),
        ({"region": "xyz"}, "region"),
        ({"config": {"image": "registry.fly.io/shop:missing"}}, "config.image"),
    ],
)
def test_a_machine_fly_rejects_names_the_field_and_leaves_nothing(
    run, fly, shop, api, params, field
):
    result = run(fly_machine, **machine(shop, fly, **params))
    assert failed_with(result) == (result["failure"]["status"], field)
    assert result["failure"]["status"] in (400, 422)
    assert api.list_machines(shop) == []


def test_an_update_fly_rejects_leaves_the_machine_as_it_was(run, fly, shop, api):
    made = run(fly_machine, **machine(shop, fly))["fly_machine"]
    bad = {"image": IMAGE, "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 7}}
    result = run(fly_machine, **machine(shop, fly, config=bad))
    assert failed_with(result) == (400, "config.guest.memory_mb")
    kept = api.get_machine(shop, made["id"])
    assert (kept["instance_id"], kept["state"]) == (made["instance_id"], "started")


def test_an_unknown_app_fails_naming_app_everywhere(run, fly):
    for module, params in (
        (fly_machine, machine("ghost", fly)),
        (fly_machine_info, dict(app="ghost", **fly)),
        (fly_secret, dict(app="ghost", secrets={"A": "b"}, **fly)),
        (fly_secret_info, dict(app="ghost", **fly)),
        (fly_volume, dict(app="ghost", name="data", region="ams", **fly)),
        (fly_volume_info, dict(app="ghost", **fly)),
    ):
        result = run(module, **params)
        assert failed_with(result) == (404, "app"), module.__name__
        assert (
            result["msg"]
            == "Fly API error 'not_found' (HTTP 404) for field 'app': app 'ghost' not found"
        )


# --- secrets ---------------------------------------------------------------------------------
def test_secrets_are_set_once_and_never_shown(run, fly, shop, api):
    secrets = {"DATABASE_URL": "postgres://u:pw-s3cret@db/shop", "SESSION_KEY": "k-s3cret-1"}
    check, real, again = three_ways(run, fly_secret, app=shop, secrets=secrets, **fly)
    assert [r["changed"] for r in (check, real, again)] == [True, True, False]
    assert real["fly_secret"]["set"] == ["DATABASE_URL", "SESSION_KEY"]
    assert real["diff"] == {"before": {"names": []}, "after": {"names": sorted(secrets)}}
    assert isinstance(real["fly_secret"]["version"], int)
    for result in (check, real, again):
        assert "s3cret" not in json.dumps(result)
    assert sorted(s["name"] for s in api.list_secrets(shop)) == sorted(secrets)

    rotated = run(
        fly_secret, app=shop, secrets={"SESSION_KEY": "k-s3cret-2"}, update="always", **fly
    )
    assert rotated["changed"] is True
    assert rotated["fly_secret"]["set"] == ["SESSION_KEY"]
    listed = run(fly_secret_info, app=shop, **fly)["fly_secret_info"]
    assert [s["name"] for s in listed] == ["DATABASE_URL", "SESSION_KEY"]
    assert "s3cret" not in json.dumps(listed)


def test_secrets_unset_three_ways(run, fly, shop, api):
    run(fly_secret, app=shop, secrets={"A": "1", "B": "2"}, **fly)
    gone = three_ways(run, fly_secret, app=shop, names=["A", "Z"], state="absent", **fly)
    assert [r["changed"] for r in gone] == [True, True, False]
    assert gone[1]["fly_secret"]["unset"] == ["A"]
    assert [s["name"] for s in api.list_secrets(shop)] == ["B"]


def test_a_secret_name_fly_rejects_names_secrets(run, fly, shop):
    result = run(fly_secret, app=shop, secrets={"not-a-name": "v4lue-x"}, **fly)
    assert failed_with(result) == (400, "secrets")
    assert "v4lue-x" not in json.dumps(result)


# --- volumes ---------------------------------------------------------------------------------
def volume(shop, fly, **params):
    return dict({"app": shop, "name": "data", "region": "ams", "size_gb": 1}, **fly, **params)


def test_volume_three_ways_extend_and_delete(run, fly, shop, api):
    check, real, again = three_ways(run, fly_volume, **volume(shop, fly))
    assert [r["changed"] for r in (check, real, again)] == [True, True, False]
    made = real["fly_volume"]
    assert (made["name"], made["region"], made["size_gb"], made["encrypted"]) == (
        "data",
        "ams",
        1,
        True,
    )

    grown = three_ways(run, fly_volume, **volume(shop, fly, size_gb=3))
    assert [r["changed"] for r in grown] == [True, True, False]
    assert grown[1]["diff"]["before"]["size_gb"] == 1
    assert grown[1]["fly_volume"]["size_gb"] == 3

    smaller = run(fly_volume, **volume(shop, fly, size_gb=2))
    assert smaller["failed"] is True
    assert "only grow" in smaller["msg"]
    assert api.get_volume(shop, made["id"])["size_gb"] == 3

    listed = run(fly_volume_info, app=shop, name="data", **fly)["fly_volume_info"]
    assert [v["id"] for v in listed] == [made["id"]]
    gone = three_ways(run, fly_volume, **volume(shop, fly, state="absent"))
    assert [r["changed"] for r in gone] == [True, True, False]
    assert run(fly_volume_info, app=shop, **fly)["fly_volume_info"] == []


def test_a_volume_in_an_unknown_region_names_region(run, fly, shop, api):
    result = run(fly_volume, **volume(shop, fly, region="xyz"))
    assert failed_with(result) == (400, "region")
    assert api.list_volumes(shop) == []
