"""The Hetzner Cloud simulator over HTTPS with plain ``requests``: resources, errors, faults.

Every exchange is also checked against Hetzner's OpenAPI file at the end of the session
(``tests/conftest.py``), so the bodies sent here are valid requests where they succeed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import time

import pytest
import requests


def make_key(kind: str = "ssh-ed25519") -> tuple[str, str]:
    """A well-formed OpenSSH public key line and its MD5 fingerprint."""
    blob = struct.pack(">I", len(kind)) + kind.encode() + struct.pack(">I", 32) + os.urandom(32)
    digest = hashlib.md5(blob).hexdigest()
    fingerprint = ":".join(digest[i : i + 2] for i in range(0, 32, 2))
    return f"{kind} {base64.b64encode(blob).decode()} test@sim", fingerprint


class Api:
    def __init__(self, sim, token: str | None = None) -> None:
        self.sim = sim
        self.base = sim.endpoint("hetzner")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or sim.token}"

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(
            method, self.base + path, verify=self.sim.ca_path, timeout=10, **kwargs
        )

    def ok(self, method: str, path: str, status: int = 200, **kwargs) -> dict:
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json() if response.content else {}

    def error(self, method: str, path: str, status: int, code: str, **kwargs) -> dict:
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == code, error
        assert isinstance(error["message"], str)
        assert error["message"]
        return error

    def wait(self, action: dict, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while action["status"] == "running":
            assert time.monotonic() < deadline, action
            time.sleep(0.05)
            action = self.ok("GET", f"/actions/{action['id']}")["action"]
        return action

    def server(self, name: str, **extra) -> dict:
        body = {"name": name, "server_type": "cx22", "image": "debian-12", "location": "fsn1"}
        body.update(extra)
        body = {k: v for k, v in body.items() if v is not None}
        return self.ok("POST", "/servers", 201, json=body)

    def names(self, path: str, key: str = "servers", **params) -> list[str]:
        return [item["name"] for item in self.ok("GET", path, params=params)[key]]


@pytest.fixture
def api(sim) -> Api:
    return Api(sim)


HTTP_SERVICE = {
    "protocol": "http",
    "listen_port": 80,
    "destination_port": 8080,
    "proxyprotocol": False,
    "health_check": {
        "protocol": "http",
        "port": 8080,
        "interval": 15,
        "timeout": 10,
        "retries": 3,
        "http": {"domain": None, "path": "/healthz"},
    },
}


# --- catalogues -----------------------------------------------------------------------------


def test_catalogues(api):
    locations = api.names("/locations", "locations")
    assert set(locations) == {"fsn1", "nbg1", "hel1", "ash", "hil", "sin"}
    datacenters = api.ok("GET", "/datacenters")
    assert "fsn1-dc14" in [d["name"] for d in datacenters["datacenters"]]
    assert isinstance(datacenters["recommendation"], int)
    types = {t["name"]: t for t in api.ok("GET", "/server_types")["server_types"]}
    assert types["cx22"]["cores"] == 2
    assert types["cax11"]["architecture"] == "arm"
    one = api.ok("GET", f"/server_types/{types['cx22']['id']}")["server_type"]
    assert one["name"] == "cx22"
    images = api.ok("GET", "/images", params={"name": "debian-12"})["images"]
    assert {i["architecture"] for i in images} == {"x86", "arm"}
    arm = api.ok("GET", "/images", params={"name": "debian-12", "architecture": "arm"})
    assert [i["architecture"] for i in arm["images"]] == ["arm"]
    assert api.ok("GET", f"/images/{images[0]['id']}")["image"]["name"] == "debian-12"
    lb_types = api.names("/load_balancer_types", "load_balancer_types")
    assert lb_types == ["lb11", "lb21", "lb31"]
    api.error("GET", "/server_types/1", 404, "not_found")


# --- SSH keys -------------------------------------------------------------------------------


def test_ssh_key_crud_and_uniqueness(api):
    public_key, fingerprint = make_key()
    body = {"name": "deploy", "public_key": public_key, "labels": {"team": "ops"}}
    key = api.ok("POST", "/ssh_keys", 201, json=body)["ssh_key"]
    assert key["fingerprint"] == fingerprint
    assert key["public_key"] == public_key
    assert api.ok("GET", f"/ssh_keys/{key['id']}")["ssh_key"]["name"] == "deploy"
    found = api.ok("GET", "/ssh_keys", params={"fingerprint": fingerprint})["ssh_keys"]
    assert [k["id"] for k in found] == [key["id"]]

    other_key = make_key()[0]
    error = api.error(
        "POST",
        "/ssh_keys",
        409,
        "uniqueness_error",
        json={"name": "deploy", "public_key": other_key},
    )
    assert error["details"]["fields"][0]["name"] == "name"
    error = api.error(
        "POST", "/ssh_keys", 409, "uniqueness_error", json={"name": "x", "public_key": public_key}
    )
    assert error["details"]["fields"][0]["name"] == "public_key"
    error = api.error(
        "POST", "/ssh_keys", 422, "invalid_input", json={"name": "y", "public_key": "ssh-rsa nope"}
    )
    assert error["details"]["fields"][0]["name"] == "public_key"

    updated = api.ok(
        "PUT", f"/ssh_keys/{key['id']}", json={"name": "deploy-2", "labels": {"team": "dev"}}
    )["ssh_key"]
    assert (updated["name"], updated["labels"]) == ("deploy-2", {"team": "dev"})
    assert api.names("/ssh_keys", "ssh_keys", label_selector="team=dev") == ["deploy-2"]
    api.ok("DELETE", f"/ssh_keys/{key['id']}", 204)
    api.error("GET", f"/ssh_keys/{key['id']}", 404, "not_found")


# --- servers --------------------------------------------------------------------------------


def test_server_lifecycle(api):
    public_key = make_key()[0]
    api.ok("POST", "/ssh_keys", 201, json={"name": "admin", "public_key": public_key})
    created = api.server("web-1", ssh_keys=["admin"], labels={"env": "prod", "role": "web"})
    server = created["server"]
    assert created["root_password"] is None
    assert created["action"]["command"] == "create_server"
    assert [a["command"] for a in created["next_actions"]] == ["start_server"]
    assert server["server_type"]["name"] == "cx22"
    assert server["location"]["name"] == "fsn1"
    assert server["datacenter"]["name"] == "fsn1-dc14"
    assert server["image"]["name"] == "debian-12"
    assert server["public_net"]["ipv4"]["ip"]
    assert server["public_net"]["ipv6"]["ip"].endswith("::/64")
    sid = server["id"]

    got = api.ok("GET", f"/servers/{sid}")["server"]
    assert (got["status"], got["labels"]) == ("running", {"env": "prod", "role": "web"})
    renamed = api.ok("PUT", f"/servers/{sid}", json={"name": "web-01", "labels": {"env": "stage"}})
    assert (renamed["server"]["name"], renamed["server"]["labels"]) == ("web-01", {"env": "stage"})

    api.error(
        "POST",
        f"/servers/{sid}/actions/change_type",
        422,
        "server_not_stopped",
        json={"server_type": "cx32", "upgrade_disk": True},
    )
    action = api.ok("POST", f"/servers/{sid}/actions/poweroff", 201)["action"]
    assert api.wait(action)["status"] == "success"
    assert api.ok("GET", f"/servers/{sid}")["server"]["status"] == "off"
    action = api.ok(
        "POST",
        f"/servers/{sid}/actions/change_type",
        201,
        json={"server_type": "cx32", "upgrade_disk": True},
    )["action"]
    api.wait(action)
    after = api.ok("GET", f"/servers/{sid}")["server"]
    assert (after["server_type"]["name"], after["primary_disk_size"], after["status"]) == (
        "cx32",
        80,
        "off",
    )
    api.error(
        "POST",
        f"/servers/{sid}/actions/change_type",
        422,
        "invalid_server_type",
        json={"server_type": "cx22", "upgrade_disk": False},
    )
    api.wait(api.ok("POST", f"/servers/{sid}/actions/poweron", 201)["action"])
    assert api.ok("GET", f"/servers/{sid}")["server"]["status"] == "running"
    for command in ("reboot", "reset", "shutdown"):
        api.wait(api.ok("POST", f"/servers/{sid}/actions/{command}", 201)["action"])
    assert api.ok("GET", f"/servers/{sid}")["server"]["status"] == "off"
    rebuilt = api.ok("POST", f"/servers/{sid}/actions/rebuild", 201, json={"image": "ubuntu-24.04"})
    assert rebuilt["root_password"] is None
    api.wait(rebuilt["action"])
    after = api.ok("GET", f"/servers/{sid}")["server"]
    assert (after["image"]["name"], after["status"]) == ("ubuntu-24.04", "running")

    commands = [
        a["command"]
        for a in api.ok("GET", f"/servers/{sid}/actions", params={"sort": "id"})["actions"]
    ]
    assert commands == [
        "create_server", "start_server", "stop_server", "change_server_type",
        "start_server", "reboot_server", "reset_server", "shutdown_server", "rebuild_server",
    ]  # fmt: skip
    first = created["action"]["id"]
    assert api.ok("GET", f"/servers/{sid}/actions/{first}")["action"]["status"] == "success"
    assert api.ok("GET", f"/servers/actions/{first}")["action"]["command"] == "create_server"
    listed = api.ok("GET", "/servers/actions", params={"status": "success", "per_page": 50})
    assert len(listed["actions"]) == len(commands)
    by_id = api.ok("GET", "/actions", params={"id": [first, first + 1]})["actions"]
    assert [a["command"] for a in by_id] == ["create_server", "start_server"]

    deleted = api.ok("DELETE", f"/servers/{sid}")["action"]
    assert deleted["command"] == "delete_server"
    api.wait(deleted)
    api.error("GET", f"/servers/{sid}", 404, "not_found")
    assert api.ok("GET", f"/actions/{deleted['id']}")["action"]["status"] == "success"


def test_server_create_validation(api):
    cases = [
        ({"server_type": "cx999"}, "server_type"),
        ({"image": "windows-95"}, "image"),
        ({"location": "mars1"}, "location"),
        ({"server_type": "cax11", "location": "ash"}, "location"),
        ({"name": "not_a_hostname!"}, "name"),
        ({"labels": {"bad key": "x"}}, "labels"),
        ({"ssh_keys": ["nobody"]}, "ssh_keys"),
    ]
    for change, field in cases:
        body = {"name": "ok-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}
        body.update(change)
        error = api.error("POST", "/servers", 422, "invalid_input", json=body)
        assert error["details"]["fields"][0]["name"] == field, (change, error)
    created = api.server("taken")
    assert created["root_password"]
    error = api.error(
        "POST",
        "/servers",
        409,
        "uniqueness_error",
        json={"name": "taken", "server_type": "cx22", "image": "debian-12"},
    )
    assert error["details"]["fields"][0]["name"] == "name"
    arm = api.server("arm-1", server_type="cax11", location="hel1")["server"]
    assert arm["image"]["architecture"] == "arm"
    off = api.server("cold-1", start_after_create=False, location=None, datacenter="nbg1-dc3")
    off.pop("root_password")
    assert off["next_actions"] == []
    server = api.ok("GET", f"/servers/{off['server']['id']}")["server"]
    assert (server["status"], server["location"]["name"]) == ("off", "nbg1")
    api.error("GET", "/servers/999999", 404, "not_found")
    api.error("DELETE", "/servers/999999", 404, "not_found")


def test_label_selectors(api):
    specs = {
        "a-1": {"env": "prod", "role": "web"},
        "a-2": {"env": "prod", "role": "db"},
        "a-3": {"env": "dev", "role": "web", "canary": ""},
        "a-4": {"team": "x"},
    }
    for name, labels in specs.items():
        api.server(name, labels=labels)
    expected = {
        "env=prod": ["a-1", "a-2"],
        "env==prod": ["a-1", "a-2"],
        "env!=prod": ["a-3", "a-4"],
        "env": ["a-1", "a-2", "a-3"],
        "!env": ["a-4"],
        "env=prod,role=web": ["a-1"],
        "role in (web,db)": ["a-1", "a-2", "a-3"],
        "role notin (web)": ["a-2", "a-4"],
        "env in (prod, dev),!canary": ["a-1", "a-2"],
        "canary": ["a-3"],
    }
    for selector, names in expected.items():
        assert api.names("/servers", label_selector=selector) == names, selector
    assert api.names("/servers", name="a-2") == ["a-2"]
    assert api.names("/servers", sort="name:desc") == ["a-4", "a-3", "a-2", "a-1"]
    assert api.names("/servers", status="running", label_selector="team") == ["a-4"]
    error = api.error(
        "GET", "/servers", 422, "invalid_input", params={"label_selector": "env in (prod"}
    )
    assert error["details"]["fields"][0]["name"] == "label_selector"


def test_pagination(api):
    for i in range(7):
        api.server(f"p-{i}", labels={"batch": "p"})
    seen = []
    page = 1
    while page:
        body = api.ok("GET", "/servers", params={"per_page": 3, "page": page})
        pagination = body["meta"]["pagination"]
        assert pagination["per_page"] == 3
        assert pagination["total_entries"] == 7
        assert pagination["last_page"] == 3
        assert pagination["previous_page"] == (page - 1 if page > 1 else None)
        seen += [s["name"] for s in body["servers"]]
        page = pagination["next_page"]
    assert seen == [f"p-{i}" for i in range(7)]
    capped = api.ok("GET", "/servers", params={"per_page": 500})["meta"]["pagination"]
    assert (capped["per_page"], capped["next_page"], capped["last_page"]) == (50, None, 1)
    default = api.ok("GET", "/servers")["meta"]["pagination"]
    assert (default["page"], default["per_page"]) == (1, 25)
    beyond = api.ok("GET", "/servers", params={"page": 9, "per_page": 3})
    assert beyond["servers"] == []
    assert beyond["meta"]["pagination"]["next_page"] is None


# --- errors and faults ----------------------------------------------------------------------


def test_bad_token_gets_401(sim):
    response = Api(sim, token="wrong-token").call("GET", "/servers")
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "unauthorized", "message": "unable to authenticate", "details": {}}
    }


def test_rate_limit_429_and_headers(api, sim):
    normal = api.call("GET", "/servers")
    assert normal.headers["RateLimit-Limit"] == "3600"
    remaining = int(normal.headers["RateLimit-Remaining"])
    assert 0 < remaining <= 3600
    assert int(normal.headers["RateLimit-Reset"]) >= int(time.time())
    retry_after = sim.admin("faults")["retry_after"]
    sim.faults(rate_limit_next=1)
    limited = api.call("GET", "/servers")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert limited.headers["Retry-After"] == str(retry_after)
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert limited.headers["RateLimit-Limit"] == "3600"
    assert int(limited.headers["RateLimit-Reset"]) >= int(time.time())
    assert api.call("GET", "/servers").status_code == 200


def test_server_errors(api, sim):
    sim.faults(server_error_next=2, server_error_status=503)
    api.error("GET", "/servers", 503, "unavailable")
    api.error("GET", "/ssh_keys", 503, "unavailable")
    sim.faults(server_error_next=1, server_error_status=500)
    api.error("GET", "/servers", 500, "server_error")
    sim.faults(server_error_status=503)
    assert api.call("GET", "/servers").status_code == 200


def test_actions_run_then_succeed(api, sim):
    sim.faults(action_delay=0.3)
    created = api.server("slow-1")
    assert created["server"]["status"] == "initializing"
    assert created["action"]["status"] == "running"
    assert created["action"]["finished"] is None
    sid = created["server"]["id"]
    assert api.ok("GET", f"/servers/{sid}")["server"]["locked"] is True
    api.error("POST", f"/servers/{sid}/actions/poweroff", 423, "locked")
    done = api.wait(created["next_actions"][0])
    assert (done["status"], done["progress"]) == ("success", 100)
    assert done["finished"] is not None
    server = api.ok("GET", f"/servers/{sid}")["server"]
    assert (server["status"], server["locked"]) == ("running", False)

    action = api.ok("POST", f"/servers/{sid}/actions/poweroff", 201)["action"]
    assert action["status"] == "running"
    assert api.ok("GET", f"/servers/{sid}")["server"]["status"] == "stopping"
    assert api.wait(action)["status"] == "success"
    assert api.ok("GET", f"/servers/{sid}")["server"]["status"] == "off"

    deleting = api.ok("DELETE", f"/servers/{sid}")["action"]
    assert api.ok("GET", f"/servers/{sid}")["server"]["status"] == "deleting"
    api.error("POST", f"/servers/{sid}/actions/poweron", 423, "locked")
    api.wait(deleting)
    api.error("GET", f"/servers/{sid}", 404, "not_found")


def test_action_ending_in_error(api, sim):
    sid = api.server("err-1")["server"]["id"]
    sim.faults(action_error_next=1)
    action = api.ok("POST", f"/servers/{sid}/actions/poweroff", 201)["action"]
    action = api.wait(action)
    assert action["status"] == "error"
    assert action["error"]["code"] == "action_failed"
    assert action["error"]["message"]
    assert api.ok("GET", f"/servers/{sid}")["server"]["status"] == "running"
    listed = api.ok("GET", f"/servers/{sid}/actions", params={"status": "error"})["actions"]
    assert [a["id"] for a in listed] == [action["id"]]


# --- firewalls ------------------------------------------------------------------------------


def test_firewalls(api):
    web = api.server("fw-web", labels={"role": "web"})["server"]
    db = api.server("fw-db", labels={"role": "db"})["server"]
    rules = [
        {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0", "::/0"]},
        {"direction": "in", "protocol": "icmp", "source_ips": ["10.0.0.0/8"]},
    ]
    body = {
        "name": "base",
        "labels": {"managed": "yes"},
        "rules": rules,
        "apply_to": [
            {"type": "server", "server": {"id": db["id"]}},
            {"type": "label_selector", "label_selector": {"selector": "role=web"}},
        ],
    }
    created = api.ok("POST", "/firewalls", 201, json=body)
    fw = created["firewall"]
    assert [a["command"] for a in created["actions"]] == ["apply_firewall", "apply_firewall"]
    assert fw["rules"][0]["port"] == "22"
    assert fw["rules"][1]["port"] is None
    assert fw["rules"][1]["destination_ips"] == []
    selector = fw["applied_to"][1]
    assert selector["applied_to_resources"] == [{"type": "server", "server": {"id": web["id"]}}]
    for server in (web, db):
        public_net = api.ok("GET", f"/servers/{server['id']}")["server"]["public_net"]
        assert public_net["firewalls"] == [{"id": fw["id"], "status": "applied"}]
    api.error("POST", "/firewalls", 409, "uniqueness_error", json={"name": "base"})
    api.error(
        "POST",
        "/firewalls",
        422,
        "invalid_input",
        json={"name": "bad", "rules": [{"direction": "in", "protocol": "tcp", "source_ips": []}]},
    )
    api.error(
        "POST",
        f"/firewalls/{fw['id']}/actions/apply_to_resources",
        422,
        "firewall_already_applied",
        json={"apply_to": [{"type": "server", "server": {"id": db["id"]}}]},
    )
    api.error(
        "POST",
        f"/firewalls/{fw['id']}/actions/remove_from_resources",
        422,
        "firewall_managed_by_label_selector",
        json={"remove_from": [{"type": "server", "server": {"id": web["id"]}}]},
    )
    new_rules = [{"direction": "out", "protocol": "udp", "port": "53",
                  "destination_ips": ["2001:0db8:0000::1/128"], "description": "dns"}]  # fmt: skip
    actions = api.ok(
        "POST", f"/firewalls/{fw['id']}/actions/set_rules", 201, json={"rules": new_rules}
    )["actions"]
    assert [a["command"] for a in actions] == ["set_firewall_rules", "apply_firewall"]
    got = api.ok("GET", f"/firewalls/{fw['id']}")["firewall"]
    assert got["rules"][0]["destination_ips"] == ["2001:db8::1/128"]
    api.error("DELETE", f"/firewalls/{fw['id']}", 422, "resource_in_use")
    removed = api.ok(
        "POST",
        f"/firewalls/{fw['id']}/actions/remove_from_resources",
        201,
        json={
            "remove_from": [
                {"type": "server", "server": {"id": db["id"]}},
                {"type": "label_selector", "label_selector": {"selector": "role=web"}},
            ]
        },
    )
    assert [a["command"] for a in removed["actions"]] == ["remove_firewall", "remove_firewall"]
    assert api.ok("GET", f"/firewalls/{fw['id']}")["firewall"]["applied_to"] == []
    renamed = api.ok("PUT", f"/firewalls/{fw['id']}", json={"name": "base-2"})["firewall"]
    assert renamed["name"] == "base-2"
    assert api.names("/firewalls", "firewalls", label_selector="managed=yes") == ["base-2"]
    listed = api.ok("GET", f"/firewalls/{fw['id']}/actions")["actions"]
    assert {a["command"] for a in listed} >= {"apply_firewall", "set_firewall_rules"}
    api.ok("DELETE", f"/firewalls/{fw['id']}", 204)
    api.error("GET", f"/firewalls/{fw['id']}", 404, "not_found")


def test_server_created_with_firewall(api, sim):
    fw = api.ok("POST", "/firewalls", 201, json={"name": "at-create"})["firewall"]
    sim.faults(action_delay=0.3)
    created = api.server("fw-new", firewalls=[{"firewall": fw["id"]}])
    assert created["server"]["public_net"]["firewalls"] == [{"id": fw["id"], "status": "pending"}]
    api.wait(created["action"])
    server = api.ok("GET", f"/servers/{created['server']['id']}")["server"]
    assert server["public_net"]["firewalls"] == [{"id": fw["id"], "status": "applied"}]


# --- load balancers -------------------------------------------------------------------------


def create_lb(api, name: str = "front", **extra) -> dict:
    body = {
        "name": name,
        "load_balancer_type": "lb11",
        "location": "nbg1",
        "labels": {"app": "shop"},
        "algorithm": {"type": "round_robin"},
        "services": [HTTP_SERVICE],
        "targets": [{"type": "label_selector", "label_selector": {"selector": "role=web"}}],
    }
    body.update(extra)
    created = api.ok("POST", "/load_balancers", 201, json=body)
    assert created["action"]["command"] == "create_load_balancer"
    return created["load_balancer"]


def test_load_balancer_targets(api):
    web1 = api.server("lb-web-1", labels={"role": "web"})["server"]
    web2 = api.server("lb-web-2", labels={"role": "web"})["server"]
    api.wait(api.ok("POST", f"/servers/{web2['id']}/actions/poweroff", 201)["action"])
    lb = create_lb(api)
    lid = lb["id"]
    assert lb["public_net"]["ipv4"]["ip"]
    assert lb["location"]["name"] == "nbg1"
    assert lb["services"][0]["http"]["cookie_name"] == "HCLBSTICKY"
    selected = {t["server"]["id"]: t["health_status"] for t in lb["targets"][0]["targets"]}
    assert selected == {
        web1["id"]: [{"listen_port": 80, "status": "healthy"}],
        web2["id"]: [{"listen_port": 80, "status": "unhealthy"}],
    }
    assert api.ok("GET", f"/servers/{web1['id']}")["server"]["load_balancers"] == [lid]
    api.error("POST", "/load_balancers", 409, "uniqueness_error", json={
        "name": "front", "load_balancer_type": "lb11", "location": "fsn1"})  # fmt: skip

    path = f"/load_balancers/{lid}/actions"
    target = {"type": "server", "server": {"id": web1["id"]}}
    api.wait(api.ok("POST", f"{path}/add_target", 201, json=target)["action"])
    api.error("POST", f"{path}/add_target", 422, "target_already_defined", json=target)
    ip_target = {"type": "ip", "ip": {"ip": "192.0.2.10"}}
    api.wait(api.ok("POST", f"{path}/add_target", 201, json=ip_target)["action"])
    own_ip = {"type": "ip", "ip": {"ip": web1["public_net"]["ipv4"]["ip"]}}
    api.error("POST", f"{path}/add_target", 422, "cloud_resource_ip_not_allowed", json=own_ip)
    lb = api.ok("GET", f"/load_balancers/{lid}")["load_balancer"]
    assert [t["type"] for t in lb["targets"]] == ["label_selector", "server", "ip"]
    assert lb["targets"][2]["health_status"] == [{"listen_port": 80, "status": "healthy"}]
    api.wait(api.ok("POST", f"{path}/remove_target", 201, json=target)["action"])
    api.error("POST", f"{path}/remove_target", 404, "not_found", json=target)
    renamed = api.ok("PUT", f"/load_balancers/{lid}", json={"name": "front-2", "labels": {}})
    assert renamed["load_balancer"]["name"] == "front-2"
    assert api.names("/load_balancers", "load_balancers", name="front-2") == ["front-2"]
    api.ok("DELETE", f"/load_balancers/{lid}", 204)
    api.error("GET", f"/load_balancers/{lid}", 404, "not_found")
    assert api.ok("GET", f"/servers/{web1['id']}")["server"]["load_balancers"] == []


def test_load_balancer_services_and_actions(api):
    lid = create_lb(api, targets=[])["id"]
    path = f"/load_balancers/{lid}/actions"
    api.error("POST", f"{path}/add_service", 422, "source_port_already_used", json=HTTP_SERVICE)
    check = {"protocol": "tcp", "port": 5432, "interval": 10, "timeout": 5, "retries": 2}
    tcp = {"protocol": "tcp", "listen_port": 5432, "destination_port": 5432,
           "proxyprotocol": True, "health_check": check}  # fmt: skip
    api.wait(api.ok("POST", f"{path}/add_service", 201, json=tcp)["action"])
    update = {"listen_port": 80, "destination_port": 8081, "health_check": {"port": 8081}}
    api.wait(api.ok("POST", f"{path}/update_service", 201, json=update)["action"])
    lb = api.ok("GET", f"/load_balancers/{lid}")["load_balancer"]
    http = next(s for s in lb["services"] if s["listen_port"] == 80)
    assert (http["destination_port"], http["health_check"]["port"]) == (8081, 8081)
    assert http["health_check"]["http"]["path"] == "/healthz"
    assert {s["protocol"] for s in lb["services"]} == {"http", "tcp"}
    api.wait(api.ok("POST", f"{path}/delete_service", 201, json={"listen_port": 5432})["action"])
    api.error("POST", f"{path}/delete_service", 404, "not_found", json={"listen_port": 5432})
    algorithm = {"type": "least_connections"}
    api.wait(api.ok("POST", f"{path}/change_algorithm", 201, json=algorithm)["action"])
    new_type = {"load_balancer_type": "lb21"}
    api.wait(api.ok("POST", f"{path}/change_type", 201, json=new_type)["action"])
    lb = api.ok("GET", f"/load_balancers/{lid}")["load_balancer"]
    assert lb["algorithm"]["type"] == "least_connections"
    assert lb["load_balancer_type"]["name"] == "lb21"
    assert [s["listen_port"] for s in lb["services"]] == [80]
    commands = [a["command"] for a in api.ok("GET", f"/load_balancers/{lid}/actions")["actions"]]
    assert commands[0] == "create_load_balancer"
    assert "change_load_balancer_type" in commands


def test_deleted_server_leaves_targets(api):
    server = api.server("gone-1")["server"]
    lb = api.ok(
        "POST",
        "/load_balancers",
        201,
        json={
            "name": "lb-gone",
            "load_balancer_type": "lb11",
            "location": "fsn1",
            "targets": [{"type": "server", "server": {"id": server["id"]}}],
        },
    )["load_balancer"]
    assert lb["targets"][0]["health_status"] == []
    api.wait(api.ok("DELETE", f"/servers/{server['id']}")["action"])
    assert api.ok("GET", f"/load_balancers/{lb['id']}")["load_balancer"]["targets"] == []


def test_reset_clears_resources_but_not_catalogues(api, sim):
    api.server("keep-1")
    sim.reset()
    assert api.ok("GET", "/servers")["servers"] == []
    assert len(api.ok("GET", "/locations")["locations"]) == 6
