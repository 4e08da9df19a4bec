"""``/firewalls``: CRUD with rules, applied to servers or label selectors, and the actions
``apply_to_resources``, ``remove_from_resources`` and ``set_rules``.

On a server a firewall shows as ``pending`` until its ``apply_firewall`` action finishes,
then ``applied``. A firewall that is still applied to something cannot be deleted
(422 ``resource_in_use``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from ..core import JSON, Action, ApiError, Request, Response, now_iso
from . import actions, base

PROTOCOLS = ("tcp", "udp", "icmp", "esp", "gre")
_PORT = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")

Entry = tuple[str, Any]  # ("server", id) or ("label_selector", selector text)


@dataclass(eq=False)
class Firewall:
    id: int
    name: str
    labels: dict[str, str]
    rules: list[JSON]
    applied: list[Entry] = field(default_factory=list)
    pending: dict[int, Action] = field(default_factory=dict)  # server id -> apply action
    created: str = field(default_factory=now_iso)

    def covers(self, server) -> tuple[bool, bool]:
        """(applied directly, applied through a label selector)."""
        direct = via_selector = False
        for kind, value in self.applied:
            if kind == "server":
                direct = direct or value == server.id
            elif not via_selector:
                via_selector = base.selector(value)(server.labels)
        return direct, via_selector


def _cidrs(rule: JSON, key: str) -> list[str]:
    raw = rule.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 100:
        raise base.bad_field("rules", f"{key} must be a list of at most 100 CIDRs")
    result = []
    for value in raw:
        if not isinstance(value, str) or "/" not in value:
            raise base.bad_field("rules", f"{key}: '{value}' is not in CIDR notation")
        try:
            iface = ipaddress.ip_interface(value)
        except ValueError as exc:
            raise base.bad_field("rules", f"{key}: '{value}' is not a valid CIDR") from exc
        result.append(f"{iface.ip.compressed}/{iface.network.prefixlen}")
    return result


def check_rule(rule: Any) -> JSON:
    if not isinstance(rule, dict):
        raise base.bad_field("rules", "each rule must be an object")
    direction, protocol = rule.get("direction"), rule.get("protocol")
    if direction not in ("in", "out"):
        raise base.bad_field("rules", "direction must be 'in' or 'out'")
    if protocol not in PROTOCOLS:
        raise base.bad_field("rules", f"protocol must be one of {', '.join(PROTOCOLS)}")
    port = rule.get("port")
    if protocol in ("tcp", "udp"):
        if not isinstance(port, str):
            raise base.bad_field("rules", f"port is required for protocol {protocol}")
        if port != "any":
            m = _PORT.match(port)
            low, high = (int(m.group(1)), int(m.group(2) or m.group(1))) if m else (0, 0)
            if not (m and 1 <= low <= high <= 65535):
                raise base.bad_field("rules", f"invalid port '{port}'")
    elif port is not None:
        raise base.bad_field("rules", f"port is not allowed for protocol {protocol}")
    sources, destinations = _cidrs(rule, "source_ips"), _cidrs(rule, "destination_ips")
    if direction == "in" and (destinations or not sources):
        raise base.bad_field("rules", "rules with direction 'in' need source_ips only")
    if direction == "out" and (sources or not destinations):
        raise base.bad_field("rules", "rules with direction 'out' need destination_ips only")
    description = rule.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 255):
        raise base.bad_field("rules", "description must be a string of at most 255 characters")
    return {
        "description": description,
        "direction": direction,
        "protocol": protocol,
        "port": port,
        "source_ips": sources,
        "destination_ips": destinations,
    }


class Firewalls:
    def __init__(self, vendor) -> None:
        self.vendor = vendor
        self.items: dict[int, Firewall] = {}

    @property
    def engine(self) -> actions.HetznerActions:
        return self.vendor.actions

    def reset(self) -> None:
        self.items.clear()

    def register(self, router) -> None:
        actions.register_for(router, self.engine, "firewalls", "firewall", self.items.__contains__)
        router.add("GET", "/firewalls", self.list)
        router.add("POST", "/firewalls", self.create)
        router.add("GET", "/firewalls/{id}", lambda req: self._one(self.get(req)))
        router.add("PUT", "/firewalls/{id}", self.update)
        router.add("DELETE", "/firewalls/{id}", self.delete)
        router.add("POST", "/firewalls/{id}/actions/apply_to_resources", self.apply_to)
        router.add("POST", "/firewalls/{id}/actions/remove_from_resources", self.remove_from)
        router.add("POST", "/firewalls/{id}/actions/set_rules", self.set_rules)

    # --- what servers see -------------------------------------------------------------------

    def for_server(self, server) -> list[JSON]:
        """``public_net.firewalls`` of a server."""
        result = []
        for fw in self.items.values():
            if any(fw.covers(server)):
                action = fw.pending.get(server.id)
                status = "pending" if action is not None and not action.done else "applied"
                result.append({"id": fw.id, "status": status})
        return result

    def attach_new_server(self, fw: Firewall, server, action: Action) -> None:
        """A server created with ``firewalls``: applied once its create action is done."""
        fw.applied.append(("server", server.id))
        fw.pending[server.id] = action

    def forget_server(self, server_id: int) -> None:
        for fw in self.items.values():
            fw.applied = [e for e in fw.applied if e != ("server", server_id)]
            fw.pending.pop(server_id, None)

    # --- rendering --------------------------------------------------------------------------

    def render(self, fw: Firewall) -> JSON:
        applied_to = []
        for kind, value in fw.applied:
            if kind == "server":
                applied_to.append({"type": "server", "server": {"id": value}})
                continue
            match = base.selector(value)
            servers = self.vendor.servers.items.values()
            applied_to.append(
                {
                    "type": "label_selector",
                    "label_selector": {"selector": value},
                    "applied_to_resources": [
                        {"type": "server", "server": {"id": s.id}}
                        for s in servers
                        if match(s.labels)
                    ],
                }
            )
        return {
            "id": fw.id,
            "name": fw.name,
            "labels": fw.labels,
            "created": fw.created,
            "rules": fw.rules,
            "applied_to": applied_to,
        }

    def _one(self, fw: Firewall, status: int = 200, **extra) -> Response:
        return Response(status, {"firewall": self.render(fw), **extra})

    def get(self, req: Request) -> Firewall:
        fw = self.items.get(base.path_id(req, "firewall"))
        if fw is None:
            raise base.not_found("firewall")
        return fw

    # --- parsing ----------------------------------------------------------------------------

    @staticmethod
    def _rules(raw: Any) -> list[JSON]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise base.bad_field("rules", "must be a list")
        return [check_rule(rule) for rule in raw]

    @staticmethod
    def _entries(raw: Any, key: str) -> list[Entry]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise base.bad_field(key, "must be a list")
        entries: list[Entry] = []
        for item in raw:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "server":
                server_id = (item.get("server") or {}).get("id")
                if not isinstance(server_id, int) or isinstance(server_id, bool):
                    raise base.bad_field(key, "server.id must be an integer")
                entries.append(("server", server_id))
            elif kind == "label_selector":
                text = (item.get("label_selector") or {}).get("selector")
                if not isinstance(text, str) or not text.strip():
                    raise base.bad_field(key, "label_selector.selector must be a string")
                base.selector(text, key)
                entries.append(("label_selector", text))
            else:
                raise base.bad_field(key, "type must be 'server' or 'label_selector'")
        return entries

    def _check_new(self, fw: Firewall | None, entries: list[Entry], *, creating: bool) -> None:
        seen: set[Entry] = set()
        for entry in entries:
            kind, value = entry
            if kind == "server" and self.vendor.servers.find(value) is None:
                status = 422 if creating else 404
                raise ApiError(status, "firewall_resource_not_found", f"server {value} not found")
            if entry in seen:
                raise ApiError(422, "server_already_added", "resource given more than once")
            seen.add(entry)
            if fw is not None and entry in fw.applied:
                raise ApiError(
                    422, "firewall_already_applied", "firewall is already applied to resource"
                )

    def _servers_of(self, entry: Entry) -> list:
        kind, value = entry
        if kind == "server":
            server = self.vendor.servers.find(value)
            return [server] if server else []
        match = base.selector(value)
        return [s for s in self.vendor.servers.items.values() if match(s.labels)]

    def _resources(self, fw: Firewall, servers: list) -> list[JSON]:
        return [{"id": fw.id, "type": "firewall"}] + [
            {"id": s.id, "type": "server"} for s in servers
        ]

    def _apply(self, fw: Firewall, entry: Entry) -> Action:
        fw.applied.append(entry)
        servers = self._servers_of(entry)

        def failed() -> None:
            if entry in fw.applied:
                fw.applied.remove(entry)

        action = self.engine.start("apply_firewall", self._resources(fw, servers), on_error=failed)
        for server in servers:
            fw.pending[server.id] = action
        return action

    # --- CRUD -------------------------------------------------------------------------------

    def _check_name(self, name: str, own_id: int | None = None) -> None:
        if any(f.name == name and f.id != own_id for f in self.items.values()):
            raise base.name_taken("name", "firewall name is already used")

    def list(self, req: Request) -> Response:
        items = base.filter_common(req, list(self.items.values()))
        items = base.sort_items(req, items, base.BY_ID_NAME_CREATED)
        return base.page(req, items, "firewalls", self.render)

    def create(self, req: Request) -> Response:
        data = base.body(req)
        name = base.need_str(data, "name", max_len=128)
        labels = base.labels(data)
        rules = self._rules(data.get("rules"))
        entries = self._entries(data.get("apply_to"), "apply_to")
        self._check_new(None, entries, creating=True)
        self._check_name(name)
        fw = Firewall(self.vendor.ids.next("firewall"), name, labels, rules)
        self.items[fw.id] = fw
        started = [self._apply(fw, entry) for entry in entries]
        return self._one(fw, 201, actions=[actions.render(a) for a in started])

    def update(self, req: Request) -> Response:
        fw = self.get(req)
        data = base.body(req)
        name = base.need_str(data, "name", required=False, max_len=128)
        new_labels = base.labels(data, current=fw.labels)
        if name is not None:
            self._check_name(name, fw.id)
            fw.name = name
        fw.labels = new_labels
        return self._one(fw)

    def delete(self, req: Request) -> Response:
        fw = self.get(req)
        if fw.applied:
            raise ApiError(422, "resource_in_use", "firewall is still applied to resources")
        del self.items[fw.id]
        return Response(204)

    # --- actions ----------------------------------------------------------------------------

    def apply_to(self, req: Request) -> Response:
        fw = self.get(req)
        data = base.body(req)
        if data.get("apply_to") is None:
            raise base.bad_field("apply_to", "Missing data for required field.")
        entries = self._entries(data["apply_to"], "apply_to")
        self._check_new(fw, entries, creating=False)
        return actions.many([self._apply(fw, entry) for entry in entries])

    def remove_from(self, req: Request) -> Response:
        fw = self.get(req)
        data = base.body(req)
        if data.get("remove_from") is None:
            raise base.bad_field("remove_from", "Missing data for required field.")
        entries = self._entries(data["remove_from"], "remove_from")
        for entry in entries:
            if entry in fw.applied:
                continue
            server = self.vendor.servers.find(entry[1]) if entry[0] == "server" else None
            if server is not None and fw.covers(server)[1]:
                raise ApiError(
                    422,
                    "firewall_managed_by_label_selector",
                    "firewall is applied via a label selector and cannot be removed manually",
                )
            raise ApiError(404, "firewall_resource_not_found", "firewall resource not found")
        started = []
        for entry in entries:

            def removed(entry: Entry = entry) -> None:
                if entry in fw.applied:
                    fw.applied.remove(entry)
                if entry[0] == "server":
                    fw.pending.pop(entry[1], None)

            servers = self._servers_of(entry)
            started.append(
                self.engine.start("remove_firewall", self._resources(fw, servers), removed)
            )
        return actions.many(started)

    def set_rules(self, req: Request) -> Response:
        fw = self.get(req)
        data = base.body(req)
        if data.get("rules") is None:
            raise base.bad_field("rules", "Missing data for required field.")
        rules = self._rules(data["rules"])

        def replaced() -> None:
            fw.rules = rules

        started = [
            self.engine.start("set_firewall_rules", [{"id": fw.id, "type": "firewall"}], replaced)
        ]
        servers = {s.id: s for entry in fw.applied for s in self._servers_of(entry)}
        if servers:
            apply = self.engine.start("apply_firewall", self._resources(fw, list(servers.values())))
            for server_id in servers:
                fw.pending[server_id] = apply
            started.append(apply)
        return actions.many(started)
