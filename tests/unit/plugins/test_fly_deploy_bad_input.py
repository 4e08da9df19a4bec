"""fly_deploy given bad input, against the Fly simulator (memory runtime): an image that does
not exist, an unknown app or region, a bad token, a machine config Fly rejects. Each fails
with an error naming the field, creates no machine and leaves none behind, leaves the app's
machines as they were (same instance: not even restarted) and no lease.

The memory runtime cannot pull an image whose reference contains ``:missing``.
"""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import FlyClient
from ansible_collections.sigma.deploy.plugins.modules import fly_deploy
from ansible_collections.sigma.deploy.plugins.modules.fly_deploy import run_deploy
from tests.unit.plugins.test_fly_deploy_sim import (
    APP,
    OLD,
    TEMPLATE,
    all_machines,
    fleet,
    no_lease_left,
    params,
    seed,
    sim_client,
)

MISSING = "registry.fly.io/notes:missing"
STRATEGIES = ("bluegreen", "rolling", "canary", "immediate")


@pytest.fixture
def client(sim) -> FlyClient:
    return sim_client(sim)


def machines_as_they_were(client):
    """What must not change: each live machine's id, instance, state, image, release."""
    return sorted(
        (m["id"], m["instance_id"], m["state"], m["config"]["image"], m["config"]["metadata"])
        for m in all_machines(client)
    )


def assert_nothing_changed(client, blues, before, result):
    assert machines_as_they_were(client) == before
    assert fleet(client) == [(mid, "started", OLD, "r1", False) for mid in blues]
    assert result["touched"] is False  # the module reports changed=false
    no_lease_left(client)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_image_that_does_not_exist(client, strategy):
    blues = seed(client, 2)
    before = machines_as_they_were(client)
    result, error = run_deploy(client, params(image=MISSING, strategy=strategy))
    assert error is not None
    assert error.field == "image"
    assert f"unable to pull image {MISSING}" in str(error)
    assert_nothing_changed(client, blues, before, result)


@pytest.mark.parametrize("strategy", ["bluegreen", "rolling"])
def test_an_image_that_does_not_exist_stops_before_the_release_command(client, strategy):
    blues = seed(client, 2)
    before = machines_as_they_were(client)
    # The memory runtime's own hook: a machine that could start would exit 0 at once.
    config = dict(TEMPLATE, env={"PORT": "8080", "SIM_EXIT_CODE": "0"})
    result, error = run_deploy(
        client,
        params(image=MISSING, strategy=strategy, config=config, release_command=["migrate"]),
    )
    assert error is not None
    assert error.field == "image"
    assert f"unable to pull image {MISSING}" in str(error)
    assert not any("release command" in step for step in result["steps"])
    assert_nothing_changed(client, blues, before, result)


@pytest.mark.parametrize("strategy", ["bluegreen", "rolling"])
def test_an_unknown_app(client, strategy):
    blues = seed(client, 1)
    before = machines_as_they_were(client)
    result, error = run_deploy(client, params(app="nope", strategy=strategy))
    assert error is not None
    assert (error.field, error.status, error.message) == ("app", 404, "app nope not found")
    assert client.get_app("nope") is None
    assert_nothing_changed(client, blues, before, result)


@pytest.mark.parametrize(("strategy", "count"), [("bluegreen", None), ("rolling", 3)])
def test_an_unknown_region(client, strategy, count):
    blues = seed(client, 2)
    before = machines_as_they_were(client)
    result, error = run_deploy(client, params(region="xyz", strategy=strategy, count=count))
    assert error is not None
    assert error.field == "region"
    assert "unknown region 'xyz'" in str(error)
    assert_nothing_changed(client, blues, before, result)


@pytest.mark.parametrize("strategy", ["bluegreen", "rolling"])
def test_a_bad_token(sim, client, strategy):
    blues = seed(client, 2)
    before = machines_as_they_were(client)
    stranger = FlyClient(sim.url + "/fly", "not-the-token", ca_path=sim.ca_path)
    result, error = run_deploy(stranger, params(strategy=strategy))
    assert error is not None
    assert (error.field, error.status) == ("api_token", 401)
    assert "check api_token or FLY_API_TOKEN" in str(error)
    assert "not-the-token" not in str(error)
    assert_nothing_changed(client, blues, before, result)


BAD_CONFIGS = [
    (
        "config.guest.cpus",
        dict(TEMPLATE, guest={"cpu_kind": "shared", "cpus": 3, "memory_mb": 768}),
    ),
    (
        "config.services[0].internal_port",
        dict(TEMPLATE, services=[dict(TEMPLATE["services"][0], internal_port=70000)]),
    ),
]


@pytest.mark.parametrize("strategy", ["bluegreen", "rolling", "canary"])
@pytest.mark.parametrize(("field", "config"), BAD_CONFIGS, ids=[f for f, _c in BAD_CONFIGS])
def test_a_machine_config_fly_rejects(client, strategy, field, config):
    blues = seed(client, 2)
    before = machines_as_they_were(client)
    result, error = run_deploy(client, params(strategy=strategy, config=config))
    assert error is not None
    assert error.field == field
    assert f"invalid {field}: " in str(error)
    assert_nothing_changed(client, blues, before, result)


def test_the_module_names_the_image_and_changes_nothing(sim, client, run):
    blues = seed(client, 2)
    before = machines_as_they_were(client)
    failed = run(
        fly_deploy,
        app=APP,
        image=MISSING,
        release_id="r2",
        strategy="rolling",
        config=TEMPLATE,
        api_token=sim.token,
        api_url=sim.url + "/fly",
        ca_path=sim.ca_path,
    )
    assert failed["failed"]
    assert failed["changed"] is False
    assert failed["failure"]["field"] == "image"
    assert f"for field 'image': update {blues[0]}: failed to launch VM" in failed["msg"]
    assert sorted(m["id"] for m in failed["machines"]) == blues
    assert machines_as_they_were(client) == before
