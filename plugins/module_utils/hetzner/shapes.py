# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure functions for the Hetzner modules: API payloads from options, flat results from API
resources, and the normal forms that make comparisons order-independent.

Load balancer services and targets live in ``load_balancer.py``.
"""

from __future__ import annotations

import json

from ansible_collections.sigma.deploy.plugins.module_utils.client.shapes import normalize_cidr

SSH_KEY_MANAGED = ("name", "labels", "fingerprint")
SERVER_MANAGED = ("name", "status", "server_type", "image", "location", "labels", "firewalls")
FIREWALL_MANAGED = ("name", "labels", "rules", "servers", "label_selectors")


def normalize_labels(labels):
    """Label values as the API keeps them: strings (``true``/``false`` for booleans)."""
    if labels is None:
        return None
    out = {}
    for key, value in labels.items():
        if isinstance(value, bool):
            out[str(key)] = "true" if value else "false"
        else:
            out[str(key)] = "" if value is None else str(value)
    return out


# --- SSH keys --------------------------------------------------------------------------------
def ssh_key_result(key):
    return {
        "id": key.get("id"),
        "name": key.get("name"),
        "fingerprint": key.get("fingerprint"),
        "public_key": key.get("public_key"),
        "labels": dict(key.get("labels") or {}),
        "created": key.get("created"),
    }


# --- servers ---------------------------------------------------------------------------------
def server_result(server):
    public = server.get("public_net") or {}
    private = server.get("private_net") or []
    location = server.get("location") or (server.get("datacenter") or {}).get("location") or {}
    image = server.get("image") or {}
    image_ref = image.get("name") or (str(image["id"]) if image.get("id") is not None else None)
    return {
        "id": server.get("id"),
        "name": server.get("name"),
        "status": server.get("status"),
        "server_type": (server.get("server_type") or {}).get("name"),
        "image": image_ref,
        "location": location.get("name"),
        "ipv4_address": (public.get("ipv4") or {}).get("ip"),
        "ipv6": (public.get("ipv6") or {}).get("ip"),
        "private_ipv4": private[0].get("ip") if private else None,
        "labels": dict(server.get("labels") or {}),
        "firewalls": sorted(fw["id"] for fw in public.get("firewalls") or []),
        "created": server.get("created"),
    }


def server_create_payload(params, firewall_ids, start):
    """The body of ``POST /servers``."""
    body = {
        "name": params["name"],
        "server_type": params["server_type"],
        "image": params["image"],
        "start_after_create": start,
    }
    if params.get("location"):
        body["location"] = params["location"]
    if params.get("labels") is not None:
        body["labels"] = normalize_labels(params["labels"])
    if params.get("user_data"):
        body["user_data"] = params["user_data"]
    if params.get("ssh_keys"):
        body["ssh_keys"] = [str(key) for key in params["ssh_keys"]]
    if firewall_ids:
        body["firewalls"] = [{"firewall": ident} for ident in firewall_ids]
    return body


def planned_server(params, status, firewall_ids):
    """What a server about to be created will look like (check mode)."""
    return {
        "id": None,
        "name": params["name"],
        "status": status,
        "server_type": {"name": params["server_type"]},
        "image": {"name": params["image"]},
        "location": {"name": params["location"]} if params.get("location") else None,
        "labels": normalize_labels(params.get("labels")) or {},
        "public_net": {"firewalls": [{"id": ident} for ident in firewall_ids]},
    }


def server_type_differs(server, wanted):
    """True when ``wanted`` (a name or an id) is not the server's type."""
    current = server.get("server_type") or {}
    return wanted is not None and str(wanted) not in (current.get("name"), str(current.get("id")))


# --- firewalls -------------------------------------------------------------------------------
def normalize_rule(rule):
    """A firewall rule in one normal form: ports only for tcp/udp, addresses sorted and
    canonical, only the list its direction uses."""
    protocol = rule.get("protocol")
    direction = rule.get("direction")
    port = rule.get("port")
    port = str(port) if port not in (None, "") and protocol in ("tcp", "udp") else None
    addresses = rule.get("source_ips") if direction == "in" else rule.get("destination_ips")
    addresses = sorted({normalize_cidr(a) for a in addresses or []})
    return {
        "direction": direction,
        "protocol": protocol,
        "port": port,
        "source_ips": addresses if direction == "in" else [],
        "destination_ips": addresses if direction == "out" else [],
        "description": rule.get("description") or None,
    }


def _rule_sort_key(rule):
    return json.dumps(rule, sort_keys=True)


def normalize_rules(rules):
    """Rules as a sorted list of normal forms: equal lists mean the same rule set."""
    return sorted((normalize_rule(r) for r in rules or []), key=_rule_sort_key)


def rule_payload(rule):
    """One rule for ``POST /firewalls`` and ``set_rules`` (empty parts left out)."""
    body = {"direction": rule["direction"], "protocol": rule["protocol"]}
    if rule["port"] is not None:
        body["port"] = rule["port"]
    if rule["direction"] == "in":
        body["source_ips"] = rule["source_ips"]
    else:
        body["destination_ips"] = rule["destination_ips"]
    if rule["description"]:
        body["description"] = rule["description"]
    return body


def applied_to(firewall):
    """What a firewall applies to directly: (sorted server ids, sorted label selectors)."""
    servers, selectors = set(), set()
    for entry in firewall.get("applied_to") or []:
        if entry.get("type") == "server":
            servers.add(entry["server"]["id"])
        elif entry.get("type") == "label_selector":
            selectors.add(entry["label_selector"]["selector"])
    return sorted(servers), sorted(selectors)


def apply_to_payload(server_ids=(), selectors=()):
    """Entries for ``apply_to`` / ``remove_from``."""
    entries = [{"type": "server", "server": {"id": ident}} for ident in server_ids]
    entries += [{"type": "label_selector", "label_selector": {"selector": s}} for s in selectors]
    return entries


def firewall_result(firewall):
    servers, selectors = applied_to(firewall)
    return {
        "id": firewall.get("id"),
        "name": firewall.get("name"),
        "labels": dict(firewall.get("labels") or {}),
        "rules": normalize_rules(firewall.get("rules")),
        "servers": servers,
        "label_selectors": selectors,
        "created": firewall.get("created"),
    }
