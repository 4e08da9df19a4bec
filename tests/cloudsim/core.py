"""Vendor-neutral parts of the cloud API simulators: routing, errors, ids, actions, faults.

A vendor (Hetzner, DigitalOcean) is a :class:`Vendor` subclass that registers routes on its
:class:`Router` and says how its errors, pagination and rate-limit headers look. The HTTP
layer (``server.py``) authenticates, injects faults, dispatches and records exchanges.
Everything runs under one lock, so handlers need no locking of their own.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    """An API error: the vendor renders it in its own envelope.

    ``code`` is a vendor-neutral name: not_found, uniqueness_error, conflict, invalid_input,
    unauthorized, rate_limit_exceeded, server_error, forbidden, locked.
    """

    def __init__(self, status: int, code: str, message: str, details: JSON | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def invalid(field_name: str, message: str) -> ApiError:
    """A 422 naming the offending field."""
    return ApiError(
        422,
        "invalid_input",
        f"invalid input in field '{field_name}'",
        {"fields": [{"name": field_name, "messages": [message]}]},
    )


@dataclass
class Request:
    method: str
    path: str  # below the vendor prefix, e.g. /servers/4
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    params: dict[str, str] = field(default_factory=dict)  # from the route pattern
    url_root: str = ""  # scheme://host:port plus the vendor prefix, for absolute links

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int) -> int:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise invalid(name, "must be an integer") from exc

    def json(self) -> JSON:
        if not isinstance(self.body, dict):
            raise ApiError(400, "json_error", "request body must be a JSON object")
        return self.body


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # What the request got away with because the vendor accepts it beyond its spec (e.g.
    # DigitalOcean's droplet ids as numeric strings): recorded with the exchange, so that the
    # contract check still holds our own clients to the spec.
    tolerated: list[str] = field(default_factory=list)


Handler = Callable[[Request], Response]


class Router:
    """Method + path patterns such as ``/servers/{id}/actions/{action}``."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "/?$"
        self._routes.append((method, re.compile(regex), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        path_known = False
        for route_method, regex, handler in self._routes:
            m = regex.match(path)
            if m:
                path_known = True
                if route_method == method:
                    return handler, m.groupdict()
        if path_known:
            raise ApiError(405, "method_not_allowed", f"method {method} not allowed")
        raise ApiError(404, "not_found", f"no such endpoint: {path}")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class Ids:
    """Increasing integer ids, one sequence per kind."""

    def __init__(self, start: int = 1000) -> None:
        self._counters: dict[str, itertools.count[int]] = {}
        self._start = start

    def next(self, kind: str) -> int:
        if kind not in self._counters:
            self._counters[kind] = itertools.count(self._start)
        return next(self._counters[kind])


@dataclass
class Faults:
    """Faults injected per run: the next N requests fail, actions run slow or end in error."""

    rate_limit_next: int = 0  # next N requests answer 429
    retry_after: int = 1  # seconds, in the 429's Retry-After header
    server_error_next: int = 0  # next N requests answer server_error_status
    server_error_status: int = 503
    action_delay: float = 0.0  # seconds an action stays running / in-progress
    action_error_next: int = 0  # next N actions end in error
    hold_command: str = ""  # while set, no action of this command finishes (create_server)

    def update(self, data: JSON) -> None:
        for key, value in data.items():
            if not hasattr(self, key):
                raise invalid(key, "unknown fault setting")
            setattr(self, key, type(getattr(self, key))(value))

    def take_request_fault(self) -> ApiError | None:
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            err = ApiError(429, "rate_limit_exceeded", "limit of requests per hour reached")
            err.details = {"retry_after": self.retry_after}
            return err
        if self.server_error_next > 0:
            self.server_error_next -= 1
            return ApiError(self.server_error_status, "server_error", "simulated server error")
        return None

    def take_action_error(self) -> bool:
        if self.action_error_next > 0:
            self.action_error_next -= 1
            return True
        return False


@dataclass
class Action:
    """An asynchronous action: running until ``due``, then success or error.

    ``effect`` runs once when the action finishes successfully (it changes the resource, e.g.
    a server becomes ``running``); ``on_error`` when it fails.
    """

    id: int
    command: str
    resources: list[JSON]
    started: str
    due: float
    fail: bool
    effect: Callable[[], None] | None = None
    on_error: Callable[[], None] | None = None
    finished: str | None = None
    done: bool = False

    @property
    def state(self) -> str:
        """running, success or error."""
        if not self.done:
            return "running"
        return "error" if self.fail else "success"


class Actions:
    """All actions of one vendor; finished lazily, on the next look at the clock."""

    def __init__(self, ids: Ids, faults: Faults, kind: str = "action") -> None:
        self.ids = ids
        self.faults = faults
        self.kind = kind
        self.by_id: dict[int, Action] = {}

    def start(
        self,
        command: str,
        resources: list[JSON],
        effect: Callable[[], None] | None = None,
        on_error: Callable[[], None] | None = None,
    ) -> Action:
        action = Action(
            id=self.ids.next(self.kind),
            command=command,
            resources=resources,
            started=now_iso(),
            due=time.monotonic() + self.faults.action_delay,
            fail=self.faults.take_action_error(),
            effect=effect,
            on_error=on_error,
        )
        self.by_id[action.id] = action
        self.tick()
        return action

    def tick(self) -> None:
        """Finish every action whose time has come and apply its effect."""
        now = time.monotonic()
        for action in list(self.by_id.values()):  # an effect may let other requests in
            held = action.command == self.faults.hold_command
            if not action.done and now >= action.due and not held:
                action.done = True
                action.finished = now_iso()
                callback = action.on_error if action.fail else action.effect
                if callback:
                    callback()

    def get(self, action_id: int) -> Action:
        self.tick()
        action = self.by_id.get(action_id)
        if action is None:
            raise not_found("action")
        return action


@contextlib.contextmanager
def outside(lock: Any) -> Iterator[None]:
    """Run the block with the simulator's lock released, if this thread holds it (at any depth),
    and take it back after: for slow backend work (podman removing a container) that must not
    stop every other request. Only for work on state that no request can reach any more (a
    server already removed from the vendor's records)."""
    if lock is None or not lock._is_owned():
        yield
        return
    state = lock._release_save()  # what threading.Condition.wait does with an RLock
    try:
        yield
    finally:
        lock._acquire_restore(state)


class Vendor:
    """One simulated API: its URL prefix, routes, and how it shapes errors and pages."""

    name = "vendor"
    prefix = "/vendor"

    def __init__(self, faults: Faults, backend: Any) -> None:
        self.faults = faults
        self.backend = backend
        self.router = Router()
        self.ids = Ids()
        self.lock = threading.RLock()
        self.sim_lock: Any = None  # the simulator's lock (attach)

    def error_body(self, err: ApiError) -> JSON:
        raise NotImplementedError

    def error_headers(self, err: ApiError) -> dict[str, str]:
        """Extra headers for an error (Retry-After and rate-limit headers on a 429)."""
        if err.status == 429:
            return {"Retry-After": str(err.details.get("retry_after", 1))}
        return {}

    def response_headers(self) -> dict[str, str]:
        """Headers on every answer (the vendors send rate-limit state with each)."""
        return {}

    def tick(self) -> None:
        """Advance time-based state (actions) before each request."""

    def authorized(self, header: str, token: str) -> bool:
        """Whether an Authorization header carries the simulator's token."""
        return header == f"Bearer {token}"

    def attach(self, lock: Any) -> None:
        """Called with the simulator's lock, for vendors that wait on it (Fly's ``/wait``) or
        do slow work outside it (:func:`outside`)."""
        self.sim_lock = lock

    def admin(self, method: str, path: str, body: Any) -> Response | None:
        """An ``/_admin/...`` endpoint of this vendor (None: not one of its own)."""
        return None

    def close(self) -> None:
        """Stop the vendor's threads (the simulator is shutting down)."""

    def reset(self) -> None:
        """Forget every resource (``POST /_admin/reset``); catalogues stay."""
        raise NotImplementedError
