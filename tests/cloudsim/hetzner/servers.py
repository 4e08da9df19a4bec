"""``/servers``: create, list, get, update, delete and the power/rebuild/change_type actions.

A server's addresses and power state come from the backend's machine; the simulator keeps
what the API shows on top: name, labels, type, image, location and the transitional status
(``initializing``, ``starting``, ``stopping``, ``rebuilding``, ``migrating``, ``deleting``)
while an action runs. A server whose action is still running is ``locked``: another action
on it is refused with 423 ``locked``, as Hetzner does.
"""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..core import JSON, Action, ApiError, Request, Response, now_iso, outside
from . import actions, base
from .catalog import Entry

USER_DATA_MAX = 32 * 1024


@lru_cache(maxsize=16384)
def _ipv4_json(ip: str, address_id: int) -> JSON:
    reverse = ".".join(reversed(ip.split(".")))
    return {
        "id": address_id,
        "ip": ip,
        "blocked": False,
        "dns_ptr": f"static.{reverse}.clients.your-server.de",
    }


@lru_cache(maxsize=16384)
def _ipv6_json(ip: str, address_id: int) -> JSON:
    network = ipaddress.ip_interface(f"{ip}/64").network
    return {"id": address_id, "ip": str(network), "blocked": False, "dns_ptr": []}


@dataclass(eq=False)
class Server:
    id: int
    name: str
    labels: dict[str, str]
    server_type: Entry
    image: Entry
    location: Entry
    datacenter: Entry
    machine: Any  # backends.Machine
    ssh_keys: list[str]  # public keys installed for root
    disk: int
    ipv4_id: int | None
    ipv6_id: int | None
    created: str = field(default_factory=now_iso)
    transition: str | None = "initializing"
    busy: Action | None = None  # the last action that locks the server

    @property
    def status(self) -> str:
        if self.transition:
            return self.transition
        return "running" if self.machine.running else "off"

    @property
    def locked(self) -> bool:
        return self.busy is not None and not self.busy.done


class Servers:
    def __init__(self, vendor) -> None:
        self.vendor = vendor
        self.items: dict[int, Server] = {}
        self.names: dict[str, int] = {}

    @property
    def catalog(self):
        return self.vendor.catalog

    @property
    def engine(self) -> actions.HetznerActions:
        return self.vendor.actions

    @property
    def backend(self):
        return self.vendor.backend

    def reset(self) -> None:
        for server in list(self.items.values()):
            with contextlib.suppress(Exception):  # a stale machine must not block the reset
                self.backend.delete(server.machine)
        self.items.clear()
        self.names.clear()

    # --- routes -----------------------------------------------------------------------------

    def register(self, router) -> None:
        actions.register_for(router, self.engine, "servers", "server", self.items.__contains__)
        router.add("GET", "/servers", self.list)
        router.add("POST", "/servers", self.create)
        router.add("GET", "/servers/{id}", lambda req: self._one(self.get(req)))
        router.add("PUT", "/servers/{id}", self.update)
        router.add("DELETE", "/servers/{id}", self.delete)
        for name, handler in [
            ("poweron", self.poweron),
            ("poweroff", self.poweroff),
            ("shutdown", self.shutdown),
            ("reboot", self.reboot),
            ("reset", self.reset_action),
            ("rebuild", self.rebuild),
            ("change_type", self.change_type),
        ]:
            router.add("POST", f"/servers/{{id}}/actions/{name}", handler)

    # --- rendering --------------------------------------------------------------------------

    def render(self, s: Server) -> JSON:
        m = s.machine
        return {
            "id": s.id,
            "name": s.name,
            "status": s.status,
            "created": s.created,
            "public_net": {
                "ipv4": _ipv4_json(m.ipv4, s.ipv4_id) if s.ipv4_id and m.ipv4 else None,
                "ipv6": _ipv6_json(m.ipv6, s.ipv6_id) if s.ipv6_id and m.ipv6 else None,
                "floating_ips": [],
                "firewalls": self.vendor.firewalls.for_server(s),
            },
            "private_net": [],
            "server_type": s.server_type.json,
            "datacenter": s.datacenter.json,
            "location": s.location.json,
            "image": s.image.json,
            "iso": None,
            "rescue_enabled": False,
            "locked": s.locked,
            "backup_window": None,
            "outgoing_traffic": 0,
            "ingoing_traffic": 0,
            "included_traffic": self._included_traffic(s),
            "protection": {"delete": False, "rebuild": False},
            "labels": s.labels,
            "volumes": [],
            "load_balancers": self.vendor.load_balancers.for_server(s),
            "primary_disk_size": s.disk,
            "placement_group": None,
        }

    @staticmethod
    def _included_traffic(s: Server) -> int:
        for price in s.server_type.json["prices"]:
            if price["location"] == s.location.name:
                return price["included_traffic"]
        return 0

    def _one(self, s: Server, status: int = 200) -> Response:
        return Response(status, {"server": self.render(s)})

    # --- look-ups ---------------------------------------------------------------------------

    def get(self, req: Request) -> Server:
        server = self.items.get(base.path_id(req, "server"))
        if server is None:
            raise base.not_found("server")
        return server

    def find(self, server_id: Any) -> Server | None:
        return self.items.get(server_id) if isinstance(server_id, int) else None

    # --- CRUD -------------------------------------------------------------------------------

    def list(self, req: Request) -> Response:
        items = list(self.items.values())
        statuses = req.query.get("status")
        if statuses:
            wanted = set(statuses)
            items = [s for s in items if s.status in wanted]
        items = base.filter_common(req, items)
        items = base.sort_items(req, items, base.BY_ID_NAME_CREATED)
        return base.page(req, items, "servers", self.render)

    def _placement(self, data: JSON, server_type: Entry) -> tuple[Entry, Entry]:
        cat = self.catalog
        if data.get("location") is not None and data.get("datacenter") is not None:
            raise base.bad_field("location", "must not be used together with datacenter")
        if data.get("location") is not None:
            location = cat.location(data["location"])
            if location is None:
                raise base.unknown_ref("location", "location not found")
            datacenter = cat.datacenter_of[location.name]
        elif data.get("datacenter") is not None:
            datacenter = cat.datacenter(data["datacenter"])
            if datacenter is None:
                raise base.unknown_ref("datacenter", "datacenter not found")
            location = cat.locations[datacenter.json["location"]["name"]]
        else:
            location = cat.locations[server_type.json["locations"][0]["name"]]
            datacenter = cat.datacenter_of[location.name]
        if not cat.sold_in(server_type, location.name):
            raise base.unknown_ref("location", "unsupported location for server type")
        return location, datacenter

    def _ssh_keys(self, data: JSON) -> list:
        raw = data.get("ssh_keys") or []
        if not isinstance(raw, list):
            raise base.bad_field("ssh_keys", "must be a list")
        keys = []
        for value in raw:
            key = self.vendor.ssh_keys.find(value)
            if key is None:
                raise base.unknown_ref("ssh_keys", f"SSH key '{value}' not found")
            if key not in keys:
                keys.append(key)
        return keys

    def _firewalls(self, data: JSON) -> list:
        raw = data.get("firewalls") or []
        if not isinstance(raw, list):
            raise base.bad_field("firewalls", "must be a list")
        found = []
        for item in raw:
            fw_id = item.get("firewall") if isinstance(item, dict) else None
            firewall = self.vendor.firewalls.items.get(fw_id) if isinstance(fw_id, int) else None
            if firewall is None:
                raise base.unknown_ref("firewalls", f"firewall '{fw_id}' not found")
            if firewall not in found:
                found.append(firewall)
        return found

    def _image(self, data: JSON, server_type: Entry) -> Entry:
        if data.get("image") is None:
            raise base.bad_field("image", "Missing data for required field.")
        arch = server_type.json["architecture"]
        image = self.catalog.image(data["image"], arch)
        if image is None:
            raise base.unknown_ref("image", "image not found")
        if image.json["architecture"] != arch:
            raise base.unknown_ref(
                "image", "image architecture does not match the server type architecture"
            )
        return image

    def create(self, req: Request) -> Response:
        data = base.body(req)
        name = base.hostname(data)
        if data.get("server_type") is None:
            raise base.bad_field("server_type", "Missing data for required field.")
        server_type = self.catalog.server_type(data["server_type"])
        if server_type is None:
            raise base.unknown_ref("server_type", "server type not found")
        image = self._image(data, server_type)
        location, datacenter = self._placement(data, server_type)
        keys = self._ssh_keys(data)
        firewalls = self._firewalls(data)
        for unsupported, what in (("networks", "network"), ("volumes", "volume")):
            if data.get(unsupported):
                raise base.unknown_ref(unsupported, f"{what} not found")
        if data.get("placement_group") is not None:
            raise base.unknown_ref("placement_group", "placement group not found")
        user_data = base.need_str(data, "user_data", required=False)
        if user_data is not None and len(user_data.encode()) > USER_DATA_MAX:
            raise base.bad_field("user_data", "is too long (32 KiB at most)")
        labels = base.labels(data)
        start = base.need_bool(data, "start_after_create", True)
        enable_v4, enable_v6 = self._public_net(data)
        if name in self.names:
            raise base.name_taken("name", "server name is already used")

        ids = self.vendor.ids
        server_id = ids.next("server")
        try:
            machine = self.backend.create(
                f"hetzner-{server_id}", name, [k.public_key for k in keys], user_data
            )
        except Exception as exc:  # the backend could not make the machine
            raise ApiError(500, "server_error", f"server could not be created: {exc}") from exc
        server = Server(
            id=server_id,
            name=name,
            labels=labels,
            server_type=server_type,
            image=image,
            location=location,
            datacenter=datacenter,
            machine=machine,
            ssh_keys=[k.public_key for k in keys],
            disk=server_type.json["disk"],
            ipv4_id=ids.next("primary_ip") if enable_v4 else None,
            ipv6_id=ids.next("primary_ip") if enable_v6 else None,
        )
        self.items[server_id] = server
        self.names[name] = server_id

        create, next_actions = self._start_create(server, start)
        for firewall in firewalls:
            self.vendor.firewalls.attach_new_server(firewall, server, create)
        return Response(
            201,
            {
                "server": self.render(server),
                "action": actions.render(create),
                "next_actions": [actions.render(a) for a in next_actions],
                "root_password": None if keys else secrets.token_urlsafe(12),
            },
        )

    def _start_create(self, server: Server, start: bool) -> tuple[Action, list[Action]]:
        """The create action, and the start action when the server starts after it."""
        machine = server.machine

        def created() -> None:
            server.transition = None
            if not start and self._alive(server):
                self.backend.power(machine, False)

        def create_failed() -> None:
            server.transition = None
            if self._alive(server):
                self.backend.power(machine, False)

        resources = [{"id": server.id, "type": "server"}]
        create = self.engine.start("create_server", resources, created, create_failed)
        server.busy = create
        if not start:
            return create, []

        def started() -> None:
            if not create.fail and self._alive(server):
                self.backend.power(machine, True)

        server.busy = self.engine.start("start_server", resources, started)
        return create, [server.busy]

    @staticmethod
    def _public_net(data: JSON) -> tuple[bool, bool]:
        raw = data.get("public_net")
        if raw is None:
            return True, True
        if not isinstance(raw, dict):
            raise base.bad_field("public_net", "must be an object")
        if raw.get("ipv4") is not None or raw.get("ipv6") is not None:
            raise base.unknown_ref("public_net", "primary IP not found")
        enable_v4 = base.need_bool(raw, "enable_ipv4", True)
        enable_v6 = base.need_bool(raw, "enable_ipv6", True)
        if not (enable_v4 or enable_v6):
            raise base.bad_field(
                "public_net", "a server without public IPs needs a private network"
            )
        return enable_v4, enable_v6

    def update(self, req: Request) -> Response:
        server = self.get(req)
        data = base.body(req)
        name = base.hostname(data) if data.get("name") is not None else None
        new_labels = base.labels(data, current=server.labels)
        if name is not None and name != server.name:
            if name in self.names:
                raise base.name_taken("name", "server name is already used")
            del self.names[server.name]
            self.names[name] = server.id
            server.name = name
        server.labels = new_labels
        return self._one(server)

    def delete(self, req: Request) -> Response:
        server = self.get(req)
        previous = server.transition
        server.transition = "deleting"

        def deleted() -> None:
            self._remove(server)

        def failed() -> None:
            server.transition = previous

        resources = [{"id": server.id, "type": "server"}]
        action = self.engine.start("delete_server", resources, deleted, failed)
        server.busy = action  # no other action while it is being deleted
        return actions.one(action, 200)

    def _alive(self, server: Server) -> bool:
        return self.items.get(server.id) is server

    def _remove(self, server: Server) -> None:
        if not self._alive(server):
            return
        del self.items[server.id]
        if self.names.get(server.name) == server.id:
            del self.names[server.name]
        self.vendor.firewalls.forget_server(server.id)
        self.vendor.load_balancers.forget_server(server.id)
        with outside(self.vendor.sim_lock):  # gone from the records: podman may take its time
            self.backend.delete(server.machine)

    # --- actions ----------------------------------------------------------------------------

    def _act(
        self,
        server: Server,
        command: str,
        effect=None,
        transition: str | None = None,
    ) -> Action:
        """Start a locking action on a server; ``transition`` is its status meanwhile."""
        if server.locked:
            raise ApiError(423, "locked", "server is locked")
        if transition:
            server.transition = transition

        def done() -> None:
            if self._alive(server):
                if effect:
                    effect()
                if transition:
                    server.transition = None

        def failed() -> None:
            if transition:
                server.transition = None

        resources = [{"id": server.id, "type": "server"}]
        server.busy = self.engine.start(command, resources, done, failed)
        return server.busy

    def poweron(self, req: Request) -> Response:
        s = self.get(req)
        transition = "starting" if s.status == "off" else None
        action = self._act(
            s, "start_server", lambda: self.backend.power(s.machine, True), transition
        )
        return actions.one(action)

    def poweroff(self, req: Request) -> Response:
        s = self.get(req)
        transition = "stopping" if s.status == "running" else None
        action = self._act(
            s, "stop_server", lambda: self.backend.power(s.machine, False), transition
        )
        return actions.one(action)

    def shutdown(self, req: Request) -> Response:
        s = self.get(req)
        transition = "stopping" if s.status == "running" else None
        action = self._act(
            s, "shutdown_server", lambda: self.backend.power(s.machine, False), transition
        )
        return actions.one(action)

    def reboot(self, req: Request) -> Response:
        s = self.get(req)
        return actions.one(self._act(s, "reboot_server", lambda: self.backend.reboot(s.machine)))

    def reset_action(self, req: Request) -> Response:
        s = self.get(req)
        return actions.one(self._act(s, "reset_server", lambda: self.backend.reboot(s.machine)))

    def rebuild(self, req: Request) -> Response:
        s = self.get(req)
        data = base.body(req)
        image = self._image(data, s.server_type)
        user_data = base.need_str(data, "user_data", required=False)
        if user_data is not None and len(user_data.encode()) > USER_DATA_MAX:
            raise base.bad_field("user_data", "is too long (32 KiB at most)")

        def rebuilt() -> None:
            self.backend.rebuild(s.machine, s.ssh_keys)
            s.image = image

        action = self._act(s, "rebuild_server", rebuilt, "rebuilding")
        password = None if s.ssh_keys else secrets.token_urlsafe(12)
        return actions.one(action, root_password=password)

    def change_type(self, req: Request) -> Response:
        s = self.get(req)
        data = base.body(req)
        if data.get("server_type") is None:
            raise base.bad_field("server_type", "Missing data for required field.")
        if not isinstance(data.get("upgrade_disk"), bool):
            raise base.bad_field("upgrade_disk", "Missing data for required field.")
        new_type = self.catalog.server_type(data["server_type"])
        if new_type is None:
            raise base.unknown_ref("server_type", "server type not found")
        upgrade_disk = data["upgrade_disk"]
        if s.status != "off":
            raise base.operation_error("server_not_stopped", "server must be stopped")
        old = s.server_type.json
        new = new_type.json
        if (
            new["architecture"] != old["architecture"]
            or new["storage_type"] != old["storage_type"]
            or new["disk"] < s.disk
            or not self.catalog.sold_in(new_type, s.location.name)
        ):
            raise base.operation_error(
                "invalid_server_type",
                f"server type {new['name']} does not fit this server",
            )

        def migrated() -> None:
            s.server_type = new_type
            if upgrade_disk:
                s.disk = new["disk"]

        return actions.one(self._act(s, "change_server_type", migrated, "migrating"))
