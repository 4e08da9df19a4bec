"""Pure payload and result functions of the Hetzner modules, by exact equality."""

from __future__ import annotations

from ansible_collections.sigma.deploy.plugins.module_utils.client.shapes import (
    normalize_cidr,
    plan_set,
    ssh_key_fingerprint,
)
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.shapes import (
    applied_to,
    apply_to_payload,
    firewall_result,
    normalize_labels,
    normalize_rule,
    normalize_rules,
    planned_server,
    rule_payload,
    server_create_payload,
    server_result,
    server_type_differs,
)

PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFPRB2i5Dve4rcZ4YNJ8Uq4uTgA3TDmsiHtC8R+S09l7 test"

SERVER = {
    "id": 42,
    "name": "web-1",
    "status": "running",
    "created": "2026-01-30T23:50:00+00:00",
    "server_type": {"id": 104, "name": "cx22"},
    "image": {"id": 114690387, "name": "debian-12"},
    "datacenter": {"name": "fsn1-dc14", "location": {"name": "fsn1"}},
    "location": {"id": 1, "name": "fsn1"},
    "labels": {"app": "shop"},
    "public_net": {
        "ipv4": {"ip": "203.0.113.10"},
        "ipv6": {"ip": "2001:db8:1:2::/64"},
        "firewalls": [{"id": 9, "status": "applied"}, {"id": 3, "status": "pending"}],
    },
    "private_net": [{"ip": "10.0.0.2", "network": 4}],
}


def test_labels_are_strings():
    assert normalize_labels({"app": "shop", "n": 3, "on": True, "off": False, "e": None}) == {
        "app": "shop",
        "n": "3",
        "on": "true",
        "off": "false",
        "e": "",
    }
    assert normalize_labels(None) is None


def test_fingerprint_matches_ssh_keygen():
    # ssh-keygen -l -E md5 -f key.pub
    assert ssh_key_fingerprint(PUBLIC_KEY) == "ca:21:8a:ab:81:63:25:8a:d2:66:ed:f7:26:b9:e2:0a"
    assert ssh_key_fingerprint(PUBLIC_KEY.replace(" test", " other-comment")) == (
        "ca:21:8a:ab:81:63:25:8a:d2:66:ed:f7:26:b9:e2:0a"
    )
    assert ssh_key_fingerprint("not a key") is None
    assert ssh_key_fingerprint("") is None


def test_server_result_is_flat():
    assert server_result(SERVER) == {
        "id": 42,
        "name": "web-1",
        "status": "running",
        "server_type": "cx22",
        "image": "debian-12",
        "location": "fsn1",
        "ipv4_address": "203.0.113.10",
        "ipv6": "2001:db8:1:2::/64",
        "private_ipv4": "10.0.0.2",
        "labels": {"app": "shop"},
        "firewalls": [3, 9],
        "created": "2026-01-30T23:50:00+00:00",
    }


def test_server_without_public_addresses():
    bare = dict(SERVER, public_net={"ipv4": None, "ipv6": None, "firewalls": []}, private_net=[])
    shaped = server_result(bare)
    assert (shaped["ipv4_address"], shaped["ipv6"], shaped["private_ipv4"]) == (None, None, None)


def test_server_image_without_a_name_shows_its_id():
    assert server_result(dict(SERVER, image={"id": 77, "name": None}))["image"] == "77"
    assert server_result(dict(SERVER, image=None))["image"] is None


PARAMS = {
    "name": "web-1",
    "server_type": "cx22",
    "image": "debian-12",
    "location": "fsn1",
    "labels": {"app": "shop", "n": 1},
    "user_data": "#cloud-config\n",
    "ssh_keys": ["7", "8"],
}


def test_server_create_payload():
    assert server_create_payload(PARAMS, [5, 6], start=False) == {
        "name": "web-1",
        "server_type": "cx22",
        "image": "debian-12",
        "start_after_create": False,
        "location": "fsn1",
        "labels": {"app": "shop", "n": "1"},
        "user_data": "#cloud-config\n",
        "ssh_keys": ["7", "8"],
        "firewalls": [{"firewall": 5}, {"firewall": 6}],
    }


def test_server_create_payload_leaves_out_what_is_not_given():
    bare = {
        "name": "a",
        "server_type": "cx22",
        "image": "debian-12",
        "location": None,
        "labels": None,
        "user_data": None,
        "ssh_keys": None,
    }
    assert server_create_payload(bare, [], start=True) == {
        "name": "a",
        "server_type": "cx22",
        "image": "debian-12",
        "start_after_create": True,
    }


def test_planned_server_shapes_like_a_real_one():
    assert server_result(planned_server(PARAMS, "off", [5])) == {
        "id": None,
        "name": "web-1",
        "status": "off",
        "server_type": "cx22",
        "image": "debian-12",
        "location": "fsn1",
        "ipv4_address": None,
        "ipv6": None,
        "private_ipv4": None,
        "labels": {"app": "shop", "n": "1"},
        "firewalls": [5],
        "created": None,
    }


def test_server_type_differs_by_name_or_id():
    assert server_type_differs(SERVER, "cx32") is True
    assert server_type_differs(SERVER, "cx22") is False
    assert server_type_differs(SERVER, "104") is False
    assert server_type_differs(SERVER, None) is False


# --- firewalls -----------------------------------------------------------------------------------
def test_cidr_normal_form():
    assert normalize_cidr("192.0.2.1") == "192.0.2.1/32"
    assert normalize_cidr(" 10.0.0.0/8 ") == "10.0.0.0/8"
    assert normalize_cidr("10.0.0.5/24") == "10.0.0.5/24"  # host bits kept as given
    assert normalize_cidr("2001:0db8:0000::/32") == "2001:db8::/32"
    assert normalize_cidr("::/0") == "::/0"
    assert normalize_cidr("garbage") == "garbage"


def test_rule_normal_form():
    assert normalize_rule(
        {
            "direction": "in",
            "protocol": "tcp",
            "port": 22,
            "source_ips": ["::/0", "0.0.0.0/0"],
            "destination_ips": ["1.2.3.4/32"],
            "description": "",
        }
    ) == {
        "direction": "in",
        "protocol": "tcp",
        "port": "22",
        "source_ips": ["0.0.0.0/0", "::/0"],
        "destination_ips": [],
        "description": None,
    }
    assert normalize_rule(
        {"direction": "out", "protocol": "icmp", "port": "80", "destination_ips": ["192.0.2.1"]}
    ) == {
        "direction": "out",
        "protocol": "icmp",
        "port": None,
        "source_ips": [],
        "destination_ips": ["192.0.2.1/32"],
        "description": None,
    }


def test_rules_compare_order_independently():
    a = [
        {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0", "::/0"]},
        {"direction": "in", "protocol": "icmp", "source_ips": ["0.0.0.0/0"]},
    ]
    b = [
        {
            "direction": "in",
            "protocol": "icmp",
            "port": None,
            "source_ips": ["0.0.0.0/0"],
            "destination_ips": [],
            "description": None,
        },
        {
            "direction": "in",
            "protocol": "tcp",
            "port": "22",
            "source_ips": ["::/0", "0.0.0.0/0"],
            "destination_ips": [],
        },
    ]
    assert normalize_rules(a) == normalize_rules(b)
    assert normalize_rules(a) != normalize_rules(a[:1])


def test_rule_payload_leaves_out_empty_parts():
    rule = normalize_rule({"direction": "in", "protocol": "icmp", "source_ips": ["0.0.0.0/0"]})
    assert rule_payload(rule) == {
        "direction": "in",
        "protocol": "icmp",
        "source_ips": ["0.0.0.0/0"],
    }
    rule = normalize_rule(
        {
            "direction": "out",
            "protocol": "tcp",
            "port": "443",
            "destination_ips": ["::/0"],
            "description": "https out",
        }
    )
    assert rule_payload(rule) == {
        "direction": "out",
        "protocol": "tcp",
        "port": "443",
        "destination_ips": ["::/0"],
        "description": "https out",
    }


FIREWALL = {
    "id": 38,
    "name": "web",
    "labels": {},
    "created": "2026-01-30T23:50:00+00:00",
    "rules": [
        {
            "direction": "in",
            "protocol": "tcp",
            "port": "80",
            "source_ips": ["0.0.0.0/0"],
            "destination_ips": [],
            "description": None,
        }
    ],
    "applied_to": [
        {"type": "server", "server": {"id": 42}},
        {
            "type": "label_selector",
            "label_selector": {"selector": "role=web"},
            "applied_to_resources": [{"type": "server", "server": {"id": 43}}],
        },
        {"type": "server", "server": {"id": 7}},
    ],
}


def test_applied_to_and_its_payload():
    assert applied_to(FIREWALL) == ([7, 42], ["role=web"])
    assert apply_to_payload([7], ["role=web"]) == [
        {"type": "server", "server": {"id": 7}},
        {"type": "label_selector", "label_selector": {"selector": "role=web"}},
    ]


def test_firewall_result():
    assert firewall_result(FIREWALL) == {
        "id": 38,
        "name": "web",
        "labels": {},
        "rules": [
            {
                "direction": "in",
                "protocol": "tcp",
                "port": "80",
                "source_ips": ["0.0.0.0/0"],
                "destination_ips": [],
                "description": None,
            }
        ],
        "servers": [7, 42],
        "label_selectors": ["role=web"],
        "created": "2026-01-30T23:50:00+00:00",
    }


def test_plan_set():
    assert plan_set([1, 2, 3], [2, 3, 4, 5]) == ([4, 5], [1])
    assert plan_set(["a"], ["a"]) == ([], [])
