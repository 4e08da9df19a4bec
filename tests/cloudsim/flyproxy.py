"""A stand-in for Fly's edge proxy: one HTTP proxy per app, on a loopback address of its own.

Fly's proxy takes a request for ``<app>.fly.dev`` on a service's port and hands it to one of
the app's machines that is started, not cordoned, registered for services and passing its
checks; when a machine refuses the connection it tries another. This stand-in does the same
for plain HTTP: each app gets an address ``127.X.Y.Z`` (Linux answers all of 127.0.0.0/8),
listens there on its services' ports, and forwards each request to the next routable machine
in turn. It asks the vendor for the routable set (``routable(app)``) whenever the vendor says
that set may have changed (``update(app)``), so it never routes on stale state for longer than
the vendor takes to say so.

- A connection refused or timed out before the request was sent: the next machine is tried
  (each machine once). A GET, HEAD or OPTIONS whose connection breaks before an answer begins
  (a machine stopping under it) is tried on the next machine too. Any other request that
  breaks once sent is answered 502 and not retried: the machine may have done it.
- No routable machine: 503, as Fly's proxy answers when an app has no healthy instance.
- Every answer is counted for the canary gate: ``stats.record(app, machine_id, status, seconds)``
  (Fly's ``fly_app_http_responses_count`` and response-time histogram, per instance).

Traffic stays on loopback and the project network.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from .httpproxy import Listeners, LoopbackAddresses, ProxyRequest, Reply, base_url, exchange

IDEMPOTENT = {"GET", "HEAD", "OPTIONS"}
CONNECT_TIMEOUT = 1.0
RESPONSE_TIMEOUT = 60.0

Target = tuple[str, str, int]  # machine id, address, internal port
Routable = Callable[[str], list[Target]]


class AppProxy:
    """The proxy of one app: its listeners and its current routable machines."""

    def __init__(self, app: str, address: str, routable: Routable, stats: Any) -> None:
        self.app = app
        self.address = address
        self._routable = routable
        self._stats = stats
        self._targets: list[Target] = []
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self.listeners = Listeners(self, address, f"fly-proxy-{app}")

    def listen(self, ports: set[int]) -> None:
        self.listeners.listen(ports)

    def refresh(self) -> None:
        targets = list(self._routable(self.app))
        with self._lock:
            self._targets = targets

    def candidates(self) -> list[Target]:
        """The routable machines, starting with the next one in turn."""
        with self._lock:
            targets = list(self._targets)
        if not targets:
            return []
        start = next(self._turn) % len(targets)
        return targets[start:] + targets[:start]

    def handle(self, request: ProxyRequest) -> Reply:
        headers = {**request.headers, "Fly-Forwarded-Port": str(request.port)}
        started = time.monotonic()
        for machine_id, address, port in self.candidates():
            done = exchange(address, port, request, headers, CONNECT_TIMEOUT, RESPONSE_TIMEOUT)
            if done.reply is None and not done.sent:
                continue  # refused or unreachable: nothing was sent, try the next machine
            if done.reply is None and not done.answered and request.method in IDEMPOTENT:
                continue  # no answer began: the next machine may give one
            reply = done.reply or Reply.text(502, f"fly-proxy: {done.error}\n")
            self._stats.record(self.app, machine_id, reply.status, time.monotonic() - started)
            return reply
        return Reply.text(503, f"fly-proxy: no healthy machine of app {self.app}\n")

    def close(self) -> None:
        self.listeners.close()


class FlyProxies:
    """Every app's proxy. ``ensure(app, ports)`` returns the app's address."""

    def __init__(self, routable: Routable, stats: Any) -> None:
        self._routable = routable
        self._stats = stats
        self._proxies: dict[str, AppProxy] = {}
        self._lock = threading.Lock()
        self._addresses = LoopbackAddresses()

    def ensure(self, app: str, ports: set[int]) -> str:
        with self._lock:
            proxy = self._proxies.get(app)
            if proxy is None:
                address = self._addresses.next()
                proxy = self._proxies[app] = AppProxy(app, address, self._routable, self._stats)
            proxy.listen(ports)
        proxy.refresh()
        return proxy.address

    def update(self, app: str) -> None:
        with self._lock:
            proxy = self._proxies.get(app)
        if proxy is not None:
            proxy.refresh()

    def urls(self) -> dict[str, str]:
        with self._lock:
            return {
                app: base_url(p.address, p.listeners.ports)
                for app, p in self._proxies.items()
                if p.listeners.ports
            }

    def remove(self, app: str) -> None:
        with self._lock:
            proxy = self._proxies.pop(app, None)
        if proxy is not None:
            proxy.close()

    def close(self) -> None:
        with self._lock:
            proxies = list(self._proxies.values())
            self._proxies.clear()
        for proxy in proxies:
            proxy.close()
