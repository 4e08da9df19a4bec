"""Cloud firewalls: inbound/outbound rules, applied to droplets by id and by tag.

A change leaves the firewall ``waiting`` (with ``pending_changes`` per droplet) until the
fault setting ``action_delay`` has passed, then ``succeeded``: firewalls have no actions on
DigitalOcean, only this status.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core import Request, Response, Router
from .common import (
    JSON,
    body_of,
    int_list,
    iso,
    missing,
    numeric_strings_as_ints,
    paginate,
    string_list,
    unprocessable,
)

if TYPE_CHECKING:
    from .vendor import DigitalOcean

FIREWALL_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\.-]+$")
PROTOCOLS = ("tcp", "udp", "icmp")
TARGET_KEYS = ("addresses", "droplet_ids", "load_balancer_uids", "kubernetes_ids", "tags")
PORTS_RE = re.compile(r"^(all|\d{1,5}|\d{1,5}-\d{1,5})$")
RULE_TARGETS = (("inbound_rules", "sources"), ("outbound_rules", "destinations"))
TOLERATED_IDS = "numeric strings taken as integers"


def tolerate_string_ids(body: JSON) -> tuple[JSON, list[str]]:
    """A firewall's create or update body with droplet ids given as numeric strings made
    integers, and where that happened.

    DigitalOcean takes them there, though its spec says integers: community.digitalocean's
    firewall module sends every droplet id as a string (of the firewall and of its rules'
    sources and destinations), and works. A string that is not a number stays, and is refused
    below with the API's 422. Only these fields: elsewhere the vendor's leniency is not known.
    """
    fixed, tolerated = dict(body), []
    ids = numeric_strings_as_ints(body.get("droplet_ids"))
    if ids is not None:
        fixed["droplet_ids"] = ids
        tolerated.append(f"droplet_ids: {TOLERATED_IDS}")
    for key, target_key in RULE_TARGETS:
        rules = body.get(key)
        if not isinstance(rules, list):
            continue
        fixed[key] = list(rules)
        for index, rule in enumerate(rules):
            target = rule.get(target_key) if isinstance(rule, dict) else None
            ids = (
                numeric_strings_as_ints(target.get("droplet_ids"))
                if isinstance(target, dict)
                else None
            )
            if ids is not None:
                fixed[key][index] = {**rule, target_key: {**target, "droplet_ids": ids}}
                tolerated.append(f"{key}[{index}].{target_key}.droplet_ids: {TOLERATED_IDS}")
    return fixed, tolerated


@dataclass
class Firewall:
    id: str
    name: str
    created_at: str
    inbound_rules: list[JSON] = field(default_factory=list)
    outbound_rules: list[JSON] = field(default_factory=list)
    droplet_ids: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    settle_at: float = 0.0
    changes: list[JSON] = field(default_factory=list)


class Firewalls:
    def __init__(self, do: DigitalOcean) -> None:
        self.do = do
        self.items: dict[str, Firewall] = {}

    def reset(self) -> None:
        self.items.clear()

    def routes(self, router: Router) -> None:
        router.add("GET", "/firewalls", self.list)
        router.add("POST", "/firewalls", self.create)
        router.add("GET", "/firewalls/{firewall_id}", self.get)
        router.add("PUT", "/firewalls/{firewall_id}", self.update)
        router.add("DELETE", "/firewalls/{firewall_id}", self.delete)
        router.add("POST", "/firewalls/{firewall_id}/droplets", self.add_droplets)
        router.add("DELETE", "/firewalls/{firewall_id}/droplets", self.remove_droplets)
        router.add("POST", "/firewalls/{firewall_id}/tags", self.add_tags)
        router.add("DELETE", "/firewalls/{firewall_id}/tags", self.remove_tags)
        router.add("POST", "/firewalls/{firewall_id}/rules", self.add_rules)
        router.add("DELETE", "/firewalls/{firewall_id}/rules", self.remove_rules)

    # -- used by droplets and tags ------------------------------------------------------------
    def forget_droplet(self, droplet_id: int) -> None:
        for fw in self.items.values():
            if droplet_id in fw.droplet_ids:
                fw.droplet_ids.remove(droplet_id)
            for rule in fw.inbound_rules + fw.outbound_rules:
                target = rule.get("sources") or rule.get("destinations") or {}
                if droplet_id in target.get("droplet_ids", []):
                    target["droplet_ids"].remove(droplet_id)

    def forget_tag(self, key: str) -> None:
        for fw in self.items.values():
            fw.tags = [t for t in fw.tags if t.lower() != key]
            for rule in fw.inbound_rules + fw.outbound_rules:
                target = rule.get("sources") or rule.get("destinations") or {}
                if "tags" in target:
                    target["tags"] = [t for t in target["tags"] if t.lower() != key]

    # -- helpers ------------------------------------------------------------------------------
    def render(self, fw: Firewall, fresh: bool = False) -> JSON:
        """``fresh``: the create response, which is always ``waiting``."""
        waiting = fresh or time.monotonic() < fw.settle_at
        return {
            "id": fw.id,
            "name": fw.name,
            "status": "waiting" if waiting else "succeeded",
            "inbound_rules": [_copy_rule(r) for r in fw.inbound_rules],
            "outbound_rules": [_copy_rule(r) for r in fw.outbound_rules],
            "created_at": fw.created_at,
            "droplet_ids": list(fw.droplet_ids),
            "tags": list(fw.tags),
            "pending_changes": [dict(c) for c in fw.changes] if waiting else [],
        }

    def lookup(self, request: Request) -> Firewall:
        fw = self.items.get(request.params["firewall_id"])
        if fw is None:
            raise missing("firewall")
        return fw

    def changed(self, fw: Firewall, added: Sequence[int] = (), removed: Sequence[int] = ()) -> None:
        """Start propagating a change: ``waiting`` for ``action_delay`` seconds."""
        fw.settle_at = time.monotonic() + self.do.faults.action_delay
        fw.changes = [{"droplet_id": i, "removing": False, "status": "waiting"} for i in added]
        fw.changes += [{"droplet_id": i, "removing": True, "status": "waiting"} for i in removed]

    def _droplet_ids(self, body: JSON) -> list[int]:
        ids = int_list(body, "droplet_ids")
        for droplet_id in ids:
            if droplet_id not in self.do.droplets.items:
                raise unprocessable("droplet_ids", f"droplet_ids: droplet {droplet_id} not found")
        return list(dict.fromkeys(ids))

    def _tags(self, body: JSON, field_name: str = "tags") -> list[str]:
        names = string_list(body, field_name)
        return list(dict.fromkeys(self.do.tags.ensure(n, field_name) for n in names))

    def _target(self, raw: object, where: str) -> JSON:
        if not isinstance(raw, dict):
            raise unprocessable(where, f"{where} must be an object")
        target: JSON = {}
        for key in TARGET_KEYS:
            if raw.get(key) is None:
                continue
            if key == "droplet_ids":
                target[key] = int_list(raw, key)
            elif key == "tags":
                target[key] = self._tags(raw, key)
            else:
                target[key] = string_list(raw, key)
        for address in target.get("addresses", []):
            try:
                ipaddress.ip_network(address, strict=False)
            except ValueError as exc:
                raise unprocessable(
                    f"{where}.addresses", f"{where}.addresses: {address!r} is not an IP or CIDR"
                ) from exc
        if not any(target.values()):
            raise unprocessable(where, f"{where}: a rule needs at least one {where[:-1]}")
        return target

    def _rules(self, body: JSON, key: str) -> list[JSON]:
        raw = body.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise unprocessable(key, f"{key} must be an array")
        target_key = "sources" if key == "inbound_rules" else "destinations"
        rules = []
        for item in raw:
            if not isinstance(item, dict):
                raise unprocessable(key, f"each of {key} must be an object")
            protocol = item.get("protocol")
            if protocol not in PROTOCOLS:
                raise unprocessable(f"{key}.protocol", f"{key}.protocol must be tcp, udp or icmp")
            ports = item.get("ports")
            if protocol == "icmp":
                ports = "0"
            elif not isinstance(ports, str) or not _valid_ports(ports):
                raise unprocessable(
                    f"{key}.ports",
                    f"{key}.ports must be a port, a range such as 8000-9000, 0 or all",
                )
            rules.append(
                {
                    "protocol": protocol,
                    "ports": ports,
                    target_key: self._target(item.get(target_key), target_key),
                }
            )
        return rules

    def _configure(self, fw: Firewall, body: JSON) -> None:
        name = body.get("name")
        if not isinstance(name, str) or len(name) > 255 or not FIREWALL_NAME_RE.match(name):
            raise unprocessable(
                "name", "name must start with a letter or digit and contain only a-z, 0-9, . and -"
            )
        inbound = self._rules(body, "inbound_rules")
        outbound = self._rules(body, "outbound_rules")
        droplet_ids = self._droplet_ids(body)
        tags = self._tags(body)
        before = set(fw.droplet_ids)
        fw.name = name
        fw.inbound_rules, fw.outbound_rules = inbound, outbound
        fw.droplet_ids, fw.tags = droplet_ids, tags
        added = [i for i in droplet_ids if i not in before]
        removed = [i for i in before if i not in droplet_ids]
        self.changed(fw, added, removed)

    # -- API ----------------------------------------------------------------------------------
    def list(self, request: Request) -> Response:
        return Response(200, paginate(request, "firewalls", list(self.items.values()), self.render))

    def create(self, request: Request) -> Response:
        body, tolerated = tolerate_string_ids(body_of(request))
        fw = Firewall(id=str(uuid.uuid4()), name="", created_at=iso())
        self._configure(fw, body)
        self.items[fw.id] = fw
        return Response(202, {"firewall": self.render(fw, fresh=True)}, tolerated=tolerated)

    def get(self, request: Request) -> Response:
        return Response(200, {"firewall": self.render(self.lookup(request))})

    def update(self, request: Request) -> Response:
        fw = self.lookup(request)
        body, tolerated = tolerate_string_ids(body_of(request))
        scratch = Firewall(id=fw.id, name=fw.name, created_at=fw.created_at)
        scratch.droplet_ids = list(fw.droplet_ids)
        self._configure(scratch, body)  # validate everything before changing anything
        self.items[fw.id] = scratch
        return Response(200, {"firewall": self.render(scratch)}, tolerated=tolerated)

    def delete(self, request: Request) -> Response:
        del self.items[self.lookup(request).id]
        return Response(204)

    def add_droplets(self, request: Request) -> Response:
        fw = self.lookup(request)
        ids = self._droplet_ids(body_of(request))
        added = [i for i in ids if i not in fw.droplet_ids]
        fw.droplet_ids += added
        self.changed(fw, added)
        return Response(204)

    def remove_droplets(self, request: Request) -> Response:
        fw = self.lookup(request)
        ids = int_list(body_of(request), "droplet_ids")
        removed = [i for i in fw.droplet_ids if i in ids]
        fw.droplet_ids = [i for i in fw.droplet_ids if i not in ids]
        self.changed(fw, removed=removed)
        return Response(204)

    def add_tags(self, request: Request) -> Response:
        fw = self.lookup(request)
        for tag in self._tags(body_of(request)):
            if tag not in fw.tags:
                fw.tags.append(tag)
        self.changed(fw)
        return Response(204)

    def remove_tags(self, request: Request) -> Response:
        fw = self.lookup(request)
        keys = {t.lower() for t in string_list(body_of(request), "tags")}
        fw.tags = [t for t in fw.tags if t.lower() not in keys]
        self.changed(fw)
        return Response(204)

    def add_rules(self, request: Request) -> Response:
        fw = self.lookup(request)
        body = body_of(request)
        inbound = self._rules(body, "inbound_rules")
        outbound = self._rules(body, "outbound_rules")
        if not inbound and not outbound:
            raise unprocessable("inbound_rules", "inbound_rules or outbound_rules is required")
        fw.inbound_rules += [r for r in inbound if r not in fw.inbound_rules]
        fw.outbound_rules += [r for r in outbound if r not in fw.outbound_rules]
        self.changed(fw)
        return Response(204)

    def remove_rules(self, request: Request) -> Response:
        fw = self.lookup(request)
        body = body_of(request)
        inbound = self._rules(body, "inbound_rules")
        outbound = self._rules(body, "outbound_rules")
        if not inbound and not outbound:
            raise unprocessable("inbound_rules", "inbound_rules or outbound_rules is required")
        fw.inbound_rules = [r for r in fw.inbound_rules if r not in inbound]
        fw.outbound_rules = [r for r in fw.outbound_rules if r not in outbound]
        self.changed(fw)
        return Response(204)


def _valid_ports(ports: str) -> bool:
    if not PORTS_RE.match(ports):
        return False
    if ports in ("all", "0"):
        return True
    bounds = [int(p) for p in ports.split("-")]
    return all(1 <= p <= 65535 for p in bounds) and bounds == sorted(bounds)


def _copy_rule(rule: JSON) -> JSON:
    return {
        k: ({kk: list(vv) for kk, vv in v.items()} if isinstance(v, dict) else v)
        for k, v in rule.items()
    }
