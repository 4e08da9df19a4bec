"""Assemble a simulator from settings (environment variables or keyword arguments)."""

from __future__ import annotations

import importlib
import json
import os
import threading
from dataclasses import dataclass, field

from .core import Faults, Vendor
from .server import Server, Simulator, serve

# Vendor modules, each with a ``make(faults, backend)`` that returns a Vendor or a list of them
# (Fly: the Machines API under /fly/v1 and its Prometheus API under /fly/prometheus); one
# missing is left out.
# AWS (moto plus our engines) serves on a port of its own: CLOUDSIM_AWS_PORT, by default the
# simulator's port + 1 (any free port when the simulator's is 0).
VENDOR_MODULES = (
    "tests.cloudsim.hetzner",
    "tests.cloudsim.digitalocean",
    "tests.cloudsim.fly",
    "tests.cloudsim.aws",
)


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8765
    token: str = "sim-token"
    tls: bool = False
    ca_path: str = ".build/cloudsim-ca.pem"
    backend: str = "memory"
    action_delay: float = 0.0
    faults: dict = field(default_factory=dict)
    record: str | None = None
    aws_port: int | None = None  # None: port + 1 (0 when port is 0)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            host=env.get("CLOUDSIM_HOST", "127.0.0.1"),
            port=int(env.get("CLOUDSIM_PORT", "8765")),
            token=env.get("CLOUDSIM_TOKEN", "sim-token"),
            tls=env.get("CLOUDSIM_TLS", "0") not in ("", "0", "false", "no"),
            ca_path=env.get("CLOUDSIM_CA", ".build/cloudsim-ca.pem"),
            backend=env.get("CLOUDSIM_BACKEND", "memory"),
            action_delay=float(env.get("CLOUDSIM_ACTION_DELAY", "0")),
            faults=json.loads(env.get("CLOUDSIM_FAULTS", "{}")),
            record=env.get("CLOUDSIM_RECORD") or None,
            aws_port=int(env["CLOUDSIM_AWS_PORT"]) if env.get("CLOUDSIM_AWS_PORT") else None,
        )

    def aws_port_or_default(self) -> int:
        if self.aws_port is not None:
            return self.aws_port
        return self.port + 1 if self.port else 0


def make_backend(name: str):
    if name == "memory":
        from .backends import MemoryBackend

        return MemoryBackend()
    if name == "podman":
        from .podman_backend import PodmanBackend

        return PodmanBackend()
    raise ValueError(f"CLOUDSIM_BACKEND={name!r}: expected memory or podman")


def build(settings: Settings) -> Simulator:
    faults = Faults(action_delay=settings.action_delay)
    faults.update(settings.faults)
    backend = make_backend(settings.backend)
    vendors: list[Vendor] = []
    for module_name in VENDOR_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name not in (module_name, "moto"):
                raise
            continue
        made = module.make(faults, backend)
        vendors.extend(made if isinstance(made, list) else [made])
    sim = Simulator(vendors, faults, settings.token, settings.record)
    sim.backend = backend
    for vendor in vendors:
        sim.reset_hooks.append(vendor.reset)
    return sim


def start(settings: Settings) -> tuple[Server, Simulator, str]:
    """Start a simulator on a thread; returns the server, the simulator and its base URL."""
    sim = build(settings)
    context = None
    if settings.tls:
        from .tls import make_context

        context = make_context(settings.ca_path)
    server = serve(sim, settings.host, settings.port, context)
    host, port = server.server_address[:2]
    scheme = "https" if settings.tls else "http"
    threading.Thread(target=server.serve_forever, name="cloudsim", daemon=True).start()
    for vendor in sim.vendors:
        if hasattr(vendor, "serve"):
            try:
                vendor.serve(settings.host, settings.aws_port_or_default(), context)
            except OSError:
                server.shutdown()
                sim.close()
                raise
    return server, sim, f"{scheme}://{host}:{port}"
