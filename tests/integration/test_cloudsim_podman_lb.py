"""A load balancer created through a simulated vendor API (podman backend) forwards real HTTP
traffic to its healthy targets, and stops sending to a target removed through the API."""

from __future__ import annotations

import http.client
import subprocess
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.cloudsim.app import Settings, start
from tests.cloudsim.podman_backend import IP_LABEL
from tests.integration.support import Api, wait_for

pytestmark = pytest.mark.hosts

WARM_UP = 30.0  # seconds for the proxy's health check to find both targets
SWITCH = 20.0  # seconds for a removed target to stop getting traffic
REQUESTS = 20
AFTER_REMOVAL = 10
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtMPGaR0XHZ6T0sXwQZ0aLm3CHn5kzGqcqOGm1q5m3Y lb"


class Hetzner:
    prefix = "/hetzner/v1"

    def __init__(self, api: Api) -> None:
        self.api = api

    def wait_action(self, action: dict) -> None:
        def done() -> bool:
            status = self.api.call("GET", f"/actions/{action['id']}")["action"]["status"]
            assert status != "error", f"action {action['command']} failed"
            return status == "success"

        wait_for(f"action {action['command']}", done)

    def servers(self, names: list[str]) -> list[tuple[int, str, str]]:
        key = self.api.call("POST", "/ssh_keys", {"name": "lb-key", "public_key": PUBLIC_KEY})
        created = []
        for name in names:
            body = {
                "name": name,
                "server_type": "cx22",
                "image": "debian-12",
                "location": "fsn1",
                "ssh_keys": [key["ssh_key"]["id"]],
            }
            created.append(self.api.call("POST", "/servers", body))
        result = []
        for name, answer in zip(names, created, strict=True):
            self.wait_action(answer["action"])
            server = self.api.call("GET", f"/servers/{answer['server']['id']}")["server"]
            result.append((server["id"], name, server["public_net"]["ipv4"]["ip"]))
        return result

    def create_lb(self, server_ids: list[int]) -> tuple[int, str]:
        body = {
            "name": "lb-web",
            "load_balancer_type": "lb11",
            "location": "fsn1",
            "algorithm": {"type": "round_robin"},
            "services": [
                {
                    "protocol": "tcp",
                    "listen_port": 80,
                    "destination_port": 8080,
                    "proxyprotocol": False,
                    "health_check": {
                        "protocol": "tcp",
                        "port": 8080,
                        "interval": 3,
                        "timeout": 2,
                        "retries": 1,
                    },
                }
            ],
            "targets": [{"type": "server", "server": {"id": i}} for i in server_ids],
        }
        answer = self.api.call("POST", "/load_balancers", body)
        self.wait_action(answer["action"])
        lb = self.api.call("GET", f"/load_balancers/{answer['load_balancer']['id']}")
        return lb["load_balancer"]["id"], lb["load_balancer"]["public_net"]["ipv4"]["ip"]

    def remove_target(self, lb_id: int, server_id: int) -> None:
        body = {"type": "server", "server": {"id": server_id}}
        answer = self.api.call("POST", f"/load_balancers/{lb_id}/actions/remove_target", body)
        self.wait_action(answer["action"])
        self.api.call("GET", f"/load_balancers/{lb_id}")  # a request: the proxy follows the API


class DigitalOcean:
    prefix = "/digitalocean/v2"

    def __init__(self, api: Api) -> None:
        self.api = api

    def servers(self, names: list[str]) -> list[tuple[int, str, str]]:
        key = self.api.call("POST", "/account/keys", {"name": "lb-key", "public_key": PUBLIC_KEY})
        ids = []
        for name in names:
            body = {
                "name": name,
                "region": "fra1",
                "size": "s-1vcpu-1gb",
                "image": "debian-12-x64",
                "ssh_keys": [key["ssh_key"]["id"]],
            }
            ids.append(self.api.call("POST", "/droplets", body)["droplet"]["id"])
        result = []
        for name, droplet_id in zip(names, ids, strict=True):

            def active(droplet_id=droplet_id) -> dict | None:
                droplet = self.api.call("GET", f"/droplets/{droplet_id}")["droplet"]
                public = [n for n in droplet["networks"]["v4"] if n["type"] == "public"]
                return public[0] if droplet["status"] == "active" and public else None

            network = wait_for(f"droplet {name} active", active)
            result.append((droplet_id, name, network["ip_address"]))
        return result

    def create_lb(self, server_ids: list[int]) -> tuple[str, str]:
        body = {
            "name": "lb-web",
            "region": "fra1",
            "forwarding_rules": [
                {
                    "entry_protocol": "tcp",
                    "entry_port": 80,
                    "target_protocol": "tcp",
                    "target_port": 8080,
                }
            ],
            "health_check": {
                "protocol": "tcp",
                "port": 8080,
                "check_interval_seconds": 3,
                "response_timeout_seconds": 2,
                "unhealthy_threshold": 1,
                "healthy_threshold": 1,
            },
            "droplet_ids": server_ids,
        }
        lb_id = self.api.call("POST", "/load_balancers", body)["load_balancer"]["id"]

        def address() -> str | None:
            lb = self.api.call("GET", f"/load_balancers/{lb_id}")["load_balancer"]
            return lb["ip"] if lb["status"] == "active" and lb["ip"] else None

        return lb_id, wait_for("load balancer active", address)

    def remove_target(self, lb_id: str, server_id: int) -> None:
        self.api.call("DELETE", f"/load_balancers/{lb_id}/droplets", {"droplet_ids": [server_id]})


VENDORS = {"hetzner": Hetzner, "digitalocean": DigitalOcean}


@pytest.fixture(scope="module")
def simulator(tmp_path_factory) -> Iterator[tuple[object, Settings, str]]:
    tmp = tmp_path_factory.mktemp("cloudsim")
    settings = Settings(port=0, tls=True, ca_path=str(tmp / "ca.pem"), backend="podman")
    server, sim, url = start(settings)
    try:
        yield sim, settings, url
    finally:
        server.shutdown()
        sim.backend.cleanup()


def container_of(sim, address: str) -> str:
    for container in sim.backend.containers():
        if (container.get("Labels") or {}).get(IP_LABEL) == address:
            return container["Names"][0]
    raise AssertionError(f"no simulated server container has address {address}")


def start_web(container: str, name: str) -> None:
    """python3's web server on port 8080, answering the server's name."""
    script = 'mkdir -p /srv/www && printf %s "$1" > /srv/www/index.html'
    subprocess.run(
        ["podman", "exec", container, "sh", "-c", script, "sh", name],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    subprocess.run(
        ["podman", "exec", "-d", "-w", "/srv/www", container, "python3", "-m", "http.server",
         "8080"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def get(address: str) -> str | None:
    """One GET / through the load balancer: the body, or None if it failed."""
    assert address.startswith("127."), f"load balancer address {address} is not loopback"
    conn = http.client.HTTPConnection(address, 80, timeout=3)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        body = resp.read().decode()
        return body if resp.status == 200 else None
    except OSError:
        return None
    finally:
        conn.close()


@pytest.mark.parametrize("vendor_name", sorted(VENDORS))
def test_load_balancer_forwards_to_healthy_targets(simulator, vendor_name) -> None:
    sim, settings, url = simulator
    api = Api(url + VENDORS[vendor_name].prefix, settings.token, settings.ca_path)
    vendor = VENDORS[vendor_name](api)
    names = [f"web-{vendor_name}-1", f"web-{vendor_name}-2"]
    servers = vendor.servers(names)
    for server_id, name, address in servers:
        assert server_id
        start_web(container_of(sim, address), name)
    lb_id, lb_address = vendor.create_lb([s[0] for s in servers])
    assert lb_address.startswith("127.")

    # Warm-up: the health check marks the targets healthy; each has answered once.
    seen: set[str] = set()
    deadline = time.monotonic() + WARM_UP
    while seen != set(names):
        body = get(lb_address)
        if body in names:
            seen.add(body)
        assert time.monotonic() < deadline, f"after {WARM_UP:.0f} s only {sorted(seen)} answered"
        if body is None:
            time.sleep(0.5)

    answers = Counter(get(lb_address) for _i in range(REQUESTS))
    assert answers[None] == 0, f"failed requests after warm-up: {answers}"
    assert set(answers) == set(names), answers

    removed, kept = servers[0], servers[1]
    vendor.remove_target(lb_id, removed[0])
    deadline = time.monotonic() + SWITCH
    while True:
        answers = Counter(get(lb_address) for _i in range(AFTER_REMOVAL))
        if answers == Counter({kept[1]: AFTER_REMOVAL}):
            break
        assert time.monotonic() < deadline, f"{SWITCH:.0f} s after removal: {answers}"
        time.sleep(1)
