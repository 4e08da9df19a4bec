"""Droplets and their actions.

A droplet is created ``new`` with a ``create`` action; when the action completes it is
``active`` and its addresses (from the backend machine) appear in ``networks``. Power
actions change the backend machine and the status (``off`` when powered off). Names need not
be unique, as on DigitalOcean. While an action is in progress a droplet refuses another
(422 "Droplet already has a pending event."), as the API does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..backends import Machine
from ..core import Action, ApiError, Request, Response, Router, outside
from . import actions as do_actions
from .catalog import (
    DEFAULT_REGION,
    IMAGES,
    REGIONS,
    SIZES,
    default_vpc,
    find_image,
    image_json,
    region_json,
    size_json,
)
from .common import (
    JSON,
    NAME_RE,
    UUID_RE,
    base_url,
    body_of,
    iso,
    missing,
    paginate,
    require_int,
    unprocessable,
)
from .tags import TAG_RULE, valid_tag

if TYPE_CHECKING:
    from .vendor import DigitalOcean

INVALID_NAME = "Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)"
PENDING = "Droplet already has a pending event."
MUST_BE_OFF = "Droplet is currently on. Please power it off to run this event."
MAX_USER_DATA = 64 * 1024
MAX_NAMES = 10
POWER_ACTIONS = ("power_on", "power_off", "shutdown", "reboot", "power_cycle")
TAG_ACTIONS = (
    "power_cycle",
    "power_on",
    "power_off",
    "shutdown",
    "enable_ipv6",
    "enable_backups",
    "disable_backups",
)
UNSUPPORTED = ("restore", "password_reset", "change_kernel", "snapshot", "change_backup_policy")


@dataclass
class Droplet:
    id: int
    name: str
    region: str
    size: str
    disk: int
    image: int
    created_at: str
    machine: Machine
    vpc_uuid: str
    ssh_keys: list[str]  # public keys, for rebuilds
    features: list[str]
    status: str = "new"
    tags: list[str] = field(default_factory=list)
    tag_keys: set[str] = field(default_factory=set)
    action_ids: list[int] = field(default_factory=list)

    @property
    def ipv6(self) -> bool:
        return "ipv6" in self.features


def _gateway(address: str, prefix: int) -> str:
    network = ipaddress.ip_interface(f"{address}/{prefix}").network
    return str(network.network_address + 1)


def networks(droplet: Droplet) -> JSON:
    """Addresses appear once the droplet has been created (not while ``new``)."""
    m = droplet.machine
    if droplet.status == "new":
        return {"v4": [], "v6": []}
    v4: list[JSON] = []
    if m.ipv4:
        v4.append(
            {
                "ip_address": m.ipv4,
                "netmask": "255.255.240.0",
                "gateway": _gateway(m.ipv4, 20),
                "type": "public",
            }
        )
    if m.private_ipv4:
        v4.append(
            {
                "ip_address": m.private_ipv4,
                "netmask": "255.255.240.0",
                "gateway": _gateway(m.private_ipv4, 20),
                "type": "private",
            }
        )
    v6: list[JSON] = []
    if droplet.ipv6 and m.ipv6:
        v6.append(
            {
                "ip_address": m.ipv6,
                "netmask": 64,
                "gateway": _gateway(m.ipv6, 64),
                "type": "public",
            }
        )
    return {"v4": v4, "v6": v6}


class Droplets:
    def __init__(self, do: DigitalOcean) -> None:
        self.do = do
        self.items: dict[int, Droplet] = {}
        self._sizes = {slug: size_json(s) for slug, s in SIZES.items()}
        self._images = {i: image_json(img) for i, img in IMAGES.items()}
        self._regions = {slug: region_json(slug) for slug in REGIONS}

    def reset(self) -> None:
        for droplet in self.items.values():
            self._backend("delete", droplet.machine)
        self.items.clear()

    def routes(self, router: Router) -> None:
        router.add("GET", "/droplets", self.list)
        router.add("POST", "/droplets", self.create)
        router.add("DELETE", "/droplets", self.delete_by_tag)
        router.add("POST", "/droplets/actions", self.act_by_tag)
        router.add("GET", "/droplets/{droplet_id}", self.get)
        router.add("DELETE", "/droplets/{droplet_id}", self.delete)
        router.add("GET", "/droplets/{droplet_id}/actions", self.list_actions)
        router.add("POST", "/droplets/{droplet_id}/actions", self.act)
        router.add("GET", "/droplets/{droplet_id}/actions/{action_id}", self.get_action)

    # -- helpers ---------------------------------------------------------------------------
    def _backend(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.do.backend, method)(*args)
        except ApiError:
            raise
        except Exception as exc:
            raise ApiError(500, "server_error", f"backend {method} failed: {exc}") from exc

    def render(self, d: Droplet) -> JSON:
        size = self._sizes[d.size]
        return {
            "id": d.id,
            "name": d.name,
            "memory": size["memory"],
            "vcpus": size["vcpus"],
            "disk": d.disk,
            "disk_info": [{"type": "local", "size": {"amount": d.disk, "unit": "gib"}}],
            "locked": False,
            "status": d.status,
            "kernel": None,
            "created_at": d.created_at,
            "features": list(d.features),
            "backup_ids": [],
            "next_backup_window": None,
            "snapshot_ids": [],
            "image": self._images[d.image],
            "volume_ids": [],
            "size": size,
            "size_slug": d.size,
            "networks": networks(d),
            "region": self._regions[d.region],
            "tags": list(d.tags),
            "vpc_uuid": d.vpc_uuid,
        }

    def lookup(self, request: Request) -> Droplet:
        droplet = self.items.get(require_int(request.params["droplet_id"], "droplet"))
        if droplet is None:
            raise missing("droplet")
        return droplet

    def busy(self, droplet: Droplet) -> bool:
        if not droplet.action_ids:
            return False
        last = self.do.actions.by_id.get(droplet.action_ids[-1])
        return last is not None and not last.done

    def start(
        self, droplet: Droplet, command: str, effect: Any = None, on_error: Any = None
    ) -> Action:
        def guarded(callback: Any) -> Any:
            if callback is None:
                return None

            def run() -> None:
                if self.items.get(droplet.id) is droplet:  # not deleted meanwhile
                    callback()

            return run

        action = self.do.actions.start(
            command,
            [{"id": droplet.id, "type": "droplet", "region": droplet.region}],
            guarded(effect),
            guarded(on_error),
        )
        droplet.action_ids.append(action.id)
        return action

    # -- create ----------------------------------------------------------------------------
    def _placement(self, body: JSON) -> tuple[str, str, int]:
        region = body.get("region") or DEFAULT_REGION
        if not isinstance(region, str) or region not in REGIONS:
            raise unprocessable("region", "You specified an invalid region for Droplet creation.")
        size = body.get("size")
        if not isinstance(size, str) or size not in SIZES:
            raise unprocessable("size", "You specified an invalid size for Droplet creation.")
        image = find_image(body.get("image"))
        if image is None:
            raise unprocessable("image", "You specified an invalid image for Droplet creation.")
        if SIZES[size].disk < image.min_disk_size:
            raise unprocessable(
                "size", f"size {size} has a smaller disk than image {image.slug} requires"
            )
        return region, size, image.id

    def _public_keys(self, body: JSON) -> list[str]:
        raw_keys = body.get("ssh_keys") or []
        if not isinstance(raw_keys, list):
            raise unprocessable("ssh_keys", "ssh_keys must be an array of ids or fingerprints")
        public_keys = []
        for ref in raw_keys:
            key = self.do.keys.find(ref)
            if key is None:
                raise unprocessable(
                    "ssh_keys", f"ssh_keys: no SSH key with id or fingerprint {ref!r}"
                )
            public_keys.append(key.public_key)
        return public_keys

    @staticmethod
    def _flags(body: JSON) -> dict[str, bool]:
        flags = {}
        for flag in ("ipv6", "monitoring", "backups", "with_droplet_agent", "private_networking"):
            value = body.get(flag)
            if value is not None and not isinstance(value, bool):
                raise unprocessable(flag, f"{flag} must be a boolean")
            flags[flag] = bool(value)
        return flags

    def _validate_create(self, body: JSON) -> JSON:
        region, size, image = self._placement(body)
        public_keys = self._public_keys(body)
        tags = body.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise unprocessable("tags", "tags must be an array of strings")
        for tag in tags:  # validated here, created with the droplet
            if not valid_tag(tag):
                raise unprocessable("tags", f"tags: invalid tag name {tag!r}: {TAG_RULE}")
        user_data = body.get("user_data")
        if user_data is not None and not isinstance(user_data, str):
            raise unprocessable("user_data", "user_data must be a string")
        if user_data is not None and len(user_data.encode()) > MAX_USER_DATA:
            raise unprocessable("user_data", "user_data must be at most 64 KiB")
        vpc_uuid = body.get("vpc_uuid")
        if vpc_uuid is not None and (not isinstance(vpc_uuid, str) or not UUID_RE.match(vpc_uuid)):
            raise unprocessable("vpc_uuid", "vpc_uuid must be the UUID of a VPC")
        if body.get("volumes"):
            raise unprocessable("volumes", "volumes: no such volume (the simulator has none)")
        return {
            "region": region,
            "size": size,
            "image": image,
            "public_keys": public_keys,
            "tags": tags,
            "user_data": user_data,
            "vpc_uuid": vpc_uuid or default_vpc(region),
            "flags": self._flags(body),
        }

    def _names(self, body: JSON) -> tuple[list[str], bool]:
        if "names" in body and body["names"] is not None:
            names = body["names"]
            if not isinstance(names, list) or not names:
                raise unprocessable("names", "names must be a non-empty array of hostnames")
            if len(names) > MAX_NAMES:
                raise unprocessable("names", f"names: at most {MAX_NAMES} droplets at a time")
            multi = True
        else:
            if "name" not in body or body["name"] is None:
                raise unprocessable("name", "name is required")
            names = [body["name"]]
            multi = False
        for name in names:
            if not isinstance(name, str) or len(name) > 255 or not NAME_RE.match(name):
                where = "names" if multi else "name"
                raise unprocessable(where, f"{where}: {INVALID_NAME}")
        return names, multi

    def _make(self, name: str, spec: JSON) -> Droplet:
        droplet_id = self.do.ids.next("droplet")
        machine = self._backend(
            "create", f"digitalocean-{droplet_id}", name, spec["public_keys"], spec["user_data"]
        )
        flags = spec["flags"]
        features = ["private_networking"]
        if flags["backups"]:
            features.insert(0, "backups")
        if flags["ipv6"]:
            features.append("ipv6")
        if flags["monitoring"]:
            features.append("monitoring")
        if flags["with_droplet_agent"]:
            features.append("droplet_agent")
        droplet = Droplet(
            id=droplet_id,
            name=name,
            region=spec["region"],
            size=spec["size"],
            disk=SIZES[spec["size"]].disk,
            image=spec["image"],
            created_at=iso(),
            machine=machine,
            vpc_uuid=spec["vpc_uuid"],
            ssh_keys=list(spec["public_keys"]),
            features=features,
        )
        self.items[droplet.id] = droplet
        for tag in spec["tags"]:
            self.do.tags.tag_droplet(droplet, tag)
        return droplet

    def create(self, request: Request) -> Response:
        body = body_of(request)
        names, multi = self._names(body)
        spec = self._validate_create(body)
        droplets = [self._make(name, spec) for name in names]
        rendered = [self.render(d) for d in droplets]  # as created: status new
        base = base_url(request)
        links = []
        for droplet in droplets:

            def became_active(d: Droplet = droplet) -> None:
                d.status = "active" if d.machine.running else "off"

            action = self.start(droplet, "create", became_active)
            links.append(do_actions.link(base, action, "create"))
        if multi:
            return Response(202, {"droplets": rendered, "links": {"actions": links}})
        return Response(202, {"droplet": rendered[0], "links": {"actions": links}})

    # -- read, list, delete -----------------------------------------------------------------
    def get(self, request: Request) -> Response:
        return Response(200, {"droplet": self.render(self.lookup(request))})

    def list(self, request: Request) -> Response:
        tag = request.arg("tag_name")
        name = request.arg("name")
        kind = request.arg("type")
        items: list[Droplet] = list(self.items.values())
        if tag is not None:
            key = tag.lower()
            items = [d for d in items if key in d.tag_keys]
        if name is not None:
            items = [d for d in items if d.name == name]
        if kind == "gpus":
            items = []  # no GPU sizes in the simulator
        return Response(200, paginate(request, "droplets", items, self.render))

    def remove(self, droplet: Droplet) -> None:
        self.do.tags.forget_droplet(droplet)
        self.do.firewalls.forget_droplet(droplet.id)
        self.do.load_balancers.forget_droplet(droplet.id)
        del self.items[droplet.id]
        with outside(self.do.sim_lock):  # gone from the records: podman may take its time
            self._backend("delete", droplet.machine)

    def delete(self, request: Request) -> Response:
        self.remove(self.lookup(request))
        return Response(204)

    def delete_by_tag(self, request: Request) -> Response:
        tag = request.arg("tag_name")
        if not tag:
            raise unprocessable("tag_name", "tag_name is required to delete droplets by tag")
        key = tag.lower()
        if self.do.tags.canonical(tag) is None:
            raise missing("tag")
        for droplet in [d for d in self.items.values() if key in d.tag_keys]:
            self.remove(droplet)
        return Response(204)

    # -- actions -----------------------------------------------------------------------------
    def list_actions(self, request: Request) -> Response:
        droplet = self.lookup(request)
        by_id = self.do.actions.by_id
        actions = [by_id[i] for i in reversed(droplet.action_ids) if i in by_id]
        return Response(200, paginate(request, "actions", actions, do_actions.render))

    def get_action(self, request: Request) -> Response:
        droplet = self.lookup(request)
        action_id = require_int(request.params["action_id"], "action")
        if action_id not in droplet.action_ids:
            raise missing("action")
        return Response(200, {"action": do_actions.render(self.do.actions.get(action_id))})

    def act(self, request: Request) -> Response:
        droplet = self.lookup(request)
        body = body_of(request)
        action = self.perform(droplet, body)
        return Response(201, {"action": do_actions.render(action)})

    def act_by_tag(self, request: Request) -> Response:
        tag = request.arg("tag_name")
        if not tag:
            raise unprocessable("tag_name", "tag_name is required")
        body = body_of(request)
        if body.get("type") not in TAG_ACTIONS:
            raise unprocessable(
                "type", f"type must be one of {', '.join(TAG_ACTIONS)} for actions by tag"
            )
        key = tag.lower()
        targets = [d for d in self.items.values() if key in d.tag_keys]
        for droplet in targets:
            if self.busy(droplet):
                raise unprocessable("type", f"droplet {droplet.id}: {PENDING}")
        started = [self.perform(d, body) for d in targets]
        return Response(201, {"actions": [do_actions.render(a) for a in started]})

    def perform(self, droplet: Droplet, body: JSON) -> Action:
        kind = body.get("type")
        if not isinstance(kind, str) or not kind:
            raise unprocessable("type", "type is required")
        handler = getattr(self, f"_act_{kind}", None)
        if kind in UNSUPPORTED:
            raise unprocessable("type", f"action type {kind!r} is not supported by the simulator")
        if handler is None:
            raise unprocessable("type", f"{kind!r} is not a valid droplet action type")
        if self.busy(droplet):
            raise unprocessable("type", PENDING)
        return handler(droplet, body)

    def _power(self, droplet: Droplet, on: bool) -> None:
        self._backend("power", droplet.machine, on)
        droplet.status = "active" if on else "off"

    def _act_power_on(self, droplet: Droplet, body: JSON) -> Action:
        return self.start(droplet, "power_on", lambda: self._power(droplet, True))

    def _act_power_off(self, droplet: Droplet, body: JSON) -> Action:
        return self.start(droplet, "power_off", lambda: self._power(droplet, False))

    def _act_shutdown(self, droplet: Droplet, body: JSON) -> Action:
        return self.start(droplet, "shutdown", lambda: self._power(droplet, False))

    def _act_reboot(self, droplet: Droplet, body: JSON) -> Action:
        def effect() -> None:
            self._backend("reboot", droplet.machine)
            droplet.status = "active"

        return self.start(droplet, "reboot", effect)

    def _act_power_cycle(self, droplet: Droplet, body: JSON) -> Action:
        def effect() -> None:
            self._backend("power", droplet.machine, False)
            self._backend("power", droplet.machine, True)
            droplet.status = "active"

        return self.start(droplet, "power_cycle", effect)

    def _act_rebuild(self, droplet: Droplet, body: JSON) -> Action:
        image = find_image(body.get("image"))
        if image is None:
            raise unprocessable("image", "You specified an invalid image for rebuild.")
        if image.min_disk_size > droplet.disk:
            raise unprocessable("image", f"image {image.slug} needs a larger disk")

        def effect() -> None:
            self._backend("rebuild", droplet.machine, droplet.ssh_keys)
            droplet.image = image.id
            droplet.status = "active"

        return self.start(droplet, "rebuild", effect)

    def _act_resize(self, droplet: Droplet, body: JSON) -> Action:
        size = body.get("size")
        if not isinstance(size, str) or size not in SIZES:
            raise unprocessable("size", "You specified an invalid size for resize.")
        disk = body.get("disk", False)
        if disk is not None and not isinstance(disk, bool):
            raise unprocessable("disk", "disk must be a boolean")
        if droplet.status != "off":
            raise unprocessable("type", MUST_BE_OFF)
        new = SIZES[size]
        if new.disk < droplet.disk:
            raise unprocessable("size", "This size is not available because it has a smaller disk.")

        def effect() -> None:
            droplet.size = size
            if disk:
                droplet.disk = new.disk

        return self.start(droplet, "resize", effect)

    def _act_rename(self, droplet: Droplet, body: JSON) -> Action:
        name = body.get("name")
        if not isinstance(name, str) or len(name) > 255 or not NAME_RE.match(name):
            raise unprocessable("name", f"name: {INVALID_NAME}")

        def effect() -> None:
            droplet.name = name
            droplet.machine.name = name

        return self.start(droplet, "rename", effect)

    def _feature(self, droplet: Droplet, command: str, feature: str, on: bool) -> Action:
        def effect() -> None:
            if on and feature not in droplet.features:
                droplet.features.append(feature)
            if not on and feature in droplet.features:
                droplet.features.remove(feature)

        return self.start(droplet, command, effect)

    def _act_enable_ipv6(self, droplet: Droplet, body: JSON) -> Action:
        return self._feature(droplet, "enable_ipv6", "ipv6", True)

    def _act_enable_backups(self, droplet: Droplet, body: JSON) -> Action:
        return self._feature(droplet, "enable_backups", "backups", True)

    def _act_disable_backups(self, droplet: Droplet, body: JSON) -> Action:
        return self._feature(droplet, "disable_backups", "backups", False)
