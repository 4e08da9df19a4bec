"""fly_deploy on the local Fly, under a steady load through the proxy stand-in.

Every machine is a container of the app's image; the proxy routes only to machines that are
started, uncordoned and passing; the load generator counts every failed request. Release ids
differ, the image is the same source (the release id is in the machine's env), as in the demo.
"""

from __future__ import annotations

import secrets
import subprocess
import threading
import time

import pytest

from tests.integration.fly_support import FlyWorld, deploy_play, machines_of
from tools.loadgen import LoadGen

APP = "notes-it"
COUNT = 2  # enough for every strategy's batches; each machine costs CPU the other checks share


def template(world: FlyWorld, release_id: str, **changes) -> dict:
    config = {
        "env": {"RELEASE_ID": release_id, "WEB_CONCURRENCY": "1"},
        "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 512},
        "services": [
            {
                "protocol": "tcp",
                "internal_port": 8000,
                "ports": [{"port": 80, "handlers": ["http"]}],
                "checks": [{"type": "http", "path": "/healthz", "interval": "1s", "timeout": "2s"}],
            }
        ],
        "restart": {"policy": "on-failure"},
    }
    config.update(changes)
    return config


def args(world: FlyWorld, release_id: str, strategy: str, **extra) -> dict:
    return {
        "app": APP,
        "image": world.image,
        "release_id": release_id,
        "strategy": strategy,
        "count": COUNT,
        "region": "ams",
        "config": template(world, release_id),
        "wait_timeout": 180,
        "settle_s": 1,  # the proxy stand-in applies a routing change at once (Fly: seconds)
        **extra,
    }


@pytest.fixture(scope="module")
def app(fly_world: FlyWorld, tmp_path_factory) -> str:
    """The app with its database and release r0 on three machines."""
    world = fly_world
    database_url = world.database(f"{APP}-db", secrets.token_urlsafe(12))
    world.ok("POST", "/apps", {"app_name": APP, "org_slug": "personal"})
    world.ok("POST", f"/apps/{APP}/secrets", {"values": {"DATABASE_URL": database_url}})
    first = args(world, "r0", "immediate", release_command=["notes-api-migrate"])
    rc, result, output = deploy_play(world, tmp_path_factory.mktemp("r0"), "r0", first)
    assert rc == 0, output[-5000:]
    assert result["changed"] is True
    wait_serving(world, "r0")
    return APP


def releases(world: FlyWorld) -> list[str]:
    return sorted(
        (m["config"].get("metadata") or {}).get("sigma_release", "")
        for m in machines_of(world, APP)
    )


def wait_serving(world: FlyWorld, release_id: str, timeout: float = 120) -> None:
    """Until every machine of the app runs ``release_id`` and passes its checks."""
    deadline = time.monotonic() + timeout
    while releases(world) != [release_id] * COUNT or not all(
        m["state"] == "started"
        and m.get("checks")
        and all(c["status"] == "passing" for c in m["checks"])
        for m in machines_of(world, APP)
    ):
        assert time.monotonic() < deadline, f"not all on {release_id}: {machines_of(world, APP)}"
        time.sleep(0.5)


def under_load(world: FlyWorld, action):
    """Run ``action()`` while a bounded load goes through the proxy; returns (its value, report)."""
    load = LoadGen(
        world.proxy_url(APP), paths=["/version"], rate=15, max_seconds=400, max_requests=8000
    )
    load.start()
    try:
        value = action()
    finally:
        report = load.stop()
    return value, report


@pytest.mark.parametrize(
    ("strategy", "release_id", "extra"),
    [
        ("bluegreen", "r1", {"release_command": ["notes-api-migrate"]}),
        ("rolling", "r2", {"max_unavailable": 1}),
        (
            "canary",
            "r3",
            {
                "canary": {
                    "window_s": 8,
                    "min_requests": 5,
                    "max_p95_ms": 2000,
                    "max_error_rate": 0.01,
                }
            },
        ),
    ],
)
def test_each_strategy_drops_no_request(fly_world, app, tmp_path, strategy, release_id, extra):
    world = fly_world
    if strategy == "canary":
        extra["canary"]["metrics_url"] = f"{world.url}/fly/prometheus/personal"
    (rc, result, output), report = under_load(
        world,
        lambda: deploy_play(world, tmp_path, strategy, args(world, release_id, strategy, **extra)),
    )
    assert rc == 0, output[-5000:]
    assert result["changed"] is True
    assert report.failed == 0, report.summary()
    assert report.sent > 50, report.summary()
    assert releases(world) == [release_id] * COUNT
    assert report.all_after(report.started + report.seconds - 1) == {release_id}
    again_rc, again, again_output = deploy_play(
        world, tmp_path, f"{strategy}-again", args(world, release_id, strategy, **extra)
    )
    assert again_rc == 0, again_output[-3000:]
    assert again["changed"] is False


def test_a_release_whose_checks_fail_never_takes_traffic_and_leaves_nothing(
    fly_world, app, tmp_path
):
    world = fly_world
    before = sorted(m["id"] for m in machines_of(world, APP))
    serving = releases(world)
    broken = args(world, "broken", "bluegreen", wait_timeout=20)
    # The API listens on 9000: the check on 8000 never passes.
    broken["config"]["init"] = {
        "cmd": [
            "gunicorn",
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
            "--bind",
            "0.0.0.0:9000",
            "notes_api.main:app",
        ]
    }
    (rc, result, output), report = under_load(
        world, lambda: deploy_play(world, tmp_path, "broken", broken)
    )
    assert rc != 0, output[-3000:]
    assert "check" in result.get("msg", "").lower(), result.get("msg")
    assert report.failed == 0, report.summary()
    assert "broken" not in report.releases
    assert sorted(m["id"] for m in machines_of(world, APP)) == before
    assert releases(world) == serving


def test_a_failed_release_command_switches_nothing(fly_world, app, tmp_path):
    world = fly_world
    before = sorted(m["id"] for m in machines_of(world, APP))
    serving = releases(world)
    rc, result, output = deploy_play(
        world,
        tmp_path,
        "relcmd",
        args(world, "relcmd", "bluegreen", release_command=["sh", "-c", "exit 3"]),
    )
    assert rc != 0, output[-3000:]
    assert "3" in result["msg"], result["msg"]
    assert sorted(m["id"] for m in machines_of(world, APP)) == before
    assert releases(world) == serving


def test_a_lease_held_by_another_is_named_and_nothing_changes(fly_world, app, tmp_path):
    world = fly_world
    victim = machines_of(world, APP)[0]["id"]
    lease = world.ok(
        "POST",
        f"/apps/{APP}/machines/{victim}/lease",
        {"ttl": 120, "description": "release by alice"},
    )
    nonce = lease["data"]["nonce"]
    serving = releases(world)
    try:
        rc, result, output = deploy_play(
            world, tmp_path, "leased", args(world, "leased", "rolling")
        )
    finally:
        world.ok("DELETE", f"/apps/{APP}/machines/{victim}/lease", nonce=nonce)
    assert rc != 0, output[-3000:]
    assert "alice" in result["msg"], result["msg"]
    assert "expires" in result["msg"], result["msg"]
    assert releases(world) == serving


def test_rollback_to_the_release_before_drops_no_request(fly_world, app, tmp_path):
    world = fly_world
    current = releases(world)[0]
    (rc, _result, output), report = under_load(
        world, lambda: deploy_play(world, tmp_path, "back", args(world, "r1", "bluegreen"))
    )
    assert rc == 0, output[-3000:]
    assert report.failed == 0, report.summary()
    assert releases(world) == ["r1"] * COUNT
    assert current != "r1"


def test_a_machine_killed_mid_deploy_fails_cleanly_and_a_rerun_converges(fly_world, app, tmp_path):
    world = fly_world
    victim = machines_of(world, APP)[-1]["id"]
    container = f"sigma-fly-{world.sim.backend.instance}-{victim}"
    result_box: dict = {}

    def deploy() -> None:
        result_box["run"] = deploy_play(world, tmp_path, "killed", args(world, "r5", "rolling"))

    thread = threading.Thread(target=deploy)
    thread.start()
    # Once the roll has begun (a machine on r5), kill a machine's container under it.
    deadline = time.monotonic() + 120
    while "r5" not in releases(world) and time.monotonic() < deadline:
        time.sleep(0.2)
    subprocess.run(["podman", "kill", container], capture_output=True, check=False)
    thread.join(timeout=600)
    rc, result, output = result_box["run"]
    if rc != 0:  # failed cleanly: a message, and no lease left behind
        assert result.get("msg"), output[-3000:]
    for machine in machines_of(world, APP):
        lease = world.call("GET", f"/apps/{APP}/machines/{machine['id']}/lease")
        assert lease.status_code == 404, lease.text
    rc, result, output = deploy_play(world, tmp_path, "killed-again", args(world, "r5", "rolling"))
    assert rc == 0, output[-3000:]
    wait_serving(world, "r5")
