"""Helpers of the ALB engine's tests: loopback target servers and a load balancer to route."""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.cloudsim.httpproxy import Reply


class Target:
    """A small HTTP server on 127.0.0.<n>: answers its name, ``/slow`` waits for ``release``,
    ``/health`` answers ``health_status``."""

    def __init__(self, address: str, name: str) -> None:
        self.name = name
        self.health_status = 200
        self.release = threading.Event()
        self.slow_started = threading.Event()
        self.paths: list[str] = []
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path == "/health":
                    status = target.health_status
                else:
                    target.paths.append(self.path)
                    status = 200
                    if self.path == "/slow":
                        target.slow_started.set()
                        target.release.wait(30)
                body = f"{target.name} {self.path}".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        self.address, self.port = self.server.server_address[:2]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def get(base: str, path: str, host: str | None = None) -> Reply:
    address, port = base.removeprefix("http://").partition(":")[::2]
    connection = http.client.HTTPConnection(address, int(port or 80), timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host} if host else {})
        response = connection.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def wait_for(check, what: str, timeout: float = 20.0):
    """Poll ``check`` until it answers truthy; a deadline only bounds a hang."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.02)
