"""tools/loadgen.py against a small HTTP server on 127.0.0.1 (no other address is ever
connected to): counts, bounds, pacing, release tracking, and the refusal of other targets."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import loadgen


class Backend:
    """What the test server answers; every field can be changed while a load runs.

    ``mode``: ok, 503, redirect, drop (close the connection without an answer), hang (answer
    nothing until the test ends), dribble (send a body one byte at a time). ``plan`` overrides
    the mode for single requests by their number (1-based, in arrival order). The n-th
    /version request answers ``versions[n-1]`` (the last one from then on).
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.plan: dict[int, str] = {}
        self.versions = ["A"]
        self.delay = 0.0
        self.requests = 0
        self.arrivals: list[float] = []
        self.version_requests = 0
        self.lock = threading.Lock()
        self.ended = threading.Event()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def make_handler(backend: Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def answer(self, status: int, body: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with backend.lock:
                backend.requests += 1
                backend.arrivals.append(time.monotonic())
                mode = backend.plan.get(backend.requests, backend.mode)
                if mode == "ok" and self.path == "/version":
                    backend.version_requests += 1
                    index = min(backend.version_requests, len(backend.versions)) - 1
                    release = backend.versions[index]
            if backend.delay:
                time.sleep(backend.delay)
            if mode == "drop":
                self.close_connection = True
            elif mode == "hang":
                backend.ended.wait(10)
                self.close_connection = True
            elif mode == "dribble":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                try:
                    while not backend.ended.wait(0.05):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                except OSError:
                    self.close_connection = True
            elif mode == "503":
                self.answer(503, b'{"detail": "unavailable"}')
            elif mode == "redirect":
                self.answer(301, b"", {"Location": "/elsewhere"})
            elif self.path == "/version":
                self.answer(200, json.dumps({"release_id": release}).encode())
            else:
                self.answer(200, b"hello")

    return Handler


@pytest.fixture
def backend():
    state = Backend()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.ended.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch):
    """Fail any connection to anything but 127.0.0.1; record the ones made."""
    made = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        if address[0] != "127.0.0.1":
            raise AssertionError(f"connection to {address} attempted")
        made.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return made


def run(backend: Backend, **options) -> loadgen.Report:
    options = {"rate": 200.0, "max_seconds": 4.0, "concurrency": 2, "timeout": 2.0, **options}
    return loadgen.LoadGen(backend.url, **options).run()


# --- counting -----------------------------------------------------------------------------


def test_counts_every_request_and_stops_at_max_requests(backend):
    report = run(backend, max_requests=10)
    assert (report.sent, report.ok, report.failed, report.failures) == (10, 10, 0, [])
    assert backend.requests == 10
    assert report.stopped_by == "max_requests"
    assert report.releases["A"].count == 5
    assert report.p50_ms is not None
    assert report.p95_ms >= report.p50_ms
    assert report.max_ms >= report.p95_ms


def test_503_answers_are_failures_counted_exactly(backend):
    backend.mode = "503"
    report = run(backend, max_requests=7, paths=["/"])
    assert (report.sent, report.ok, report.failed) == (7, 0, 7)
    assert [(f.path, f.status, f.error) for f in report.failures] == [("/", 503, "HTTP 503")] * 7
    assert (report.p50_ms, report.p95_ms, report.max_ms) == (None, None, None)


def test_closed_connections_are_failures_counted_exactly(backend, only_loopback):
    backend.mode = "drop"
    report = run(backend, max_requests=6)
    assert (report.sent, report.ok, report.failed) == (6, 0, 6)
    assert {f.status for f in report.failures} == {None}
    assert {f.error.split(":")[0] for f in report.failures} == {"RemoteDisconnected"}
    # A fresh connection that fails is not tried again.
    assert backend.requests == 6
    assert len(only_loopback) == 6


def test_a_kept_alive_connection_closed_by_the_server_is_retried_once(backend):
    backend.plan = {2: "503", 4: "drop", 6: "503"}
    report = run(backend, max_requests=8, concurrency=1, paths=["/"])
    # Request 4 met a closed keep-alive connection and was answered on a new one.
    assert (report.sent, report.ok, report.failed) == (8, 6, 2)
    assert backend.requests == 9
    assert [f.status for f in report.failures] == [503, 503]


def test_a_redirect_is_a_failure(backend):
    backend.mode = "redirect"
    report = run(backend, max_requests=2, paths=["/"])
    assert (report.failed, [f.error for f in report.failures]) == (2, ["HTTP 301", "HTTP 301"])


def test_only_the_first_50_failures_are_kept(backend):
    backend.mode = "503"
    report = run(backend, max_requests=60, rate=1000.0, concurrency=4, paths=["/"])
    assert (report.failed, len(report.failures)) == (60, 50)


# --- bounds and pacing --------------------------------------------------------------------


class Recorded(loadgen.LoadGen):
    """Notes each reserved slot with the monotonic time it was reserved at, and the time each
    request was started: the schedule, checked as recorded, whatever the machine's speed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.slots: list[tuple[float, float]] = []  # (reserved at, slot)
        self.starts: list[float] = []

    def _reserve(self):
        reserved_at = time.monotonic()
        reserved = super()._reserve()
        if reserved is not None:
            self.slots.append((reserved_at, reserved[1]))
        return reserved

    def _request(self, index, conn, path):
        self.starts.append(time.monotonic())
        return super()._request(index, conn, path)

    def offsets(self) -> list[float]:
        """The slots in order, in seconds after the first."""
        return sorted(slot - self._start_mono for _reserved_at, slot in self.slots)


def wait_until(condition, what: str) -> None:
    """Poll ``condition`` until it holds; the deadline only ends a test that would hang."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.01)


def test_stops_at_max_seconds(backend):
    # Without the time bound this run would go on to max_requests (2 s at 20 per second).
    gen = Recorded(backend.url, rate=20.0, max_seconds=0.5, max_requests=40, timeout=2.0)
    report = gen.run()
    assert report.stopped_by == "max_seconds"
    # Slots at 0, 0.05, ... 0.45 s at most: none at or after max_seconds, ten in all.
    assert 0 < len(gen.offsets()) <= 10
    assert gen.offsets()[-1] < 0.5
    assert report.sent == backend.requests <= len(gen.slots)
    assert report.failed == 0


def test_never_exceeds_the_rate(backend):
    gen = Recorded(backend.url, rate=40.0, max_seconds=60, max_requests=20, concurrency=4)
    report = gen.run()
    assert (report.sent, backend.requests, report.stopped_by) == (20, 20, "max_requests")
    # Slots are 1/40 s apart at least, however late the threads run.
    gaps = [later - earlier for earlier, later in pairwise(gen.offsets())]
    assert len(gaps) == 19
    assert [gap for gap in gaps if gap < 1 / 40 - 1e-9] == []
    # The k-th request started is started k/40 s after the first slot at the earliest (on a busy
    # machine arrivals at the server can bunch up; starts cannot).
    first = gen._start_mono
    early = [(k, t - first) for k, t in enumerate(sorted(gen.starts)) if t < first + k / 40]
    assert early == []


def test_a_slow_target_gets_fewer_requests_not_a_queue(backend):
    backend.delay = 0.2
    gen = Recorded(backend.url, rate=100.0, max_seconds=1.0, max_requests=1000, concurrency=2)
    report = gen.run()
    assert (report.failed, report.stopped_by) == (0, "max_seconds")
    # Two workers, 0.2 s a request: about ten in a second, never the 100 the rate allows.
    assert report.sent <= 12
    # A slot a busy worker missed is dropped, not made up: no slot lies before the moment it
    # was reserved (a queue of missed slots would hand out slots in the past, then a burst).
    assert gen.slots
    assert [(at, slot) for at, slot in gen.slots if slot < at] == []


def test_a_request_that_never_ends_is_bounded_by_the_timeout(backend):
    backend.mode = "hang"  # the server holds each request for 10 s, then closes it
    report = run(backend, rate=10.0, max_seconds=0.5, timeout=0.3, concurrency=1)
    assert report.stopped_by == "max_seconds"
    assert report.sent == report.failed >= 1
    # Ended by the client's timeout, not by the server closing the connection after 10 s.
    assert {f.error for f in report.failures} == {"TimeoutError: timed out"}


def test_a_request_still_running_after_the_grace_time_is_cut_off(backend):
    # A byte every 0.05 s: no read ever times out, and the body would take 50 s.
    backend.mode = "dribble"
    report = run(backend, rate=10.0, max_seconds=0.3, timeout=0.5, concurrency=1)
    # max_seconds, then timeout more for the running request, then its connection is closed.
    assert (report.sent, report.failed, report.stopped_by) == (1, 1, "max_seconds")
    assert [f.error.split(":")[0] for f in report.failures] == ["IncompleteRead"]
    assert report.seconds >= 0.3 + 0.5


def test_stop_ends_a_run_early(backend):
    gen = loadgen.LoadGen(backend.url, rate=50.0, max_seconds=30)
    with gen:
        wait_until(lambda: backend.requests >= 3, "three requests")
    report = gen.report()
    assert report.stopped_by == "stop"
    assert gen.wait(0)  # done, its workers ended
    assert [worker.is_alive() for worker in gen._workers] == [False] * gen.concurrency
    assert report.sent == report.ok == backend.requests >= 3
    assert report.failed == 0


# --- releases -----------------------------------------------------------------------------


def test_tracks_releases_and_the_cutover(backend):
    backend.versions = ["A"] * 4 + ["B"]
    report = run(backend, max_requests=10, concurrency=1, paths=["/version"])
    assert {rid: seen.count for rid, seen in report.releases.items()} == {"A": 4, "B": 6}
    a, b = report.releases["A"], report.releases["B"]
    assert a.first_seen <= a.last_seen <= b.first_seen <= b.last_seen
    assert report.cutover_seconds("A", "B") == 0.0
    assert report.cutover_seconds("A", "C") is None
    assert report.all_after(b.first_seen) == {"B"}
    assert report.all_after(a.first_seen) == {"A", "B"}
    assert report.all_after(b.last_seen + 1) == set()
    assert report.summary().endswith("releases: A (4), B (6)")


def test_releases_are_read_only_from_version_answers(backend):
    report = run(backend, max_requests=4, paths=["/", "/api/version"])
    assert report.releases == {}
    report = run(backend, max_requests=2, paths=["/version"])
    assert report.releases["A"].count == 2


def make_report(**changes) -> loadgen.Report:
    fields = {
        "url": "http://127.0.0.1",
        "started": 1000.0,
        "seconds": 60.0,
        "sent": 1200,
        "ok": 1200,
        "failed": 0,
        "resent": 2,
        "failures": [],
        "releases": {
            "B": loadgen.Release(600, 1030.0, 1060.0),
            "A": loadgen.Release(600, 1000.0, 1032.5),
        },
        "p50_ms": 4.0,
        "p95_ms": 12.4,
        "max_ms": 30.0,
        "stopped_by": "max_seconds",
        **changes,
    }
    return loadgen.Report(**fields)


def test_summary_is_one_line_with_the_numbers():
    assert make_report().summary() == (
        "sent 1200, failed 0 (resent 2), 20.0 req/s over 60.0 s, p95 12 ms, max 30 ms, "
        "releases: A (600), B (600)"
    )
    empty = make_report(releases={}, p95_ms=None, max_ms=None, sent=0, seconds=0.0, resent=0)
    assert empty.summary() == (
        "sent 0, failed 0 (resent 0), 0.0 req/s over 0.0 s, p95 - ms, max - ms, releases: none"
    )


def test_summary_names_the_first_failures_with_their_time_and_error():
    failures = [loadgen.Failure(1000.0 + n, "/", 502, "HTTP 502") for n in range(7)]
    failures[0] = loadgen.Failure(1012.34, "/version", None, "TimeoutError: timed out")
    text = make_report(failed=7, failures=failures).summary()
    assert text.endswith(
        "releases: A (600), B (600); failures: +12.3 s /version TimeoutError: timed out; "
        "+1.0 s / HTTP 502; +2.0 s / HTTP 502; +3.0 s / HTTP 502; +4.0 s / HTTP 502; 2 more kept"
    )
    one = make_report(failed=1, failures=failures[:1]).summary()
    assert one.endswith("; failures: +12.3 s /version TimeoutError: timed out")
    assert make_report(failed=7, failures=failures).failure_lines()[:2] == [
        "+12.3 s /version TimeoutError: timed out",
        "+1.0 s / HTTP 502",
    ]
    assert make_report().failure_lines() == []


def test_cutover_is_the_overlap_clipped_at_zero():
    assert make_report().cutover_seconds("A", "B") == 2.5
    assert make_report().cutover_seconds("B", "A") == 60.0
    clean = make_report(
        releases={"A": loadgen.Release(1, 1.0, 5.0), "B": loadgen.Release(1, 6.0, 9.0)}
    )
    assert clean.cutover_seconds("A", "B") == 0.0
    assert make_report().all_after(1032.5) == {"A", "B"}
    assert make_report().all_after(1032.6) == {"B"}


# --- where traffic may go -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://8.8.8.8/",
        "https://192.0.2.1:8443",
        "http://10.89.214.1",
        "http://[2001:db8::1]:80",
        "http://[::ffff:8.8.8.8]",
    ],
)
def test_refuses_addresses_outside_the_allowed_networks(url, only_loopback, monkeypatch):
    monkeypatch.delenv("SIGMA_SUBNET", raising=False)
    with pytest.raises(ValueError, match="refusing to send traffic to"):
        loadgen.LoadGen(url)
    assert only_loopback == []


def test_resolves_host_names_and_checks_every_address(monkeypatch, only_loopback):
    answers = {
        "elsewhere.test": ["192.0.2.1"],
        "split.test": ["127.0.0.1", "192.0.2.7"],
        "lb.test": ["10.89.213.9"],
    }

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror("unknown")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.delenv("SIGMA_SUBNET", raising=False)
    with pytest.raises(ValueError, match=r"refusing to send traffic to 192\.0\.2\.1"):
        loadgen.LoadGen("https://elsewhere.test")
    with pytest.raises(ValueError, match=r"refusing to send traffic to 192\.0\.2\.7"):
        loadgen.LoadGen("https://split.test")
    with pytest.raises(ValueError, match=r"cannot resolve nowhere\.test"):
        loadgen.LoadGen("https://nowhere.test")
    target = loadgen.LoadGen("https://lb.test:8443/app/").target
    assert target == loadgen.Target("https", "lb.test", ("10.89.213.9",), 8443, "/app")
    assert target.host_header == "lb.test:8443"
    assert only_loopback == []


def test_sigma_subnet_moves_the_allowed_network(monkeypatch):
    monkeypatch.setenv("SIGMA_SUBNET", "10.1.0.0/16")
    assert loadgen.LoadGen("http://10.1.2.3").target.addresses == ("10.1.2.3",)
    assert loadgen.LoadGen("http://[::1]:8080").target.host_header == "[::1]:8080"
    with pytest.raises(ValueError, match="refusing"):
        loadgen.LoadGen("http://10.89.213.5")
    monkeypatch.setenv("SIGMA_SUBNET", "0.0.0.0/0")
    with pytest.raises(ValueError, match="not a private test network"):
        loadgen.LoadGen("http://127.0.0.1")
    monkeypatch.setenv("SIGMA_SUBNET", "nonsense")
    with pytest.raises(ValueError, match="is not a network"):
        loadgen.LoadGen("http://127.0.0.1")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/", "only http:// and https://"),
        ("http:///x", "no host"),
        ("http://user:pw@127.0.0.1/", "no user, query or fragment"),
    ],
)
def test_refuses_other_urls(url, message):
    with pytest.raises(ValueError, match=message):
        loadgen.LoadGen(url)


def test_refuses_unbounded_settings():
    with pytest.raises(ValueError, match="must be positive"):
        loadgen.LoadGen("http://127.0.0.1", max_seconds=0)
    with pytest.raises(ValueError, match="concurrency"):
        loadgen.LoadGen("http://127.0.0.1", concurrency=0)
    with pytest.raises(ValueError, match="must start with /"):
        loadgen.LoadGen("http://127.0.0.1", paths=["version"])


# --- HTTPS and the command line -----------------------------------------------------------


def test_https_with_a_self_signed_certificate(backend, tmp_path):
    pytest.importorskip("cryptography")
    from tests.cloudsim.tls import make_context

    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(backend))
    server.daemon_threads = True
    server.socket = make_context(str(tmp_path / "ca.pem")).wrap_socket(
        server.socket, server_side=True
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://localhost:{server.server_address[1]}"
        report = loadgen.LoadGen(url, rate=100.0, max_requests=4).run()
        assert (report.sent, report.ok) == (4, 4)
        strict = loadgen.LoadGen(url, rate=100.0, max_requests=1, insecure_tls=False).run()
        assert strict.failed == 1
        assert "CERTIFICATE_VERIFY_FAILED" in strict.failures[0].error
    finally:
        server.shutdown()
        server.server_close()


def test_cli_prints_json_and_exits_0_without_failures(backend, capsys):
    code = loadgen.main([backend.url, "--rate", "100", "--max-requests", "4", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (data["sent"], data["failed"], data["releases"]["A"]["count"]) == (4, 0, 2)
    assert data["summary"].startswith("sent 4, failed 0 (resent 0), ")


def test_cli_exits_1_when_a_request_failed(backend, capsys):
    backend.mode = "503"
    code = loadgen.main([backend.url, "--rate", "100", "--max-requests", "3", "--path", "/"])
    assert code == 1
    assert capsys.readouterr().out.startswith("sent 3, failed 3 (resent 0), ")


def test_cli_refuses_another_address(capsys):
    with pytest.raises(SystemExit) as exit_info:
        loadgen.main(["http://8.8.8.8"])
    assert exit_info.value.code == 2
    assert "refusing to send traffic to 8.8.8.8" in capsys.readouterr().err
