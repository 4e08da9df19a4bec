"""The Hetzner inventory plugin: host building on plain data, and the whole plugin through
``ansible-inventory`` against the simulator."""

from __future__ import annotations

import json

import pytest
import requests

from ansible_collections.sigma.deploy.plugins.inventory import hetzner
from ansible_collections.sigma.deploy.plugins.plugin_utils._inventory import connection_address
from tests.unit.plugins import inventory_run


def server(name, ipv4="198.18.0.5", ipv6="2001:db8:5::/64", **extra):
    data = {
        "id": 42,
        "name": name,
        "status": "running",
        "server_type": {"name": "cx22"},
        "datacenter": {"name": "fsn1-dc14", "location": {"name": "fsn1"}},
        "image": {"name": "debian-12"},
        "labels": {"app": "shop", "role": "web"},
        "public_net": {
            "ipv4": {"ip": ipv4} if ipv4 else None,
            "ipv6": {"ip": ipv6} if ipv6 else None,
        },
        "private_net": [{"ip": "10.0.0.2"}],
    }
    data.update(extra)
    return data


def test_host_vars_flatten_what_playbooks_use():
    assert hetzner.host_vars(server("web-1")) == {
        "hetzner_id": 42,
        "hetzner_name": "web-1",
        "hetzner_status": "running",
        "hetzner_server_type": "cx22",
        "hetzner_location": "fsn1",
        "hetzner_datacenter": "fsn1-dc14",
        "hetzner_image": "debian-12",
        "hetzner_labels": {"app": "shop", "role": "web"},
        "hetzner_public_ipv4": "198.18.0.5",
        "hetzner_public_ipv6": "2001:db8:5::1",
        "hetzner_private_ipv4": "10.0.0.2",
    }


def test_a_server_without_ipv4_has_none_and_no_error():
    hvars = hetzner.host_vars(server("v6-only", ipv4=None, private_net=[]))
    assert hvars["hetzner_public_ipv4"] is None
    assert hvars["hetzner_private_ipv4"] is None

    def address(connect_with, missing):
        return connection_address(
            hvars, hetzner.InventoryModule.ADDRESS_VARS, "hetzner_name", connect_with, missing
        )

    assert address("public_ipv4", "skip") == (None, "server v6-only has no public_ipv4")
    assert address("public_ipv4", "name") == ("v6-only", None)
    assert address("public_ipv6", "skip") == ("2001:db8:5::1", None)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (([], [], []), True),
        ((["fsn1"], ["running"], ["cx22"]), True),
        ((["nbg1"], [], []), False),
        (([], ["off"], []), False),
        (([], [], ["cx32"]), False),
    ],
)
def test_filters_by_location_status_and_type(filters, expected):
    assert hetzner.wanted(hetzner.host_vars(server("a")), *filters) is expected


def create_server(sim, name, labels, ipv4=True):
    body = {
        "name": name,
        "server_type": "cx22",
        "image": "debian-12",
        "location": "fsn1",
        "labels": labels,
        "public_net": {"enable_ipv4": ipv4, "enable_ipv6": True},
    }
    resp = requests.post(
        sim.endpoint("hetzner") + "/servers",
        json=body,
        headers={"Authorization": f"Bearer {sim.token}"},
        verify=sim.ca_path,
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["server"]


def run_inventory(sim, tmp_path, config, token=None):
    return inventory_run.run_inventory(sim, tmp_path, "hetzner", config, token)


def test_plugin_reads_every_page_filters_and_groups(sim, tmp_path):
    for i in range(1, 56):  # more than one page of 50
        create_server(sim, f"web-{i}", {"app": "shop", "role": "web"})
    create_server(sim, "db-1", {"app": "shop", "role": "db"})
    create_server(sim, "other-1", {"app": "blog", "role": "web"})
    create_server(sim, "v6-only", {"app": "shop", "role": "web"}, ipv4=False)
    proc = run_inventory(
        sim,
        tmp_path,
        "plugin: sigma.deploy.hetzner\nlabel_selector: app=shop\n"
        "keyed_groups:\n  - key: hetzner_labels.role\n    prefix: role\n",
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    hosts = data["_meta"]["hostvars"]
    assert len(hosts) == 56  # 55 web + db; the IPv6-only server is skipped, with a warning
    assert "other-1" not in hosts
    assert "v6-only" not in hosts
    assert "v6-only" in proc.stderr
    assert hosts["db-1"]["ansible_host"] == hosts["db-1"]["hetzner_public_ipv4"]
    assert set(data["role_db"]["hosts"]) == {"db-1"}
    assert len(data["role_web"]["hosts"]) == 55


def test_a_bad_token_fails_clearly_without_showing_it(sim, tmp_path):
    proc = run_inventory(sim, tmp_path, "plugin: sigma.deploy.hetzner\n", token="wrong-secret")
    assert "unauthorized" in proc.stderr
    assert "Hetzner" in proc.stderr
    assert "wrong-secret" not in proc.stderr + proc.stdout


def test_cached_answer_is_used_until_it_expires(sim, tmp_path):
    create_server(sim, "web-1", {"app": "shop"})
    config = (
        "plugin: sigma.deploy.hetzner\ncache: true\ncache_plugin: ansible.builtin.jsonfile\n"
        f"cache_connection: {tmp_path / 'cache'}\ncache_timeout: 300\n"
    )
    first = run_inventory(sim, tmp_path, config)
    assert first.returncode == 0, first.stderr
    sim.reset()  # the API forgets the server; the cache still knows it
    second = run_inventory(sim, tmp_path, config)
    assert second.returncode == 0, second.stderr
    assert "web-1" in json.loads(second.stdout)["_meta"]["hostvars"]
    fresh = run_inventory(sim, tmp_path, config.replace("cache: true", "cache: false"))
    assert "web-1" not in json.loads(fresh.stdout)["_meta"]["hostvars"]
