"""Apps, as fly-go's ``flaps_flaps_apps.go`` uses them.

- ``POST /apps`` takes ``name`` (fly-go; the 2024 spec says ``app_name``: both are read) and
  ``org_slug``, and answers 201 with the app (fly-go decodes it). A name in use: 422
  ``{"error": "Name has already been taken", "status": "name_taken"}``
  (``flaps_flaps_error.go``, ``IsNameTakenError``).
- ``DELETE /apps/{app}`` answers 202 and destroys the app's machines and volumes.
- Secrets: ``secrets.py``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from functools import partial

from ..core import JSON, ApiError, Request, Response, Router, now_iso

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


@dataclass
class App:
    name: str
    org: str
    network: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    created_at: str = field(default_factory=now_iso)
    secrets: dict[str, JSON] = field(default_factory=dict)  # name -> value, digest, times
    secrets_version: int = 0


def app_json(vendor, app: App) -> JSON:
    active = [m for m in vendor.machines.values() if m.app == app.name and m.state != "destroyed"]
    return {
        "id": app.id,
        "name": app.name,
        "status": "deployed" if active else "pending",
        "network": app.network,
        "machine_count": len(active),
        "volume_count": sum(1 for v in vendor.volumes.values() if v["_app"] == app.name),
        "organization": {"name": app.org, "slug": app.org},
    }


def create(vendor, req: Request) -> Response:
    body = req.json()
    name = body.get("name") or body.get("app_name")
    org = body.get("org_slug")
    if not isinstance(name, str) or not NAME.match(name):
        raise ApiError(
            400,
            "invalid_input",
            "invalid name: 3 to 63 lowercase letters, digits and dashes, starting and "
            f"ending with a letter or digit (got {name!r})",
        )
    if not isinstance(org, str) or not org:
        raise ApiError(400, "invalid_input", "invalid org_slug: an organization is required")
    if name in vendor.apps:
        err = ApiError(422, "uniqueness_error", "Name has already been taken")
        err.details = {"status": "name_taken"}
        raise err
    app = App(name=name, org=org, network=body.get("network") or "default")
    vendor.apps[name] = app
    return Response(201, app_json(vendor, app))


def listing(vendor, req: Request) -> Response:
    org = req.arg("org_slug")
    if not org:
        raise ApiError(400, "invalid_input", "org_slug is required")
    found = [app_json(vendor, a) for a in vendor.apps.values() if a.org == org]
    listed = [{k: a[k] for k in ("id", "name", "machine_count", "network")} for a in found]
    return Response(200, {"total_apps": len(listed), "apps": listed})


def show(vendor, req: Request) -> Response:
    return Response(200, app_json(vendor, vendor.app(req.params["app"])))


def delete(vendor, req: Request) -> Response:
    app = vendor.app(req.params["app"])
    for machine in list(vendor.machines.values()):
        if machine.app == app.name and machine.state != "destroyed":
            vendor.runtime.destroy(machine.id, lambda *_: None)
        if machine.app == app.name:
            del vendor.machines[machine.id]
    for vid in [v for v, vol in vendor.volumes.items() if vol["_app"] == app.name]:
        del vendor.volumes[vid]
    del vendor.apps[app.name]
    vendor.cond.notify_all()  # waiters on its machines answer now (404)
    vendor.routing_changed(app.name)
    return Response(202, None)


def register(router: Router, vendor) -> None:
    router.add("POST", "/apps", partial(create, vendor))
    router.add("GET", "/apps", partial(listing, vendor))
    router.add("GET", "/apps/{app}", partial(show, vendor))
    router.add("DELETE", "/apps/{app}", partial(delete, vendor))
