"""Machines: create, get, list, update, delete, and the state machine the runtime drives.

States: created -> starting -> started -> stopping -> stopped -> destroying -> destroyed, with
``replacing`` while an update swaps a started machine's version. Every config change makes a
new version (``instance_id``). Shapes follow fly-go's ``fly.Machine`` (``machine_types.go``).

An image that cannot be fetched: the runtime reports ``failed`` with reason ``image``. Create
and update wait (the lock released) for the runtime's answer to their launch, and then answer
422 ``{"error": "failed to launch VM: unable to pull image <ref>: ..."}``; fly-go shows that
as ``failed to launch VM: ...`` (its ``Launch`` wraps any 4xx ``error`` text). Nothing is
left behind: the machine of a create is forgotten, an update goes back to the version before.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from functools import partial

from ..core import JSON, ApiError, Request, Response, Router, now_iso
from . import leases, validate
from .runtime import RunSpec

ACTIVE = ("created", "starting", "started", "stopping", "stopped", "replacing")


def new_instance_id() -> str:
    return "01" + uuid.uuid4().hex[:24].upper()


@dataclass
class Machine:
    id: str
    app: str
    name: str
    region: str
    config: JSON
    instance_id: str = field(default_factory=new_instance_id)
    state: str = "created"
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    cordoned: bool = False
    lease: leases.Lease | None = None
    events: list[JSON] = field(default_factory=list)  # newest first
    versions: list[JSON] = field(default_factory=list)  # newest first
    checks: dict[str, JSON] = field(default_factory=dict)
    pending: str | None = None  # after the runtime's "stopped": restart, replace or destroy
    launches: int = 0  # launch results (started / failed) so far
    failure: JSON | None = None  # the last failed launch
    private_ip: str = ""

    def event(self, kind: str, status: str, source: str = "user", **request) -> None:
        import time

        self.events.insert(
            0,
            {
                "id": uuid.uuid4().hex[:26].upper(),
                "type": kind,
                "status": status,
                "source": source,
                "timestamp": int(time.time() * 1000),
                "request": request,
            },
        )
        del self.events[20:]
        self.updated_at = now_iso()


def image_ref(image: str) -> JSON:
    """fly-go's ``MachineImageRef`` of a reference (``registry/repository:tag@digest``)."""
    name, _at, digest = image.partition("@")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", name if slash else f"library/{name}"
    repository, _colon, tag = path.partition(":")
    return {
        "registry": registry,
        "repository": repository,
        "tag": tag or "latest",
        "digest": digest or "sha256:" + hashlib.sha256(image.encode()).hexdigest(),
        "labels": {},
    }


def machine_json(m: Machine, nonce: str | None = None) -> JSON:
    body = {
        "id": m.id,
        "name": m.name,
        "state": m.state,
        "region": m.region,
        "instance_id": m.instance_id,
        "version": m.instance_id,
        "private_ip": m.private_ip,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "config": m.config,
        "image_ref": image_ref(m.config["image"]),
        "events": m.events[:5],
        "checks": [m.checks[name] for name in sorted(m.checks)],
        "host_status": "ok",
        "cordoned": m.cordoned,
    }
    if nonce:
        body["nonce"] = nonce
    return body


def fly_env(m: Machine) -> dict[str, str]:
    """The variables Fly sets in every machine (a machine's own env may override them)."""
    return {
        "FLY_APP_NAME": m.app,
        "FLY_MACHINE_ID": m.id,
        "FLY_REGION": m.region,
        "FLY_IMAGE_REF": m.config["image"],
        "FLY_PROCESS_GROUP": (m.config.get("metadata") or {}).get("fly_process_group", "app"),
    }


def run_spec(vendor, m: Machine) -> RunSpec:
    """What the runtime runs: the config, with the app's secrets of this moment merged in."""
    cfg = m.config
    secrets = {k: s["value"] for k, s in vendor.app(m.app).secrets.items()}
    init = cfg.get("init") or {}
    return RunSpec(
        image=cfg["image"],
        env={**fly_env(m), **(cfg.get("env") or {}), **secrets},
        cmd=init.get("cmd"),
        init=init,
        guest=cfg["guest"],
        services=cfg.get("services") or [],
        checks=cfg.get("checks") or {},
        name=m.name,
    )


def check_specs(m: Machine) -> dict[str, JSON]:
    """Every check of a machine by the name Fly shows: top-level ones by their key, service
    checks as ``servicecheck-<nn>-<type>-<port>``."""
    specs = {name: {"type": "tcp", **c} for name, c in (m.config.get("checks") or {}).items()}
    n = 0
    for service in m.config.get("services") or []:
        for check in service.get("checks") or []:
            full = {"type": "tcp", "port": service["internal_port"], **check}
            specs[f"servicecheck-{n:02d}-{full['type']}-{full['port']}"] = full
            n += 1
    return specs


def internal_ports(m: Machine) -> list[int]:
    return sorted({s["internal_port"] for s in m.config.get("services") or []})


def serves(m: Machine) -> bool:
    """Whether the proxy may route to the machine."""
    if m.state != "started" or m.cordoned:
        return False
    names = check_specs(m)
    return all(m.checks.get(name, {}).get("status") == "passing" for name in names)


def launch(vendor, m: Machine, state: str = "starting") -> None:
    m.state = state
    m.checks = {}
    vendor.runtime.launch(m.id, run_spec(vendor, m), vendor.reporter(m.id))


def apply_report(vendor, m: Machine, event: str, details: dict) -> None:
    """A runtime's report, under the lock."""
    if event in ("started", "failed"):
        m.launches += 1
    if m.state == "destroyed":
        return
    if event == "started" and m.state in ("starting", "replacing"):
        m.state, m.failure = "started", None
        m.event("start", "started", "flyd")
        vendor.wake_prober()
    elif event == "failed":
        m.state, m.failure = "stopped", dict(details)
        m.event("launch", "failed", "flyd", error=details.get("error", ""))
    elif event == "stopped":
        _stopped(vendor, m)
    elif event == "exited":
        _exited(vendor, m, int(details.get("exit_code", 0)))
    elif event == "destroyed":
        m.state, m.checks, m.lease, m.pending = "destroyed", {}, None, None
        m.event("destroy", "destroyed", "flyd")
        for volume in vendor.volumes.values():
            if volume["attached_machine_id"] == m.id:
                volume["attached_machine_id"] = None


def _stopped(vendor, m: Machine) -> None:
    """The runtime stopped it: go on with what the stop was for."""
    m.checks = {}
    if m.pending == "destroy":
        m.state = "destroying"
        vendor.runtime.destroy(m.id, vendor.reporter(m.id))
    elif m.pending in ("restart", "replace"):
        launch(vendor, m, "replacing" if m.pending == "replace" else "starting")
    else:
        m.state = "stopped"
        m.event("exit", "stopped", "flyd", exit_event=exit_event(0, requested_stop=True))
    m.pending = None


def exit_event(code: int, requested_stop: bool = False) -> JSON:
    """An exit event's ``request.exit_event`` as fly-go decodes it (``MachineExitEvent``:
    ``exit_code`` and ``requested_stop`` are left out when zero or false)."""
    event: JSON = {"exited_at": now_iso()}
    if code:
        event["exit_code"] = code
    if requested_stop:
        event["requested_stop"] = True
    return event


def _exited(vendor, m: Machine, code: int) -> None:
    """Its main process ended: the restart policy decides (Fly's default: on-failure)."""
    m.event("exit", "stopped", "flyd", exit_event=exit_event(code))
    policy = (m.config.get("restart") or {}).get("policy", "on-failure")
    if policy == "always" or (policy == "on-failure" and code != 0):
        launch(vendor, m)
    elif m.config.get("auto_destroy"):  # Fly destroys such a machine once it has exited
        m.state, m.checks = "destroying", {}
        vendor.runtime.destroy(m.id, vendor.reporter(m.id))
    else:
        m.state, m.checks = "stopped", {}


def _attach_volumes(vendor, m: Machine) -> None:
    for i, mount in enumerate(m.config.get("mounts") or []):
        volume = vendor.volumes.get(mount["volume"])
        if volume is None or volume["_app"] != m.app or volume["state"] == "destroyed":
            raise validate.bad(f"mounts[{i}].volume", f"no volume {mount['volume']} in this app")
        if volume["attached_machine_id"] not in (None, m.id):
            raise validate.bad(
                f"mounts[{i}].volume",
                f"volume {mount['volume']} is attached to {volume['attached_machine_id']}",
            )
        if volume["region"] != m.region:
            raise validate.bad(f"mounts[{i}].volume", f"volume is in {volume['region']}")
    for mount in m.config.get("mounts") or []:
        vendor.volumes[mount["volume"]]["attached_machine_id"] = m.id


def _image_error(m: Machine) -> ApiError:
    detail = (m.failure or {}).get("error", "image not found")
    return ApiError(
        422, "invalid_input", f"failed to launch VM: unable to pull image {m.config['image']}: "
        f"{detail}"
    )  # fmt: skip


def _launch_and_wait(vendor, m: Machine, state: str) -> bool:
    """Launch and wait for the runtime's answer; False when the image could not be fetched."""
    before = m.launches
    launch(vendor, m, state)
    vendor.wait_for(lambda: m.launches > before, vendor.launch_wait_s)
    return not (m.launches > before and (m.failure or {}).get("reason") == "image")


def create(vendor, req: Request) -> Response:
    app = vendor.app(req.params["app"])
    body = req.json()
    cfg = validate.config(body.get("config"))
    region = validate.check_region(body.get("region"))
    mid = uuid.uuid4().hex[:14]
    m = Machine(
        id=mid,
        app=app.name,
        name=body.get("name") or f"{app.name}-{mid[:6]}",
        region=region,
        config=cfg,
        cordoned=bool(body.get("skip_service_registration")),
        private_ip=f"fdaa:0:1:a7b:{mid[:4]}:{mid[4:8]}:{mid[8:12]}:2",
    )
    _attach_volumes(vendor, m)
    m.versions.insert(0, {"version": m.instance_id, "user_config": cfg})
    vendor.machines[mid] = m
    m.event("launch", "created")
    nonce = None
    if body.get("lease_ttl"):
        m.lease = leases.new(vendor, int(body["lease_ttl"]), "machine create")
        nonce = m.lease.nonce
    if not body.get("skip_launch") and not _launch_and_wait(vendor, m, "starting"):
        vendor.machines.pop(mid, None)
        vendor.runtime.destroy(mid, lambda *_: None)
        for volume in vendor.volumes.values():
            if volume["attached_machine_id"] == mid:
                volume["attached_machine_id"] = None
        raise _image_error(m)
    return Response(200, machine_json(m, nonce))


def show(vendor, req: Request) -> Response:
    return Response(200, machine_json(vendor.machine(req.params["app"], req.params["id"])))


def listing(vendor, req: Request) -> Response:
    app = vendor.app(req.params["app"])
    deleted = req.arg("include_deleted", "false") in ("true", "1")
    region = req.arg("region")
    wanted = {
        key[len("metadata.") :]: values[0]
        for key, values in req.query.items()
        if key.startswith("metadata.")
    }
    found = []
    for m in vendor.machines.values():
        if m.app != app.name or (m.state == "destroyed" and not deleted):
            continue
        if region and m.region != region:
            continue
        metadata = m.config.get("metadata") or {}
        if any(metadata.get(k) != v for k, v in wanted.items()):
            continue
        found.append(machine_json(m))
    return Response(200, found)


def update(vendor, req: Request) -> Response:
    m = vendor.machine(req.params["app"], req.params["id"])
    leases.require(vendor, m, req)
    if m.state not in ACTIVE or m.state == "replacing":
        raise ApiError(409, "conflict", f"machine is {m.state}, it cannot be updated now")
    body = req.json()
    cfg = validate.config(body.get("config"))
    if body.get("region") not in (None, "", m.region):
        raise validate.bad("region", "a machine cannot move to another region")
    previous = (m.config, m.instance_id, m.state)
    m.config, m.instance_id = cfg, new_instance_id()
    _attach_volumes(vendor, m)
    m.versions.insert(0, {"version": m.instance_id, "user_config": cfg})
    m.event("update", "replacing")
    if "skip_service_registration" in body:
        m.cordoned = bool(body["skip_service_registration"])
    if previous[2] in ("started", "starting"):
        m.state, m.pending = "replacing", "replace"
        before = m.launches
        vendor.runtime.stop(m.id, "SIGINT", 5.0, vendor.reporter(m.id))
        vendor.wait_for(lambda: m.launches > before, vendor.launch_wait_s)
        failed = m.launches > before and (m.failure or {}).get("reason") == "image"
    elif body.get("skip_launch"):
        failed = False
    else:
        failed = not _launch_and_wait(vendor, m, "starting")
    if failed:
        error = _image_error(m)
        m.config, m.instance_id = previous[0], previous[1]
        del m.versions[0]
        if previous[2] in ("started", "starting"):
            launch(vendor, m)
        raise error
    return Response(200, machine_json(m))


def delete(vendor, req: Request) -> Response:
    m = vendor.machine(req.params["app"], req.params["id"])
    leases.require(vendor, m, req)
    force = any(req.arg(k, "false") in ("true", "1") for k in ("force", "kill"))
    if m.state in ("destroying", "destroyed"):
        raise ApiError(409, "conflict", f"machine is already {m.state}")
    if m.state not in ("stopped", "created") and not force:
        raise ApiError(
            409,
            "conflict",
            f"unable to destroy machine, not currently stopped (state: {m.state}); "
            "stop it first or use force=true",
        )
    m.event("destroy", "destroying")
    if m.state in ("started", "starting", "replacing", "stopping"):
        m.state, m.pending = "stopping", "destroy"
        vendor.runtime.stop(m.id, "SIGKILL", 0.0, vendor.reporter(m.id))
    else:
        m.state = "destroying"
        vendor.runtime.destroy(m.id, vendor.reporter(m.id))
    vendor.routing_changed(m.app)
    return Response(200, {"ok": True})


def register(router: Router, vendor) -> None:
    router.add("POST", "/apps/{app}/machines", partial(create, vendor))
    router.add("GET", "/apps/{app}/machines", partial(listing, vendor))
    router.add("GET", "/apps/{app}/machines/{id}", partial(show, vendor))
    router.add("POST", "/apps/{app}/machines/{id}", partial(update, vendor))
    router.add("DELETE", "/apps/{app}/machines/{id}", partial(delete, vendor))
