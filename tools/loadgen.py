"""A steady, bounded stream of GET requests through nginx during a deploy (stdlib only).

Used by the integration tests and ``make demo`` to show that a deploy drops no request, and
which release answered when (``/version`` answers ``{"release_id": ...}``)::

    python tools/loadgen.py https://10.89.213.2 --rate 20 --seconds 30 --path / --path /version
    gen = LoadGen("https://10.89.213.2", rate=20); gen.start(); ...; report = gen.stop()

Bounds, whatever the target does:

- Targets: only loopback (127.0.0.0/8, ::1) and the test network (``SIGMA_SUBNET``, default
  10.89.213.0/24, which must be a private network). A host name is resolved once, every
  address it resolves to must be allowed, and connections go to those checked addresses only
  (no second lookup, no proxy). Anything else raises ValueError before a request is sent.
- Rate: requests are started on an even schedule of ``rate`` per second shared by all workers;
  a slot that a busy worker missed is dropped, not made up, so a slow target gets fewer
  requests, never a burst.
- Duration and count: no request is started after ``max_seconds`` or once ``max_requests``
  were started. A request still running then has ``timeout`` seconds more before its
  connection is closed under it (it counts as failed), so the traffic ends by
  ``max_seconds + timeout`` at the latest.

Counting: a 2xx answer is ok; any other status (3xx included: redirects are not followed) or
a connection error or timeout is a failure. Each worker keeps one HTTP/1.1 keep-alive
connection and opens a new one after an error. When a kept-alive connection turns out to have
been closed by the server before any answer (nginx closes idle connections on a reload), the
request is sent once more on a new connection, as browsers do; a second failure counts.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import ipaddress
import json
import math
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_SUBNET = "10.89.213.0/24"
LOOPBACK = ("127.0.0.0/8", "::1/128")
MAX_FAILURES = 50
SUMMARY_FAILURES = 5  # of those, named in summary()
MAX_BODY = 1 << 20
USER_AGENT = "sigma-loadgen/1"

# Errors on a reused connection that mean the server had closed it before our request.
STALE_CONNECTION = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(environ: dict[str, str] | None = None) -> list[IPNetwork]:
    """Loopback and the test network from ``SIGMA_SUBNET``, which must be private."""
    env = os.environ if environ is None else environ
    subnet = env.get("SIGMA_SUBNET") or DEFAULT_SUBNET
    try:
        network = ipaddress.ip_network(subnet.strip())
    except ValueError as err:
        raise ValueError(f"SIGMA_SUBNET={subnet!r} is not a network: {err}") from err
    if not (network.is_private or network.is_loopback):
        raise ValueError(f"SIGMA_SUBNET={subnet!r} is not a private test network")
    return [ipaddress.ip_network(n) for n in LOOPBACK] + [network]


def is_allowed(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address.version == n.version and address in n for n in networks)


@dataclasses.dataclass(frozen=True)
class Target:
    """A checked base URL: where to connect, and what to say in Host and SNI."""

    scheme: str
    host: str
    addresses: tuple[str, ...]
    port: int
    base_path: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def resolve_target(
    base_url: str,
    networks: Sequence[IPNetwork] | None = None,
    getaddrinfo: Callable[..., list] | None = None,
) -> Target:
    """Parse and check a base URL; raise ValueError for anything but an allowed address."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{base_url}: only http:// and https:// URLs")
    if not parts.hostname:
        raise ValueError(f"{base_url}: no host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(f"{base_url}: no user, query or fragment in the base URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise ValueError(f"{base_url}: {err}") from err
    networks = allowed_networks() if networks is None else networks
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = (getaddrinfo or socket.getaddrinfo)(host, port, proto=socket.IPPROTO_TCP)
        except OSError as err:
            raise ValueError(f"{base_url}: cannot resolve {host}: {err}") from err
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise ValueError(f"{base_url}: {host} resolves to nothing")
    refused = sorted({str(a) for a in addresses if not is_allowed(a, networks)})
    if refused:
        allowed = ", ".join(str(n) for n in networks)
        raise ValueError(
            f"{base_url}: refusing to send traffic to {', '.join(refused)}: "
            f"only loopback and the test network are allowed ({allowed})"
        )
    unique = tuple(dict.fromkeys(str(a) for a in addresses))
    return Target(parts.scheme, host, unique, port, parts.path.rstrip("/"))


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP, or HTTPS with a context, to the checked addresses only (no second lookup)."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext | None) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._sigma_target = target
        self._sigma_context = context

    def connect(self) -> None:
        error: OSError = OSError(f"no address for {self.host}")
        for address in self._sigma_target.addresses:
            try:
                sock = socket.create_connection((address, self.port), self.timeout)
                break
            except OSError as err:
                error = err
        else:
            raise error
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._sigma_context is not None:
            # Python sends no SNI for an IP address, but still checks the certificate with it.
            try:
                sock = self._sigma_context.wrap_socket(sock, server_hostname=self.host)
            except OSError:
                sock.close()
                raise
        self.sock = sock


def nearest_rank(ordered: Sequence[float], percent: int) -> float | None:
    if not ordered:
        return None
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


@dataclasses.dataclass
class Failure:
    time: float
    path: str
    status: int | None
    error: str


@dataclasses.dataclass
class Release:
    count: int
    first_seen: float
    last_seen: float


@dataclasses.dataclass
class Report:
    url: str
    started: float
    seconds: float
    sent: int
    ok: int
    failed: int
    # GETs sent again on a new connection because the server had closed the kept-alive one
    # before any answer (nginx does on a reload), as browsers do; not counted as failed.
    resent: int
    failures: list[Failure]
    releases: dict[str, Release]
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    stopped_by: str

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    def cutover_seconds(self, old: str, new: str) -> float | None:
        """How long the old release still answered after the new one first did (>= 0)."""
        if old not in self.releases or new not in self.releases:
            return None
        return max(0.0, self.releases[old].last_seen - self.releases[new].first_seen)

    def all_after(self, ts: float) -> set[str]:
        """The release ids that answered /version at or after ts (time.time())."""
        return {rid for rid, seen in self.releases.items() if seen.last_seen >= ts}

    def summary(self) -> str:
        p95 = "-" if self.p95_ms is None else f"{self.p95_ms:.0f}"
        ordered = sorted(self.releases.items(), key=lambda item: item[1].first_seen)
        releases = ", ".join(f"{rid} ({seen.count})" for rid, seen in ordered) or "none"
        peak = "-" if self.max_ms is None else f"{self.max_ms:.0f}"
        text = (
            f"sent {self.sent}, failed {self.failed} (resent {self.resent}), "
            f"{self.rate:.1f} req/s over {self.seconds:.1f} s, p95 {p95} ms, max {peak} ms, "
            f"releases: {releases}"
        )
        if self.failures:
            shown = "; ".join(self.failure_lines()[:SUMMARY_FAILURES])
            more = len(self.failures) - SUMMARY_FAILURES
            text += f"; failures: {shown}" + (f"; {more} more kept" if more > 0 else "")
        return text

    def failure_lines(self) -> list[str]:
        """One line a failure kept: when after the start, the path and the error."""
        return [f"+{f.time - self.started:.1f} s {f.path} {f.error}" for f in self.failures]

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "rate": self.rate, "summary": self.summary()}


class LoadGen:
    """GET requests at a steady rate from a few worker threads, until a bound or stop()."""

    def __init__(
        self,
        base_url: str,
        paths: Sequence[str] = ("/", "/version"),
        rate: float = 20.0,
        max_seconds: float = 300,
        max_requests: int = 20000,
        concurrency: int = 4,
        timeout: float = 5.0,
        insecure_tls: bool = True,
    ) -> None:
        if not paths or any(not p.startswith("/") for p in paths):
            raise ValueError(f"paths: {list(paths)}: each must start with /")
        if not (rate > 0 and max_seconds > 0 and max_requests > 0 and timeout > 0):
            raise ValueError("rate, max_seconds, max_requests and timeout must be positive")
        if not 1 <= concurrency <= 64:
            raise ValueError(f"concurrency: {concurrency}: expected 1 to 64")
        self.url = base_url
        self.target = resolve_target(base_url)
        self.paths = list(paths)
        self.interval = 1.0 / rate
        self.max_seconds = float(max_seconds)
        self.max_requests = int(max_requests)
        self.concurrency = concurrency
        self.timeout = float(timeout)
        self.context: ssl.SSLContext | None = None
        if self.target.scheme == "https":
            self.context = ssl.create_default_context()
            if insecure_tls:
                self.context.check_hostname = False
                self.context.verify_mode = ssl.CERT_NONE
        self._lock = threading.Lock()
        self._stop = threading.Event()  # no new requests; set by stop() and max_seconds
        self._wake = threading.Event()  # for the supervisor: stop() or every worker ended
        self._done = threading.Event()
        self._active = 0
        self._workers: list[threading.Thread] = []
        self._supervisor: threading.Thread | None = None
        self._connections: dict[int, http.client.HTTPConnection] = {}
        self._stopped_by = ""
        self._started = self._start_mono = self._next_slot = 0.0
        self._end_mono: float | None = None
        self._reserved = self._sent = self._ok = self._failed = self._resent = 0
        self._failures: list[Failure] = []
        self._releases: dict[str, Release] = {}
        self._latencies: list[float] = []

    # --- running -------------------------------------------------------------------------

    def start(self) -> LoadGen:
        if self._supervisor is not None:
            raise RuntimeError("a LoadGen runs once")
        self._started = time.time()
        self._start_mono = self._next_slot = time.monotonic()
        self._active = self.concurrency
        self._workers = [
            threading.Thread(target=self._work, args=(i,), name=f"loadgen-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        for worker in self._workers:
            worker.start()
        self._supervisor = threading.Thread(target=self._supervise, name="loadgen", daemon=True)
        self._supervisor.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the generator stopped by itself (a bound) or was stopped."""
        return self._done.wait(timeout)

    def stop(self) -> Report:
        """Stop (if still running), wait for the workers, and report."""
        self._halt("stop")
        if self._supervisor is not None:
            self._supervisor.join()
        return self.report()

    def run(self) -> Report:
        """Start, run until a bound, report."""
        self.start()
        self.wait()
        return self.stop()

    def __enter__(self) -> LoadGen:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _halt(self, reason: str) -> None:
        with self._lock:
            self._stopped_by = self._stopped_by or reason
        self._stop.set()
        self._wake.set()

    def _supervise(self) -> None:
        """Enforce max_seconds, give running requests ``timeout`` more seconds, then close
        their connections under them."""
        left = self._start_mono + self.max_seconds - time.monotonic()
        if not self._wake.wait(max(0.0, left)):
            self._halt("max_seconds")
        self._stop.set()
        self._join_workers(time.monotonic() + self.timeout)
        if any(worker.is_alive() for worker in self._workers):
            with self._lock:
                connections = list(self._connections.values())
            for conn in connections:
                if conn.sock is not None:
                    with contextlib.suppress(OSError):
                        conn.sock.shutdown(socket.SHUT_RDWR)
            self._join_workers(time.monotonic() + 1.0)
        with self._lock:
            self._end_mono = time.monotonic()
        self._done.set()

    def _join_workers(self, deadline: float) -> None:
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    def _reserve(self) -> tuple[str, float] | None:
        """The next path and the monotonic time to send it at, or None when done."""
        with self._lock:
            if self._stop.is_set():
                return None
            if self._reserved >= self.max_requests:
                # The requests reserved so far are still sent; this worker is done.
                self._stopped_by = self._stopped_by or "max_requests"
                return None
            slot = max(self._next_slot, time.monotonic())
            if slot - self._start_mono >= self.max_seconds:
                self._stopped_by = self._stopped_by or "max_seconds"
                return None
            self._next_slot = slot + self.interval
            path = self.paths[self._reserved % len(self.paths)]
            self._reserved += 1
            return path, slot

    def _work(self, index: int) -> None:
        conn: http.client.HTTPConnection | None = None
        try:
            while True:
                reserved = self._reserve()
                if reserved is None:
                    return
                path, slot = reserved
                if self._stop.wait(max(0.0, slot - time.monotonic())):
                    return
                conn = self._request(index, conn, path)
        finally:
            if conn is not None:
                conn.close()
            with self._lock:
                self._connections.pop(index, None)
                self._active -= 1
                if self._active == 0:
                    self._wake.set()

    def _connect(self, index: int) -> http.client.HTTPConnection:
        conn = _PinnedConnection(self.target, self.timeout, self.context)
        with self._lock:
            self._connections[index] = conn
        return conn

    def _request(
        self, index: int, conn: http.client.HTTPConnection | None, path: str
    ) -> http.client.HTTPConnection | None:
        """Send one request and count it; return the connection to use next."""
        headers = {"Host": self.target.host_header, "User-Agent": USER_AGENT, "Accept": "*/*"}
        with self._lock:
            self._sent += 1
        began = time.monotonic()
        status: int | None = None
        body = b""
        error = ""
        reused = conn is not None
        while True:
            if conn is None:
                conn = self._connect(index)
            try:
                conn.request("GET", self.target.base_path + path, headers=headers)
                response = conn.getresponse()
                status = response.status
                body = response.read(MAX_BODY + 1)
                if len(body) <= MAX_BODY and response.length:
                    # read(amt) returns what came before the connection ended, short or not.
                    raise http.client.IncompleteRead(body, response.length)
                if len(body) > MAX_BODY or response.will_close:
                    conn.close()
                    conn = None
                break
            except (OSError, http.client.HTTPException) as err:
                conn.close()
                conn = None
                stale = isinstance(err, STALE_CONNECTION) and reused and status is None
                if stale and not self._stop.is_set():
                    with self._lock:
                        self._resent += 1
                    reused = False  # closed by the server while idle: once more, on a new one
                    continue
                error = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
                break
        self._count(path, status, body, error, (time.monotonic() - began) * 1000)
        return conn

    def _count(self, path: str, status: int | None, body: bytes, error: str, ms: float) -> None:
        now = time.time()
        ok = not error and status is not None and 200 <= status < 300
        release_id = None
        if ok and path.endswith("/version"):
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("release_id"), str):
                release_id = data["release_id"]
        with self._lock:
            if ok:
                self._ok += 1
                self._latencies.append(ms)
            else:
                self._failed += 1
                if len(self._failures) < MAX_FAILURES:
                    text = error or f"HTTP {status}"
                    self._failures.append(Failure(now, path, status, text))
            if release_id is not None:
                seen = self._releases.get(release_id)
                if seen is None:
                    self._releases[release_id] = Release(1, now, now)
                else:
                    seen.count += 1
                    seen.last_seen = now

    # --- reporting -----------------------------------------------------------------------

    def report(self) -> Report:
        """The numbers so far (final once stop() returned)."""
        with self._lock:
            end = self._end_mono if self._end_mono is not None else time.monotonic()
            ordered = sorted(self._latencies)
            return Report(
                url=self.url,
                started=self._started,
                seconds=round(end - self._start_mono, 3) if self._started else 0.0,
                sent=self._sent,
                ok=self._ok,
                failed=self._failed,
                resent=self._resent,
                failures=list(self._failures),
                releases={rid: dataclasses.replace(r) for rid, r in self._releases.items()},
                p50_ms=_round(nearest_rank(ordered, 50)),
                p95_ms=_round(nearest_rank(ordered, 95)),
                max_ms=_round(ordered[-1] if ordered else None),
                stopped_by=self._stopped_by,
            )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Send a steady, bounded stream of GET requests to a test host "
        "(loopback or SIGMA_SUBNET only) and report failures and releases seen."
    )
    parser.add_argument("url", help="base URL, e.g. https://10.89.213.2")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second (20)")
    parser.add_argument("--seconds", type=float, default=30.0, help="run this long (30)")
    parser.add_argument(
        "--path",
        action="append",
        dest="paths",
        help="path to request, repeatable (default: / and /version)",
    )
    parser.add_argument("--max-requests", type=int, default=20000, help="at most this many")
    parser.add_argument("--concurrency", type=int, default=4, help="worker threads (4)")
    parser.add_argument("--timeout", type=float, default=5.0, help="per request, seconds (5)")
    parser.add_argument("--verify-tls", action="store_true", help="verify the certificate")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        gen = LoadGen(
            args.url,
            paths=args.paths or ["/", "/version"],
            rate=args.rate,
            max_seconds=args.seconds,
            max_requests=args.max_requests,
            concurrency=args.concurrency,
            timeout=args.timeout,
            insecure_tls=not args.verify_tls,
        )
    except ValueError as err:
        parser.error(str(err))
    gen.start()
    with contextlib.suppress(KeyboardInterrupt):
        gen.wait()
    report = gen.stop()
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
