"""The DigitalOcean inventory plugin: host building on plain data, and the whole plugin
through ``ansible-inventory`` against the simulator."""

from __future__ import annotations

import json

import requests

from ansible_collections.sigma.deploy.plugins.inventory import digitalocean
from tests.unit.plugins.inventory_run import run_inventory


def droplet(name, tags=("shop", "web"), ipv6=True):
    v6 = [{"ip_address": "2001:db8::5", "type": "public"}] if ipv6 else []
    return {
        "id": 7,
        "name": name,
        "status": "active",
        "size_slug": "s-1vcpu-1gb",
        "region": {"slug": "fra1"},
        "image": {"slug": "debian-12-x64"},
        "tags": list(tags),
        "vpc_uuid": "5a4981aa-9653-4bd1-bef5-d6bff52042e4",
        "networks": {
            "v4": [
                {"ip_address": "10.110.0.2", "type": "private"},
                {"ip_address": "198.18.0.5", "type": "public"},
            ],
            "v6": v6,
        },
    }


def test_host_vars_flatten_what_playbooks_use():
    assert digitalocean.host_vars(droplet("web-1")) == {
        "do_id": 7,
        "do_name": "web-1",
        "do_status": "active",
        "do_size": "s-1vcpu-1gb",
        "do_region": "fra1",
        "do_image": "debian-12-x64",
        "do_tags": ["shop", "web"],
        "do_vpc_uuid": "5a4981aa-9653-4bd1-bef5-d6bff52042e4",
        "do_public_ipv4": "198.18.0.5",
        "do_private_ipv4": "10.110.0.2",
        "do_public_ipv6": "2001:db8::5",
    }


def test_every_tag_must_match_and_filters_apply():
    hvars = digitalocean.host_vars(droplet("a"))
    assert digitalocean.wanted(hvars, ["shop", "web"], [], [], [])
    assert not digitalocean.wanted(hvars, ["shop", "db"], [], [], [])
    assert not digitalocean.wanted(hvars, [], ["nyc3"], [], [])
    assert not digitalocean.wanted(hvars, [], [], ["off"], [])
    assert digitalocean.wanted(hvars, [], ["fra1"], ["active"], ["s-1vcpu-1gb"])


def create_droplet(sim, name, tags, ipv6=False):
    body = {"name": name, "region": "fra1", "size": "s-1vcpu-1gb", "image": "debian-12-x64",
            "tags": tags, "ipv6": ipv6}  # fmt: skip
    resp = requests.post(
        sim.endpoint("digitalocean") + "/v2/droplets",
        json=body,
        headers={"Authorization": f"Bearer {sim.token}"},
        verify=sim.ca_path,
        timeout=10,
    )
    assert resp.status_code == 202, resp.text


def test_plugin_reads_every_page_filters_and_groups(sim, tmp_path):
    for i in range(1, 206):  # more than one page of 200
        create_droplet(sim, f"web-{i}", ["shop", "web"])
    create_droplet(sim, "db-1", ["shop", "db"], ipv6=True)
    create_droplet(sim, "blog-1", ["blog", "web"])
    proc = run_inventory(
        sim, tmp_path, "digitalocean",
        "plugin: sigma.deploy.digitalocean\ntags: [shop]\n"
        "keyed_groups:\n  - key: do_tags\n    prefix: tag\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    hosts = data["_meta"]["hostvars"]
    assert len(hosts) == 206
    assert "blog-1" not in hosts
    assert hosts["db-1"]["ansible_host"] == hosts["db-1"]["do_public_ipv4"]
    assert set(data["tag_db"]["hosts"]) == {"db-1"}
    assert len(data["tag_web"]["hosts"]) == 205

    v6 = run_inventory(
        sim, tmp_path, "digitalocean",
        "plugin: sigma.deploy.digitalocean\ntags: [shop]\nconnect_with: public_ipv6\n",
    )  # fmt: skip
    assert v6.returncode == 0, v6.stderr
    assert list(json.loads(v6.stdout)["_meta"]["hostvars"]) == ["db-1"]
    assert "skipping server web-1 has no public_ipv6" in " ".join(v6.stderr.split())


def test_a_bad_token_fails_clearly_without_showing_it(sim, tmp_path):
    proc = run_inventory(
        sim, tmp_path, "digitalocean", "plugin: sigma.deploy.digitalocean\n", token="wrong-one"
    )
    assert "DigitalOcean" in proc.stderr
    assert "wrong-one" not in proc.stderr + proc.stdout
