"""The pure parts of the DigitalOcean droplet, SSH key and firewall modules, by exact equality:
payloads, results, normal forms and plans."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.shapes import (
    normalize_cidr,
    plan_set,
    ssh_key_fingerprint,
)
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.shapes import (
    droplet_create_payload,
    droplet_firewalls,
    droplet_result,
    firewall_payload,
    firewall_result,
    firewall_settled,
    image_ref,
    normalize_ports,
    normalize_rules,
    plan_tags,
    planned_droplet,
    ssh_key_result,
)

PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFPRB2i5Dve4rcZ4YNJ8Uq4uTgA3TDmsiHtC8R+S09l7 it"

DROPLET = {
    "id": 42,
    "name": "web-1",
    "memory": 1024,
    "vcpus": 1,
    "disk": 25,
    "status": "active",
    "created_at": "2026-01-30T23:50:00Z",
    "features": ["private_networking", "ipv6"],
    "image": {"id": 160000101, "slug": "debian-12-x64"},
    "size": {"slug": "s-1vcpu-1gb"},
    "size_slug": "s-1vcpu-1gb",
    "networks": {
        "v4": [
            {"ip_address": "10.110.0.2", "type": "private"},
            {"ip_address": "203.0.113.10", "type": "public"},
        ],
        "v6": [{"ip_address": "2001:db8::10", "type": "public"}],
    },
    "region": {"slug": "fra1", "name": "Frankfurt 1"},
    "tags": ["web", "shop"],
    "vpc_uuid": "5a4981aa-9653-4bd1-bef5-d6bff52042e4",
}
PARAMS = {
    "name": "web-1",
    "size": "s-1vcpu-1gb",
    "image": "debian-12-x64",
    "region": "fra1",
    "tags": ["web", "Shop", "shop"],
    "user_data": None,
    "ipv6": True,
    "monitoring": None,
    "vpc_uuid": None,
}


# --- droplets ------------------------------------------------------------------------------------
def test_droplet_result_is_flat():
    assert droplet_result(dict(DROPLET, firewalls=["web", "base"])) == {
        "id": 42,
        "name": "web-1",
        "status": "active",
        "region": "fra1",
        "size": "s-1vcpu-1gb",
        "image": "debian-12-x64",
        "vcpus": 1,
        "memory": 1024,
        "disk": 25,
        "ipv4_address": "203.0.113.10",
        "private_ipv4_address": "10.110.0.2",
        "ipv6_address": "2001:db8::10",
        "tags": ["shop", "web"],
        "firewalls": ["base", "web"],
        "ipv6": True,
        "monitoring": False,
        "vpc_uuid": "5a4981aa-9653-4bd1-bef5-d6bff52042e4",
        "created_at": "2026-01-30T23:50:00Z",
    }


def test_a_new_droplet_has_no_addresses_yet():
    new = dict(DROPLET, status="new", networks={"v4": [], "v6": []}, image={"id": 7})
    shaped = droplet_result(new)
    assert (shaped["ipv4_address"], shaped["ipv6_address"], shaped["image"]) == (None, None, "7")


def test_create_payload():
    assert droplet_create_payload(PARAMS, [512189, 512190]) == {
        "name": "web-1",
        "size": "s-1vcpu-1gb",
        "image": "debian-12-x64",
        "region": "fra1",
        "ssh_keys": [512189, 512190],
        "tags": ["shop", "web"],
        "ipv6": True,
    }


def test_create_payload_minimal_with_an_image_id():
    params = dict(PARAMS, image="160000101", region=None, tags=None, ipv6=None)
    assert droplet_create_payload(params, []) == {
        "name": "web-1",
        "size": "s-1vcpu-1gb",
        "image": 160000101,
    }


def test_planned_droplet_looks_like_what_the_api_will_show():
    shaped = droplet_result(planned_droplet(PARAMS, ["web"]))
    assert {k: shaped[k] for k in ("id", "status", "region", "size", "image", "firewalls")} == {
        "id": None,
        "status": "active",
        "region": "fra1",
        "size": "s-1vcpu-1gb",
        "image": "debian-12-x64",
        "firewalls": ["web"],
    }
    assert (shaped["ipv6"], shaped["monitoring"]) == (True, False)


def test_image_ref():
    assert (image_ref("debian-12-x64"), image_ref(" 160000101 ")) == ("debian-12-x64", 160000101)


def test_droplet_firewalls_directly_and_by_tag():
    firewalls = [
        {"name": "direct", "droplet_ids": [42], "tags": []},
        {"name": "by-tag", "droplet_ids": [], "tags": ["WEB"]},
        {"name": "other", "droplet_ids": [7], "tags": ["db"]},
    ]
    assert droplet_firewalls(DROPLET, firewalls) == ["by-tag", "direct"]


@pytest.mark.parametrize(
    ("current", "desired", "plan"),
    [
        (["web", "shop"], ["shop", "web"], ([], [])),
        (["web", "shop"], ["SHOP", "Web"], ([], [])),
        (["web", "shop"], ["web", "db"], (["db"], ["shop"])),
        ([], ["b", "a", "A"], (["A", "b"], [])),
        (["Web"], [], ([], ["Web"])),
    ],
)
def test_plan_tags_without_case(current, desired, plan):
    assert plan_tags(current, desired) == plan


def test_plan_set():
    assert plan_set([1, 2, 3], [3, 4]) == ([4], [1, 2])


# --- SSH keys ------------------------------------------------------------------------------------
def test_ssh_key_fingerprint_is_the_md5_that_digitalocean_shows():
    assert ssh_key_fingerprint(PUBLIC_KEY) == "ca:21:8a:ab:81:63:25:8a:d2:66:ed:f7:26:b9:e2:0a"
    assert ssh_key_fingerprint(PUBLIC_KEY.rsplit(" ", 1)[0]) == ssh_key_fingerprint(PUBLIC_KEY)
    assert ssh_key_fingerprint("not a key") is None
    assert ssh_key_fingerprint("") is None


def test_ssh_key_result():
    key = {"id": 1, "name": "k", "fingerprint": "aa", "public_key": "ssh-ed25519 AAAA"}
    assert ssh_key_result(dict(key, extra=True)) == key


# --- firewalls -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("198.51.100.7", "198.51.100.7/32"),
        ("10.0.0.5/24", "10.0.0.5/24"),
        ("::/0", "::/0"),
        ("2001:DB8:0:0::/64", "2001:db8::/64"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_normalize_cidr(text, normal):
    assert normalize_cidr(text) == normal


@pytest.mark.parametrize(
    ("protocol", "ports", "normal"),
    [
        ("tcp", "22", "22"),
        ("tcp", 22, "22"),
        ("tcp", "all", "0"),
        ("tcp", "1-65535", "0"),
        ("tcp", None, "0"),
        ("udp", "8000-9000", "8000-9000"),
        ("udp", "53-53", "53"),
        ("icmp", "22", "0"),
    ],
)
def test_normalize_ports(protocol, ports, normal):
    assert normalize_ports(protocol, ports) == normal


def test_rules_compare_as_a_set_in_normal_form():
    written_one_way = [
        {"protocol": "tcp", "ports": "22", "sources": {"addresses": ["198.51.100.7"]}},
        {"protocol": "icmp", "sources": {"addresses": ["::/0", "0.0.0.0/0"]}},
        {"protocol": "TCP", "ports": "22", "sources": {"addresses": ["198.51.100.7/32"]}},
    ]
    written_another = [
        {
            "protocol": "icmp",
            "ports": "0",
            "sources": {"addresses": ["0.0.0.0/0", "::/0"], "tags": None, "droplet_ids": []},
        },
        {"protocol": "tcp", "ports": "22-22", "sources": {"addresses": ["198.51.100.7/32"]}},
    ]
    assert normalize_rules(written_one_way, "sources") == [
        {"ports": "0", "protocol": "icmp", "sources": {"addresses": ["0.0.0.0/0", "::/0"]}},
        {"ports": "22", "protocol": "tcp", "sources": {"addresses": ["198.51.100.7/32"]}},
    ]
    assert normalize_rules(written_another, "sources") == normalize_rules(
        written_one_way, "sources"
    )


def test_rule_targets_keep_every_kind():
    rule = {
        "protocol": "tcp",
        "ports": "5432",
        "destinations": {
            "droplet_ids": [9, 3, 9],
            "tags": ["db"],
            "load_balancer_uids": ["lb-2", "lb-1"],
            "kubernetes_ids": [],
        },
    }
    assert normalize_rules([rule], "destinations") == [
        {
            "protocol": "tcp",
            "ports": "5432",
            "destinations": {
                "droplet_ids": [3, 9],
                "load_balancer_uids": ["lb-1", "lb-2"],
                "tags": ["db"],
            },
        }
    ]


def test_firewall_payload_and_result():
    inbound = [{"protocol": "tcp", "ports": "all", "sources": {"addresses": ["0.0.0.0/0"]}}]
    body = firewall_payload("web", inbound, None, [7, 3], ["web"])
    assert body == {
        "name": "web",
        "inbound_rules": [
            {"protocol": "tcp", "ports": "0", "sources": {"addresses": ["0.0.0.0/0"]}}
        ],
        "outbound_rules": [],
        "droplet_ids": [3, 7],
        "tags": ["web"],
    }
    api_form = dict(body, id="fw-1", status="waiting", created_at="t", pending_changes=[])
    assert firewall_result(api_form) == {
        "id": "fw-1",
        "name": "web",
        "status": "waiting",
        "inbound_rules": body["inbound_rules"],
        "outbound_rules": [],
        "droplet_ids": [3, 7],
        "tags": ["web"],
        "created_at": "t",
    }


def test_firewall_readiness():
    assert firewall_settled({"status": "waiting"}) is False
    assert firewall_settled({"status": "succeeded"}) is True
    assert firewall_settled({"status": "failed"}) is True
