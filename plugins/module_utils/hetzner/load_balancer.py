# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure functions for Hetzner load balancers: services and targets in normal form, the plans
that turn the current ones into the wanted ones, payloads and the flat result.
"""

from __future__ import annotations

LOAD_BALANCER_MANAGED = (
    "name",
    "load_balancer_type",
    "location",
    "algorithm",
    "labels",
    "services",
    "targets",
)
TARGET_KINDS = ("server", "label_selector", "ip")


def normalize_service(service):
    """A service with every default filled in, as Hetzner documents them; the same form serves
    for comparing and as the ``add_service`` / ``update_service`` payload."""
    protocol = service.get("protocol") or "tcp"
    web = protocol in ("http", "https")
    listen = service.get("listen_port") or {"http": 80, "https": 443}.get(protocol)
    destination = service.get("destination_port") or (80 if web else listen)
    check = service.get("health_check") or {}
    check_protocol = check.get("protocol") or ("http" if web else "tcp")
    health = {
        "protocol": check_protocol,
        "port": check.get("port") or destination,
        "interval": check.get("interval") or 15,
        "timeout": check.get("timeout") or 10,
        "retries": 3 if check.get("retries") is None else check["retries"],
    }
    if check_protocol == "http":
        http = check.get("http") or {}
        health["http"] = {
            "domain": http.get("domain") or None,
            "path": http.get("path") or "/",
            "response": http.get("response") or "",
            "status_codes": sorted(str(c) for c in http.get("status_codes") or ["2??", "3??"]),
            "tls": bool(http.get("tls")),
        }
    out = {
        "protocol": protocol,
        "listen_port": listen,
        "destination_port": destination,
        "proxyprotocol": bool(service.get("proxyprotocol")),
        "health_check": health,
    }
    if web:
        http = service.get("http") or {}
        out["http"] = {
            "sticky_sessions": bool(http.get("sticky_sessions")),
            "cookie_name": http.get("cookie_name") or "HCLBSTICKY",
            "cookie_lifetime": http.get("cookie_lifetime") or 300,
            "redirect_http": bool(http.get("redirect_http")),
            "certificates": sorted(int(c) for c in http.get("certificates") or []),
        }
    return out


def normalize_services(services):
    return sorted((normalize_service(s) for s in services or []), key=lambda s: s["listen_port"])


def plan_services(current, desired):
    """(to add, to update, listen ports to delete) so that exactly ``desired`` remain."""
    have = {s["listen_port"]: s for s in normalize_services(current)}
    want = {s["listen_port"]: s for s in normalize_services(desired)}
    add = [want[p] for p in sorted(want) if p not in have]
    update = [want[p] for p in sorted(want) if p in have and have[p] != want[p]]
    delete = [p for p in sorted(have) if p not in want]
    return add, update, delete


def target_key(target):
    """What identifies a target: (kind, server id / selector / ip) as strings."""
    kind = target.get("type")
    if kind == "server":
        return ("server", str(target["server"]["id"]))
    if kind == "label_selector":
        return ("label_selector", target["label_selector"]["selector"])
    return ("ip", target["ip"]["ip"])


def make_target(kind, value, use_private_ip=False):
    """A target in API form (``value`` is a server id, a label selector or an IP)."""
    if kind == "server":
        target = {"type": "server", "server": {"id": int(value)}}
    elif kind == "label_selector":
        target = {"type": "label_selector", "label_selector": {"selector": value}}
    else:
        return {"type": "ip", "ip": {"ip": value}}
    target["use_private_ip"] = bool(use_private_ip)
    return target


def target_payload(target, remove=False):
    """The body of ``add_target`` (or of ``remove_target``, which takes no ``use_private_ip``)."""
    kind = target["type"]
    body = {"type": kind, kind: dict(target[kind])}
    if kind != "ip" and not remove:
        body["use_private_ip"] = bool(target.get("use_private_ip"))
    return body


def plan_targets(current, desired, mode):
    """(to remove, to add) for ``targets_state`` ``exact``, ``present`` or ``absent``.

    A target whose ``use_private_ip`` differs is removed and added again.
    """
    have = {target_key(t): t for t in current or []}
    want = {target_key(t): t for t in desired or []}
    if mode == "absent":
        return [have[k] for k in want if k in have], []
    remove, add = [], []
    for key, target in want.items():
        if key not in have:
            add.append(target)
        elif target["type"] != "ip" and bool(have[key].get("use_private_ip")) != bool(
            target.get("use_private_ip")
        ):
            remove.append(have[key])
            add.append(target)
    if mode == "exact":
        remove += [t for k, t in have.items() if k not in want]
    return remove, add


def apply_target_plan(current, remove, add):
    """The target list after a plan (check mode's prediction)."""
    gone = {target_key(t) for t in remove}
    return [t for t in current or [] if target_key(t) not in gone] + list(add)


def target_result(target):
    kind = target.get("type")
    return {
        "type": kind,
        "server": (target.get("server") or {}).get("id"),
        "label_selector": (target.get("label_selector") or {}).get("selector"),
        "ip": (target.get("ip") or {}).get("ip"),
        "use_private_ip": bool(target.get("use_private_ip")),
        "health_status": list(target.get("health_status") or []),
    }


def load_balancer_result(lb):
    public = lb.get("public_net") or {}
    targets = sorted(
        (target_result(t) for t in lb.get("targets") or []), key=lambda t: str(sorted(t.items()))
    )
    return {
        "id": lb.get("id"),
        "name": lb.get("name"),
        "load_balancer_type": (lb.get("load_balancer_type") or {}).get("name"),
        "location": (lb.get("location") or {}).get("name"),
        "algorithm": (lb.get("algorithm") or {}).get("type"),
        "labels": dict(lb.get("labels") or {}),
        "ipv4_address": (public.get("ipv4") or {}).get("ip"),
        "ipv6_address": (public.get("ipv6") or {}).get("ip"),
        "services": normalize_services(lb.get("services")),
        "targets": targets,
        "created": lb.get("created"),
    }


def load_balancer_create_payload(params, services, targets):
    body = {
        "name": params["name"],
        "load_balancer_type": params["load_balancer_type"],
        "algorithm": {"type": params.get("algorithm") or "round_robin"},
    }
    if params.get("location"):
        body["location"] = params["location"]
    if params.get("network_zone"):
        body["network_zone"] = params["network_zone"]
    if params.get("labels") is not None:
        body["labels"] = params["labels"]
    if services:
        body["services"] = services
    if targets:
        body["targets"] = [target_payload(t) for t in targets]
    return body


def planned_load_balancer(params, services, targets):
    """What a load balancer about to be created will look like (check mode)."""
    return {
        "id": None,
        "name": params["name"],
        "load_balancer_type": {"name": params["load_balancer_type"]},
        "location": {"name": params["location"]} if params.get("location") else None,
        "algorithm": {"type": params.get("algorithm") or "round_robin"},
        "labels": params.get("labels") or {},
        "services": services,
        "targets": targets,
    }
