"""What the simulators' HTTP proxies share: Fly's edge proxy (``flyproxy.py``) and the ALB's
data plane (``aws/elb/``).

- :class:`LoopbackAddresses` hands out addresses ``127.X.Y.Z`` (Linux answers the whole of
  127.0.0.0/8 on ``lo``), one per proxied app or load balancer, so each can listen on its real
  ports without colliding with another.
- :class:`Listeners` keeps one threaded HTTP server per port on such an address; each request
  is handed to the owner's ``handle(request) -> Reply``.
- :func:`exchange` sends one request to one upstream and tells apart what a proxy must treat
  differently: the connection failed before anything was sent (``sent=False``: safe to try
  another upstream), or it broke once sent (the upstream may have acted on it).

Traffic stays on loopback and the project network: the owners choose the upstreams.
"""

from __future__ import annotations

import http.client
import ipaddress
import random
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade",
}  # fmt: skip


@dataclass
class ProxyRequest:
    method: str
    path: str  # with the query string, as sent
    headers: dict[str, str]  # without hop-by-hop headers
    body: bytes
    port: int  # the port it came in on
    client: str  # the client's address


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def text(cls, status: int, text: str) -> Reply:
        return cls(status, [("Content-Type", "text/plain")], text.encode())


class Owner(Protocol):
    def handle(self, request: ProxyRequest) -> Reply: ...


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, owner: Owner, address: str, port: int, name: str) -> None:
        self.owner = owner
        self.name = name
        super().__init__((address, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    @property
    def server_version(self) -> str:  # type: ignore[override]
        return self.server.name  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the owners count answers in their stats."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = ProxyRequest(
            method=self.command,
            path=self.path,
            headers={k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP},
            body=self.rfile.read(length) if length else b"",
            port=self.server.server_address[1],
            client=self.client_address[0],
        )
        reply = self.server.owner.handle(request)  # type: ignore[attr-defined]
        self.send_response(reply.status)
        for key, value in reply.headers:
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


class Listeners:
    """The HTTP servers of one address, one per port, all handing requests to ``owner``."""

    def __init__(self, owner: Owner, address: str, name: str) -> None:
        self.owner = owner
        self.address = address
        self.name = name
        self.servers: dict[int, _Server] = {}

    @property
    def ports(self) -> set[int]:
        return set(self.servers)

    def listen(self, ports: set[int]) -> None:
        """Listen on ``ports`` too (an OSError, e.g. a port in use, is the caller's)."""
        for port in sorted(ports - set(self.servers)):
            server = _Server(self.owner, self.address, port, self.name)
            self.servers[port] = server
            threading.Thread(
                target=server.serve_forever, name=f"{self.name}-{port}", daemon=True
            ).start()

    def keep(self, ports: set[int]) -> None:
        """Stop listening on the ports not in ``ports`` (in the background: no caller waits for
        a server's poll loop)."""
        for port in sorted(set(self.servers) - ports):
            _stop_later(self.servers.pop(port))

    def close(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()
        self.servers.clear()


def _stop_later(server: _Server) -> None:
    def stop() -> None:
        server.shutdown()
        server.server_close()

    threading.Thread(target=stop, name=f"{server.name}-stop", daemon=True).start()


class LoopbackAddresses:
    """Addresses ``127.X.Y.Z`` from a random /16 of 127.192.0.0-127.254.255.255, one per name,
    so that two simulators on one machine rarely meet."""

    def __init__(self) -> None:
        self._base = int(ipaddress.IPv4Address(f"127.{random.randint(192, 254)}.0.0"))
        self._count = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._count += 1
            high, low = divmod(self._count, 254)
        return str(ipaddress.IPv4Address(self._base + high * 256 + low + 1))


def base_url(address: str, ports: set[int]) -> str:
    """Where a user opens a proxy listening on ``ports``: port 80 if it listens there."""
    return f"http://{address}" + ("" if 80 in ports or not ports else f":{min(ports)}")


@dataclass
class Exchange:
    """One request's fate at one upstream: a reply, or an error. ``sent``: the request had
    left; ``answered``: an answer had begun (its body broke); ``timed_out``: waiting for the
    answer ran out of time."""

    reply: Reply | None
    error: str = ""
    sent: bool = False
    answered: bool = False
    timed_out: bool = False


def exchange(
    address: str,
    port: int,
    request: ProxyRequest,
    headers: dict[str, str],
    connect_timeout: float,
    response_timeout: float,
) -> Exchange:
    """Send ``request`` (with ``headers``) to ``address:port`` and read the whole answer."""
    connection = http.client.HTTPConnection(address, port, timeout=connect_timeout)
    try:
        try:
            connection.connect()
        except OSError as exc:
            return Exchange(None, str(exc) or type(exc).__name__, sent=False)
        try:
            connection.sock.settimeout(response_timeout)
            connection.request(
                request.method, request.path, body=request.body or None, headers=headers
            )
            response = connection.getresponse()
        except TimeoutError as exc:
            return Exchange(None, str(exc) or "timed out", sent=True, timed_out=True)
        except (OSError, http.client.HTTPException) as exc:
            return Exchange(None, str(exc) or type(exc).__name__, sent=True)
        try:
            return Exchange(Reply(response.status, response.getheaders(), response.read()))
        except TimeoutError as exc:
            return Exchange(None, str(exc) or "timed out", True, True, timed_out=True)
        except (OSError, http.client.HTTPException) as exc:
            return Exchange(None, str(exc) or type(exc).__name__, sent=True, answered=True)
    finally:
        connection.close()
