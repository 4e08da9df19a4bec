"""fly_deploy against the Fly simulator (memory runtime): each strategy, a failing release,
a lease held by another, the release command, a machine destroyed mid-deploy, check mode.

The memory runtime's checks fail for images whose reference contains ``:failing``. It has no
process that ends, so the release command's machine is made to exit here: machines whose
command is ``migrate`` start and exit with the code in their env ``EXIT`` (a wrapper around the
runtime's ``launch``, undone after each test).
"""

from __future__ import annotations

import threading

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError, RetryPolicy
from ansible_collections.sigma.deploy.plugins.module_utils.fly import deploy_plan as dp
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import FlyClient
from ansible_collections.sigma.deploy.plugins.module_utils.fly.leases import Leases
from ansible_collections.sigma.deploy.plugins.modules import fly_deploy
from ansible_collections.sigma.deploy.plugins.modules.fly_deploy import run_deploy

APP, ORG = "notes", "acme"
OLD, NEW = "registry.fly.io/notes:1", "registry.fly.io/notes:2"
BAD = "registry.fly.io/notes:failing"
TEMPLATE = {
    "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256},
    "env": {"PORT": "8080"},
    "services": [
        {
            "protocol": "tcp",
            "internal_port": 8080,
            "ports": [{"port": 80, "handlers": ["http"]}],
        }
    ],
    "checks": {"alive": {"type": "tcp", "port": 8080, "interval": "1s", "timeout": "1s"}},
}


def sim_client(sim) -> FlyClient:
    """A client of the simulator's Fly, retrying little."""
    return FlyClient(
        sim.url + "/fly",
        sim.token,
        ca_path=sim.ca_path,
        retry=RetryPolicy(retries=2, total=5, base=0.05, cap=0.2),
    )


@pytest.fixture
def client(sim) -> FlyClient:
    return sim_client(sim)


@pytest.fixture
def vendor(sim):
    return next(v for v in sim.sim.vendors if v.name == "fly")


@pytest.fixture
def release_commands(vendor, monkeypatch):
    """Machines running ``migrate`` exit with the code in their env ``EXIT``."""
    runtime = vendor.runtime
    launch = runtime.launch

    def launch_or_exit(key, spec, report):
        if not (spec.cmd and spec.cmd[0] == "migrate"):
            launch(key, spec, report)
            return

        def run():
            report("started", {})
            report("exited", {"exit_code": int(spec.env.get("EXIT", "0"))})

        threading.Thread(target=run, daemon=True).start()

    monkeypatch.setattr(runtime, "launch", launch_or_exit)


def seed(client, count, image=OLD, release="r1"):
    """The app with ``count`` healthy machines of ``release``."""
    client.create_app(APP, ORG)
    config = dp.machine_config(TEMPLATE, image, release)
    made = []
    for _n in range(count):
        machine = client.create_machine(APP, {"config": config, "region": "ams"})
        client.wait_machine(APP, machine["id"], "started", machine["instance_id"], 10)
        made.append(machine["id"])
    for mid in made:
        wait_healthy(client, mid)
    return sorted(made)


def wait_healthy(client, mid):
    for _n in range(100):
        if dp.is_healthy(client.get_machine(APP, mid)):
            return
        client.sleep(0.1)
    raise AssertionError(f"{mid} never became healthy")


def params(**overrides):
    base = {
        "app": APP,
        "image": NEW,
        "release_id": "r2",
        "strategy": "bluegreen",
        "count": None,
        "region": None,
        "config": TEMPLATE,
        "release_command": None,
        "max_unavailable": 1,
        "canary": {},
        "wait_timeout": 20,
        "lease_ttl": 60,
        "settle_s": 0,
        "api_token": "unused",
        "timeout": 30.0,
    }
    return dict(base, **overrides)


def fleet(client):
    """(id, state, image, release, cordoned) of every live app machine."""
    return [
        (m["id"], m["state"], dp.image_of(m), dp.release_of(m), bool(m.get("cordoned")))
        for m in dp.app_machines(client.list_machines(APP))
    ]


def all_machines(client):
    """Every machine the app ever had that is not destroyed (release command ones too)."""
    return [m for m in client.list_machines(APP) if m["state"] not in ("destroying", "destroyed")]


def no_lease_left(client):
    for machine in all_machines(client):
        with pytest.raises(ApiError) as caught:
            client.get_lease(APP, machine["id"])
        assert caught.value.status == 404, f"{machine['id']} is still leased"


def step_index(steps, text):
    return next(i for i, step in enumerate(steps) if text in step)


# --- the strategies -----------------------------------------------------------------------------


def test_bluegreen_replaces_every_machine_and_a_rerun_changes_nothing(client):
    blues = seed(client, 2)
    result, error = run_deploy(client, params())
    assert error is None, error
    assert result["changed"]
    assert result["previous"] == {"release_id": "r1", "image": OLD}
    now = fleet(client)
    assert len(now) == 2
    assert not {m[0] for m in now} & set(blues)
    assert all(m[1:] == ("started", NEW, "r2", False) for m in now)
    assert sorted(m["id"] for m in result["machines"]) == sorted(m[0] for m in now)
    steps = result["steps"]
    assert step_index(steps, "uncordoned") < step_index(steps, f"cordoned {blues[0]}")
    assert step_index(steps, f"cordoned {blues[0]}") < step_index(steps, f"destroyed {blues[0]}")
    assert result["api_calls"] > 0
    no_lease_left(client)

    again, error = run_deploy(client, params())
    assert error is None
    assert not again["changed"]
    assert again["steps"] == []
    assert again["previous"] == {"release_id": "r2", "image": NEW}
    assert again["api_calls"] == 3  # the app, its machines, and the result's list


def test_bluegreen_settles_after_the_greens_take_traffic_and_before_blue_stops(client):
    blues = seed(client, 1)
    slept: list[float] = []
    real_sleep = client.sleep

    def short_sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(min(seconds, 0.01))

    client.sleep = short_sleep
    result, error = run_deploy(client, params(settle_s=0.5))
    assert error is None, error
    steps = result["steps"]
    waits = [i for i, step in enumerate(steps) if step.startswith("waiting 0.5 s until")]
    assert len(waits) == 2, steps
    assert step_index(steps, "uncordoned") < waits[0] < step_index(steps, f"cordoned {blues[0]}")
    assert step_index(steps, f"cordoned {blues[0]}") < waits[1]
    assert waits[1] < step_index(steps, f"destroyed {blues[0]}")
    assert sum(slept) >= 1.0


def test_rolling_updates_in_place_one_batch_at_a_time(client):
    ids = seed(client, 3)
    instances = {m["id"]: m["instance_id"] for m in client.list_machines(APP)}
    result, error = run_deploy(client, params(strategy="rolling", max_unavailable=2))
    assert error is None, error
    assert [m[0] for m in fleet(client)] == ids
    assert all(m[1:] == ("started", NEW, "r2", False) for m in fleet(client))
    for machine in client.list_machines(APP):
        assert machine["instance_id"] != instances[machine["id"]]
    assert [s for s in result["steps"] if s.startswith("batch")] == [
        "batch 1 of 2: 2 machine(s)",
        "batch 2 of 2: 1 machine(s)",
    ]
    assert result["plan"]["update"] == ids
    no_lease_left(client)


def test_rolling_drains_each_batch_before_its_update(client):
    ids = seed(client, 2)
    result, error = run_deploy(client, params(strategy="rolling", settle_s=0.1))
    assert error is None, error
    steps = result["steps"]
    for mid in ids:
        cordoned = step_index(steps, f"cordoned {mid}")
        waited = step_index(steps, f"until the proxy stops routing to {mid}")
        assert cordoned < waited < step_index(steps, f"updated {mid}")
        assert step_index(steps, f"updated {mid}") < step_index(steps, f"uncordoned {mid}")
    assert all(m[1:] == ("started", NEW, "r2", False) for m in fleet(client))
    assert not run_deploy(client, params(strategy="rolling"))[0]["changed"]


def test_immediate_updates_all_at_once(client):
    ids = seed(client, 2)
    result, error = run_deploy(client, params(strategy="immediate"))
    assert error is None, error
    assert [s for s in result["steps"] if s.startswith("batch")] == ["batch 1 of 1: 2 machine(s)"]
    assert not any("passes its checks" in s for s in result["steps"])
    assert [m[0] for m in fleet(client)] == ids
    assert all(m[2:4] == (NEW, "r2") for m in fleet(client))


def test_rolling_grows_to_count_and_a_first_deploy_creates(client):
    client.create_app(APP, ORG)
    result, error = run_deploy(client, params(strategy="rolling", count=2, region="ams"))
    assert error is None, error
    assert result["previous"] is None
    assert [m[1:] for m in fleet(client)] == [("started", NEW, "r2", False)] * 2


def test_a_failing_rolling_update_puts_the_machines_back(client):
    ids = seed(client, 3)
    result, error = run_deploy(
        client, params(strategy="rolling", image=BAD, max_unavailable=1, wait_timeout=3)
    )
    assert error is not None
    assert f"machine {ids[0]} does not pass its checks" in str(error)
    assert f"put back to the previous release: {ids[0]}" in str(error)
    assert not any(f"updated {ids[1]}" in s for s in result["steps"])
    for mid in ids:
        wait_healthy(client, mid)
    assert [m[1:] for m in fleet(client)] == [("started", OLD, "r1", False)] * 3
    no_lease_left(client)


# --- canary -------------------------------------------------------------------------------------


def canary_params(sim, **limits):
    gate = {
        "max_error_rate": 0.01,
        "max_p95_ms": 500.0,
        "min_requests": 20,
        "window_s": 1,
        "metrics_url": f"{sim.endpoint('fly-prometheus')}/{ORG}",
        **limits,
    }
    return params(strategy="canary", canary=gate, ca_path=sim.ca_path, api_token=sim.token)


def traffic(sim, status):
    """A hook: when the canary's numbers are read, it has served 30 requests."""

    def hook(step):
        if step.startswith("canary ") and "reading its numbers" in step:
            mid = step.split()[1].rstrip(":")
            records = [
                {"app": APP, "machine_id": mid, "status": status, "seconds": 0.02}
                for _n in range(30)
            ]
            sim.admin("fly/stats", {"records": records})

    return hook


def test_a_good_canary_lets_the_rest_follow(sim, client):
    ids = seed(client, 3)
    result, error = run_deploy(client, canary_params(sim), hooks=[traffic(sim, 200)])
    assert error is None, error
    assert result["canary"]["passed"]
    assert result["canary"]["stats"]["requests"] == 30
    assert result["canary"]["machine_id"] == ids[0]
    assert all(m[2:4] == (NEW, "r2") for m in fleet(client))


def test_a_canary_with_errors_is_put_back(sim, client):
    ids = seed(client, 2)
    result, error = run_deploy(client, canary_params(sim), hooks=[traffic(sim, 500)])
    assert error is not None
    assert "too many errors" in str(error)
    assert f"put back to the previous release: {ids[0]}" in str(error)
    assert not result["canary"]["passed"]
    assert [m[1:] for m in fleet(client)] == [("started", OLD, "r1", False)] * 2


def test_a_canary_without_data_fails(sim, client):
    seed(client, 1)
    error = run_deploy(client, canary_params(sim))[1]
    assert error is not None
    assert "0 requests" in str(error)
    assert "fail: no requests" in str(error)
    assert [m[2:4] for m in fleet(client)] == [(OLD, "r1")]


# --- failures -----------------------------------------------------------------------------------


def test_a_failing_green_never_serves_and_is_destroyed(client):
    blues = seed(client, 2)
    result, error = run_deploy(client, params(image=BAD, wait_timeout=3))
    assert error is not None
    assert "does not pass its checks" in str(error)
    assert "green machine(s) destroyed, the blue ones serve" in str(error)
    assert not any(s.startswith("uncordoned") for s in result["steps"])
    assert fleet(client) == [(mid, "started", OLD, "r1", False) for mid in blues]
    assert sorted(m["id"] for m in all_machines(client)) == blues  # no zombie
    no_lease_left(client)


def test_a_lease_held_by_another_stops_before_any_change(client):
    ids = seed(client, 2)
    before = {m["id"]: m["instance_id"] for m in client.list_machines(APP)}
    client.acquire_lease(APP, ids[1], 60, "ops console")
    result, error = run_deploy(client, params(strategy="rolling"))
    assert error is not None
    message = str(error)
    assert f"machine {ids[1]}" in message
    assert "ops console" in message
    assert "expires at" in message or "until" in message
    assert message.endswith("nothing was changed")
    assert error.field == "lease"
    assert {m["id"]: m["instance_id"] for m in client.list_machines(APP)} == before
    assert result["machines"] == [
        dp.shape_machine(m) for m in dp.app_machines(client.list_machines(APP))
    ]
    with pytest.raises(ApiError):
        client.get_lease(APP, ids[0])  # ours was released


def test_the_release_command_runs_before_traffic_moves(client, release_commands):
    seed(client, 1)
    template = dict(TEMPLATE, env={"PORT": "8080", "EXIT": "0"})
    result, error = run_deploy(client, params(config=template, release_command=["migrate"]))
    assert error is None, error
    steps = result["steps"]
    assert step_index(steps, "release command 'migrate' runs in") < step_index(steps, "exited 0")
    assert step_index(steps, "exited 0") < step_index(steps, "uncordoned")
    assert all(m[2:4] == (NEW, "r2") for m in fleet(client))
    assert len(all_machines(client)) == 1  # the release command's machine is gone


def test_a_failing_release_command_switches_nothing(client, release_commands):
    ids = seed(client, 2)
    template = dict(TEMPLATE, env={"PORT": "8080", "EXIT": "3"})
    result, error = run_deploy(
        client, params(config=template, release_command=["migrate"], strategy="rolling")
    )
    assert error is not None
    assert "exited with code 3" in str(error)
    assert "nothing was switched" in str(error)
    assert "exit" in str(error)  # its last events
    assert error.field == "release_command"
    assert fleet(client) == [(mid, "started", OLD, "r1", False) for mid in ids]
    assert sorted(m["id"] for m in all_machines(client)) == ids
    assert not any(s.startswith("updated") for s in result["steps"])
    no_lease_left(client)


def kill(client, vendor, mid):
    """The machine dies under the deploy (its host is lost): its lease goes with it."""
    with vendor.lock:
        vendor.machines[mid].lease = None
    client.delete_machine(APP, mid, force=True)


def test_a_machine_destroyed_mid_deploy_fails_cleanly_and_a_rerun_converges(client, vendor):
    ids = seed(client, 3)

    def destroy_the_last(step):
        if step.startswith(f"{ids[0]} passes its checks"):
            kill(client, vendor, ids[2])

    error = run_deploy(client, params(strategy="rolling"), hooks=[destroy_the_last])[1]
    assert error is not None
    assert ids[2] in str(error)
    assert "put back to the previous release" in str(error)
    live = fleet(client)
    assert [m[0] for m in live] == ids[:2]
    for mid in ids[:2]:
        wait_healthy(client, mid)
    assert [m[1:] for m in fleet(client)] == [("started", OLD, "r1", False)] * 2

    again, error = run_deploy(client, params(strategy="rolling", count=3))
    assert error is None, error
    assert again["changed"]
    assert [m[1:] for m in fleet(client)] == [("started", NEW, "r2", False)] * 3
    assert not run_deploy(client, params(strategy="rolling", count=3))[0]["changed"]


def test_a_blue_destroyed_mid_deploy_is_simply_gone(client, vendor):
    blues = seed(client, 2)

    def destroy_a_blue(step):
        if step.startswith("uncordoned") and blues[0] in [m[0] for m in fleet(client)]:
            kill(client, vendor, blues[0])

    result, error = run_deploy(client, params(), hooks=[destroy_a_blue])
    assert error is None, error
    assert f"{blues[0]} is gone" in result["steps"]
    assert [m[2:4] for m in fleet(client)] == [(NEW, "r2")] * 2


# --- check mode and the module ------------------------------------------------------------------


def test_check_mode_reports_the_plan_and_changes_nothing(client):
    ids = seed(client, 2)
    before = fleet(client)
    result, error = run_deploy(client, params(), check_mode=True)
    assert error is None
    assert result["changed"]
    assert result["plan"] == {
        "strategy": "bluegreen",
        "count": 2,
        "keep": [],
        "update": [],
        "create": 2,
        "destroy": ids,
        "region": "ams",
    }
    assert result["diff"] == {
        "before": {"release_id": "r1", "image": OLD, "count": 2},
        "after": {"release_id": "r2", "image": NEW, "count": 2},
    }
    assert result["steps"] == []
    assert fleet(client) == before
    no_lease_left(client)


def test_the_module_in_check_mode_and_its_refusals(sim, client, run):
    seed(client, 1)
    common = {
        "app": APP,
        "image": NEW,
        "release_id": "r2",
        "config": TEMPLATE,
        "api_token": sim.token,
        "api_url": sim.url + "/fly",
        "ca_path": sim.ca_path,
    }
    result = run(fly_deploy, check=True, strategy="rolling", **common)
    assert not result["failed"], result
    assert result["changed"]
    assert result["plan"]["update"] == [m[0] for m in fleet(client)]
    assert [m[2] for m in fleet(client)] == [OLD]

    refused = run(fly_deploy, count=0, **common)
    assert refused["failed"]
    assert refused["msg"] == "count must be at least 1, got 0"
    refused = run(fly_deploy, max_unavailable=1.5, **common)
    assert "max_unavailable must be a whole number" in refused["msg"]
    unknown = run(fly_deploy, **dict(common, app="nope"))
    assert unknown["failed"]
    assert unknown["msg"].endswith("app nope not found")
    assert unknown["failure"]["field"] == "app"


def test_the_module_reports_a_failure_with_its_steps(sim, client, run):
    blues = seed(client, 1)
    failed = run(
        fly_deploy,
        app=APP,
        image=BAD,
        release_id="r2",
        config=TEMPLATE,
        wait_timeout=2,
        api_token=sim.token,
        api_url=sim.url + "/fly",
        ca_path=sim.ca_path,
    )
    assert failed["failed"]
    assert failed["changed"]  # a green machine was made, and destroyed again
    assert failed["failure"]["code"] == "unhealthy"
    assert failed["failure"]["field"] == "wait_timeout"
    assert any(step.startswith("created") for step in failed["steps"])
    assert [m["id"] for m in failed["machines"]] == blues
    assert sim.token not in repr(failed)


def test_leases_are_refreshed_while_the_deploy_works(client):
    mid = seed(client, 1)[0]
    leases = Leases(client, APP, 2, "refresh test")
    leases.acquire(mid)
    first = client.get_lease(APP, mid)["data"]["expires_at"]
    client.sleep(1.1)
    leases.keep()
    assert client.get_lease(APP, mid)["data"]["expires_at"] > first
    leases.release_all()
    assert leases.problems == []
    with pytest.raises(ApiError):
        client.get_lease(APP, mid)


def test_a_machine_still_changing_is_put_back_once_its_change_has_ended():
    from types import SimpleNamespace

    from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError as Err
    from ansible_collections.sigma.deploy.plugins.module_utils.fly import deploy_run

    calls = []

    def update(mid, config):
        calls.append(("update", mid, config))
        if len(calls) == 1:
            raise Err("Fly", 409, "conflict", f"update {mid}: machine is replacing")
        return {"id": mid, "instance_id": "i2"}

    ops = SimpleNamespace(
        update=update, wait_state=lambda mid, state: calls.append(("wait", mid, state))
    )
    runner = SimpleNamespace(ops=ops, log=lambda text: calls.append(("log", text)))
    change = deploy_run.Change("m1", {"image": "old"}, True)
    machine = deploy_run.Deploy._put_back(runner, change)
    assert machine == {"id": "m1", "instance_id": "i2"}
    assert [c for c in calls if c[0] != "log"] == [
        ("update", "m1", {"image": "old"}),
        ("wait", "m1", "started"),
        ("update", "m1", {"image": "old"}),
    ]
