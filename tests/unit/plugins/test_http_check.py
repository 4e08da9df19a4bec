"""The http_check module's main() run in-process against a real HTTP server on 127.0.0.1.

Waits and elapsed times are read from a fake clock (``fake_time``): the checks' monotonic time
moves only when they sleep, or when the server moves it on purpose (``/takes-40ms``).
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import http_check as check_core
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.http_check import MAX_BODY
from ansible_collections.sigma.deploy.plugins.modules import http_check
from tests.unit.plugins.fakes import FakeClock

SLOW = 1.0  # seconds the slow paths wait; the tests' timeout is well under it


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.paths.append(self.path)
        if self.path == "/hangup":
            self.close_connection = True
            return  # closes the connection without an answer
        if self.path == "/slow":
            time.sleep(SLOW)
        if self.path == "/takes-40ms":  # on the checks' fake clock
            self.server.clock.now += 0.04
        if self.path == "/flaky":  # 503 twice, then 200
            self.server.flaky += 1
            self.path = "/ok" if self.server.flaky > 2 else "/down"
        status, body, headers = {
            "/ok": (200, b"status: ok\n", {}),
            "/takes-40ms": (200, b"status: ok\n", {}),
            "/down": (503, b"maintenance\n", {}),
            "/slow": (200, b"late\n", {}),
            "/slow-body": (200, b"late body\n", {}),
            "/moved": (302, b"", {"Location": "/ok"}),
            "/not-utf8": (200, b"ok \xff\xfe ready\n", {}),
            "/version": (200, b'{"release_id": "r2", "workers": 2, "ok": true}', {}),
            "/list": (200, b"[1, 2]", {}),
            "/big": (200, b"a" * (MAX_BODY - 6) + b"needle" + b"haystack", {}),
        }.get(self.path, (404, b"no such page\n", {}))
        self.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.path == "/slow-body":
            self.wfile.flush()
            time.sleep(SLOW)
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    httpd.paths = []
    httpd.clock = None  # a FakeClock while a test uses fake_time
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def base(server):
    server.paths.clear()
    server.flaky = 0
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def fake_time(server, monkeypatch):
    """The checks' clock and sleep, on a FakeClock that the server can move too."""
    clock = FakeClock()
    monkeypatch.setattr(check_core, "time", SimpleNamespace(monotonic=clock, sleep=clock.sleep))
    server.clock = clock
    yield clock
    server.clock = None


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def run(run, monkeypatch):
    """Run http_check.main() with these params (no proxy); its result, with ``failed``."""
    for name in (
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    return lambda check=False, **params: run(http_check, check, **params)


def outcome(result):
    """Each check's result without its timing and attempts."""
    return [
        {k: v for k, v in check.items() if k not in ("elapsed_ms", "attempts")}
        for check in result["checks"]
    ]


def test_passing_checks(run, base, server):
    result = run(
        checks=[
            {"name": "API health", "url": f"{base}/ok", "contains": "status: ok"},
            {"url": f"{base}/down", "status": 503},
        ]
    )
    assert (result["failed"], result["changed"]) == (False, False)
    assert outcome(result) == [
        {"name": "API health", "url": f"{base}/ok", "status": 200, "passed": True, "reason": ""},
        {
            "name": f"{base}/down",
            "url": f"{base}/down",
            "status": 503,
            "passed": True,
            "reason": "",
        },
    ]
    assert [check["attempts"] for check in result["checks"]] == [1, 1]
    assert server.paths == ["/ok", "/down"]


def test_elapsed_ms_is_the_time_from_the_request_to_the_answer(run, base, fake_time):
    result = run(checks=[{"url": f"{base}/takes-40ms"}, {"url": f"{base}/ok"}])
    assert [check["elapsed_ms"] for check in result["checks"]] == [40.0, 0.0]


def test_wait_runs_the_failed_checks_again_until_they_pass(run, base, server, fake_time):
    result = run(checks=[{"url": f"{base}/ok"}, {"url": f"{base}/flaky"}], wait=10, interval=0.05)
    assert (result["failed"], result["changed"]) == (False, False)
    assert [(c["passed"], c["attempts"]) for c in result["checks"]] == [(True, 1), (True, 3)]
    assert server.paths == ["/ok", "/flaky", "/flaky", "/flaky"]  # a passed check runs once
    assert fake_time.sleeps == [0.05, 0.05]  # one interval between rounds, none after the last


def test_wait_gives_up_when_the_time_is_up(run, base, server, fake_time):
    result = run(checks=[{"url": f"{base}/down"}], wait=1.0, interval=0.25)
    assert result["failed"]
    assert result["msg"] == f"1 of 1 checks failed: {base}/down (status 503, expected 200)"
    # Attempts at 0, 0.25, 0.5, 0.75 and 1.0 s; the next would start after the wait.
    assert result["checks"][0]["attempts"] == len(server.paths) == 5
    assert fake_time.sleeps == [0.25] * 4


def test_without_wait_a_failed_check_runs_once(run, base, server):
    result = run(checks=[{"url": f"{base}/flaky"}])
    assert result["failed"]
    assert (result["checks"][0]["attempts"], server.paths) == (1, ["/flaky"])


def test_check_mode_runs_the_checks_too(run, base, server):
    result = run(check=True, checks=[{"url": f"{base}/ok"}])
    assert (result["failed"], result["changed"], result["checks"][0]["passed"]) == (
        False,
        False,
        True,
    )
    assert server.paths == ["/ok"]


def test_every_check_runs_and_the_message_names_each_failure(run, base, server, closed_port):
    result = run(
        checks=[
            {"name": "API health", "url": f"{base}/down"},
            {"name": "Home page", "url": f"http://127.0.0.1:{closed_port}/"},
            {"name": "Ready", "url": f"{base}/ok"},
        ]
    )
    assert result["failed"]
    assert result["msg"] == (
        "2 of 3 checks failed: API health (status 503, expected 200); "
        "Home page (no answer: connection refused)"
    )
    assert outcome(result) == [
        {
            "name": "API health",
            "url": f"{base}/down",
            "status": 503,
            "passed": False,
            "reason": "status 503, expected 200",
        },
        {
            "name": "Home page",
            "url": f"http://127.0.0.1:{closed_port}/",
            "status": -1,
            "passed": False,
            "reason": "no answer: connection refused",
        },
        {"name": "Ready", "url": f"{base}/ok", "status": 200, "passed": True, "reason": ""},
    ]
    assert result["changed"] is False
    assert server.paths == ["/down", "/ok"]


def test_a_missing_text_fails(run, base):
    result = run(checks=[{"name": "Home", "url": f"{base}/ok", "contains": "Notes"}])
    assert result["msg"] == "1 of 1 checks failed: Home (body does not contain 'Notes')"
    assert (result["checks"][0]["status"], result["checks"][0]["passed"]) == (200, False)


def test_the_body_of_an_error_status_is_searched_too(run, base):
    result = run(checks=[{"url": f"{base}/down", "status": 503, "contains": "maintenance"}])
    assert result["failed"] is False


def test_a_body_that_is_not_utf8_is_still_searched(run, base):
    result = run(checks=[{"url": f"{base}/not-utf8", "contains": "\ufffd\ufffd ready"}])
    assert result["failed"] is False


def test_json_fields_are_compared_as_values(run, base):
    passed = run(checks=[{"url": f"{base}/version", "json": {"release_id": "r2", "workers": 2}}])
    assert passed["failed"] is False
    wrong = run(
        checks=[
            {"name": "v", "url": f"{base}/version", "json": {"release_id": "r3", "ok": True}},
            {"name": "w", "url": f"{base}/version", "json": {"workers": "2", "region": "x"}},
        ]
    )
    assert wrong["msg"] == (
        '2 of 2 checks failed: v (body release_id is "r2", expected "r3"); '
        'w (body workers is 2, expected "2"; region is missing, expected "x")'
    )


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/ok", "body is not JSON"), ("/list", "body is JSON but not an object (list)")],
)
def test_a_body_that_is_no_json_object_fails_a_json_check(run, base, path, reason):
    result = run(checks=[{"url": f"{base}{path}", "json": {"release_id": "r2"}}])
    assert result["checks"][0]["reason"] == reason


def test_the_json_of_a_wrong_status_is_not_read(run, base):
    result = run(checks=[{"url": f"{base}/down", "json": {"release_id": "r2"}}])
    assert result["checks"][0]["reason"] == "status 503, expected 200"


def test_only_the_first_mib_of_the_body_is_searched(run, base):
    result = run(checks=[{"url": f"{base}/big", "contains": "haystack"}])
    assert result["checks"][0]["reason"] == "body does not contain 'haystack'"
    assert run(checks=[{"url": f"{base}/big", "contains": "needle"}])["failed"] is False


def test_a_redirect_is_not_followed(run, base, server):
    result = run(checks=[{"name": "Old", "url": f"{base}/moved"}])
    assert (
        result["msg"] == "1 of 1 checks failed: Old (status 302 redirecting to /ok, expected 200)"
    )
    assert server.paths == ["/moved"]
    assert run(checks=[{"url": f"{base}/moved", "status": 302}])["failed"] is False


def test_a_slow_answer_times_out(run, base):
    # The server answers after SLOW seconds; only a timeout ends the request before that.
    result = run(timeout=0.3, checks=[{"name": "Slow", "url": f"{base}/slow"}])
    assert result["msg"] == "1 of 1 checks failed: Slow (no answer: timed out after 0.3 s)"
    check = result["checks"][0]
    assert (check["status"], check["passed"]) == (-1, False)
    assert check["elapsed_ms"] >= 250  # the time waited for the answer counts


def test_a_slow_body_times_out_after_the_status(run, base):
    result = run(timeout=0.3, checks=[{"url": f"{base}/slow-body", "contains": "late"}])
    check = result["checks"][0]
    assert (check["status"], check["reason"]) == (200, "body not read: timed out after 0.3 s")


def test_a_connection_closed_without_an_answer(run, base):
    result = run(checks=[{"url": f"{base}/hangup"}])
    check = result["checks"][0]
    assert (check["status"], check["reason"]) == (
        -1,
        "no answer: remote end closed connection without response",
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"checks": []}, "checks: expected at least one check, got an empty list"),
        (
            {"checks": [{"url": "http://127.0.0.1/"}, {"url": "ftp://x"}]},
            "checks[1].url: expected an http:// or https:// URL, got 'ftp://x'",
        ),
        (
            {"checks": [{"url": "http://"}]},
            "checks[0].url: expected an http:// or https:// URL, got 'http://'",
        ),
        (
            {"checks": [{"url": "127.0.0.1:8001/healthz"}]},
            "checks[0].url: expected an http:// or https:// URL, got '127.0.0.1:8001/healthz'",
        ),
        (
            {"checks": [{"url": "http://127.0.0.1/", "status": 42}]},
            "checks[0].status: expected an HTTP status from 100 to 599, got 42",
        ),
        (
            {"checks": [{"url": "http://127.0.0.1/", "status": 600}]},
            "checks[0].status: expected an HTTP status from 100 to 599, got 600",
        ),
        (
            {"checks": [{"url": "http://127.0.0.1/"}], "timeout": 0},
            "timeout: expected a positive number of seconds, got 0",
        ),
        (
            {"checks": [{"url": "http://127.0.0.1/"}], "wait": -1},
            "wait: expected 0 or a positive number of seconds, got -1",
        ),
        (
            {"checks": [{"url": "http://127.0.0.1/"}], "wait": 5, "interval": 0},
            "interval: expected a positive number of seconds, got 0",
        ),
        (
            {"checks": [{"url": "file:///etc/passwd", "status": 99}]},
            "checks[0].url: expected an http:// or https:// URL, got 'file:///etc/passwd'; "
            "checks[0].status: expected an HTTP status from 100 to 599, got 99",
        ),
    ],
)
def test_bad_input_fails_naming_the_field(run, server, params, message):
    server.paths.clear()
    result = run(**params)
    assert (result["failed"], result["msg"]) == (True, message)
    assert "checks" not in result
    assert server.paths == []


def test_a_check_without_url_is_refused_by_the_argument_spec(run):
    result = run(checks=[{"name": "no url"}])
    assert result["failed"]
    assert result["msg"] == "missing required arguments: url found in checks"
    assert "checks" not in result
