"""The Hetzner vendor: its routes, error envelope and rate-limit headers."""

from __future__ import annotations

import time

from ..core import JSON, ApiError, Faults, Request, Response, Router, Vendor
from . import actions
from .catalog import Catalog
from .firewalls import Firewalls
from .load_balancers import LoadBalancers
from .servers import Servers
from .ssh_keys import SshKeys

RATE_LIMIT = 3600  # requests per hour, refilled one per second (Hetzner's default)

# HTTP status -> Hetzner error code for the 5xx answers.
SERVER_ERRORS = {500: "server_error", 502: "bad_gateway", 503: "unavailable", 504: "timeout"}


class RateLimit:
    """Hetzner's token bucket as its headers show it. Requests are never refused for it (the
    benchmarks make thousands); the remaining count stops at 1, and only an injected fault
    answers 429."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.tokens = float(RATE_LIMIT)
        self.at = time.monotonic()

    def take(self) -> int:
        now = time.monotonic()
        self.tokens = max(1.0, min(RATE_LIMIT, self.tokens + (now - self.at)) - 1)
        self.at = now
        return int(self.tokens)

    def headers(self, remaining: int) -> dict[str, str]:
        full_at = int(time.time() + (RATE_LIMIT - remaining))
        return {
            "RateLimit-Limit": str(RATE_LIMIT),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(full_at),
        }


class _Router(Router):
    """Calls ``after`` once a changing request (not GET) has been handled."""

    def __init__(self, after) -> None:
        super().__init__()
        self.after = after

    def add(self, method: str, pattern: str, handler) -> None:
        if method != "GET":
            inner = handler

            def handler(req: Request) -> Response:
                response = inner(req)
                self.after()
                return response

        super().add(method, pattern, handler)


class HetznerVendor(Vendor):
    name = "hetzner"
    prefix = "/hetzner/v1"

    def __init__(self, faults: Faults, backend) -> None:
        super().__init__(faults, backend)
        self.catalog = Catalog()
        self.actions = actions.HetznerActions(self.ids, faults)
        self.rate = RateLimit()
        self.ssh_keys = SshKeys(self)
        self.servers = Servers(self)
        self.firewalls = Firewalls(self)
        self.load_balancers = LoadBalancers(self)
        self.router = router = _Router(self.load_balancers.sync)
        actions.register(router, self.actions)
        self.catalog.register(router)
        for resource in (self.ssh_keys, self.servers, self.firewalls, self.load_balancers):
            resource.register(router)

    # --- the HTTP layer's hooks -------------------------------------------------------------

    def error_body(self, err: ApiError) -> JSON:
        code, message, details = err.code, err.message, dict(err.details or {})
        if err.status >= 500:
            code = SERVER_ERRORS.get(err.status, "server_error")
        elif err.status == 429:
            message = f"limit of {RATE_LIMIT} requests per hour reached"
            details = {}
        elif err.status == 405:
            code = "method_not_allowed"
        return {"error": {"code": code, "message": message, "details": details}}

    def error_headers(self, err: ApiError) -> dict[str, str]:
        if err.status != 429:
            return {}
        retry_after = int(err.details.get("retry_after", self.faults.retry_after))
        headers = self.rate.headers(0)
        headers["RateLimit-Reset"] = str(int(time.time()) + retry_after)
        headers["Retry-After"] = str(retry_after)
        return headers

    def response_headers(self) -> dict[str, str]:
        return self.rate.headers(self.rate.take())

    def tick(self) -> None:
        self.actions.tick()
        self.load_balancers.sync()

    def reset(self) -> None:
        self.actions.tick()
        self.servers.reset()
        self.ssh_keys.reset()
        self.firewalls.reset()
        self.load_balancers.reset()
        self.actions.clear()
        self.rate.reset()
