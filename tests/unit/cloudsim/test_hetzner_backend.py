"""The Hetzner simulator's use of its backend, in process (no HTTP): machines, failures, and
load balancers on a backend that runs real proxies (as the podman backend does)."""

from __future__ import annotations

import time

import pytest

from tests.cloudsim.backends import MemoryBackend
from tests.cloudsim.core import ApiError, Faults, Request
from tests.cloudsim.hetzner import make


class ProxyBackend(MemoryBackend):
    """Memory machines plus the load-balancer calls of the podman backend, recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.lbs: dict[str, tuple | None] = {}
        self.health: dict[tuple[str, int], str] = {}
        self.fail_power = False

    def power(self, machine, on: bool) -> None:
        if self.fail_power:
            raise RuntimeError("podman stop failed")
        super().power(machine, on)

    def lb_create(self, key: str) -> str:
        self.lbs[key] = None
        return "127.99.0.1"

    def lb_set(self, key: str, services, targets) -> None:
        self.lbs[key] = (list(services), list(targets))

    def lb_health(self, key: str) -> dict:
        return dict(self.health)

    def lb_delete(self, key: str) -> None:
        del self.lbs[key]


def call(vendor, method: str, path: str, body=None, query=None):
    """What server.Simulator.dispatch does, minus HTTP: tick, route, handle."""
    vendor.tick()
    handler, params = vendor.router.match(method, path)
    return handler(Request(method, path, query or {}, {}, body, params))


@pytest.fixture
def setup():
    faults = Faults()
    backend = ProxyBackend()
    return make(faults, backend), backend, faults


def server(vendor, name: str, **labels) -> dict:
    body = {"name": name, "server_type": "cx22", "image": "debian-12", "labels": labels}
    return call(vendor, "POST", "/servers", body).body["server"]


def test_machines_follow_the_api(setup):
    vendor = setup[0]
    created = server(vendor, "m-1")
    machine = vendor.servers.items[created["id"]].machine
    assert machine.key == f"hetzner-{created['id']}"
    assert created["public_net"]["ipv4"]["ip"] == machine.ipv4
    call(vendor, "POST", f"/servers/{created['id']}/actions/poweroff")
    assert machine.running is False
    call(vendor, "POST", f"/servers/{created['id']}/actions/poweron")
    assert machine.running is True
    call(vendor, "DELETE", f"/servers/{created['id']}")
    assert created["id"] not in vendor.servers.items


def test_backend_failure_ends_the_action_in_error(setup):
    vendor, backend = setup[:2]
    sid = server(vendor, "m-2")["id"]
    backend.fail_power = True
    action = call(vendor, "POST", f"/servers/{sid}/actions/poweroff").body["action"]
    assert action["status"] == "error"
    assert "podman stop failed" in action["error"]["message"]
    got = call(vendor, "GET", f"/servers/{sid}").body["server"]
    assert got["status"] == "running"


def test_backend_create_failure_is_a_server_error(setup, monkeypatch):
    vendor, backend = setup[:2]

    def broken(*args, **kwargs):
        raise OSError("no capacity")

    monkeypatch.setattr(backend, "create", broken)
    with pytest.raises(ApiError) as raised:
        server(vendor, "m-3")
    assert raised.value.status == 500
    assert vendor.error_body(raised.value)["error"]["code"] == "server_error"
    assert vendor.servers.items == {}


def test_load_balancer_proxy_follows_services_and_targets(setup):
    vendor, backend, faults = setup
    web = server(vendor, "w-1", role="web")
    server(vendor, "d-1", role="db")
    body = {
        "name": "lb",
        "load_balancer_type": "lb11",
        "location": "fsn1",
        "services": [{"protocol": "tcp", "listen_port": 80, "destination_port": 8080}],
        "targets": [{"type": "label_selector", "label_selector": {"selector": "role=web"}}],
    }
    lb = call(vendor, "POST", "/load_balancers", body).body["load_balancer"]
    key = f"hetzner-lb-{lb['id']}"
    assert lb["public_net"]["ipv4"]["ip"] == "127.99.0.1"
    assert backend.lbs[key] == ([(80, 8080)], [web["public_net"]["ipv4"]["ip"]])

    # A label change moves a server into the selector; the proxy follows.
    other = server(vendor, "w-2")
    call(vendor, "PUT", f"/servers/{other['id']}", {"labels": {"role": "web"}})
    assert sorted(backend.lbs[key][1]) == sorted(
        [web["public_net"]["ipv4"]["ip"], other["public_net"]["ipv4"]["ip"]]
    )

    # Health is the proxy's.
    backend.health = {(web["public_net"]["ipv4"]["ip"], 8080): "healthy"}
    got = call(vendor, "GET", f"/load_balancers/{lb['id']}").body["load_balancer"]
    statuses = {
        t["server"]["id"]: t["health_status"][0]["status"] for t in got["targets"][0]["targets"]
    }
    assert statuses == {web["id"]: "healthy", other["id"]: "unknown"}

    # Changes made by actions reach the proxy when the action finishes.
    faults.action_delay = 0.2
    path = f"/load_balancers/{lb['id']}/actions/add_service"
    call(vendor, "POST", path, {"protocol": "tcp", "listen_port": 443, "destination_port": 8443})
    assert backend.lbs[key][0] == [(80, 8080)]
    time.sleep(0.25)
    call(vendor, "GET", "/load_balancers")
    assert backend.lbs[key][0] == [(80, 8080), (443, 8443)]

    call(vendor, "DELETE", f"/load_balancers/{lb['id']}")
    assert key not in backend.lbs


def test_reset_removes_machines_and_proxies(setup):
    vendor, backend = setup[:2]
    server(vendor, "r-1")
    body = {"name": "lb", "load_balancer_type": "lb11", "location": "fsn1"}
    call(vendor, "POST", "/load_balancers", body)
    vendor.reset()
    assert backend.lbs == {}
    assert vendor.servers.items == {}
    assert call(vendor, "GET", "/servers").body["servers"] == []


def test_held_actions_stay_running_until_released(setup):
    vendor, _backend, faults = setup
    faults.hold_command = "create_server"
    body = {"name": "m-held", "server_type": "cx22", "image": "debian-12"}
    created = call(vendor, "POST", "/servers", body).body
    action_id = created["action"]["id"]
    seen = [created["action"]["status"], call(vendor, "GET", f"/actions/{action_id}").body]
    faults.hold_command = ""
    seen.append(call(vendor, "GET", f"/actions/{action_id}").body)
    assert [seen[0], seen[1]["action"]["status"], seen[2]["action"]["status"]] == [
        "running",
        "running",
        "success",
    ]
