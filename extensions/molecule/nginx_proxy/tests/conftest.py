"""Test-host access and HTTP helpers for the nginx_proxy scenario."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

from podman_host import host

__all__ = ["host"]


@pytest.fixture(scope="module")
def address(host) -> str:
    """The container's address on the project network (the controller reaches it directly)."""
    return next(a for a in host.interface("eth0").addresses if ":" not in a)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict:
        data = self.body
        if self.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return json.loads(data)


class Client:
    """HTTP(S) requests from the controller to the container, certificates not verified."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def connection(self, port: int = 443, scheme: str = "https") -> http.client.HTTPConnection:
        if scheme == "https":
            return http.client.HTTPSConnection(self.address, port, context=self.context, timeout=10)
        return http.client.HTTPConnection(self.address, port, timeout=10)

    def get(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        port: int = 443,
        scheme: str = "https",
        connection: http.client.HTTPConnection | None = None,
    ) -> Response:
        conn = connection or self.connection(port, scheme)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            return Response(resp.status, resp.headers, resp.read())
        finally:
            if connection is None:
                conn.close()


@pytest.fixture(scope="module")
def client(address) -> Client:
    return Client(address)


def ansible_playbook(name: str, *args: str) -> subprocess.CompletedProcess:
    """Run one of the scenario's playbooks against the instance, as molecule would."""
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    binary = shutil.which("ansible-playbook") or str(
        Path(sys.executable).parent / "ansible-playbook"
    )
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    return subprocess.run(
        [binary, "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(scenario / name), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=900,
    )


def changed_count(run: subprocess.CompletedProcess) -> int:
    """`changed=` of the play recap."""
    return int(re.findall(r"changed=(\d+)", run.stdout)[-1])


def access_log(host, app: str = "notes") -> list[dict]:
    """Every line of the app's JSON access log, parsed."""
    text = host.file(f"/var/log/nginx/{app}.access.log").content_string
    return [json.loads(line) for line in text.splitlines() if line]


# The role's defaults: limit_req rate=20r/s burst=40 per client address on /api/.
API_RATE_PER_SECOND = 20
API_BURST = 40


def wait_for_api_limit_to_clear(host, app: str = "notes", timeout: float = 30.0) -> None:
    """Wait until nginx's /api/ rate limit holds nothing against any client: until the newest
    /api/ request in the app's access log is burst / rate seconds old, by the host's clock.

    nginx keeps at most ``burst`` requests of excess per client and lets ``rate`` of them go
    each second, so by then every client has its whole burst again.
    """
    deadline = time.monotonic() + timeout
    log = f"/var/log/nginx/{app}.access.log"
    while True:
        now, *newest = host.check_output(
            f'date +%s.%N; grep -F \'"uri":"/api/\' {log} | tail -n 1'
        ).splitlines()
        last = json.loads(newest[0])["msec"] if newest else None
        left = 0.0 if last is None else last + API_BURST / API_RATE_PER_SECOND - float(now)
        if left <= 0:
            return
        assert time.monotonic() + left < deadline, f"/api/ requests still arrive ({log})"
        time.sleep(left)
