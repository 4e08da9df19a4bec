"""The Fly proxy stand-in: routes to routable machines only, tries the next on a refusal."""

from __future__ import annotations

import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.cloudsim.flyproxy import FlyProxies


class Stats:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, int]] = []

    def record(self, app: str, machine_id: str, status: int, seconds: float) -> None:
        assert seconds >= 0
        self.records.append((app, machine_id, status))


def machine(name: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = name.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def world():
    servers = {"m1": machine("m1"), "m2": machine("m2")}
    routes: dict[str, list] = {"app": []}
    stats = Stats()
    proxies = FlyProxies(lambda app: routes[app], stats)
    port = free_port()
    address = proxies.ensure("app", {port})
    yield servers, routes, stats, proxies, (address, port)
    proxies.close()
    for server in servers.values():
        server.shutdown()
        server.server_close()


def get(address: tuple[str, int]) -> tuple[int, str]:
    connection = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection.request("GET", "/version")
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def target(servers, name: str) -> tuple[str, str, int]:
    return (name, "127.0.0.1", servers[name].server_address[1])


def test_no_routable_machine_is_a_503(world):
    _servers, _routes, stats, _proxies, address = world
    assert get(address)[0] == 503
    assert stats.records == []


def test_requests_take_turns_among_routable_machines_and_are_counted(world):
    servers, routes, stats, proxies, address = world
    routes["app"] = [target(servers, "m1"), target(servers, "m2")]
    proxies.update("app")
    bodies = sorted(get(address)[1] for _n in range(4))
    assert bodies == ["m1", "m1", "m2", "m2"]
    assert sorted(stats.records) == [("app", "m1", 200)] * 2 + [("app", "m2", 200)] * 2


def test_a_machine_left_out_of_the_routable_set_gets_nothing(world):
    servers, routes, _stats, proxies, address = world
    routes["app"] = [target(servers, "m1"), target(servers, "m2")]
    proxies.update("app")
    routes["app"] = [target(servers, "m2")]
    proxies.update("app")
    assert {get(address)[1] for _n in range(4)} == {"m2"}


def test_a_refused_connection_is_tried_on_the_next_machine(world):
    servers, routes, stats, proxies, address = world
    refusing = ("gone", "127.0.0.1", free_port())  # nothing listens there
    routes["app"] = [refusing, target(servers, "m1")]
    proxies.update("app")
    assert [get(address) for _n in range(4)] == [(200, "m1")] * 4
    assert {r[1] for r in stats.records} == {"m1"}


def test_urls_name_each_app_address(world):
    _servers, _routes, _stats, proxies, (address, port) = world
    assert proxies.urls() == {"app": f"http://{address}:{port}"}


class Rude:
    """A machine going away: it accepts a connection, reads the request and closes it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _peer = self.sock.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.close()

    def close(self) -> None:
        self.sock.close()


def send(address: tuple[str, int], method: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection.request(method, "/version", body=b"{}" if method == "POST" else None)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_a_get_cut_off_before_its_answer_is_tried_on_the_next_machine_a_post_is_not(world):
    servers, routes, stats, proxies, address = world
    rude = Rude()
    try:
        routes["app"] = [("going", "127.0.0.1", rude.port), target(servers, "m1")]
        proxies.update("app")
        assert [send(address, "GET") for _n in range(4)] == [(200, "m1")] * 4
        statuses = sorted(send(address, "POST")[0] for _n in range(4))
        assert statuses == [501, 501, 502, 502]  # m1 answers POST 501; the cut-off one 502
        assert ("app", "going", 502) in stats.records
    finally:
        rude.close()
