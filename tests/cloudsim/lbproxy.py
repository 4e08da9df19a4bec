"""Simulated load balancers that forward real TCP traffic to their healthy targets.

Each load balancer gets its own loopback address (``127.X.Y.Z``: Linux answers the whole of
127.0.0.0/8 on ``lo``), so every load balancer can listen on its services' real ports (80, 443)
without colliding with another one. That address is what the simulators report as the load
balancer's public IPv4. It is reachable from this machine only, not from inside the test hosts;
all traffic stays on loopback and the project network.

Per service a listener accepts connections and forwards each to the next target in round-robin
order among those not known to be unhealthy, trying the next one when a connection fails (and
marking the failed target unhealthy at once). A health checker per load balancer opens a TCP
connection to every target's destination port every ``interval`` seconds, each attempt bounded by
``timeout`` seconds, so a stopped target is noticed within ``interval + timeout`` seconds even
without traffic. This is a TCP proxy: a load balancer with no healthy target closes the
connection rather than answering HTTP 503.

    lbs = LoadBalancers()
    address = lbs.lb_create("hetzner-lb-1")
    lbs.lb_set("hetzner-lb-1", services=[(80, 8080)], targets=["10.89.213.250"])
    lbs.lb_health("hetzner-lb-1")  # {("10.89.213.250", 8080): "healthy"}
    lbs.lb_delete("hetzner-lb-1")
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import ipaddress
import random
import select
import socket
import socketserver
import threading

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"

CONNECT_TIMEOUT = 1.0  # seconds to reach a target before trying the next one
IDLE_TIMEOUT = 120.0  # a proxied connection with no traffic either way for this long is closed
BUFFER = 65536


class LoadBalancerError(Exception):
    """A failure with a message meant for the simulator's user."""


class _Listener(socketserver.ThreadingTCPServer):
    """Accepts on one (address, listen port) and hands each connection to its load balancer."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, lb: LoadBalancer, listen_port: int) -> None:
        self.lb = lb
        self.listen_port = listen_port
        super().__init__((lb.address, listen_port), _Handler)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: _Listener = self.server  # type: ignore[assignment]
        upstream = server.lb.connect(server.listen_port)
        if upstream is None:
            return
        with upstream:
            server.lb.track(self.request, upstream)
            try:
                _pipe(self.request, upstream)
            finally:
                server.lb.untrack(self.request, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until both directions are closed (or idle for IDLE_TIMEOUT)."""
    peer = {a: b, b: a}
    open_reads = {a, b}
    while open_reads:
        readable = select.select(list(open_reads), [], [], IDLE_TIMEOUT)[0]
        if not readable:
            return
        for src in readable:
            try:
                data = src.recv(BUFFER)
            except OSError:
                return
            dst = peer[src]
            if not data:
                open_reads.discard(src)
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                continue
            try:
                dst.sendall(data)
            except OSError:
                return


class LoadBalancer:
    """One simulated load balancer: its address, services, targets and their health."""

    def __init__(self, key: str, address: str, interval: float, timeout: float) -> None:
        self.key = key
        self.address = address
        self.interval = interval
        self.timeout = timeout
        self._lock = threading.Lock()
        self._services: dict[int, int] = {}  # listen port -> destination port
        self._targets: list[str] = []
        self._health: dict[tuple[str, int], str] = {}
        self._next: dict[int, int] = {}  # listen port -> round-robin position
        self._listeners: dict[int, _Listener] = {}
        self._active: set[socket.socket] = set()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=8, thread_name_prefix=f"lb-health-{key}"
        )
        self._checker = threading.Thread(
            target=self._check_loop, name=f"lb-health-{key}", daemon=True
        )
        self._checker.start()

    # -- configuration -------------------------------------------------------------------------

    def configure(self, services: list[tuple[int, int]], targets: list[str]) -> None:
        wanted = {int(listen): int(dest) for listen, dest in services}
        for ip in targets:
            ipaddress.IPv4Address(ip)  # a bad target fails here, clearly
        with self._lock:
            if self._stop.is_set():
                raise LoadBalancerError(f"load balancer {self.key} is deleted")
            old_listeners = [p for p in self._listeners if p not in wanted]
            new_ports = [p for p in wanted if p not in self._listeners]
        started: dict[int, _Listener] = {}
        try:
            for port in new_ports:
                started[port] = self._listen(port)
        except BaseException:
            for listener in started.values():
                _close_listener(listener)
            raise
        with self._lock:
            self._services = wanted
            self._targets = list(dict.fromkeys(targets))
            pairs = {(ip, dest) for ip in self._targets for dest in wanted.values()}
            self._health = {pair: self._health.get(pair, UNKNOWN) for pair in pairs}
            stopping = [self._listeners.pop(p) for p in old_listeners]
            self._listeners.update(started)
            for port in started:
                self._next[port] = 0
        for listener in stopping:
            _close_listener(listener)
        self._wake.set()

    def _listen(self, port: int) -> _Listener:
        try:
            listener = _Listener(self, port)
        except OSError as exc:
            reason = "in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise LoadBalancerError(
                f"load balancer {self.key}: cannot listen on {self.address}:{port} ({reason})"
            ) from exc
        threading.Thread(
            target=listener.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"lb-{self.key}-{port}",
            daemon=True,
        ).start()
        return listener

    def health(self) -> dict[tuple[str, int], str]:
        with self._lock:
            return dict(self._health)

    def services(self) -> dict[int, int]:
        with self._lock:
            return dict(self._services)

    def targets(self) -> list[str]:
        with self._lock:
            return list(self._targets)

    # -- forwarding ----------------------------------------------------------------------------

    def connect(self, listen_port: int) -> socket.socket | None:
        """A connection to the next healthy target for this service, or None if there is none."""
        with self._lock:
            dest = self._services.get(listen_port)
            if dest is None or not self._targets:
                return None
            start = self._next.get(listen_port, 0)
            order = self._targets[start:] + self._targets[:start]
            self._next[listen_port] = (start + 1) % len(self._targets)
            candidates = [ip for ip in order if self._health.get((ip, dest)) != UNHEALTHY]
        for ip in candidates:
            try:
                sock = socket.create_connection((ip, dest), timeout=CONNECT_TIMEOUT)
            except OSError:
                self._mark(ip, dest, UNHEALTHY)
                continue
            sock.settimeout(None)
            return sock
        return None

    def track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._active.update(socks)

    def untrack(self, *socks: socket.socket) -> None:
        with self._lock:
            self._active.difference_update(socks)

    def _mark(self, ip: str, dest: int, state: str) -> None:
        with self._lock:
            if (ip, dest) in self._health:
                self._health[(ip, dest)] = state

    # -- health checks -------------------------------------------------------------------------

    def _probe(self, pair: tuple[str, int]) -> None:
        try:
            with socket.create_connection(pair, timeout=self.timeout):
                state = HEALTHY
        except OSError:
            state = UNHEALTHY
        if not self._stop.is_set():
            self._mark(*pair, state)

    def _check_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                pairs = list(self._health)
            with contextlib.suppress(RuntimeError):  # the pool shut down: we are stopping
                futures = [self._pool.submit(self._probe, pair) for pair in pairs]
                concurrent.futures.wait(futures, timeout=self.timeout + 1.0)
            self._wake.wait(self.interval)
            self._wake.clear()

    # -- removal -------------------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._lock:
            listeners = list(self._listeners.values())
            self._listeners.clear()
            active = list(self._active)
            self._active.clear()
        for listener in listeners:
            _close_listener(listener)
        for sock in active:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._checker.join(timeout=self.timeout + 2.0)


def _close_listener(listener: _Listener) -> None:
    listener.shutdown()
    listener.server_close()


class LoadBalancers:
    """The load balancers of one simulator: what a backend offers the vendors.

    Vendors call these when the backend has them (``hasattr(backend, "lb_set")``):
    ``lb_create(key) -> address``, ``lb_set(key, services, targets)``, ``lb_health(key)``,
    ``lb_delete(key)``.
    """

    def __init__(self, interval: float = 2.0, timeout: float = 1.0) -> None:
        self.interval = interval
        self.timeout = timeout
        self._lock = threading.Lock()
        self._lbs: dict[str, LoadBalancer] = {}
        # A /16 of loopback per simulator, picked at random so that two simulators running at
        # once (parallel test sessions) are unlikely to hand out the same address.
        self._base = int(ipaddress.IPv4Address(f"127.{random.randint(64, 191)}.0.0"))
        self._count = 0

    def lb_create(self, key: str) -> str:
        """Start a load balancer with no services; returns its address (its public IPv4)."""
        with self._lock:
            if key in self._lbs:
                return self._lbs[key].address
            self._count += 1
            if self._count > 65000:
                raise LoadBalancerError("too many load balancers in one simulator")
            high, low = divmod(self._count, 254)
            address = str(ipaddress.IPv4Address(self._base + high * 256 + low + 1))
            self._lbs[key] = LoadBalancer(key, address, self.interval, self.timeout)
            return address

    def lb_set(self, key: str, services: list[tuple[int, int]], targets: list[str]) -> None:
        """Replace the services ``[(listen_port, destination_port)]`` and target IPv4s."""
        self._get(key).configure(services, targets)

    def lb_health(self, key: str) -> dict[tuple[str, int], str]:
        """``{(target_ip, destination_port): "healthy" | "unhealthy" | "unknown"}``."""
        return self._get(key).health()

    def lb_address(self, key: str) -> str:
        return self._get(key).address

    def lb_delete(self, key: str) -> None:
        with self._lock:
            lb = self._lbs.pop(key, None)
        if lb is not None:
            lb.close()

    def lb_close_all(self) -> None:
        with self._lock:
            lbs = list(self._lbs.values())
            self._lbs.clear()
        for lb in lbs:
            lb.close()

    def _get(self, key: str) -> LoadBalancer:
        with self._lock:
            lb = self._lbs.get(key)
        if lb is None:
            raise LoadBalancerError(f"no load balancer {key}")
        return lb
