"""The demo's environment trusts the simulator's CA in addition to what was trusted, never instead.

`make demo` runs `eval "$(tools/cloudsim.sh env)"` and then builds the release, which runs pip.
When that environment named the simulator's CA alone in REQUESTS_CA_BUNDLE, pip (like every
program that uses requests) trusted nothing else: "CERTIFICATE_VERIFY_FAILED ... self-signed
certificate in certificate chain" on a machine whose package index is reached through a proxy
with its own CA. Here a second HTTPS server on loopback, with a certificate from another CA that
the environment trusted before, stands for that index.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.cloudsim.tls import (
    make_context,
    pem_certificates,
    trust_bundle_path,
    trusted_before,
    write_trust_bundle,
)

ROOT = Path(__file__).resolve().parents[3]
CLOUDSIM_SH = ROOT / "tools" / "cloudsim.sh"


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def index_server(tmp_path):
    """An HTTPS server on loopback whose CA (``url``, ``ca``) the environment trusts already."""
    ca = tmp_path / "index-ca.pem"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.socket = make_context(str(ca), env={}).wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/", ca
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _exports(text: str) -> dict[str, str]:
    """The variables of `cloudsim.sh env`'s `export A=1 B=2` lines."""
    found = {}
    for line in text.splitlines():
        words = shlex.split(line)
        assert words[0] == "export", line
        for word in words[1:]:
            name, _equals, value = word.partition("=")
            found[name] = value
    return found


@pytest.fixture
def demo_env(tmp_path, index_server):
    """`tools/cloudsim.sh start` in an environment that trusts the index's CA, and the
    environment after `eval "$(tools/cloudsim.sh env)"`."""
    index_ca = index_server[1]
    env = {
        **os.environ,
        "REQUESTS_CA_BUNDLE": str(index_ca),
        "CLOUDSIM_STATE": str(tmp_path / "state"),
        "CLOUDSIM_PORT": str(_free_port()),
        "CLOUDSIM_AWS_PORT": str(_free_port()),
        "CLOUDSIM_BACKEND": "memory",
        "VENV": sys.prefix,
    }
    start = subprocess.run(
        ["bash", str(CLOUDSIM_SH), "start"], env=env, capture_output=True, text=True, check=False
    )
    try:
        assert start.returncode == 0, start.stderr
        printed = subprocess.run(
            ["bash", str(CLOUDSIM_SH), "env"], env=env, capture_output=True, text=True, check=True
        ).stdout
        yield {**env, **_exports(printed)}
    finally:
        stop = ["bash", str(CLOUDSIM_SH), "stop"]
        subprocess.run(stop, env=env, capture_output=True, check=False)


def test_the_demo_environment_still_trusts_what_it_trusted_and_the_simulator(
    demo_env, index_server, monkeypatch
):
    index_url = index_server[0]
    for name in ("REQUESTS_CA_BUNDLE", "HCLOUD_ENDPOINT"):
        monkeypatch.setenv(name, demo_env[name])
    assert requests.get(index_url, timeout=10).text == "hello"
    health = demo_env["HCLOUD_ENDPOINT"].rsplit("/hetzner", 1)[0] + "/_admin/health"
    assert requests.get(health, timeout=10).status_code == 200


def test_fly_clients_reach_the_simulator_with_the_printed_environment(demo_env):
    base = demo_env["FLY_FLAPS_BASE_URL"] + "/v1"  # fly-go appends /v1 to the base URL
    answer = requests.get(
        base + "/apps",
        params={"org_slug": "personal"},
        headers={"Authorization": f"Bearer {demo_env['FLY_API_TOKEN']}"},
        verify=demo_env["REQUESTS_CA_BUNDLE"],
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"total_apps": 0, "apps": []}


def test_aws_clients_reach_the_local_aws_with_the_printed_environment(demo_env, monkeypatch):
    """boto3 takes the endpoint, region, credentials and CA bundle from the environment alone,
    as the AWS CLI and amazon.aws do."""
    import boto3

    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_CA_BUNDLE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ):
        monkeypatch.setenv(name, demo_env[name])
    sqs = boto3.session.Session().client("sqs")
    url = sqs.create_queue(QueueName="env-check")["QueueUrl"]
    assert url.endswith("/123456789012/env-check")
    assert sqs.list_queues()["QueueUrls"] == [url]


def test_the_bundle_holds_each_certificate_once_and_the_simulators_ca_last(tmp_path):
    first, second, ours = (tmp_path / name for name in ("a.pem", "b.pem", "ours.pem"))
    for path in (first, second, ours):
        make_context(str(path), env={})
    both = first.read_text() + second.read_text()
    (tmp_path / "both.pem").write_text("a comment line\n" + both)
    bundle = tmp_path / "bundle.pem"

    write_trust_bundle(ours.read_text(), str(bundle), [str(tmp_path / "both.pem"), str(first)])

    assert pem_certificates(bundle.read_text()) == [
        first.read_text().strip(),
        second.read_text().strip(),
        ours.read_text().strip(),
    ]
    assert oct(bundle.stat().st_mode & 0o777) == "0o644"


def test_what_was_trusted_skips_the_bundle_itself_and_missing_files(tmp_path):
    bundle = tmp_path / "ca-bundle.pem"
    bundle.write_text("")
    system = tmp_path / "system.pem"
    system.write_text("")
    env = {
        "REQUESTS_CA_BUNDLE": str(bundle),
        "CURL_CA_BUNDLE": str(tmp_path / "missing.pem"),
        "SSL_CERT_FILE": str(system),
    }
    found = trusted_before(env, exclude=str(bundle))
    assert found[0] == str(system)
    assert str(bundle) not in found
    assert str(tmp_path / "missing.pem") not in found


def test_the_bundle_lies_beside_the_ca():
    assert trust_bundle_path("/x/ca.pem") == "/x/ca-bundle.pem"
    assert trust_bundle_path("/x/ca") == "/x/ca-bundle.pem"
