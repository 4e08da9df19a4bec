"""Machine config validation: what Fly refuses, each refusal naming the field.

Fly answers an invalid config with a 4xx whose ``error`` says what is wrong; fly-go shows that
text as is (``flaps_flaps.go``, ``handleAPIError``). The simulator answers 400
``{"error": "invalid config.<field>: <what was expected>"}``. The guest rules follow fly-go's
presets (``machine_types.go``: ``MachinePresets`` and the MIN/MAX memory per CPU constants).
"""

from __future__ import annotations

from typing import Any

from ..core import JSON, ApiError

REGIONS = ("ams", "cdg", "fra", "iad", "lhr", "nrt", "ord", "sjc", "syd")
CPU_KINDS = {"shared": (1, 2, 4, 6, 8), "performance": (1, 2, 4, 6, 8, 10, 12, 14, 16)}
MEMORY_PER_CPU = {"shared": (256, 2048), "performance": (2048, 8192)}  # min, max MB per CPU
DEFAULT_GUEST = {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256}
RESTART_POLICIES = ("no", "always", "on-failure")
PROTOCOLS = ("tcp", "udp")
HANDLERS = ("http", "tls", "proxy_proto", "pg_tls", "edge_http")
CHECK_TYPES = ("tcp", "http")


def bad(field: str, expected: str) -> ApiError:
    return ApiError(400, "invalid_input", f"invalid config.{field}: {expected}")


def check_region(region: Any) -> str:
    if region in (None, ""):
        return "iad"
    if region not in REGIONS:
        raise ApiError(
            400,
            "invalid_input",
            f"invalid region: unknown region {region!r}, expected one of {', '.join(REGIONS)}",
        )
    return region


def _port(value: Any, field: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise bad(field, f"must be a port number from 1 to 65535 (got {value!r})")


def _strings(value: Any, field: str, kind: str = "a map of strings") -> None:
    if kind == "a list of strings":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    else:
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if not ok:
        raise bad(field, f"must be {kind}")


def guest(value: Any) -> JSON:
    """The guest with Fly's defaults filled in, or a 400 naming the wrong field."""
    if value is None:
        return dict(DEFAULT_GUEST)
    if not isinstance(value, dict):
        raise bad("guest", "must be an object")
    result = {**DEFAULT_GUEST, **value}
    kind, cpus, memory = result["cpu_kind"], result["cpus"], result["memory_mb"]
    if kind not in CPU_KINDS:
        raise bad("guest.cpu_kind", f"must be one of shared, performance (got {kind!r})")
    if cpus not in CPU_KINDS[kind]:
        allowed = ", ".join(str(c) for c in CPU_KINDS[kind])
        raise bad("guest.cpus", f"must be one of {allowed} for {kind} CPUs (got {cpus!r})")
    if "memory_mb" not in value:
        result["memory_mb"] = memory = MEMORY_PER_CPU[kind][0] * cpus
    low, high = (per_cpu * cpus for per_cpu in MEMORY_PER_CPU[kind])
    if not isinstance(memory, int) or memory % 256 or not low <= memory <= high:
        raise bad(
            "guest.memory_mb",
            f"must be a multiple of 256 from {low} to {high} for {cpus} {kind} CPU(s) "
            f"(got {memory!r})",
        )
    return result


def _check(check: Any, field: str, default_port: int | None) -> None:
    if not isinstance(check, dict):
        raise bad(field, "must be an object")
    kind = check.get("type", "tcp")
    if kind not in CHECK_TYPES:
        raise bad(f"{field}.type", f"must be one of tcp, http (got {kind!r})")
    port = check.get("port", default_port)
    _port(port, f"{field}.port")


def services(value: Any) -> None:
    if not isinstance(value, list):
        raise bad("services", "must be a list")
    for i, service in enumerate(value):
        where = f"services[{i}]"
        if not isinstance(service, dict):
            raise bad(where, "must be an object")
        protocol = service.get("protocol", "tcp")
        if protocol not in PROTOCOLS:
            raise bad(f"{where}.protocol", f"must be one of tcp, udp (got {protocol!r})")
        _port(service.get("internal_port"), f"{where}.internal_port")
        for j, port in enumerate(service.get("ports") or []):
            if "port" in port or not ("start_port" in port or "end_port" in port):
                _port(port.get("port"), f"{where}.ports[{j}].port")
            for handler in port.get("handlers") or []:
                if handler not in HANDLERS:
                    raise bad(
                        f"{where}.ports[{j}].handlers",
                        f"unknown handler {handler!r}, expected one of {', '.join(HANDLERS)}",
                    )
        for j, check in enumerate(service.get("checks") or []):
            _check(check, f"{where}.checks[{j}]", service["internal_port"])


def _init(init: Any) -> None:
    if not isinstance(init, dict):
        raise bad("init", "must be an object")
    for name in ("cmd", "entrypoint", "exec"):
        if init.get(name) is not None:
            _strings(init[name], f"init.{name}", "a list of strings")


def config(value: Any) -> JSON:
    """A normalised copy of a machine config (guest defaults filled), or a 400."""
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_input", "invalid config: a machine config is required")
    cfg = dict(value)
    image = cfg.get("image")
    if not isinstance(image, str) or not image.strip():
        raise bad("image", "an image reference is required")
    cfg["guest"] = guest(cfg.get("guest"))
    for name in ("env", "metadata"):
        if cfg.get(name) is not None:
            _strings(cfg[name], name)
    _init(cfg.get("init") or {})
    if cfg.get("services") is not None:
        services(cfg["services"])
    checks = cfg.get("checks") or {}
    if not isinstance(checks, dict):
        raise bad("checks", "must be an object of named checks")
    for name, check in checks.items():
        _check(check, f"checks.{name}", None)
    restart = cfg.get("restart")
    if restart is not None:
        policy = restart.get("policy") if isinstance(restart, dict) else restart
        if policy not in RESTART_POLICIES:
            raise bad("restart.policy", f"must be one of no, always, on-failure (got {policy!r})")
    mounts = cfg.get("mounts") or []
    if not isinstance(mounts, list) or not all(isinstance(m, dict) for m in mounts):
        raise bad("mounts", "must be a list of objects")
    for i, mount in enumerate(mounts):
        if not mount.get("volume") or not str(mount.get("path", "")).startswith("/"):
            raise bad(f"mounts[{i}]", "needs a volume id and an absolute path")
    return cfg
