"""A local AWS: moto's APIs (``gateway.py``) plus engines that make real what a deploy depends
on (ECS deployments and tasks, the ALB's traffic, RDS's PostgreSQL).

``make(faults, backend)`` builds the vendor; ``tests.cloudsim.app`` calls its :meth:`serve`
once the simulator's own server is up, which serves the AWS APIs on their own port
(``CLOUDSIM_AWS_PORT``, by default the simulator's port + 1) over the same TLS. Each engine is
a submodule of this package with ``install(aws) -> engine``; an engine may have ``reset()``,
``close()`` and ``admin(method, path, body)`` (answering ``/_admin/aws/...`` on the
simulator's port). Without moto installed the package is left out.
"""

from __future__ import annotations

import importlib
import logging
import ssl
import threading
from typing import Any

from ..core import Faults, Response, Router, Vendor
from ..fly.runtime import Runtime, make_runtime
from .gateway import ACCOUNT_ID, AwsCall, AwsError, Gateway

# Submodules with install(aws), in the order they are installed.
ENGINES: tuple[str, ...] = ("fixes", "cloudwatch", "elb", "rds", "ecs")


class AwsVendor(Vendor):
    """The AWS APIs' place among the simulator's vendors: reset, admin and shutdown."""

    name = "aws"
    prefix = "/aws"  # nothing is served here: AWS has its own port (serve)

    def __init__(self, faults: Faults, backend: Any) -> None:
        super().__init__(faults, backend)
        self.router = Router()
        self.gateway = Gateway()
        # Where tasks and databases run: memory (data only) or podman (real containers, shared
        # with Fly's machines: tests/cloudsim/fly/runtime.py).
        self.runtime: Runtime = make_runtime(backend, faults)
        self.url: str | None = None
        self._server: Any = None
        self._task_endpoint: Any = None  # tasknet.TaskEndpoint, made at the first real task
        self._task_lock = threading.Lock()
        self.engines: dict[str, Any] = {}
        for name in ENGINES:
            module = importlib.import_module(f"{__name__}.{name}")
            self.engines[name] = module.install(self)

    def engine(self, name: str) -> Any:
        """An installed engine by its module's name (``ecs``, ``elb``, ``rds``), or None."""
        return self.engines.get(name)

    @property
    def lock(self) -> threading.RLock:  # type: ignore[override]
        return self.gateway.lock

    @lock.setter
    def lock(self, value: Any) -> None:
        """Vendor.__init__ sets a lock of its own; the gateway's is the one AWS uses."""

    def serve(self, host: str, port: int, context: ssl.SSLContext | None) -> str:
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(
            host, port, self.gateway, threaded=True, request_handler=MotoRequestHandler,
            ssl_context=context,
        )  # fmt: skip
        bound_host, bound_port = self._server.server_address[:2]
        scheme = "https" if context is not None else "http"
        self.url = f"{scheme}://{bound_host}:{bound_port}"
        threading.Thread(target=self._server.serve_forever, name="aws", daemon=True).start()
        return self.url

    def task_env(self, region: str) -> dict[str, str]:
        """What a task's AWS SDK needs to reach the local AWS from its container (the endpoint
        on the tasks' network, the region, test credentials for the task role's): the defaults
        of a real task's environment (``tasknet.py``). Empty with the memory runtime."""
        if type(self.runtime).__name__ != "PodmanRuntime":
            return {}
        with self._task_lock:
            if self._task_endpoint is None:
                from ..podman_backend import hostctl
                from .tasknet import TaskEndpoint, network_gateway

                gateway = network_gateway(hostctl.SUBNET)
                self._task_endpoint = TaskEndpoint(self.gateway, gateway)
        return {
            "AWS_ENDPOINT_URL": self._task_endpoint.url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }

    def error_body(self, err) -> dict:
        return {"error": err.message}

    def admin(self, method: str, path: str, body: Any) -> Response | None:
        if path == "/_admin/aws/endpoint" and method == "GET":
            return Response(200, {"url": self.url, "account_id": ACCOUNT_ID})
        for engine in self.engines.values():
            answer = getattr(engine, "admin", None)
            found = answer(method, path, body) if answer else None
            if found is not None:
                return found
        return None

    def reset(self) -> None:
        for engine in self.engines.values():
            if hasattr(engine, "reset"):
                engine.reset()
        self.gateway.reset()

    def close(self) -> None:
        for engine in reversed(list(self.engines.values())):
            if hasattr(engine, "close"):
                engine.close()
        if type(self.runtime).__name__ == "MemoryRuntime":
            self.runtime.close()  # a podman runtime is Fly's too: its vendor closes it
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._task_endpoint is not None:
            self._task_endpoint.close()
            self._task_endpoint = None


def vendor_of(sim: Any) -> AwsVendor:
    """The AWS vendor of a simulator (``tests.cloudsim.server.Simulator``)."""
    for vendor in sim.vendors:
        if isinstance(vendor, AwsVendor):
            return vendor
    raise LookupError("the simulator has no AWS vendor (is moto installed?)")


def make(faults: Faults, backend: Any) -> AwsVendor:
    return AwsVendor(faults, backend)


__all__ = ["ACCOUNT_ID", "AwsCall", "AwsError", "AwsVendor", "Gateway", "make", "vendor_of"]
