"""In-process benchmarks for `make bench` (tools/bench.py calls bench_local()).

No hosts, no simulator server, no ansible-playbook: a few seconds on loopback only, runnable
alone with ``python tools/bench.py --local-only``. They time what the unit tests check by
counting (a time limit in a unit test fails on a busy machine; the table only reports):

- the DigitalOcean simulator in process, at 1,000 and 5,000 droplets (half of them tagged):
  creating them, and listing the tagged half by tag in pages of 200
  (tests/unit/cloudsim/test_digitalocean_backend.py counts what a listing renders);
- tools/loadgen.py on a loopback server: the rate it keeps, and when a run against a target
  that never answers ends (tests/unit/test_loadgen.py checks the schedule it records);
- http_check's ``wait``: how long a check that keeps failing is retried
  (tests/unit/plugins/testhttp_check.py counts its pauses on a fake clock).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT, ROOT / ".build" / "collections"):  # the checkout, as sigma.deploy too
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from tests.cloudsim.backends import MemoryBackend  # noqa: E402
from tests.cloudsim.core import Faults, Request  # noqa: E402
from tests.cloudsim.digitalocean import make  # noqa: E402
from tools.loadgen import LoadGen  # noqa: E402

Row = tuple[str, str, str]
DROPLET = {"region": "fra1", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}


def timed(work: Callable[[], object]) -> tuple[float, object]:
    began = time.monotonic()
    result = work()
    return time.monotonic() - began, result


# --- the DigitalOcean simulator -----------------------------------------------------------
def simulator_call(vendor, method: str, path: str, body=None, **query):
    """One request straight to the vendor's router, as the HTTP layer would pass it."""
    handler, params = vendor.router.match(method, path)
    vendor.tick()
    request = Request(
        method, path, {k: [str(v)] for k, v in query.items()}, {"host": "bench"}, body, params
    )
    return handler(request).body


def create_droplets(vendor, count: int) -> None:
    for batch in range(count // 10):
        tags = ["bench"] if batch % 2 == 0 else ["other"]
        names = [f"b-{batch}-{i}" for i in range(10)]
        simulator_call(vendor, "POST", "/droplets", {"names": names, **DROPLET, "tags": tags})


def list_by_tag(vendor) -> int:
    seen, page = 0, 1
    while True:
        body = simulator_call(vendor, "GET", "/droplets", tag_name="bench", per_page=200, page=page)
        seen += len(body["droplets"])
        if "next" not in body["links"].get("pages", {}):
            return seen
        page += 1


def bench_simulator(sizes: tuple[int, int] = (1000, 5000)) -> list[Row]:
    rows, listed = [], {}
    for size in sizes:
        vendor = make(Faults(), MemoryBackend())
        created = timed(lambda v=vendor, n=size: create_droplets(v, n))[0]
        listed[size], seen = timed(lambda v=vendor: list_by_tag(v))
        if seen != size // 2:
            raise SystemExit(f"simulator: listed {seen} droplets by tag, expected {size // 2}")
        created_limit, listed_limit = ("< 10 s", "< 2 s") if size == max(sizes) else ("", "")
        what = "digitalocean simulator,"
        rows.append((f"{what} create {size} droplets", f"{created:.2f} s", created_limit))
        rows.append(
            (f"{what} list {size // 2} of them by tag", f"{listed[size]:.3f} s", listed_limit)
        )
    small, large = sizes
    rows.append(
        (
            f"digitalocean simulator, list cost {large} / {small} droplets",
            f"{listed[large] / listed[small]:.1f}x",
            f"linear would be {large / small:.0f}x",
        )
    )
    return rows


# --- loadgen and http_check on a loopback server --------------------------------------------
class Target(BaseHTTPRequestHandler):
    """``/hang`` answers nothing until the server is closed; ``/down`` is a 503; else 200."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

    def do_GET(self) -> None:
        if self.path == "/hang":
            self.server.closing.wait(30)
            self.close_connection = True
            return
        status = 503 if self.path == "/down" else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@contextmanager
def loopback_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    server.daemon_threads = True
    server.closing = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()


def bench_loadgen(base: str) -> list[Row]:
    steady = LoadGen(base, paths=["/"], rate=40.0, max_seconds=2.0, concurrency=4).run()
    hang = LoadGen(base, paths=["/hang"], rate=10.0, max_seconds=0.5, timeout=0.3, concurrency=1)
    hung = hang.run()
    return [
        (
            "loadgen 40 req/s for 2 s, 4 workers, loopback",
            f"{steady.rate:.1f} req/s, {steady.failed} failed",
            "about 40 req/s, 0 failed",
        ),
        (
            "loadgen, a target that never answers: max_seconds 0.5, timeout 0.3",
            f"{hung.seconds:.2f} s",
            "<= 0.8 s (max_seconds + timeout)",
        ),
    ]


def bench_http_check(base: str) -> list[Row]:
    from ansible_collections.sigma.deploy.plugins.module_utils.deploy import http_check

    check = {"url": f"{base}/down", "name": None, "status": 200, "contains": None, "json": None}
    checks = http_check.validate([check], 5)
    took, results = timed(lambda: http_check.run_checks(checks, 5, False, wait=1.0, interval=0.1))
    return [
        (
            "http_check wait 1 s, interval 0.1 s, on a 503",
            f"{took:.2f} s, {results[0]['attempts']} attempts",
            "about 1 s, at most 11 attempts",
        )
    ]


def bench_local() -> list[Row]:
    rows = bench_simulator()
    with loopback_server() as base:
        rows += bench_loadgen(base)
        rows += bench_http_check(base)
    return rows
