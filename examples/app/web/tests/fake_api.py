"""A stand-in for the notes API, for test.sh: GET /notes answers two fixed notes.

Usage: fake_api.py PORT_FILE -- binds 127.0.0.1 on a free port, writes the port
to PORT_FILE once listening, and serves until killed.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NOTES = [
    {
        "id": 2,
        "title": "Second fake note",
        "body": "Served by tests/fake_api.py",
        "created_at": "2026-01-02T10:00:00Z",
    },
    {
        "id": 1,
        "title": "First fake note",
        "body": "",
        "created_at": "2026-01-01T09:00:00Z",
    },
]


class Handler(BaseHTTPRequestHandler):
    def _send_json(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?", 1)[0] == "/notes":
            self._send_json(200, NOTES)
        else:
            self._send_json(404, {"detail": "Not Found"})

    def log_message(self, format, *args):
        sys.stderr.write("fake_api: " + (format % args) + "\n")


def main():
    port_file = sys.argv[1]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w", encoding="ascii") as handle:
        handle.write(str(server.server_address[1]))
    # Rename so a reader never sees a half-written file.
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
