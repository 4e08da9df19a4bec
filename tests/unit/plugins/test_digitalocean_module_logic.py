"""The DigitalOcean module classes against the simulator: what they send (nothing but reads in
check mode), what they report (changed, result, diff), and how they keep names unique."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError, RetryPolicy
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.client import (
    DigitalOceanClient,
)
from ansible_collections.sigma.deploy.plugins.modules.digitalocean_droplet import (
    DigitalOceanDroplet,
)
from ansible_collections.sigma.deploy.plugins.modules.digitalocean_firewall import (
    DigitalOceanFirewall,
)
from ansible_collections.sigma.deploy.plugins.modules.digitalocean_load_balancer import (
    DigitalOceanLoadBalancer,
)
from ansible_collections.sigma.deploy.plugins.modules.digitalocean_ssh_key import (
    DigitalOceanSSHKey,
)
from tests.unit.plugins.fakes import FakeModule, FakeResponse

FINGERPRINT = "ca:21:8a:ab:81:63:25:8a:d2:66:ed:f7:26:b9:e2:0a"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFPRB2i5Dve4rcZ4YNJ8Uq4uTgA3TDmsiHtC8R+S09l7 it"
DROPLET_PARAMS = {
    "id": None,
    "name": "web-1",
    "unique_name": True,
    "region": "fra1",
    "size": "s-1vcpu-1gb",
    "resize_disk": False,
    "allow_resize_stop": False,
    "image": "debian-12-x64",
    "tags": None,
    "user_data": None,
    "ssh_keys": None,
    "firewalls": None,
    "monitoring": None,
    "ipv6": None,
    "vpc_uuid": None,
    "state": "present",
    "wait": True,
    "wait_timeout": 60,
}
FIREWALL_PARAMS = {
    "id": None,
    "name": "web",
    "inbound_rules": None,
    "outbound_rules": None,
    "droplets": None,
    "tags": None,
    "state": "present",
    "wait": True,
    "wait_timeout": 60,
}
LB_PARAMS = {
    "id": None,
    "name": "shop",
    "region": "fra1",
    "size": None,
    "size_unit": None,
    "forwarding_rules": [
        {
            "entry_protocol": "http",
            "entry_port": 80,
            "target_protocol": "http",
            "target_port": 80,
            "certificate_id": None,
            "tls_passthrough": False,
        }
    ],
    "health_check": None,
    "sticky_sessions": None,
    "redirect_http_to_https": None,
    "enable_proxy_protocol": None,
    "enable_backend_keepalive": None,
    "http_idle_timeout_seconds": None,
    "vpc_uuid": None,
    "droplets": None,
    "droplets_state": "exact",
    "tag": None,
    "state": "present",
    "wait": True,
    "wait_timeout": 60,
}


class Recorder(requests.Session):
    """A session that records (method, path below /v2, body) and may answer for the API."""

    def __init__(self):
        super().__init__()
        self.trust_env = False  # REQUESTS_CA_BUNDLE must not override the simulator's CA
        self.sent = []
        self.hook = None

    def request(self, method, url, **kwargs):
        path = urlsplit(url).path.split("/v2", 1)[1]
        self.sent.append((method, path, kwargs.get("json")))
        answer = self.hook(method, path, url, kwargs) if self.hook else None
        return answer if answer is not None else super().request(method, url, **kwargs)

    def writes(self):
        return [s for s in self.sent if s[0] != "GET"]


@pytest.fixture
def api(sim):
    recorder = Recorder()
    client = DigitalOceanClient(
        sim.endpoint("digitalocean"),
        sim.token,
        ca_path=sim.ca_path,
        retry=RetryPolicy(retries=2, total=5, base=0.01, cap=0.05),
        session=recorder,
    )
    client.poll_interval = 0.05
    return client


def run_droplet(api, check_mode=False, **params):
    """What main() does, without AnsibleModule."""
    module = FakeModule(dict(DROPLET_PARAMS, **params), check_mode=check_mode)
    return DigitalOceanDroplet(module, client=api).run()


def run(cls, api, params, check_mode=False):
    return cls(FakeModule(params, check_mode=check_mode), client=api).run()


def actions_of(api, droplet_id):
    body = api.get(f"/droplets/{droplet_id}/actions")
    return sorted(a["type"] for a in body["actions"])


# --- droplets ------------------------------------------------------------------------------------
def test_check_mode_only_reads_and_shows_the_droplet(api):
    api.post("/account/keys", {"name": "deploy", "public_key": PUBLIC_KEY})
    fw = api.post("/firewalls", {"name": "web", "inbound_rules": []})["firewall"]
    result = run_droplet(
        api, check_mode=True, ssh_keys=["deploy"], firewalls=[fw["id"]], tags=["web"]
    )
    assert api.session.writes()[2:] == []  # the two set-up POSTs only
    assert result["changed"] is True
    assert result["diff"] == {
        "before": {},
        "after": {
            "name": "web-1",
            "status": "active",
            "region": "fra1",
            "size": "s-1vcpu-1gb",
            "image": "debian-12-x64",
            "tags": ["web"],
            "firewalls": ["web"],
            "ipv6": False,
            "monitoring": False,
        },
    }
    assert result["digitalocean_droplet"]["id"] is None


def test_create_attaches_firewalls_then_nothing_changes(api):
    api.post("/firewalls", {"name": "web", "inbound_rules": []})
    first = run_droplet(api, firewalls=["web"])
    droplet = first["digitalocean_droplet"]
    assert (first["changed"], droplet["status"], droplet["firewalls"]) == (True, "active", ["web"])
    assert droplet["ipv4_address"]
    writes = [(m, p) for m, p, _body in api.session.writes()[1:]]
    assert writes[0] == ("POST", "/droplets")
    assert writes[1][1].startswith("/firewalls/")
    assert writes[1][1].endswith("/droplets")
    api.session.sent.clear()
    second = run_droplet(api, firewalls=["web"])
    assert second["changed"] is False
    assert api.session.writes() == []
    assert second["diff"]["before"] == second["diff"]["after"]


def test_rebuilt_does_not_rebuild_a_droplet_it_just_created(api):
    result = run_droplet(api, state="rebuilt")
    assert result["changed"] is True
    assert actions_of(api, result["digitalocean_droplet"]["id"]) == ["create"]


def test_a_running_droplet_is_not_resized_without_permission(api):
    run_droplet(api)
    api.session.sent.clear()
    with pytest.raises(ApiError) as caught:
        run_droplet(api, size="s-2vcpu-2gb")
    assert "allow_resize_stop=true" in str(caught.value)
    assert api.session.writes() == []


def test_resize_powers_off_resizes_and_powers_on_again(api):
    ident = run_droplet(api)["digitalocean_droplet"]["id"]
    api.session.sent.clear()
    result = run_droplet(api, size="s-2vcpu-2gb", allow_resize_stop=True)
    assert api.session.writes() == [
        ("POST", f"/droplets/{ident}/actions", {"type": "power_off"}),
        (
            "POST",
            f"/droplets/{ident}/actions",
            {"size": "s-2vcpu-2gb", "disk": False, "type": "resize"},
        ),
        ("POST", f"/droplets/{ident}/actions", {"type": "power_on"}),
    ]
    assert (result["diff"]["before"]["size"], result["diff"]["after"]["size"]) == (
        "s-1vcpu-1gb",
        "s-2vcpu-2gb",
    )
    assert result["digitalocean_droplet"]["status"] == "active"


def test_tags_are_an_exact_set_without_case(api):
    ident = run_droplet(api, tags=["web", "shop"])["digitalocean_droplet"]["id"]
    api.session.sent.clear()
    assert run_droplet(api, tags=["SHOP", "web"])["changed"] is False
    result = run_droplet(api, tags=["web", "db"])
    assert result["digitalocean_droplet"]["tags"] == ["db", "web"]
    resources = {"resources": [{"resource_id": str(ident), "resource_type": "droplet"}]}
    assert api.session.writes() == [
        ("POST", "/tags", {"name": "db"}),
        ("POST", "/tags/db/resources", resources),
        ("DELETE", "/tags/shop/resources", resources),
    ]


def test_twins_fail_clearly_and_nothing_is_changed(api):
    ids = [
        api.post("/droplets", {"name": "web-1", "size": "s-1vcpu-1gb", "image": "debian-12-x64"})[
            "droplet"
        ]["id"]
        for _unused in range(2)
    ]
    api.session.sent.clear()
    with pytest.raises(ApiError) as caught:
        run_droplet(api, state="absent")
    assert caught.value.code == "duplicate_name"
    assert f"(ids {ids[0]}, {ids[1]})" in caught.value.message
    assert api.session.writes() == []


def test_a_droplet_whose_creation_errored_is_created_again(api, sim):
    sim.faults(action_error_next=1)
    broken = api.post(
        "/droplets",
        {"name": "web-1", "size": "s-1vcpu-1gb", "image": "debian-12-x64", "region": "fra1"},
    )
    module_result = run_droplet(api)
    droplet = module_result["digitalocean_droplet"]
    assert module_result["changed"] is True
    assert droplet["status"] == "active"
    assert droplet["id"] != broken["droplet"]["id"]
    assert [d["id"] for d in api.list("droplets")] == [droplet["id"]]


def test_a_server_error_that_hides_a_created_droplet_adopts_it(api):
    """A 5xx after the droplet was made: it is not created a second time."""

    def created_then_503(method, path, url, kwargs):
        if (method, path) == ("POST", "/droplets"):
            requests.Session.request(api.session, method, url, **kwargs)
            return FakeResponse(503, {"id": "server_error", "message": "Server was unable."})
        return None

    api.session.hook = created_then_503
    warnings = []
    module = FakeModule(dict(DROPLET_PARAMS), check_mode=False)
    module.warn = warnings.append
    droplet = DigitalOceanDroplet(module, client=api)
    droplet.find()
    droplet.present(stay_off=False)
    assert droplet.resource["status"] == "active"
    assert len(api.list("droplets")) == 1
    assert [s[:2] for s in api.session.sent].count(("POST", "/droplets")) == 1
    assert "was created all the same" in warnings[0]


# --- SSH keys, firewalls, load balancers ---------------------------------------------------------
def test_ssh_key_check_mode_then_real_then_unchanged(api):
    params = {
        "id": None,
        "name": "deploy",
        "public_key": PUBLIC_KEY,
        "force": False,
        "state": "present",
    }
    checked = run(DigitalOceanSSHKey, api, params, check_mode=True)
    assert (checked["changed"], api.session.writes()) == (True, [])
    made = run(DigitalOceanSSHKey, api, params)
    assert made["diff"] == {
        "before": {},
        "after": {"name": "deploy", "fingerprint": FINGERPRINT},
    }
    api.session.sent.clear()
    assert run(DigitalOceanSSHKey, api, params)["changed"] is False
    assert api.session.writes() == []


def test_firewall_update_in_check_mode_shows_the_change_and_sends_nothing(api):
    rules = [{"protocol": "tcp", "ports": "22", "sources": {"addresses": ["0.0.0.0/0"]}}]
    run(DigitalOceanFirewall, api, dict(FIREWALL_PARAMS, inbound_rules=rules, tags=["web"]))
    api.session.sent.clear()
    changed = [{"protocol": "tcp", "ports": "2222", "sources": {"addresses": ["0.0.0.0/0"]}}]
    result = run(DigitalOceanFirewall, api, dict(FIREWALL_PARAMS, inbound_rules=changed), True)
    assert api.session.writes() == []
    assert result["changed"] is True
    assert result["diff"]["before"]["inbound_rules"][0]["ports"] == "22"
    assert result["diff"]["after"]["inbound_rules"][0]["ports"] == "2222"
    assert result["diff"]["after"]["tags"] == ["web"]  # left out, so kept


def test_draining_a_droplet_touches_only_that_droplet(api):
    ids = [run_droplet(api, name=name)["digitalocean_droplet"]["id"] for name in ("web-1", "web-2")]
    made = run(DigitalOceanLoadBalancer, api, dict(LB_PARAMS, droplets=["web-1", "web-2"]))
    assert made["digitalocean_load_balancer"]["droplet_ids"] == sorted(ids)
    api.session.sent.clear()
    drain = dict(LB_PARAMS, forwarding_rules=None, droplets=["web-1"], droplets_state="absent")
    result = run(DigitalOceanLoadBalancer, api, drain)
    lb_id = result["digitalocean_load_balancer"]["id"]
    assert api.session.writes() == [
        ("DELETE", f"/load_balancers/{lb_id}/droplets", {"droplet_ids": [ids[0]]})
    ]
    assert result["diff"]["before"]["droplet_ids"] == sorted(ids)
    assert result["diff"]["after"]["droplet_ids"] == [ids[1]]
