# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure functions for the DigitalOcean droplet, SSH key and firewall modules: API payloads from
options, flat results from API resources, and the normal forms that make comparisons
order-independent. Load balancers live in ``load_balancer.py``.
"""

from __future__ import annotations

import json

from ansible_collections.sigma.deploy.plugins.module_utils.client.shapes import normalize_cidr

SSH_KEY_MANAGED = ("name", "fingerprint")
DROPLET_MANAGED = (
    "name",
    "status",
    "region",
    "size",
    "image",
    "tags",
    "firewalls",
    "ipv6",
    "monitoring",
)
FIREWALL_MANAGED = ("name", "inbound_rules", "outbound_rules", "droplet_ids", "tags")
TARGET_LISTS = ("addresses", "droplet_ids", "load_balancer_uids", "kubernetes_ids", "tags")
ALL_PORTS = ("", "0", "all", "1-65535")


def plan_tags(current, desired):
    """(to add, to remove) for tags, which DigitalOcean compares without case: a tag is
    added in the spelling asked for, removed in the spelling it has."""
    have = {t.lower() for t in current or []}
    want = {t.lower() for t in desired or []}
    add = sorted({t.lower(): t for t in desired or [] if t.lower() not in have}.values())
    remove = sorted(t for t in current or [] if t.lower() not in want)
    return add, remove


def image_ref(image):
    """An image option as the API takes it: an id (number) or a slug."""
    text = str(image).strip()
    return int(text) if text.isdigit() else text


# --- SSH keys --------------------------------------------------------------------------------
def ssh_key_result(key):
    return {
        "id": key.get("id"),
        "name": key.get("name"),
        "fingerprint": key.get("fingerprint"),
        "public_key": key.get("public_key"),
    }


# --- droplets --------------------------------------------------------------------------------
def _address(networks, family, kind):
    for net in (networks or {}).get(family) or []:
        if net.get("type") == kind:
            return net.get("ip_address")
    return None


def droplet_firewalls(droplet, firewalls):
    """The names of the firewalls that apply to a droplet, directly or through its tags."""
    tags = {t.lower() for t in droplet.get("tags") or []}
    names = set()
    for fw in firewalls or []:
        by_tag = tags & {t.lower() for t in fw.get("tags") or []}
        if droplet.get("id") in (fw.get("droplet_ids") or []) or by_tag:
            names.add(fw.get("name"))
    return sorted(names)


def droplet_result(droplet):
    """The flat result; ``firewalls`` is filled in by the module (the droplet object of the API
    does not list them)."""
    image = droplet.get("image") or {}
    image_name = image.get("slug") or (str(image["id"]) if image.get("id") is not None else None)
    networks = droplet.get("networks") or {}
    features = droplet.get("features") or []
    return {
        "id": droplet.get("id"),
        "name": droplet.get("name"),
        "status": droplet.get("status"),
        "region": (droplet.get("region") or {}).get("slug"),
        "size": droplet.get("size_slug") or (droplet.get("size") or {}).get("slug"),
        "image": image_name,
        "vcpus": droplet.get("vcpus"),
        "memory": droplet.get("memory"),
        "disk": droplet.get("disk"),
        "ipv4_address": _address(networks, "v4", "public"),
        "private_ipv4_address": _address(networks, "v4", "private"),
        "ipv6_address": _address(networks, "v6", "public"),
        "tags": sorted(droplet.get("tags") or []),
        "firewalls": sorted(droplet.get("firewalls") or []),
        "ipv6": "ipv6" in features,
        "monitoring": "monitoring" in features,
        "vpc_uuid": droplet.get("vpc_uuid"),
        "created_at": droplet.get("created_at"),
    }


def droplet_create_payload(params, ssh_key_ids):
    """The body of ``POST /v2/droplets``."""
    body = {"name": params["name"], "size": params["size"], "image": image_ref(params["image"])}
    if params.get("region"):
        body["region"] = params["region"]
    if ssh_key_ids:
        body["ssh_keys"] = list(ssh_key_ids)
    if params.get("tags"):
        body["tags"] = sorted({t.lower(): t for t in params["tags"]}.values())
    if params.get("user_data"):
        body["user_data"] = params["user_data"]
    for flag in ("ipv6", "monitoring"):
        if params.get(flag) is not None:
            body[flag] = params[flag]
    if params.get("vpc_uuid"):
        body["vpc_uuid"] = params["vpc_uuid"]
    return body


def planned_droplet(params, firewall_names):
    """What a droplet about to be created will look like (check mode)."""
    image = image_ref(params["image"])
    features = [flag for flag in ("ipv6", "monitoring") if params.get(flag)]
    return {
        "id": None,
        "name": params["name"],
        "status": "active",
        "region": {"slug": params["region"]} if params.get("region") else None,
        "size_slug": params["size"],
        "image": {"id": image} if isinstance(image, int) else {"slug": image},
        "tags": list(params.get("tags") or []),
        "features": features,
        "vpc_uuid": params.get("vpc_uuid"),
        "firewalls": list(firewall_names),
    }


# --- firewalls -------------------------------------------------------------------------------
def normalize_ports(protocol, ports):
    """Ports in one form: ``0`` for all ports (and always for icmp), ``80`` for ``80-80``."""
    text = "" if ports is None else str(ports).strip().lower()
    if protocol == "icmp" or text in ALL_PORTS:
        return "0"
    low, sep, high = text.partition("-")
    return low if sep and low == high else text


def normalize_target(target):
    """Sources or destinations in normal form: sorted, canonical, empty lists left out."""
    target = target or {}
    out = {}
    for key in TARGET_LISTS:
        values = target.get(key) or []
        if key == "addresses":
            values = sorted({normalize_cidr(v) for v in values})
        elif key == "droplet_ids":
            values = sorted({int(v) for v in values})
        else:
            values = sorted({str(v) for v in values})
        if values:
            out[key] = values
    return out


def normalize_rule(rule, target_key):
    protocol = str(rule.get("protocol") or "").lower()
    return {
        "protocol": protocol,
        "ports": normalize_ports(protocol, rule.get("ports")),
        target_key: normalize_target(rule.get(target_key)),
    }


def normalize_rules(rules, target_key):
    """Rules as a sorted list of distinct normal forms: equal lists mean the same rule set.
    ``target_key`` is ``sources`` (inbound) or ``destinations`` (outbound)."""
    unique = {}
    for rule in rules or []:
        normal = normalize_rule(rule, target_key)
        unique[json.dumps(normal, sort_keys=True)] = normal
    return [unique[key] for key in sorted(unique)]


def firewall_result(firewall):
    return {
        "id": firewall.get("id"),
        "name": firewall.get("name"),
        "status": firewall.get("status"),
        "inbound_rules": normalize_rules(firewall.get("inbound_rules"), "sources"),
        "outbound_rules": normalize_rules(firewall.get("outbound_rules"), "destinations"),
        "droplet_ids": sorted(firewall.get("droplet_ids") or []),
        "tags": sorted(firewall.get("tags") or []),
        "created_at": firewall.get("created_at"),
    }


def firewall_payload(name, inbound, outbound, droplet_ids, tags):
    """The body of ``POST /v2/firewalls`` and ``PUT /v2/firewalls/{id}`` (a whole firewall)."""
    return {
        "name": name,
        "inbound_rules": normalize_rules(inbound, "sources"),
        "outbound_rules": normalize_rules(outbound, "destinations"),
        "droplet_ids": sorted(droplet_ids or []),
        "tags": sorted(tags or []),
    }


def firewall_settled(firewall):
    """Readiness of a firewall: its changes reached every droplet (``succeeded``) or not
    (``failed``); ``waiting`` while they propagate."""
    return firewall.get("status") != "waiting"
