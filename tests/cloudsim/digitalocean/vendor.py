"""The DigitalOcean API v2 simulator: error envelope, rate-limit headers, the resources."""

from __future__ import annotations

import time
import uuid
from typing import Any

from ..core import ApiError, Faults, Request, Response, Vendor
from .actions import DoActions
from .catalog import Catalog
from .common import JSON, NOT_FOUND_MESSAGE, PREFIX
from .droplets import Droplets
from .firewalls import Firewalls
from .keys import Keys
from .load_balancers import LoadBalancers
from .tags import Tags

RATE_LIMIT = 5000  # requests per hour, DigitalOcean's default
RATE_WINDOW = 3600

# core's vendor-neutral codes -> DigitalOcean's error ids
ERROR_IDS = {
    "not_found": "not_found",
    "invalid_input": "unprocessable_entity",
    "uniqueness_error": "unprocessable_entity",
    "conflict": "conflict",
    "rate_limit_exceeded": "too_many_requests",
    "server_error": "server_error",
    "forbidden": "forbidden",
    "locked": "conflict",
    "json_error": "bad_request",
    "bad_request": "bad_request",
    "method_not_allowed": "method_not_allowed",
}
SERVER_ERROR_MESSAGE = "Server was unable to give you a response."


class DigitalOcean(Vendor):
    name = "digitalocean"
    prefix = PREFIX

    def __init__(self, faults: Faults, backend: Any) -> None:
        super().__init__(faults, backend)
        self.account_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, "cloudsim:digitalocean:account"))
        self.project_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "cloudsim:digitalocean:project"))
        self.actions = DoActions(self.ids, faults)
        self.catalog = Catalog()
        self.keys = Keys(self)
        self.tags = Tags(self)
        self.droplets = Droplets(self)
        self.firewalls = Firewalls(self)
        self.load_balancers = LoadBalancers(self)
        self._window_start = time.time()
        self._used = 0
        self.router.add("GET", "/account", self.account)
        for part in (
            self.actions,
            self.catalog,
            self.keys,
            self.tags,
            self.droplets,
            self.firewalls,
            self.load_balancers,
        ):
            part.routes(self.router)

    # -- the Vendor interface ----------------------------------------------------------------
    def error_body(self, err: ApiError) -> JSON:
        if err.status == 401:
            return {"id": "Unauthorized", "message": "Unable to authenticate you."}
        if err.status == 429:
            error_id, message = "too_many_requests", "API Rate limit exceeded."
        elif err.status >= 500:
            error_id, message = "server_error", SERVER_ERROR_MESSAGE
            if err.message != "simulated server error":  # e.g. the backend failed: say why
                message = f"{SERVER_ERROR_MESSAGE} ({err.message})"
        elif err.status == 404:
            error_id, message = "not_found", NOT_FOUND_MESSAGE
        else:
            error_id = ERROR_IDS.get(err.code, err.code)
            if err.status == 422:
                error_id = "unprocessable_entity"
            message = err.message
        body: JSON = {"id": error_id, "message": message, "request_id": str(uuid.uuid4())}
        if "root_causes" in err.details:  # the 400 that POST /tags documents
            body.update(error=message, messages=None, root_causes=err.details["root_causes"])
        return body

    def _rate_state(self) -> tuple[int, int]:
        now = time.time()
        if now - self._window_start >= RATE_WINDOW:
            self._window_start, self._used = now, 0
        return max(0, RATE_LIMIT - self._used), int(self._window_start + RATE_WINDOW)

    def error_headers(self, err: ApiError) -> dict[str, str]:
        if err.status == 429:
            reset = self._rate_state()[1]
            return {
                "Retry-After": str(err.details.get("retry_after", 1)),
                "ratelimit-limit": str(RATE_LIMIT),
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(reset),
            }
        return {}

    def response_headers(self) -> dict[str, str]:
        """Sent with every answer; each answer counts against the hourly quota."""
        self._used += 1
        remaining, reset = self._rate_state()
        return {
            "ratelimit-limit": str(RATE_LIMIT),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(reset),
        }

    def tick(self) -> None:
        self.actions.tick()
        self.load_balancers.sync()

    def reset(self) -> None:
        with self.lock:
            self.droplets.reset()
            self.keys.reset()
            self.tags.reset()
            self.firewalls.reset()
            self.load_balancers.reset()
            self.actions.reset()
            self._window_start, self._used = time.time(), 0

    # -- /account ----------------------------------------------------------------------------
    def account(self, request: Request) -> Response:
        return Response(
            200,
            {
                "account": {
                    "droplet_limit": 10000,
                    "floating_ip_limit": 3,
                    "volume_limit": 100,
                    "email": "sim@example.com",
                    "name": "cloudsim",
                    "uuid": self.account_uuid,
                    "email_verified": True,
                    "status": "active",
                    "status_message": "",
                    "team": {"uuid": self.account_uuid, "name": "cloudsim"},
                }
            },
        )
