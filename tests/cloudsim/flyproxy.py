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

import http.client
import ipaddress
import itertools
import random
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

IDEMPOTENT = {"GET", "HEAD", "OPTIONS"}
CONNECT_TIMEOUT = 1.0
RESPONSE_TIMEOUT = 60.0
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade",
}  # fmt: skip

Target = tuple[str, str, int]  # machine id, address, internal port
Routable = Callable[[str], list[Target]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, proxy: AppProxy, address: str, port: int) -> None:
        self.proxy = proxy
        super().__init__((address, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fly-proxy-standin"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: answers are counted in the stats, not logged."""

    def _serve(self) -> None:
        proxy: AppProxy = self.server.proxy  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Fly-Forwarded-Port"] = str(self.server.server_address[1])
        status, reply_headers, payload = proxy.forward(self.command, self.path, headers, body)
        self.send_response(status)
        for key, value in reply_headers:
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


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
        self._servers: dict[int, _Server] = {}

    def listen(self, ports: set[int]) -> None:
        for port in sorted(ports - set(self._servers)):
            server = _Server(self, self.address, port)
            self._servers[port] = server
            threading.Thread(
                target=server.serve_forever, name=f"fly-proxy-{self.app}-{port}", daemon=True
            ).start()

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

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        started = time.monotonic()
        for machine_id, address, port in self.candidates():
            connection = http.client.HTTPConnection(address, port, timeout=CONNECT_TIMEOUT)
            try:
                connection.connect()
            except OSError:
                connection.close()
                continue  # refused or unreachable: nothing was sent, try the next machine
            try:
                connection.sock.settimeout(RESPONSE_TIMEOUT)
                connection.request(method, path, body=body or None, headers=headers)
                response = connection.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if method in IDEMPOTENT:  # no answer began: the next machine may give one
                    continue
                reply = (502, [("Content-Type", "text/plain")], f"fly-proxy: {exc}\n".encode())
                self._stats.record(self.app, machine_id, 502, time.monotonic() - started)
                return reply
            try:
                reply = (response.status, response.getheaders(), response.read())
            except (OSError, http.client.HTTPException) as exc:
                reply = (502, [("Content-Type", "text/plain")], f"fly-proxy: {exc}\n".encode())
            finally:
                connection.close()
            self._stats.record(self.app, machine_id, reply[0], time.monotonic() - started)
            return reply
        text = f"fly-proxy: no healthy machine of app {self.app}\n".encode()
        return 503, [("Content-Type", "text/plain")], text

    def close(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()


class FlyProxies:
    """Every app's proxy. ``ensure(app, ports)`` returns the app's address."""

    def __init__(self, routable: Routable, stats: Any) -> None:
        self._routable = routable
        self._stats = stats
        self._proxies: dict[str, AppProxy] = {}
        self._lock = threading.Lock()
        self._count = 0
        self._base = int(ipaddress.IPv4Address(f"127.{random.randint(192, 254)}.0.0"))

    def ensure(self, app: str, ports: set[int]) -> str:
        with self._lock:
            proxy = self._proxies.get(app)
            if proxy is None:
                self._count += 1
                high, low = divmod(self._count, 254)
                address = str(ipaddress.IPv4Address(self._base + high * 256 + low + 1))
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
                app: f"http://{p.address}" + ("" if 80 in p._servers else f":{min(p._servers)}")
                for app, p in self._proxies.items()
                if p._servers
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
