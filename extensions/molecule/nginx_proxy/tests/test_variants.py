"""The acme and lb variants of sigma.deploy.nginx_proxy, set up next to the main site.

Runs after test_nginx_proxy.py (the main site serves the green slot by then). The acme
variant cannot get a certificate here (no internet): its playbook skips the certbot request,
and the tests check what the role renders around it. The lb variant balances over this host's
own nginx, reached as two backends (127.0.0.1:443 and 127.0.0.2:443).
"""

from __future__ import annotations

import json
import uuid

import pytest
from conftest import access_log, ansible_playbook, changed_count

LB_UPSTREAMS = "/etc/nginx/sigma/lbcheck-upstreams.conf"
LB_FACT = "/etc/ansible/facts.d/sigma_lbcheck.fact"


@pytest.fixture(scope="module")
def acme_site():
    run = ansible_playbook("acme-check.yml", "--skip-tags", "nginx_proxy_acme_request")
    assert run.returncode == 0, run.stdout + run.stderr


def test_acme_configuration_is_accepted(host, acme_site):
    assert host.run("nginx -t").rc == 0
    site = host.file("/etc/nginx/sites-available/acmecheck.conf").content_string
    assert "server_name acme.sigma.test;" in site
    assert "listen 8444 ssl http2 default_server;" in site
    # Until certbot has a certificate nginx starts with the self-signed one.
    assert host.file("/etc/nginx/sigma/tls/acmecheck.crt").linked_to == (
        "/etc/nginx/sigma/tls/acmecheck-selfsigned.crt"
    )
    hook = host.file("/etc/letsencrypt/renewal-hooks/deploy/50-sigma-nginx-reload")
    assert hook.mode == 0o755
    assert "/usr/local/sbin/sigma-nginx-reload" in hook.content_string
    assert host.service("certbot.timer").is_enabled


def test_acme_site_serves_challenges_and_redirects(host, client, acme_site):
    token = uuid.uuid4().hex
    path = f"/var/www/letsencrypt/.well-known/acme-challenge/{token}"
    host.check_output(f"echo -n proof-{token} > {path}")
    try:
        challenge = client.get(f"/.well-known/acme-challenge/{token}", port=8081, scheme="http")
        assert challenge.status == 200
        assert challenge.body == f"proof-{token}".encode()
    finally:
        host.run(f"rm -f {path}")
    redirect = client.get("/x", port=8081, scheme="http", headers={"Host": "acme.sigma.test"})
    assert redirect.status == 301
    assert redirect.headers["Location"] == "https://acme.sigma.test:8444/x"


def test_acme_site_sends_hsts(client, acme_site):
    response = client.get("/", port=8444)
    assert response.status == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.fixture(scope="module")
def lb_site():
    run = ansible_playbook("lb-check.yml")
    assert run.returncode == 0, run.stdout + run.stderr


def lb_upstream_addrs(host, client, count: int) -> set[str]:
    """The backends the load balancer used for `count` new requests to /."""
    marker = f"lb-{uuid.uuid4().hex}"
    for _request in range(count):
        response = client.get("/", port=8445, headers={"X-Request-ID": marker})
        assert response.status == 200
        assert response.json()["port"] == 3002  # the main site serves green by now
    return {e["upstream_addr"] for e in access_log(host, "lbcheck") if e["request_id"] == marker}


def test_lb_configuration(host, lb_site):
    assert host.run("nginx -t").rc == 0
    upstreams = host.file(LB_UPSTREAMS).content_string
    assert "server 127.0.0.1:443 weight=1 max_fails=3 fail_timeout=10s;" in upstreams
    assert "server 127.0.0.2:443 weight=2 max_fails=3 fail_timeout=10s;" in upstreams
    fact = json.loads(host.file(LB_FACT).content_string)
    assert fact["drained"] == []
    assert [b["address"] for b in fact["backends"]] == ["127.0.0.1", "127.0.0.2"]


def test_lb_proxies_over_https_to_both_backends(host, client, address, lb_site):
    assert lb_upstream_addrs(host, client, 12) == {"127.0.0.1:443", "127.0.0.2:443"}
    # The app host routes as usual: /api/ stripped, Host kept, the request id passed on.
    request_id = f"lb-{uuid.uuid4().hex}"
    body = client.get("/api/notes", port=8445, headers={"X-Request-ID": request_id}).json()
    assert body["port"] == 8002
    assert body["path"] == "/notes"
    assert body["headers"]["host"] == address
    assert body["headers"]["x-request-id"] == request_id


def test_lb_drain_and_undrain(host, client, lb_site):
    drained = ansible_playbook(
        "lb-check.yml", "-e", "lb_action=drain", "-e", '{"lb_backends": ["127.0.0.2"]}'
    )
    assert drained.returncode == 0, drained.stdout + drained.stderr
    assert "server 127.0.0.2:443 weight=2 max_fails=3 fail_timeout=10s down;" in (
        host.file(LB_UPSTREAMS).content_string
    )
    assert json.loads(host.file(LB_FACT).content_string)["drained"] == ["127.0.0.2"]
    assert lb_upstream_addrs(host, client, 12) == {"127.0.0.1:443"}

    # Draining the last backend in rotation is refused, and changes nothing.
    last = ansible_playbook(
        "lb-check.yml", "-e", "lb_action=drain", "-e", '{"lb_backends": ["127.0.0.1:443"]}'
    )
    assert last.returncode != 0
    assert "no backend would be left in rotation" in " ".join((last.stdout + last.stderr).split())
    assert lb_upstream_addrs(host, client, 4) == {"127.0.0.1:443"}

    undrained = ansible_playbook(
        "lb-check.yml", "-e", "lb_action=undrain", "-e", '{"lb_backends": ["127.0.0.2"]}'
    )
    assert undrained.returncode == 0, undrained.stdout + undrained.stderr
    assert json.loads(host.file(LB_FACT).content_string)["drained"] == []
    assert lb_upstream_addrs(host, client, 12) == {"127.0.0.1:443", "127.0.0.2:443"}


def test_lb_converge_is_idempotent(lb_site):
    run = ansible_playbook("lb-check.yml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert changed_count(run) == 0
