# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure functions for DigitalOcean load balancers: forwarding rules, health checks and sticky
sessions in normal form (DigitalOcean's defaults filled in), the plans that turn the current
settings and droplets into the wanted ones, payloads and the flat result.
"""

from __future__ import annotations

import json

LOAD_BALANCER_MANAGED = (
    "name",
    "region",
    "size",
    "size_unit",
    "forwarding_rules",
    "health_check",
    "sticky_sessions",
    "redirect_http_to_https",
    "enable_proxy_protocol",
    "enable_backend_keepalive",
    "http_idle_timeout_seconds",
    "droplet_ids",
    "tag",
)
# Settings that are plain values, compared and sent as they are.
SCALARS = (
    "size",
    "size_unit",
    "redirect_http_to_https",
    "enable_proxy_protocol",
    "enable_backend_keepalive",
    "http_idle_timeout_seconds",
)
# What a PUT must repeat so that settings this module does not manage keep their values
# (PUT replaces the whole load balancer).
KEPT = (
    "algorithm",
    "vpc_uuid",
    "project_id",
    "firewall",
    "disable_lets_encrypt_dns_records",
    "network",
    "network_stack",
    "type",
    "tls_cipher_policy",
)
HEALTH_DEFAULTS = {
    "protocol": "http",
    "port": 80,
    "path": "/",
    "check_interval_seconds": 10,
    "response_timeout_seconds": 5,
    "healthy_threshold": 3,
    "unhealthy_threshold": 5,
}
STICKY_DEFAULTS = {"cookie_name": "DO-LB", "cookie_ttl_seconds": 300}


def normalize_forwarding_rule(rule):
    return {
        "entry_protocol": str(rule.get("entry_protocol") or "").lower(),
        "entry_port": int(rule["entry_port"]),
        "target_protocol": str(rule.get("target_protocol") or "").lower(),
        "target_port": int(rule["target_port"]),
        "certificate_id": rule.get("certificate_id") or "",
        "tls_passthrough": bool(rule.get("tls_passthrough")),
    }


def normalize_forwarding_rules(rules):
    """Rules sorted by entry port, without duplicates: equal lists mean the same rules."""
    unique = {}
    for rule in rules or []:
        normal = normalize_forwarding_rule(rule)
        unique[json.dumps(normal, sort_keys=True)] = normal
    return sorted(
        unique.values(), key=lambda r: (r["entry_port"], r["entry_protocol"], r["target_port"])
    )


def normalize_health_check(check):
    """A health check with DigitalOcean's defaults filled in; a tcp check has no path."""
    given = {k: v for k, v in (check or {}).items() if v is not None and k in HEALTH_DEFAULTS}
    out = dict(HEALTH_DEFAULTS, **given)
    out["protocol"] = str(out["protocol"]).lower()
    if out["protocol"] == "tcp":
        out["path"] = None
    return out


def normalize_sticky_sessions(sticky):
    sticky = sticky or {}
    if (sticky.get("type") or "none") == "none":
        return {"type": "none"}
    return {
        "type": "cookies",
        "cookie_name": sticky.get("cookie_name") or STICKY_DEFAULTS["cookie_name"],
        "cookie_ttl_seconds": sticky.get("cookie_ttl_seconds")
        or STICKY_DEFAULTS["cookie_ttl_seconds"],
    }


def health_check_payload(check):
    return {k: v for k, v in check.items() if v is not None}


def load_balancer_result(lb):
    return {
        "id": lb.get("id"),
        "name": lb.get("name"),
        "status": lb.get("status"),
        "ip": lb.get("ip") or None,
        "ipv6": lb.get("ipv6") or None,
        "region": (lb.get("region") or {}).get("slug"),
        "size": lb.get("size"),
        "size_unit": lb.get("size_unit"),
        "forwarding_rules": normalize_forwarding_rules(lb.get("forwarding_rules")),
        "health_check": normalize_health_check(lb.get("health_check")),
        "sticky_sessions": normalize_sticky_sessions(lb.get("sticky_sessions")),
        "redirect_http_to_https": bool(lb.get("redirect_http_to_https")),
        "enable_proxy_protocol": bool(lb.get("enable_proxy_protocol")),
        "enable_backend_keepalive": bool(lb.get("enable_backend_keepalive")),
        "http_idle_timeout_seconds": lb.get("http_idle_timeout_seconds"),
        "vpc_uuid": lb.get("vpc_uuid"),
        "droplet_ids": sorted(lb.get("droplet_ids") or []),
        "tag": lb.get("tag") or None,
        "created_at": lb.get("created_at"),
    }


def desired_settings(params):
    """The settings a task asks for, in normal form; options left out are not in it."""
    out = {}
    if params.get("forwarding_rules") is not None:
        out["forwarding_rules"] = normalize_forwarding_rules(params["forwarding_rules"])
    if params.get("health_check") is not None:
        out["health_check"] = normalize_health_check(params["health_check"])
    if params.get("sticky_sessions") is not None:
        out["sticky_sessions"] = normalize_sticky_sessions(params["sticky_sessions"])
    for key in SCALARS:
        if params.get(key) is not None:
            out[key] = params[key]
    return out


def settings_changes(lb, desired):
    """The desired settings that differ from the load balancer's."""
    current = load_balancer_result(lb)
    return {key: value for key, value in desired.items() if current.get(key) != value}


def _apply_settings(body, settings):
    for key, value in settings.items():
        body[key] = health_check_payload(value) if key == "health_check" else value
    if "size" in settings:
        body.pop("size_unit", None)  # the legacy size and size_unit do not go together
    elif "size_unit" in body:
        body.pop("size", None)
    return body


def load_balancer_create_payload(params, settings, droplet_ids):
    """The body of ``POST /v2/load_balancers``."""
    body = {"name": params["name"], "region": params["region"]}
    _apply_settings(body, settings)
    if params.get("vpc_uuid"):
        body["vpc_uuid"] = params["vpc_uuid"]
    if params.get("tag"):
        body["tag"] = params["tag"]
    else:
        body["droplet_ids"] = list(droplet_ids)
    return body


def load_balancer_update_payload(lb, changes, tag=None, droplet_ids=None):
    """The body of ``PUT /v2/load_balancers/{id}``: the whole load balancer as it is, with
    ``changes`` applied and its droplets given by ``tag`` or by ``droplet_ids`` (by default
    the way and the droplets it has)."""
    view = load_balancer_result(lb)
    body = {
        "name": view["name"],
        "region": view["region"],
        "forwarding_rules": view["forwarding_rules"],
        "health_check": health_check_payload(view["health_check"]),
        "sticky_sessions": view["sticky_sessions"],
    }
    for key in SCALARS:
        if view[key] is not None:
            body[key] = view[key]
    for key in KEPT:
        if lb.get(key) is not None:
            body[key] = lb[key]
    _apply_settings(body, changes)
    if tag is None and droplet_ids is None:
        tag = view["tag"]
        droplet_ids = view["droplet_ids"]
    if tag:
        body["tag"] = tag
    else:
        body["droplet_ids"] = sorted(droplet_ids or [])
    return body


def plan_droplets(current, desired, mode):
    """(to add, to remove) for ``droplets_state`` ``exact``, ``present`` or ``absent``."""
    current, desired = set(current or []), set(desired or [])
    if mode == "absent":
        return [], sorted(current & desired)
    remove = sorted(current - desired) if mode == "exact" else []
    return sorted(desired - current), remove


def planned_load_balancer(params, settings, droplet_ids):
    """What a load balancer about to be created will look like (check mode)."""
    lb = {
        "id": None,
        "name": params["name"],
        "status": "active",
        "region": {"slug": params["region"]},
        "size_unit": 1,
        "vpc_uuid": params.get("vpc_uuid"),
        "tag": params.get("tag"),
        "droplet_ids": [] if params.get("tag") else list(droplet_ids),
    }
    for key, value in settings.items():
        lb[key] = health_check_payload(value) if key == "health_check" else value
    return lb


def load_balancer_ready(lb):
    """Readiness of a load balancer: no longer ``new`` (``active``, or ``errored``)."""
    return lb.get("status") != "new"
