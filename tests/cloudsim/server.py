"""The simulators' HTTP layer: one threaded server for every vendor, optionally over TLS.

Requests go to the vendor whose prefix starts the path (``/hetzner/v1/...``,
``/digitalocean/v2/...``). Before a vendor sees a request: the bearer token is checked, and
injected faults (429, 5xx) are answered. ``/_admin/...`` (no token) resets state, sets faults
and reports health. With ``record`` set, every exchange is appended to that file as one JSON
line, in the order the requests were handled, for the contract tests and for tests that
follow a resource's changes (``record.py``): the request (with the client's User-Agent), the
answer, and what the vendor tolerated beyond its spec to accept it (``tolerated``, when
anything).
"""

from __future__ import annotations

import json
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .core import ApiError, Faults, Request, Response, Vendor


class Simulator:
    """The vendors, the shared fault settings and the options of one simulator process."""

    def __init__(
        self,
        vendors: list[Vendor],
        faults: Faults,
        token: str,
        record: str | None = None,
    ) -> None:
        self.vendors = vendors
        self.faults = faults
        self.token = token
        self.record_path = Path(record) if record else None
        self.lock = threading.RLock()
        self.reset_hooks: list[Any] = []
        self.backend: Any = None  # where servers live (app.build sets it)
        for vendor in vendors:
            vendor.attach(self.lock)

    def vendor_for(self, path: str) -> Vendor | None:
        for vendor in self.vendors:
            if path == vendor.prefix or path.startswith(vendor.prefix + "/"):
                return vendor
        return None

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        parsed = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(parsed.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        if path.startswith("/_admin/"):
            return self.admin(method, path, body)
        vendor = self.vendor_for(path)
        if vendor is None:
            return Response(404, {"error": f"no simulated API at {path}"})
        with self.lock:
            response = self.dispatch(vendor, method, path, query, headers, body)
            response.headers = {**vendor.response_headers(), **response.headers}
            # Under the same lock: the record's order is the order the requests were handled.
            if self.record_path:
                self.record(vendor, method, parsed, headers, body, response)
        return response

    def dispatch(
        self,
        vendor: Vendor,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        try:
            auth = headers.get("authorization", "")
            if not vendor.authorized(auth, self.token):
                raise ApiError(401, "unauthorized", "unable to authenticate")
            fault = self.faults.take_request_fault()
            if fault:
                raise fault
            try:
                payload = json.loads(body) if body else None
            except ValueError as exc:
                raise ApiError(400, "json_error", "request body is not valid JSON") from exc
            vendor.tick()
            sub_path = path[len(vendor.prefix) :] or "/"
            handler, params = vendor.router.match(method, sub_path)
            scheme = headers.get("x-cloudsim-scheme", "https")
            root = f"{scheme}://{headers.get('host', 'localhost')}{vendor.prefix}"
            request = Request(method, sub_path, query, headers, payload, params, root)
            return handler(request)
        except ApiError as err:
            return Response(err.status, vendor.error_body(err), vendor.error_headers(err))

    def admin(self, method: str, path: str, body: bytes) -> Response:
        if path == "/_admin/health":
            return Response(200, {"status": "ok", "vendors": [v.name for v in self.vendors]})
        if path == "/_admin/faults" and method == "GET":
            return Response(200, vars(self.faults))
        if path == "/_admin/faults" and method in ("POST", "PUT"):
            try:
                with self.lock:
                    self.faults.update(json.loads(body or b"{}"))
            except (ApiError, ValueError, TypeError) as exc:
                return Response(400, {"error": str(exc)})
            return Response(200, vars(self.faults))
        if path == "/_admin/reset" and method == "POST":
            with self.lock:
                for hook in self.reset_hooks:
                    hook()
            return Response(200, {"status": "reset"})
        return self.vendor_admin(method, path, body)

    def vendor_admin(self, method: str, path: str, body: bytes) -> Response:
        """An admin endpoint of one vendor (``/_admin/fly/stats``)."""
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return Response(400, {"error": "request body is not valid JSON"})
        with self.lock:
            for vendor in self.vendors:
                try:
                    answer = vendor.admin(method, path, payload)
                except ApiError as err:
                    return Response(err.status, {"error": err.message})
                if answer is not None:
                    return answer
        return Response(404, {"error": f"no admin endpoint {method} {path}"})

    def close(self) -> None:
        """Stop the vendors' own threads (Fly's runtime and prober), the last made first (AWS
        shares Fly's podman runtime, which Fly's vendor closes)."""
        for vendor in reversed(self.vendors):
            vendor.close()

    def record(
        self,
        vendor: Vendor,
        method: str,
        parsed: urllib.parse.SplitResult,
        headers: dict[str, str],
        body: bytes,
        response: Response,
    ) -> None:
        line = {
            "vendor": vendor.name,
            "method": method,
            "path": parsed.path[len(vendor.prefix) :] or "/",
            "query": parsed.query,
            "content_type": headers.get("content-type", ""),
            "user_agent": headers.get("user-agent", ""),
            "request_body": body.decode("utf-8", "replace") if body else "",
            "status": response.status,
            "response_body": response.body,
        }
        if response.tolerated:
            line["tolerated"] = response.tolerated
        with self.lock, self.record_path.open("a") as out:
            out.write(json.dumps(line) + "\n")


def make_handler(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "cloudsim/1"
        # Headers and body go out in separate writes: without this, each keep-alive request
        # waits ~40 ms for the peer's delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read the recorded exchanges, not an access log."""

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
            host, port = self.server.server_address[:2]
            headers.setdefault("host", f"{host}:{port}")
            headers["x-cloudsim-scheme"] = scheme
            response = sim.handle(self.command, self.path, headers, body)
            payload = b"" if response.body is None else json.dumps(response.body).encode()
            self.send_response(response.status)
            if response.body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.end_headers()
            if payload and self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def serve(
    sim: Simulator, host: str, port: int, tls_context: ssl.SSLContext | None = None
) -> Server:
    """Bind the server (port 0 picks a free one); the caller runs ``serve_forever``."""
    server = Server((host, port), make_handler(sim))
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    return server
