"""The local Fly's data plane: machines are containers of the pushed image, their checks are
real, the proxy stand-in routes only to started, uncordoned, passing machines, and a release
command runs to its exit code. Through the Machines API only, as a client sees it."""

from __future__ import annotations

import http.client
import json
import secrets
import urllib.parse

import pytest

from tests.integration.fly_support import FlyWorld, app_config


@pytest.fixture
def world(fly_world: FlyWorld) -> FlyWorld:
    return fly_world


def get(url: str, path: str = "/version") -> tuple[int, str]:
    """(status, release id) of one request through the proxy (the body when not JSON)."""
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname.startswith("127."), url
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
        try:
            return response.status, json.loads(body)["release_id"]
        except (ValueError, KeyError):
            return response.status, body
    finally:
        connection.close()


def test_machines_run_the_image_behind_the_proxy(world: FlyWorld):
    database_url = world.database("notes-dp-db", secrets.token_urlsafe(12))
    world.ok("POST", "/apps", {"app_name": "notes-dp", "org_slug": "personal"})
    world.ok("POST", "/apps/notes-dp/secrets", {"values": {"DATABASE_URL": database_url}})

    # The release command: a machine that runs the migrations and exits 0.
    release = world.ok(
        "POST",
        "/apps/notes-dp/machines",
        {
            "region": "ams",
            "skip_service_registration": True,
            "config": {
                **app_config(world.image, "r1", services=[]),
                "init": {"cmd": ["notes-api-migrate"]},
                "restart": {"policy": "no"},
            },
        },
    )
    world.ok("GET", f"/apps/notes-dp/machines/{release['id']}/wait?state=stopped&timeout=60")
    events = world.ok("GET", f"/apps/notes-dp/machines/{release['id']}/events")
    exits = [e for e in events if e["type"] == "exit"]
    assert exits, events
    assert exits[0]["request"]["exit_event"].get("exit_code", 0) == 0, events  # omitted when 0

    first = world.ok(
        "POST",
        "/apps/notes-dp/machines",
        {"region": "ams", "config": app_config(world.image, "r1")},
    )
    second = world.ok(
        "POST",
        "/apps/notes-dp/machines",
        {"region": "ams", "config": app_config(world.image, "r2")},
    )
    world.wait_passing("notes-dp", first["id"])
    world.wait_passing("notes-dp", second["id"])
    url = world.proxy_url("notes-dp")
    answers = {get(url) for _n in range(6)}
    assert answers == {(200, "r1"), (200, "r2")}

    # Cordoned: no more traffic. Uncordoned: back in turn.
    world.ok("POST", f"/apps/notes-dp/machines/{first['id']}/cordon")
    assert {get(url)[1] for _n in range(6)} == {"r2"}
    world.ok("POST", f"/apps/notes-dp/machines/{first['id']}/uncordon")
    assert len({get(url)[1] for _n in range(6)}) == 2

    # Stopped: out of the rotation at once, no failed request.
    world.ok("POST", f"/apps/notes-dp/machines/{second['id']}/stop")
    world.ok("GET", f"/apps/notes-dp/machines/{second['id']}/wait?state=stopped&timeout=60")
    assert [get(url)[0] for _n in range(6)] == [200] * 6
    assert {get(url)[1] for _n in range(4)} == {"r1"}


def test_a_machine_whose_check_fails_gets_no_traffic(world: FlyWorld):
    world.ok("POST", "/apps", {"app_name": "notes-nodb", "org_slug": "personal"})
    # No DATABASE_URL: the API starts, and /healthz answers 503 (the database is unreachable).
    broken = world.ok(
        "POST",
        "/apps/notes-nodb/machines",
        {
            "region": "ams",
            "config": app_config(
                world.image, "bad", env={"DATABASE_URL": "postgresql+psycopg://x:y@127.0.0.1:9/z"}
            ),
        },
    )
    world.ok("GET", f"/apps/notes-nodb/machines/{broken['id']}/wait?state=started&timeout=60")
    machine = world.ok("GET", f"/apps/notes-nodb/machines/{broken['id']}")
    url = world.proxy_url("notes-nodb")
    assert get(url)[0] == 503
    assert machine["state"] == "started"


def test_an_image_that_was_never_pushed_fails_the_create(world: FlyWorld):
    world.ok("POST", "/apps", {"app_name": "notes-missing", "org_slug": "personal"})
    tag = world.image.rsplit(":", 1)[0] + ":never-pushed"
    response = world.call(
        "POST", "/apps/notes-missing/machines", {"region": "ams", "config": app_config(tag, "x")}
    )
    assert response.status_code >= 400
    assert "never-pushed" in response.json()["error"]
