"""The module classes on a small in-memory API: what they call, in which order, what they
report (changed, result, diff), in check mode and for real."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.modules.hetzner_firewall import HetznerFirewall
from ansible_collections.sigma.deploy.plugins.modules.hetzner_load_balancer import (
    HetznerLoadBalancer,
)
from ansible_collections.sigma.deploy.plugins.modules.hetzner_server import HetznerServer
from ansible_collections.sigma.deploy.plugins.modules.hetzner_ssh_key import HetznerSSHKey
from tests.unit.plugins.fakes import FakeClock, FakeModule

DONE = {"id": 1, "status": "success", "command": "x"}


class FakeApi:
    """Just enough of HetznerClient: resources by collection, every call recorded, actions
    finished at once; server actions change the server like Hetzner does."""

    def __init__(self, **resources):
        self.clock = FakeClock()
        self.data = {k: {r["id"]: copy.deepcopy(r) for r in v} for k, v in resources.items()}
        self.calls = []

    def get_by_id(self, collection, ident):
        return copy.deepcopy(self.data.get(collection, {}).get(int(ident)))

    def get_by_name(self, collection, name):
        found = [r for r in self.data.get(collection, {}).values() if r["name"] == name]
        return copy.deepcopy(found[0]) if found else None

    def find(self, collection, ident=None, name=None):
        return self.get_by_id(collection, ident) if ident else self.get_by_name(collection, name)

    def resolve(self, collection, ref, field):
        found = self.get_by_id(collection, ref) if str(ref).isdigit() else None
        return (found or self.get_by_name(collection, ref))["id"]

    def item_path(self, collection, ident):
        return f"/{collection}/{ident}"

    def wait_actions(self, actions, deadline):
        self.calls.append(("wait", len(actions)))
        return 0.0

    def put(self, path, body):
        self.calls.append(("PUT", path, body))
        collection, ident = path.strip("/").split("/")
        self.data[collection][int(ident)].update(body)
        return {collection[:-1]: self.get_by_id(collection, ident)}

    def delete(self, path):
        self.calls.append(("DELETE", path))
        collection, ident = path.strip("/").split("/")
        del self.data[collection][int(ident)]
        return {"action": DONE} if collection == "servers" else None

    def post(self, path, body=None):
        self.calls.append(("POST", path, body))
        parts = path.strip("/").split("/")
        if len(parts) == 1:
            resource = dict(body, id=100 + len(self.calls))
            resource.setdefault("labels", {})
            if parts[0] == "servers":
                resource["status"] = "running" if body["start_after_create"] else "off"
                resource["server_type"] = {"name": body["server_type"]}
                resource["image"] = {"name": body["image"]}
            self.data.setdefault(parts[0], {})[resource["id"]] = resource
            return {parts[0][:-1]: resource, "action": DONE, "actions": [DONE]}
        server = self.data[parts[0]][int(parts[1])]
        effects = {
            "poweroff": {"status": "off"},
            "poweron": {"status": "running"},
            "reboot": {},
            "rebuild": {"image": {"name": (body or {}).get("image")}},
        }
        if parts[3] == "change_type":
            server["server_type"] = {"name": body["server_type"]}
        server.update(effects.get(parts[3], {}))
        return {"action": DONE, "actions": [DONE]}

    def changes(self):
        return [c for c in self.calls if c[0] != "wait"]


SERVER_PARAMS = {
    "id": None,
    "name": "web-1",
    "server_type": "cx22",
    "image": "debian-12",
    "location": None,
    "labels": {"app": "shop"},
    "user_data": None,
    "ssh_keys": None,
    "firewalls": None,
    "allow_resize_stop": False,
    "upgrade_disk": False,
    "state": "present",
    "wait": True,
    "wait_timeout": 600,
}
RUNNING = {
    "id": 7,
    "name": "web-1",
    "status": "running",
    "server_type": {"name": "cx22"},
    "image": {"name": "debian-12"},
    "labels": {"app": "shop"},
    "public_net": {"firewalls": []},
}


def run_server(api, check_mode=False, **params):
    """What main() does, without AnsibleModule."""
    module = FakeModule(dict(SERVER_PARAMS, **params), check_mode=check_mode)
    return HetznerServer(module, client=api).run()


def test_check_mode_create_changes_nothing_and_shows_the_server():
    api = FakeApi()
    result = run_server(api, check_mode=True)
    assert api.calls == []
    assert result["changed"] is True
    assert result["diff"] == {
        "before": {},
        "after": {
            "name": "web-1",
            "status": "running",
            "server_type": "cx22",
            "image": "debian-12",
            "location": None,
            "labels": {"app": "shop"},
            "firewalls": [],
        },
    }
    assert result["hetzner_server"]["id"] is None


def test_create_then_unchanged():
    api = FakeApi()
    first = run_server(api)
    assert first["changed"] is True
    assert api.changes()[0][0:2] == ("POST", "/servers")
    api.calls.clear()
    second = run_server(api)
    assert second["changed"] is False
    assert api.changes() == []
    assert second["diff"]["before"] == second["diff"]["after"]


def test_rebuilt_does_not_rebuild_a_server_it_just_created():
    api = FakeApi()
    result = run_server(api, state="rebuilt")
    assert result["changed"] is True
    assert [c[1] for c in api.changes()] == ["/servers"]


def test_rebuilt_rebuilds_an_existing_server():
    api = FakeApi(servers=[RUNNING])
    run_server(api, state="rebuilt", image="debian-13")
    assert api.changes() == [("POST", "/servers/7/actions/rebuild", {"image": "debian-13"})]


def test_a_running_server_is_not_resized_without_permission():
    api = FakeApi(servers=[RUNNING])
    with pytest.raises(ApiError) as caught:
        run_server(api, server_type="cx32")
    assert "allow_resize_stop=true" in str(caught.value)
    assert api.changes() == []


def test_resize_stops_resizes_and_starts_again():
    api = FakeApi(servers=[RUNNING])
    result = run_server(api, server_type="cx32", allow_resize_stop=True)
    assert api.changes() == [
        ("POST", "/servers/7/actions/poweroff", None),
        ("POST", "/servers/7/actions/change_type", {"server_type": "cx32", "upgrade_disk": False}),
        ("POST", "/servers/7/actions/poweron", None),
    ]
    assert result["diff"]["before"]["server_type"] == "cx22"
    assert result["diff"]["after"]["server_type"] == "cx32"
    assert result["hetzner_server"]["status"] == "running"


def test_a_stopped_server_is_resized_and_stays_off():
    api = FakeApi(servers=[dict(RUNNING, status="off")])
    run_server(api, server_type="cx32", state="stopped")
    assert [c[1] for c in api.changes()] == ["/servers/7/actions/change_type"]


def test_check_mode_stop_predicts_the_status():
    api = FakeApi(servers=[RUNNING])
    result = run_server(api, check_mode=True, state="stopped")
    assert api.calls == []
    assert result["changed"] is True
    assert (result["diff"]["before"]["status"], result["diff"]["after"]["status"]) == (
        "running",
        "off",
    )


def test_labels_are_an_exact_set():
    api = FakeApi(servers=[dict(RUNNING, labels={"app": "shop", "old": "x"})])
    run_server(api)
    assert api.changes() == [("PUT", "/servers/7", {"labels": {"app": "shop"}})]


def test_restarted_reboots_a_running_server_and_starts_a_stopped_one():
    api = FakeApi(servers=[RUNNING])
    run_server(api, state="restarted")
    assert [c[1] for c in api.changes()] == ["/servers/7/actions/reboot"]
    api = FakeApi(servers=[dict(RUNNING, status="off")])
    run_server(api, state="restarted")
    assert [c[1] for c in api.changes()] == ["/servers/7/actions/poweron"]


def test_missing_firewalls_are_applied_to_an_existing_server():
    api = FakeApi(servers=[RUNNING], firewalls=[{"id": 5, "name": "web"}])
    run_server(api, firewalls=["web"])
    assert api.changes() == [
        (
            "POST",
            "/firewalls/5/actions/apply_to_resources",
            {"apply_to": [{"type": "server", "server": {"id": 7}}]},
        ),
    ]


def test_absent_deletes_and_waits():
    api = FakeApi(servers=[RUNNING])
    result = run_server(api, state="absent")
    assert api.calls == [("DELETE", "/servers/7"), ("wait", 1)]
    assert result["hetzner_server"] == {}
    assert result["diff"]["after"] == {}


# --- SSH keys, firewalls, load balancers ---------------------------------------------------------
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFPRB2i5Dve4rcZ4YNJ8Uq4uTgA3TDmsiHtC8R+S09l7 test"
OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG2xSkSCx3BPVLBSfF6MGJF4nTGHrPN7YpV0mCBJwb1F x"


def run_key(api, check_mode=False, **params):
    base = {"id": None, "name": "deploy", "public_key": KEY, "labels": None, "force": False}
    module = FakeModule(dict(base, state="present", **params), check_mode=check_mode)
    return HetznerSSHKey(module, client=api).run()


def test_an_ssh_key_with_other_material_needs_force():
    stored = {
        "id": 3,
        "name": "deploy",
        "public_key": OTHER_KEY,
        "labels": {},
        "fingerprint": "00:11",
    }
    with pytest.raises(ApiError) as caught:
        run_key(FakeApi(ssh_keys=[stored]))
    assert "force=true" in str(caught.value)
    api = FakeApi(ssh_keys=[stored])
    run_key(api, force=True)
    assert [c[:2] for c in api.changes()] == [("DELETE", "/ssh_keys/3"), ("POST", "/ssh_keys")]


def test_an_ssh_key_is_matched_by_fingerprint_not_comment():
    stored = {
        "id": 3,
        "name": "deploy",
        "public_key": KEY + "-old",
        "labels": {},
        "fingerprint": "ca:21:8a:ab:81:63:25:8a:d2:66:ed:f7:26:b9:e2:0a",
    }
    api = FakeApi(ssh_keys=[stored])
    assert run_key(api)["changed"] is False


STORED_KEY = {
    "id": 3,
    "name": "deploy",
    "public_key": KEY,
    "labels": {"team": "ops"},
    "fingerprint": "ca:21:8a:ab:81:63:25:8a:d2:66:ed:f7:26:b9:e2:0a",
}


def test_an_ssh_key_is_created_without_labels_when_none_are_given():
    api = FakeApi()
    result = run_key(api)
    assert api.changes() == [("POST", "/ssh_keys", {"name": "deploy", "public_key": KEY})]
    assert result["hetzner_ssh_key"]["labels"] == {}


def test_an_ssh_key_keeps_the_labels_it_was_not_given():
    # PUT /ssh_keys/{id} replaces every label: sending {} would wipe them.
    api = FakeApi(ssh_keys=[STORED_KEY])
    result = run_key(api)
    assert (result["changed"], api.changes()) == (False, [])
    assert result["hetzner_ssh_key"]["labels"] == {"team": "ops"}


def test_renaming_an_ssh_key_sends_only_its_name():
    api = FakeApi(ssh_keys=[STORED_KEY])
    result = run_key(api, id=3, name="deploy-2026")
    assert api.changes() == [("PUT", "/ssh_keys/3", {"name": "deploy-2026"})]
    assert result["hetzner_ssh_key"]["labels"] == {"team": "ops"}


def test_an_ssh_key_gets_labels_only_when_they_differ():
    same = FakeApi(ssh_keys=[STORED_KEY])
    assert run_key(same, labels={"team": "ops"})["changed"] is False
    assert same.changes() == []
    other = FakeApi(ssh_keys=[STORED_KEY])
    assert run_key(other, labels={"team": "dev", "on": True})["changed"] is True
    assert other.changes() == [("PUT", "/ssh_keys/3", {"labels": {"team": "dev", "on": "true"}})]


FW_PARAMS = {
    "id": None,
    "name": "web",
    "labels": None,
    "rules": None,
    "servers": None,
    "label_selectors": None,
    "wait": True,
    "wait_timeout": 300,
}
RULES = [
    {
        "direction": "in",
        "protocol": "tcp",
        "port": "22",
        "source_ips": ["0.0.0.0/0", "::/0"],
        "destination_ips": None,
        "description": None,
    },
    {
        "direction": "in",
        "protocol": "icmp",
        "port": None,
        "source_ips": ["0.0.0.0/0"],
        "destination_ips": None,
        "description": None,
    },
]


def run_firewall(api, check_mode=False, **params):
    module = FakeModule(dict(FW_PARAMS, state="present", **params), check_mode=check_mode)
    return HetznerFirewall(module, client=api).run()


def test_firewall_rules_in_another_order_are_unchanged():
    stored = {
        "id": 5,
        "name": "web",
        "labels": {},
        "applied_to": [],
        "rules": [
            dict(RULES[1], destination_ips=[]),
            dict(RULES[0], source_ips=["::/0", "0.0.0.0/0"], destination_ips=[]),
        ],
    }
    api = FakeApi(firewalls=[stored])
    assert run_firewall(api, rules=RULES)["changed"] is False
    assert api.changes() == []


def test_firewall_apply_to_is_an_exact_set():
    stored = {
        "id": 5,
        "name": "web",
        "labels": {},
        "rules": [],
        "applied_to": [{"type": "server", "server": {"id": 8}}],
    }
    api = FakeApi(firewalls=[stored], servers=[dict(RUNNING)])
    result = run_firewall(api, check_mode=True, servers=["web-1"])
    assert api.calls == []
    assert (result["diff"]["before"]["servers"], result["diff"]["after"]["servers"]) == ([8], [7])


LB_PARAMS = {
    "id": None,
    "name": "shop",
    "load_balancer_type": None,
    "location": None,
    "network_zone": None,
    "algorithm": None,
    "labels": None,
    "services": None,
    "targets_state": "exact",
    "wait": True,
    "wait_timeout": 300,
}
LB = {
    "id": 9,
    "name": "shop",
    "load_balancer_type": {"name": "lb11"},
    "labels": {},
    "algorithm": {"type": "round_robin"},
    "services": [],
    "targets": [
        {"type": "server", "server": {"id": 7}, "use_private_ip": False},
        {"type": "server", "server": {"id": 8}, "use_private_ip": False},
    ],
}


def run_lb(api, check_mode=False, **params):
    module = FakeModule(dict(LB_PARAMS, state="present", **params), check_mode=check_mode)
    return HetznerLoadBalancer(module, client=api).run()


def test_draining_one_target_leaves_the_others():
    api = FakeApi(load_balancers=[LB], servers=[dict(RUNNING)])
    result = run_lb(api, targets=[{"server": "web-1"}], targets_state="absent")
    assert api.changes() == [
        (
            "POST",
            "/load_balancers/9/actions/remove_target",
            {"type": "server", "server": {"id": 7}},
        ),
    ]
    assert result["changed"] is True
    api = FakeApi(load_balancers=[dict(LB, targets=LB["targets"][1:])], servers=[dict(RUNNING)])
    assert run_lb(api, targets=[{"server": "web-1"}], targets_state="absent")["changed"] is False


def test_check_mode_predicts_targets_without_calls():
    api = FakeApi(load_balancers=[LB], servers=[dict(RUNNING)])
    result = run_lb(api, check_mode=True, targets=[{"server": "web-1"}], targets_state="exact")
    assert api.calls == []
    assert [t["server"] for t in result["diff"]["after"]["targets"]] == [7]
    assert [t["server"] for t in result["diff"]["before"]["targets"]] == [7, 8]


def test_creating_needs_its_options_and_no_id():
    with pytest.raises(ApiError) as caught:
        run_server(FakeApi(), server_type=None, image=None)
    assert str(caught.value) == "server_type and image required to create a server"
    with pytest.raises(ApiError) as caught:
        run_server(FakeApi(), id=5)
    assert str(caught.value) == "server with id 5 not found (give a name to create one)"


def test_state_stopped_powers_off_for_the_resize_without_asking():
    api = FakeApi(servers=[RUNNING])
    result = run_server(api, server_type="cx32", state="stopped")
    assert [c[1] for c in api.changes()] == [
        "/servers/7/actions/poweroff",
        "/servers/7/actions/change_type",
    ]
    assert (result["hetzner_server"]["status"], result["hetzner_server"]["server_type"]) == (
        "off",
        "cx32",
    )
