"""The pure parts of the DigitalOcean load balancer module, by exact equality: normal forms with
DigitalOcean's defaults, what changed, the whole-object PUT, and the droplet plans."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.load_balancer import (
    desired_settings,
    load_balancer_create_payload,
    load_balancer_ready,
    load_balancer_result,
    load_balancer_update_payload,
    normalize_forwarding_rules,
    normalize_health_check,
    normalize_sticky_sessions,
    plan_droplets,
    planned_load_balancer,
    settings_changes,
)

HTTP_RULE = {
    "entry_protocol": "http",
    "entry_port": 80,
    "target_protocol": "http",
    "target_port": 8080,
    "certificate_id": "",
    "tls_passthrough": False,
}
LB = {
    "id": "4de7ac8b-495b-4884-9a69-1050c6793cd6",
    "name": "shop",
    "project_id": "p-1",
    "ip": "203.0.113.1",
    "size_unit": 1,
    "size": "lb-small",
    "algorithm": "round_robin",
    "status": "active",
    "created_at": "2026-01-30T23:50:00Z",
    "forwarding_rules": [HTTP_RULE],
    "health_check": {
        "protocol": "http",
        "port": 8080,
        "path": "/healthz",
        "check_interval_seconds": 10,
        "response_timeout_seconds": 5,
        "healthy_threshold": 3,
        "unhealthy_threshold": 5,
    },
    "sticky_sessions": {"type": "none"},
    "region": {"slug": "fra1", "name": "Frankfurt 1"},
    "droplet_ids": [9, 3],
    "redirect_http_to_https": False,
    "enable_proxy_protocol": False,
    "enable_backend_keepalive": False,
    "http_idle_timeout_seconds": 60,
    "vpc_uuid": "5a4981aa-9653-4bd1-bef5-d6bff52042e4",
    "disable_lets_encrypt_dns_records": False,
    "firewall": {"deny": [], "allow": ["ip:198.51.100.0/24"]},
    "network": "EXTERNAL",
    "network_stack": "IPV4",
    "type": "REGIONAL",
    "tls_cipher_policy": "DEFAULT",
}
PARAMS = {
    "name": "shop",
    "region": "fra1",
    "size": None,
    "size_unit": None,
    "forwarding_rules": None,
    "health_check": None,
    "sticky_sessions": None,
    "redirect_http_to_https": None,
    "enable_proxy_protocol": None,
    "enable_backend_keepalive": None,
    "http_idle_timeout_seconds": None,
    "vpc_uuid": None,
    "tag": None,
}


def test_health_check_defaults_are_filled_in():
    assert normalize_health_check({"port": 8080, "path": "/healthz", "protocol": None}) == {
        "protocol": "http",
        "port": 8080,
        "path": "/healthz",
        "check_interval_seconds": 10,
        "response_timeout_seconds": 5,
        "healthy_threshold": 3,
        "unhealthy_threshold": 5,
    }


def test_a_tcp_health_check_has_no_path():
    assert normalize_health_check({"protocol": "tcp", "port": 5432, "path": "/"})["path"] is None


def test_forwarding_rules_in_normal_form_sorted_and_distinct():
    rules = [
        {
            "entry_protocol": "TCP",
            "entry_port": 5432,
            "target_protocol": "tcp",
            "target_port": 5432,
        },
        dict(HTTP_RULE, certificate_id=None),
        HTTP_RULE,
    ]
    assert normalize_forwarding_rules(rules) == [
        HTTP_RULE,
        {
            "entry_protocol": "tcp",
            "entry_port": 5432,
            "target_protocol": "tcp",
            "target_port": 5432,
            "certificate_id": "",
            "tls_passthrough": False,
        },
    ]


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        (None, {"type": "none"}),
        ({"type": "none", "cookie_name": "x"}, {"type": "none"}),
        (
            {"type": "cookies"},
            {"type": "cookies", "cookie_name": "DO-LB", "cookie_ttl_seconds": 300},
        ),
    ],
)
def test_sticky_sessions(given, normal):
    assert normalize_sticky_sessions(given) == normal


def test_result_is_flat():
    assert load_balancer_result(LB) == {
        "id": "4de7ac8b-495b-4884-9a69-1050c6793cd6",
        "name": "shop",
        "status": "active",
        "ip": "203.0.113.1",
        "ipv6": None,
        "region": "fra1",
        "size": "lb-small",
        "size_unit": 1,
        "forwarding_rules": [HTTP_RULE],
        "health_check": LB["health_check"],
        "sticky_sessions": {"type": "none"},
        "redirect_http_to_https": False,
        "enable_proxy_protocol": False,
        "enable_backend_keepalive": False,
        "http_idle_timeout_seconds": 60,
        "vpc_uuid": "5a4981aa-9653-4bd1-bef5-d6bff52042e4",
        "droplet_ids": [3, 9],
        "tag": None,
        "created_at": "2026-01-30T23:50:00Z",
    }


def test_only_given_settings_are_compared():
    params = dict(PARAMS, health_check={"port": 8080, "path": "/healthz"})
    assert settings_changes(LB, desired_settings(params)) == {}
    params = dict(PARAMS, health_check={"protocol": "tcp", "port": 8080}, size_unit=2)
    assert settings_changes(LB, desired_settings(params)) == {
        "health_check": {
            "protocol": "tcp",
            "port": 8080,
            "path": None,
            "check_interval_seconds": 10,
            "response_timeout_seconds": 5,
            "healthy_threshold": 3,
            "unhealthy_threshold": 5,
        },
        "size_unit": 2,
    }


def test_update_payload_repeats_what_the_module_does_not_manage():
    changes = {"enable_proxy_protocol": True}
    assert load_balancer_update_payload(LB, changes) == {
        "name": "shop",
        "region": "fra1",
        "forwarding_rules": [HTTP_RULE],
        "health_check": LB["health_check"],
        "sticky_sessions": {"type": "none"},
        "size_unit": 1,
        "redirect_http_to_https": False,
        "enable_proxy_protocol": True,
        "enable_backend_keepalive": False,
        "http_idle_timeout_seconds": 60,
        "algorithm": "round_robin",
        "vpc_uuid": "5a4981aa-9653-4bd1-bef5-d6bff52042e4",
        "project_id": "p-1",
        "firewall": {"deny": [], "allow": ["ip:198.51.100.0/24"]},
        "disable_lets_encrypt_dns_records": False,
        "network": "EXTERNAL",
        "network_stack": "IPV4",
        "type": "REGIONAL",
        "tls_cipher_policy": "DEFAULT",
        "droplet_ids": [3, 9],
    }


def test_update_payload_switches_to_a_tag_and_sends_the_legacy_size_alone():
    body = load_balancer_update_payload(LB, {"size": "lb-medium"}, tag="web")
    assert (body["tag"], body["size"], "size_unit" in body, "droplet_ids" in body) == (
        "web",
        "lb-medium",
        False,
        False,
    )
    tcp = {"health_check": normalize_health_check({"protocol": "tcp", "port": 22})}
    assert "path" not in load_balancer_update_payload(LB, tcp)["health_check"]


def test_create_payload():
    params = dict(PARAMS, forwarding_rules=[HTTP_RULE], size_unit=2)
    assert load_balancer_create_payload(params, desired_settings(params), [3]) == {
        "name": "shop",
        "region": "fra1",
        "forwarding_rules": [HTTP_RULE],
        "size_unit": 2,
        "droplet_ids": [3],
    }
    tagged = dict(params, tag="web")
    assert "droplet_ids" not in load_balancer_create_payload(tagged, {}, [3])


def test_planned_load_balancer_looks_like_what_the_api_will_show():
    params = dict(PARAMS, forwarding_rules=[HTTP_RULE])
    shaped = load_balancer_result(planned_load_balancer(params, desired_settings(params), [9]))
    assert (shaped["id"], shaped["region"], shaped["forwarding_rules"], shaped["droplet_ids"]) == (
        None,
        "fra1",
        [HTTP_RULE],
        [9],
    )
    assert shaped["health_check"]["check_interval_seconds"] == 10


@pytest.mark.parametrize(
    ("mode", "plan"),
    [("exact", ([5], [1])), ("present", ([5], [])), ("absent", ([], [3]))],
)
def test_plan_droplets(mode, plan):
    assert plan_droplets([1, 3], [3, 5], mode) == plan


def test_load_balancer_readiness():
    assert load_balancer_ready({"status": "new"}) is False
    assert load_balancer_ready({"status": "active"}) is True
    assert load_balancer_ready({"status": "errored"}) is True
