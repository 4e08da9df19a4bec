"""Load balancer services and targets: normal forms, plans and payloads."""

from __future__ import annotations

from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.load_balancer import (
    apply_target_plan,
    load_balancer_create_payload,
    load_balancer_result,
    make_target,
    normalize_service,
    plan_services,
    plan_targets,
    target_payload,
)

HTTP_DEFAULTS = {
    "protocol": "http",
    "listen_port": 80,
    "destination_port": 80,
    "proxyprotocol": False,
    "health_check": {
        "protocol": "http",
        "port": 80,
        "interval": 15,
        "timeout": 10,
        "retries": 3,
        "http": {
            "domain": None,
            "path": "/",
            "response": "",
            "status_codes": ["2??", "3??"],
            "tls": False,
        },
    },
    "http": {
        "sticky_sessions": False,
        "cookie_name": "HCLBSTICKY",
        "cookie_lifetime": 300,
        "redirect_http": False,
        "certificates": [],
    },
}


def test_an_http_service_gets_every_default():
    assert normalize_service({"protocol": "http"}) == HTTP_DEFAULTS


def test_a_tcp_service_checks_tcp_on_its_destination_port():
    assert normalize_service({"protocol": "tcp", "listen_port": 5432, "health_check": None}) == {
        "protocol": "tcp",
        "listen_port": 5432,
        "destination_port": 5432,
        "proxyprotocol": False,
        "health_check": {
            "protocol": "tcp",
            "port": 5432,
            "interval": 15,
            "timeout": 10,
            "retries": 3,
        },
    }


def test_given_values_win_and_zero_retries_is_kept():
    service = normalize_service(
        {
            "protocol": "https",
            "destination_port": 8080,
            "proxyprotocol": True,
            "health_check": {
                "protocol": "http",
                "retries": 0,
                "http": {"path": "/healthz", "status_codes": ["200"]},
            },
            "http": {"certificates": [9, 3], "redirect_http": True},
        }
    )
    assert service["listen_port"] == 443
    assert service["destination_port"] == 8080
    assert service["health_check"]["port"] == 8080
    assert service["health_check"]["retries"] == 0
    assert service["health_check"]["http"]["status_codes"] == ["200"]
    assert service["http"]["certificates"] == [3, 9]
    assert service["http"]["redirect_http"] is True


def test_an_api_service_and_the_option_that_made_it_compare_equal():
    from_api = {
        "protocol": "http",
        "listen_port": 80,
        "destination_port": 80,
        "proxyprotocol": False,
        "health_check": {
            "protocol": "http",
            "port": 80,
            "interval": 15,
            "timeout": 10,
            "retries": 3,
            "http": {
                "domain": None,
                "path": "/",
                "response": "",
                "status_codes": ["3??", "2??"],
                "tls": False,
            },
        },
        "http": {
            "sticky_sessions": False,
            "cookie_name": "HCLBSTICKY",
            "cookie_lifetime": 300,
            "redirect_http": False,
            "certificates": [],
        },
    }
    assert plan_services([from_api], [{"protocol": "http", "listen_port": None}]) == ([], [], [])


def test_plan_services_adds_updates_and_deletes_by_listen_port():
    current = [{"protocol": "http", "listen_port": 80}, {"protocol": "tcp", "listen_port": 22}]
    desired = [
        {"protocol": "http", "listen_port": 80, "destination_port": 8080},
        {"protocol": "tcp", "listen_port": 5432},
    ]
    add, update, delete = plan_services(current, desired)
    assert [s["listen_port"] for s in add] == [5432]
    assert [(s["listen_port"], s["destination_port"]) for s in update] == [(80, 8080)]
    assert delete == [22]


SERVER_42 = {
    "type": "server",
    "server": {"id": 42},
    "use_private_ip": False,
    "health_status": [{"listen_port": 80, "status": "healthy"}],
}
SERVER_43 = {"type": "server", "server": {"id": 43}, "use_private_ip": False}
WEB = {
    "type": "label_selector",
    "label_selector": {"selector": "role=web"},
    "use_private_ip": False,
    "targets": [{"type": "server", "server": {"id": 42}}],
}


def test_make_target_and_payloads():
    assert make_target("server", "42") == {
        "type": "server",
        "server": {"id": 42},
        "use_private_ip": False,
    }
    assert make_target("ip", "192.0.2.9") == {"type": "ip", "ip": {"ip": "192.0.2.9"}}
    assert target_payload(WEB) == {
        "type": "label_selector",
        "label_selector": {"selector": "role=web"},
        "use_private_ip": False,
    }
    assert target_payload(SERVER_42, remove=True) == {"type": "server", "server": {"id": 42}}
    assert target_payload(make_target("ip", "192.0.2.9")) == {
        "type": "ip",
        "ip": {"ip": "192.0.2.9"},
    }


def test_exact_targets():
    remove, add = plan_targets([SERVER_42, WEB], [make_target("server", 43)], "exact")
    assert remove == [SERVER_42, WEB]
    assert add == [make_target("server", 43)]


def test_present_adds_only_the_missing_targets():
    remove, add = plan_targets(
        [SERVER_42], [make_target("server", 42), make_target("server", 43)], "present"
    )
    assert (remove, add) == ([], [make_target("server", 43)])


def test_absent_drains_one_target_and_leaves_the_rest():
    remove, add = plan_targets([SERVER_42, SERVER_43, WEB], [make_target("server", 42)], "absent")
    assert (remove, add) == ([SERVER_42], [])
    assert plan_targets([SERVER_43], [make_target("server", 42)], "absent") == ([], [])


def test_a_changed_private_ip_flag_re_adds_the_target():
    wanted = make_target("server", 42, use_private_ip=True)
    assert plan_targets([SERVER_42], [wanted], "present") == ([SERVER_42], [wanted])


def test_apply_target_plan_predicts_the_list():
    new = make_target("server", 44)
    assert apply_target_plan([SERVER_42, SERVER_43], [SERVER_42], [new]) == [SERVER_43, new]


def test_load_balancer_result_and_create_payload():
    lb = {
        "id": 4711,
        "name": "shop",
        "created": "2026-01-30T23:50:00+00:00",
        "labels": {"a": "b"},
        "load_balancer_type": {"name": "lb11"},
        "location": {"name": "fsn1"},
        "algorithm": {"type": "round_robin"},
        "public_net": {"ipv4": {"ip": "203.0.113.20"}, "ipv6": {"ip": "2001:db8::1"}},
        "services": [{"protocol": "http"}],
        "targets": [SERVER_42],
    }
    assert load_balancer_result(lb) == {
        "id": 4711,
        "name": "shop",
        "load_balancer_type": "lb11",
        "location": "fsn1",
        "algorithm": "round_robin",
        "labels": {"a": "b"},
        "ipv4_address": "203.0.113.20",
        "ipv6_address": "2001:db8::1",
        "services": [HTTP_DEFAULTS],
        "targets": [
            {
                "type": "server",
                "server": 42,
                "label_selector": None,
                "ip": None,
                "use_private_ip": False,
                "health_status": [{"listen_port": 80, "status": "healthy"}],
            }
        ],
        "created": "2026-01-30T23:50:00+00:00",
    }
    params = {
        "name": "shop",
        "load_balancer_type": "lb11",
        "location": "fsn1",
        "algorithm": None,
        "network_zone": None,
        "labels": None,
    }
    assert load_balancer_create_payload(params, [HTTP_DEFAULTS], [make_target("server", 42)]) == {
        "name": "shop",
        "load_balancer_type": "lb11",
        "algorithm": {"type": "round_robin"},
        "location": "fsn1",
        "services": [HTTP_DEFAULTS],
        "targets": [{"type": "server", "server": {"id": 42}, "use_private_ip": False}],
    }
