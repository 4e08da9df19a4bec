"""Outcomes of sigma.deploy.nginx_proxy (host mode) in front of stub app slots.

Run by molecule (scenario nginx_proxy) through testinfra; `host` is the converged container,
requests go from the controller to the container's address. Stub backends answer JSON naming
their port: API blue 8001 / green 8002, web blue 3001 / green 3002. The tests run in order:
the switch to green and the rate limit come last.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import threading
import time
import uuid

import pytest
from conftest import access_log, ansible_playbook, changed_count, wait_for_api_limit_to_clear

UPSTREAMS = "/etc/nginx/sigma/notes-upstreams.conf"
FACT = "/etc/ansible/facts.d/sigma_notes.fact"
IMMUTABLE = "public, max-age=31536000, immutable"
LOG_FIELDS = {
    "time",
    "msec",
    "remote_addr",
    "request_id",
    "method",
    "uri",
    "status",
    "bytes",
    "request_time",
    "upstream",
    "upstream_addr",
    "upstream_status",
    "upstream_response_time",
    "upstream_connect_time",
    "http_user_agent",
    "host",
    "scheme",
    "protocol",
}


def test_configuration_is_valid(host):
    result = host.run("nginx -t")
    assert result.rc == 0, result.stderr


def test_nginx_serves_only_the_site(host):
    assert host.service("nginx").is_enabled
    assert host.service("nginx").is_running
    assert not host.file("/etc/nginx/sites-enabled/default").exists
    assert host.file("/etc/nginx/sites-enabled/notes.conf").linked_to == (
        "/etc/nginx/sites-available/notes.conf"
    )
    workers = host.check_output("ps -o user= -C nginx | sort | uniq -c")
    assert "www-data" in workers
    ports = host.check_output("ss -Hltnp | grep nginx | awk '{print $4}' | sed 's/.*://' | sort -u")
    assert ports.split() == ["443", "80"]


def test_http_redirects_to_https(client, address):
    response = client.get("/notes?page=2", port=80, scheme="http")
    assert response.status == 301
    assert response.headers["Location"] == f"https://{address}/notes?page=2"


def test_acme_challenges_are_served_over_http(host, client):
    token = uuid.uuid4().hex
    path = f"/var/www/letsencrypt/.well-known/acme-challenge/{token}"
    host.check_output(f"echo -n proof-{token} > {path}")
    try:
        response = client.get(f"/.well-known/acme-challenge/{token}", port=80, scheme="http")
        assert response.status == 200
        assert response.body == f"proof-{token}".encode()
    finally:
        host.run(f"rm -f {path}")


@pytest.mark.parametrize(
    ("path", "port", "upstream_path"),
    [
        ("/", 3001, "/"),
        ("/notes/7?view=full", 3001, "/notes/7?view=full"),
        ("/release", 3001, "/release"),
        ("/api/notes", 8001, "/notes"),
        ("/api/notes/7?x=1", 8001, "/notes/7?x=1"),
        ("/version", 8001, "/version"),
        ("/healthz", 8001, "/healthz"),
        ("/_next/static/chunks/app.js", 3001, "/_next/static/chunks/app.js"),
    ],
)
def test_routes_reach_the_blue_slot(client, path, port, upstream_path):
    response = client.get(path)
    assert response.status == 200
    body = response.json()
    assert body["port"] == port
    assert body["path"] == upstream_path


def test_proxy_headers(client, address):
    request_id = f"test-{uuid.uuid4().hex}"
    response = client.get("/api/notes", headers={"X-Request-ID": request_id})
    seen = response.json()["headers"]
    assert seen["host"] == address
    assert seen["x-forwarded-proto"] == "https"
    assert seen["x-forwarded-for"] == seen["x-real-ip"]
    assert seen["x-request-id"] == request_id
    assert "connection" not in seen  # HTTP/1.1 keep-alive to the upstream, no "close"
    assert response.headers["X-Request-ID"] == request_id


def test_request_id_is_generated_when_missing_or_malformed(client):
    for headers in ({}, {"X-Request-ID": 'bad id with spaces and "quotes"'}):
        response = client.get("/version", headers=headers)
        generated = response.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
        assert response.json()["headers"]["x-request-id"] == generated


def test_static_files_are_cached_for_a_year(client):
    response = client.get("/_next/static/chunks/app.js")
    assert response.headers.get_all("Cache-Control") == [IMMUTABLE]
    # Elsewhere the upstream's own Cache-Control is passed on.
    assert client.get("/").headers.get_all("Cache-Control") == ["no-store"]


@pytest.mark.parametrize("path", ["/", "/api/notes", "/_next/static/x.js"])
def test_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["Server"] == "nginx"  # server_tokens off: no version
    assert "Strict-Transport-Security" not in headers  # self-signed: no HSTS


def test_text_responses_are_compressed(client):
    response = client.get("/?pad=4000", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert len(response.body) < 1000
    assert json.loads(gzip.decompress(response.body))["port"] == 3001


def test_tls(host, client, address):
    key = host.file("/etc/nginx/sigma/tls/notes-selfsigned.key")
    assert key.mode == 0o600
    assert key.user == "root"
    assert host.file("/etc/nginx/sigma/tls/notes.key").linked_to == key.path
    conn = client.connection()
    conn.connect()
    assert conn.sock.version() in ("TLSv1.2", "TLSv1.3")
    conn.close()
    for version in ("-tls1_2", "-tls1_3"):
        ok = host.run(f"openssl s_client -connect 127.0.0.1:443 {version} </dev/null")
        assert ok.rc == 0, ok.stderr
    old = host.run(
        "openssl s_client -connect 127.0.0.1:443 -tls1_1 -cipher DEFAULT@SECLEVEL=0 </dev/null"
    )
    assert old.rc != 0


def test_json_access_log(host, client):
    request_id = f"log-{uuid.uuid4().hex}"
    client.get("/api/notes?probe=1", headers={"X-Request-ID": request_id, "User-Agent": "probe/1"})
    entries = [e for e in access_log(host) if e["request_id"] == request_id]
    assert len(entries) == 1
    entry = entries[0]
    assert set(entry) == LOG_FIELDS
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", entry["time"])
    assert abs(entry["msec"] - time.time()) < 120
    assert entry["method"] == "GET"
    assert entry["uri"] == "/api/notes?probe=1"
    assert entry["status"] == 200
    assert isinstance(entry["bytes"], int)
    assert isinstance(entry["request_time"], float)
    assert entry["upstream"] == "notes_api"
    assert entry["upstream_addr"] == "127.0.0.1:8001"
    assert entry["upstream_status"] == "200"
    float(entry["upstream_response_time"])
    float(entry["upstream_connect_time"])
    assert entry["http_user_agent"] == "probe/1"
    assert entry["scheme"] == "https"


def served_ports(client) -> tuple[int, int]:
    return client.get("/").json()["port"], client.get("/api/notes").json()["port"]


def test_switch_to_green_without_failed_requests(host, client):
    assert served_ports(client) == (3001, 8001)
    statuses: list[tuple[int | str, int | None]] = []
    stop = threading.Event()

    def load() -> None:  # a new connection per request, <= 50 per second, <= 6000 in all
        while not stop.is_set() and len(statuses) < 6000:
            try:
                response = client.get("/version")
                port = response.json()["port"] if response.status == 200 else None
                statuses.append((response.status, port))
            except (OSError, http.client.HTTPException, ValueError) as exc:
                statuses.append((repr(exc), None))
            time.sleep(0.02)

    thread = threading.Thread(target=load)
    thread.start()
    try:
        run = ansible_playbook("switch.yml", "-e", "nginx_proxy_slot=green")
    finally:
        time.sleep(0.2)
        stop.set()
        thread.join()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ansible_local=green" in run.stdout  # refreshed by the switch
    assert statuses, "no request was sent during the switch"
    assert {pair[0] for pair in statuses} == {200}
    assert statuses[-1][1] == 8002
    assert served_ports(client) == (3002, 8002)
    assert json.loads(host.file(FACT).content_string)["active_slot"] == "green"
    assert not host.run(f"ls {UPSTREAMS}.*~").stdout  # no backup left behind


def test_switch_to_the_active_slot_changes_nothing(client):
    run = ansible_playbook("switch.yml", "-e", "nginx_proxy_slot=green")
    assert run.returncode == 0, run.stdout + run.stderr
    assert changed_count(run) == 0
    assert served_ports(client) == (3002, 8002)


def test_a_rejected_switch_keeps_the_previous_file(host, client):
    before = host.file(UPSTREAMS).content_string
    # keepalive 0 is invalid: nginx -t rejects the file.
    run = ansible_playbook(
        "switch.yml", "-e", "nginx_proxy_slot=blue", "-e", "nginx_proxy_upstream_keepalive=0"
    )
    assert run.returncode != 0
    assert "was not changed: nginx rejected it" in " ".join((run.stdout + run.stderr).split())
    assert host.file(UPSTREAMS).content_string == before
    assert host.run("nginx -t").rc == 0
    assert served_ports(client) == (3002, 8002)


def test_converge_keeps_the_switched_slot(host, client):
    run = ansible_playbook("converge.yml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert changed_count(run) == 0
    assert served_ports(client) == (3002, 8002)
    assert json.loads(host.file(FACT).content_string)["active_slot"] == "green"


def test_a_rejected_configuration_is_put_back(host, client):
    site = "/etc/nginx/sites-available/notes.conf"
    before = host.file(site).content_string
    run = ansible_playbook("converge.yml", "-e", "nginx_proxy_tls_ciphers=NO-SUCH-CIPHER")
    assert run.returncode != 0
    output = " ".join((run.stdout + run.stderr).split())
    assert "nginx rejected the configuration the role wrote" in output
    assert "no cipher match" in output
    assert host.file(site).content_string == before
    assert not host.run("ls /etc/nginx/sites-available/*~ /etc/nginx/conf.d/*~").stdout
    assert host.run("nginx -t").rc == 0
    assert served_ports(client) == (3002, 8002)


def test_api_rate_limit(host, client):
    """20r/s, burst 40 per address: 100 requests at once on /api/ are partly refused."""
    wait_for_api_limit_to_clear(host)  # the whole burst, whatever ran before
    conn = client.connection()
    try:
        statuses = [client.get("/api/notes", connection=conn).status for _request in range(100)]
    finally:
        conn.close()
    assert statuses[:40] == [200] * 40
    assert statuses.count(429) >= 30
    assert set(statuses) == {200, 429}


def test_no_rate_limit_outside_the_api(client):
    """A bounded load test through / and /version from one address is never refused."""
    conn = client.connection()
    try:
        statuses = [
            client.get(path, connection=conn).status
            for _request in range(75)
            for path in ("/", "/version")
        ]
    finally:
        conn.close()
    assert statuses == [200] * 150
