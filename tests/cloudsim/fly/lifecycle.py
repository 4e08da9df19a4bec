"""Machine lifecycle calls: start, stop, restart, wait, cordon, uncordon, metadata, events and
versions (paths and parameters as fly-go's ``flaps_flaps_machines.go`` and
``flaps_flaps_machines_wait.go`` send them).

``GET .../wait?state=<s>[&state=<s2>]&timeout=<seconds>[&instance_id=<v> | &version=<v>]``
long-polls on the vendor's condition, the simulator's lock released meanwhile. It answers 200
once the machine (of that version, when one is named) is in one of the states, 408
``deadline_exceeded`` when the timeout (at most 60 s, as fly-go caps it) runs out first.
"""

from __future__ import annotations

import re
from functools import partial

from ..core import ApiError, Request, Response, Router
from . import leases, machines

WAIT_STATES = ("created", "started", "stopped", "suspended", "destroyed", "failed")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(raw: object, field: str, default: float) -> float:
    """A timeout as Fly takes it: seconds, or a Go duration such as ``10s`` or ``1m30s``."""
    if raw in (None, ""):
        return default
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    text = str(raw).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ApiError(400, "invalid_input", f"invalid {field}: seconds or a duration like 10s")
    return sum(float(n) * _UNIT[u] for n, u in parts)


def _ok() -> Response:
    return Response(200, {"ok": True})


def changing(vendor, req: Request) -> machines.Machine:
    m = vendor.machine(req.params["app"], req.params["id"])
    leases.require(vendor, m, req)
    if m.state in ("destroying", "destroyed"):
        raise ApiError(409, "conflict", f"machine is {m.state}")
    return m


def start(vendor, req: Request) -> Response:
    m = changing(vendor, req)
    previous = m.state
    if previous not in ("created", "stopped"):
        raise ApiError(409, "conflict", f"unable to start machine from current state {previous!r}")
    m.event("start", "starting")
    machines.launch(vendor, m)
    return Response(200, {"previous_state": previous, "migrated": False, "new_host": ""})


def stop(vendor, req: Request) -> Response:
    m = changing(vendor, req)
    body = req.body if isinstance(req.body, dict) else {}
    stop_config = m.config.get("stop_config") or {}
    signal = body.get("signal") or stop_config.get("signal") or "SIGINT"
    timeout = seconds(body.get("timeout", stop_config.get("timeout")), "timeout", 5.0)
    if m.state in ("stopped", "created", "stopping"):
        return _ok()
    m.event("stop", "stopping", signal=signal)
    m.state, m.pending = "stopping", None
    vendor.runtime.stop(m.id, signal, timeout, vendor.reporter(m.id))
    vendor.routing_changed(m.app)
    return _ok()


def restart(vendor, req: Request) -> Response:
    m = changing(vendor, req)
    signal = req.arg("signal") or "SIGINT"
    timeout = seconds(req.arg("timeout"), "timeout", 5.0)
    m.event("restart", "restarting", signal=signal)
    if m.state in ("created", "stopped"):
        machines.launch(vendor, m)
    elif m.state in ("started", "starting"):
        m.state, m.pending = "stopping", "restart"
        vendor.runtime.stop(m.id, signal, timeout, vendor.reporter(m.id))
        vendor.routing_changed(m.app)
    else:
        raise ApiError(409, "conflict", f"unable to restart machine from state {m.state!r}")
    return _ok()


def wait(vendor, req: Request) -> Response:
    m = vendor.machine(req.params["app"], req.params["id"])
    states = req.query.get("state") or ["started"]
    for state in states:
        if state not in WAIT_STATES:
            raise ApiError(
                400, "invalid_input",
                f"invalid state {state!r}: expected one of {', '.join(WAIT_STATES)}",
            )  # fmt: skip
    version = req.arg("instance_id") or req.arg("version")
    timeout = min(60.0, max(1.0, seconds(req.arg("timeout"), "timeout", 60.0)))

    def ready() -> bool:
        if vendor.machines.get(m.id) is not m:
            return True  # gone (its app deleted): answered below
        if version and m.instance_id != version and m.state != "destroyed":
            return False
        return m.state in states

    if not vendor.wait_for(ready, timeout):
        raise ApiError(
            408, "deadline_exceeded",
            f"deadline_exceeded: machine {m.id} did not reach state {'|'.join(states)} "
            f"within {timeout:g}s (state: {m.state})",
        )  # fmt: skip
    if vendor.machines.get(m.id) is not m:
        raise ApiError(404, "not_found", "machine not found")
    return Response(200, {"ok": True, "state": m.state})


def cordon(vendor, req: Request, on: bool) -> Response:
    m = changing(vendor, req)
    m.cordoned = on
    m.event("cordon" if on else "uncordon", "cordoned" if on else "uncordoned")
    vendor.routing_changed(m.app)
    return _ok()


def metadata(vendor, req: Request) -> Response:
    m = vendor.machine(req.params["app"], req.params["id"])
    return Response(200, dict(m.config.get("metadata") or {}))


def set_metadata(vendor, req: Request) -> Response:
    m = vendor.machine(req.params["app"], req.params["id"])
    value = req.json().get("value")
    if not isinstance(value, str):
        raise ApiError(400, "invalid_input", "invalid value: a string")
    meta = {**(m.config.get("metadata") or {}), req.params["key"]: value}
    m.config = {**m.config, "metadata": meta}
    return Response(204, None)


def delete_metadata(vendor, req: Request) -> Response:
    m = vendor.machine(req.params["app"], req.params["id"])
    meta = dict(m.config.get("metadata") or {})
    meta.pop(req.params["key"], None)
    m.config = {**m.config, "metadata": meta}
    return Response(204, None)


def events(vendor, req: Request) -> Response:
    return Response(200, vendor.machine(req.params["app"], req.params["id"]).events)


def versions(vendor, req: Request) -> Response:
    return Response(200, vendor.machine(req.params["app"], req.params["id"]).versions)


def register(router: Router, vendor) -> None:
    base = "/apps/{app}/machines/{id}"
    router.add("POST", f"{base}/start", partial(start, vendor))
    router.add("POST", f"{base}/stop", partial(stop, vendor))
    router.add("POST", f"{base}/restart", partial(restart, vendor))
    router.add("GET", f"{base}/wait", partial(wait, vendor))
    router.add("POST", f"{base}/cordon", lambda req: cordon(vendor, req, True))
    router.add("POST", f"{base}/uncordon", lambda req: cordon(vendor, req, False))
    router.add("GET", f"{base}/metadata", partial(metadata, vendor))
    router.add("POST", f"{base}/metadata/{{key}}", partial(set_metadata, vendor))
    router.add("DELETE", f"{base}/metadata/{{key}}", partial(delete_metadata, vendor))
    router.add("GET", f"{base}/events", partial(events, vendor))
    router.add("GET", f"{base}/versions", partial(versions, vendor))
    leases.register(router, vendor)
