"""Volumes: create, list, get, update, extend, delete (fly-go ``flaps_flaps_volumes.go``; the
shapes of its ``fly.Volume``). A volume is attached by a machine config's ``mounts`` and
detached when that machine is destroyed; an attached volume cannot be deleted (409).
"""

from __future__ import annotations

import uuid
from functools import partial

from ..core import JSON, ApiError, Request, Response, Router, now_iso
from . import validate


def _public(volume: JSON) -> JSON:
    return {k: v for k, v in volume.items() if not k.startswith("_")}


def _size(value: object, field: str = "size_gb") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 500:
        raise ApiError(400, "invalid_input", f"invalid {field}: 1 to 500 GB (got {value!r})")
    return value


def find(vendor, req: Request) -> JSON:
    app = vendor.app(req.params["app"])
    volume = vendor.volumes.get(req.params["id"])
    if volume is None or volume["_app"] != app.name:
        raise ApiError(404, "not_found", "volume not found")
    return volume


def create(vendor, req: Request) -> Response:
    app = vendor.app(req.params["app"])
    body = req.json()
    name = body.get("name")
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise ApiError(400, "invalid_input", f"invalid name: letters, digits and _ (got {name!r})")
    volume = {
        "id": "vol_" + uuid.uuid4().hex[:16],
        "name": name,
        "state": "created",
        "size_gb": _size(body.get("size_gb", 1)),
        "region": validate.check_region(body.get("region")),
        "zone": uuid.uuid4().hex[:4],
        "encrypted": body.get("encrypted", True) is not False,
        "attached_machine_id": None,
        "attached_alloc_id": None,
        "created_at": now_iso(),
        "host_dedication_id": "",
        "snapshot_retention": int(body.get("snapshot_retention") or 5),
        "auto_backup_enabled": body.get("auto_backup_enabled", True) is not False,
        "fstype": body.get("fstype") or "ext4",
        "_app": app.name,
    }
    vendor.volumes[volume["id"]] = volume
    return Response(200, _public(volume))


def listing(vendor, req: Request) -> Response:
    app = vendor.app(req.params["app"])
    found = [_public(v) for v in vendor.volumes.values() if v["_app"] == app.name]
    return Response(200, found)


def show(vendor, req: Request) -> Response:
    return Response(200, _public(find(vendor, req)))


def update(vendor, req: Request) -> Response:
    volume = find(vendor, req)
    body = req.json()
    for key in ("snapshot_retention", "auto_backup_enabled"):
        if body.get(key) is not None:
            volume[key] = body[key]
    return Response(200, _public(volume))


def extend(vendor, req: Request) -> Response:
    volume = find(vendor, req)
    size = _size(req.json().get("size_gb"))
    if size <= volume["size_gb"]:
        raise ApiError(
            400, "invalid_input",
            f"invalid size_gb: must be larger than the current {volume['size_gb']} GB",
        )  # fmt: skip
    volume["size_gb"] = size
    attached = volume["attached_machine_id"] is not None
    return Response(200, {"volume": _public(volume), "needs_restart": attached})


def delete(vendor, req: Request) -> Response:
    volume = find(vendor, req)
    if volume["attached_machine_id"]:
        raise ApiError(
            409, "conflict",
            f"volume {volume['id']} is attached to machine {volume['attached_machine_id']}; "
            "destroy the machine first",
        )  # fmt: skip
    del vendor.volumes[volume["id"]]
    return Response(200, {**_public(volume), "state": "destroyed"})


def register(router: Router, vendor) -> None:
    router.add("POST", "/apps/{app}/volumes", partial(create, vendor))
    router.add("GET", "/apps/{app}/volumes", partial(listing, vendor))
    router.add("GET", "/apps/{app}/volumes/{id}", partial(show, vendor))
    router.add("PUT", "/apps/{app}/volumes/{id}", partial(update, vendor))
    router.add("POST", "/apps/{app}/volumes/{id}", partial(update, vendor))
    router.add("PUT", "/apps/{app}/volumes/{id}/extend", partial(extend, vendor))
    router.add("DELETE", "/apps/{app}/volumes/{id}", partial(delete, vendor))
