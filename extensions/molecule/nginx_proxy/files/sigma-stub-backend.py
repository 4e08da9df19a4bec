"""Stand-in for an app slot: answers every request with JSON naming the port that answered.

Usage: sigma-stub-backend PORT   (binds 127.0.0.1:PORT; HTTP/1.1 with keep-alive)

The body is {"port": PORT, "path": <path with query>, "method": ..., "headers": {...}} where
headers holds, lower-cased, the request headers nginx is expected to set. `?pad=N` adds N
bytes of filler so that a response is large enough to be compressed.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ECHOED_HEADERS = (
    "host",
    "connection",
    "x-real-ip",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-request-id",
    "accept-encoding",
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sigma-stub"
    # Headers and body are two writes: without this, Nagle's algorithm and delayed ACKs
    # stall every response on a kept-alive connection by 40 ms.
    disable_nagle_algorithm = True

    def answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        query = parse_qs(urlsplit(self.path).query)
        pad = int(query.get("pad", ["0"])[0])
        body = {
            "port": self.server.server_address[1],
            "path": self.path,
            "method": self.command,
            "headers": {
                name: self.headers[name] for name in ECHOED_HEADERS if name in self.headers
            },
        }
        if pad:
            body["pad"] = "x" * pad
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        # nginx must replace this on /_next/static/ and pass it through elsewhere.
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = answer

    def log_message(self, format: str, *args: object) -> None:
        pass  # nginx logs every request; the journal need not


def main() -> None:
    port = int(sys.argv[1])
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
