"""The simulators' podman backend, driven directly: servers are real systemd containers reached
over SSH, power and rebuild act on them, and a load balancer forwards real HTTP traffic to its
healthy targets."""

from __future__ import annotations

import concurrent.futures
import http.client
import ipaddress
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cloudsim import podman_backend
from tests.cloudsim.podman_backend import PodmanBackend

pytestmark = pytest.mark.hosts

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "tests" / "hosts" / "containers.conf"))

SSH_WAIT = 60.0
REQUESTS = 20


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, check=check, timeout=60
    )


def keygen(directory: Path, name: str) -> tuple[Path, str]:
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key, (directory / f"{name}.pub").read_text().strip()


def ssh_ok(key: Path, address: str) -> bool:
    """One SSH attempt as root with this key alone; True if it ran a command."""
    args = [
        "ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3",
        "-o", "LogLevel=ERROR", f"root@{address}", "true",
    ]  # fmt: skip
    try:
        return subprocess.run(args, capture_output=True, timeout=15, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def wait_ssh(key: Path, address: str, timeout: float = SSH_WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not ssh_ok(key, address):
        assert time.monotonic() < deadline, f"SSH to {address} not working after {timeout:.0f} s"
        time.sleep(1)


def state_of(container: str) -> str | None:
    proc = podman("inspect", "-f", "{{.State.Status}}", container, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def address_of(container: str) -> str:
    return podman_backend.hostctl.address_of(container)


def start_web(container: str) -> None:
    """python3's web server on port 8080, answering the host's name."""
    script = (
        "mkdir -p /srv/www && hostname > /srv/www/index.html && cd /srv/www "
        "&& exec python3 -m http.server 8080"
    )
    podman("exec", "-d", container, "sh", "-c", script)


def fetch(address: str, port: int = 80) -> str:
    conn = http.client.HTTPConnection(address, port, timeout=5)
    try:
        conn.request("GET", "/", headers={"Connection": "close"})
        resp = conn.getresponse()
        assert resp.status == 200
        return resp.read().decode().strip()
    finally:
        conn.close()


def wait_health(backend, lb: str, wanted: dict[str, str], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        health = {ip: state for (ip, _port), state in backend.lb_health(lb).items()}
        if all(health.get(ip) == state for ip, state in wanted.items()):
            return
        assert time.monotonic() < deadline, f"health {health}, wanted {wanted}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def backend() -> Iterator[PodmanBackend]:
    b = PodmanBackend(lb_interval=1.0, lb_timeout=0.5)
    try:
        yield b
    finally:
        b.cleanup()


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    directory = tmp_path_factory.mktemp("sim-keys")
    return {name: keygen(directory, name) for name in ("first", "second")}


def test_servers_power_rebuild_and_delete(backend, keys):
    key1, pub1 = keys["first"]
    key2, pub2 = keys["second"]
    subnet = ipaddress.ip_network(backend.subnet)
    machines = []
    for n in (1, 2):
        started = time.monotonic()
        m = backend.create(f"test-{n}", f"web-{n}", [pub1], None)
        assert time.monotonic() - started < 10, "create should return within seconds"
        machines.append(m)
    m1, m2 = machines
    for m in machines:
        container = backend.container_name(m.key)
        assert m.running
        assert ipaddress.ip_address(m.ipv4) in subnet
        assert (m.ipv6, m.private_ipv4) == (None, None)
        assert address_of(container) == m.ipv4
        assert podman("exec", container, "hostname").stdout.strip() == m.name
        authorized = podman("exec", container, "cat", "/root/.ssh/authorized_keys").stdout
        assert authorized.splitlines() == [pub1]
    assert m1.ipv4 != m2.ipv4
    for m in machines:
        wait_ssh(key1, m.ipv4)

    # Power off: the container stops and SSH fails. Power on: same address, SSH works.
    address = m1.ipv4
    backend.power(m1, on=False)
    assert not m1.running
    assert state_of(backend.container_name(m1.key)) in ("exited", "stopped")
    assert not ssh_ok(key1, address)
    backend.power(m1, on=True)
    assert m1.running
    assert m1.ipv4 == address, "a server keeps its address over a power cycle"
    assert address_of(backend.container_name(m1.key)) == address
    wait_ssh(key1, m1.ipv4)

    backend.reboot(m1)
    assert m1.running
    assert m1.ipv4 == address
    wait_ssh(key1, m1.ipv4)

    # Rebuild with the second key: only that key works, and the address stays.
    backend.rebuild(m1, [pub2])
    assert (m1.ipv4, m1.ssh_keys, m1.running) == (address, [pub2], True)
    wait_ssh(key2, m1.ipv4)
    assert not ssh_ok(key1, m1.ipv4)

    # Delete: the container is gone; the other server is untouched.
    backend.delete(m2)
    assert state_of(backend.container_name(m2.key)) is None
    assert not m2.running
    assert ssh_ok(key2, m1.ipv4)
    backend.delete(m1)
    assert state_of(backend.container_name(m1.key)) is None


def test_creations_in_parallel_threads(backend, keys):
    key1, pub1 = keys["first"]
    count = 4
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        futures = [
            pool.submit(backend.create, f"test-par-{n}", f"par-{n}", [pub1], None)
            for n in range(count)
        ]
        machines = [f.result() for f in futures]
    took = time.monotonic() - started
    try:
        assert took < 15, f"{count} creations took {took:.1f} s"
        assert len({m.ipv4 for m in machines}) == count
        for m in machines:
            assert address_of(backend.container_name(m.key)) == m.ipv4
        for m in machines:
            wait_ssh(key1, m.ipv4)
    finally:
        for m in machines:
            backend.delete(m)
    assert not [c for c in backend.containers() if "test-par-" in c["Names"][0]]


def test_power_on_moves_a_server_whose_address_was_taken(backend, keys):
    key1, pub1 = keys["first"]
    m = backend.create("test-moved", "moved", [pub1], "#cloud-config\n")
    squatter = f"sigma-sim-squatter-{backend.instance}"
    try:
        wait_ssh(key1, m.ipv4)
        old = m.ipv4
        backend.power(m, on=False)
        # Another container takes the address while the server is off.
        podman(
            "run", "-d", "--name", squatter, "--network", backend.network, "--ip", old,
            "--mac-address", podman_backend.mac_for(old),
            "--label", f"{podman_backend.LABEL}.group=sim",
            "--label", f"{podman_backend.OWNER_LABEL}={backend.owner}",
            "--label", f"{podman_backend.INSTANCE_LABEL}={backend.instance}",
            backend.image, "sleep", "300",
        )  # fmt: skip
        backend.power(m, on=True)
        assert m.running
        assert m.ipv4 != old
        assert address_of(backend.container_name(m.key)) == m.ipv4
        wait_ssh(key1, m.ipv4)
        container = backend.container_name(m.key)
        user_data = podman("exec", container, "cat", "/var/lib/cloud/instance/user-data.txt")
        assert user_data.stdout == "#cloud-config\n"
    finally:
        podman("rm", "-f", "-t", "0", squatter, check=False)
        backend.delete(m)


def test_load_balancer_forwards_to_healthy_targets(backend, keys):
    _key1, pub1 = keys["first"]
    machines = [backend.create(f"test-lb-{n}", f"lb-target-{n}", [pub1], None) for n in (1, 2)]
    lb = "test-lb"
    try:
        for m in machines:
            start_web(backend.container_name(m.key))
        address = backend.lb_create(lb)
        assert ipaddress.ip_address(address).is_loopback
        backend.lb_set(lb, services=[(80, 8080)], targets=[m.ipv4 for m in machines])
        wait_health(backend, lb, {m.ipv4: "healthy" for m in machines})

        seen = Counter(fetch(address) for _request in range(REQUESTS))
        assert set(seen) == {"lb-target-1", "lb-target-2"}, seen
        assert seen["lb-target-1"] == seen["lb-target-2"] == REQUESTS // 2, "round robin"

        # One target stops: once the health check has noticed, every request goes to the other.
        down, up = machines
        backend.power(down, on=False)
        wait_health(backend, lb, {down.ipv4: "unhealthy", up.ipv4: "healthy"})
        seen = Counter(fetch(address) for _request in range(REQUESTS))
        assert seen == {"lb-target-2": REQUESTS}

        # It comes back: both serve again. podman may have given its address to another
        # container while it was off, so it can come back on a new one; the vendors then hand
        # the proxy the new address on their next sync, and so does this test.
        backend.power(down, on=True)
        start_web(backend.container_name(down.key))
        backend.lb_set(lb, services=[(80, 8080)], targets=[m.ipv4 for m in machines])
        wait_health(backend, lb, {m.ipv4: "healthy" for m in machines})
        seen = Counter(fetch(address) for _request in range(REQUESTS))
        assert set(seen) == {"lb-target-1", "lb-target-2"}, seen

        # A target removed from the load balancer gets no traffic.
        backend.lb_set(lb, services=[(80, 8080)], targets=[up.ipv4])
        assert Counter(fetch(address) for _request in range(REQUESTS)) == {"lb-target-2": REQUESTS}

        backend.lb_delete(lb)
        with pytest.raises(ConnectionRefusedError):
            fetch(address)
    finally:
        backend.lb_delete(lb)
        for m in machines:
            backend.delete(m)


def test_cleanup_and_stale_containers(keys):
    _key1, pub1 = keys["first"]
    first = PodmanBackend()
    stale = f"sigma-sim-stale-{first.instance}"
    try:
        first.create("test-clean", "clean", [pub1], None)
        address = first.lb_create("lb")
        first.lb_set("lb", services=[(80, 8080)], targets=[])
        assert len(first.containers()) == 1
        assert first.cleanup() == 1
        assert first.containers() == []
        assert podman("ps", "-a", "-q", "--filter", f"name={first.container_name('')}").stdout == ""
        with pytest.raises(ConnectionRefusedError):
            fetch(address)

        # A container left by a simulator that is gone (its owner process is dead) is removed
        # when the next backend starts; a live simulator's containers are left alone.
        podman(
            "run", "-d", "--name", stale, "--network", first.network,
            "--label", f"{podman_backend.LABEL}.group=sim",
            "--label", f"{podman_backend.OWNER_LABEL}=0:gone",
            first.image, "sleep", "300",
        )  # fmt: skip
        keeper = first.create("test-keep", "keep", [pub1], None)
        second = PodmanBackend()
        try:
            assert second.removed_stale >= 1
            assert state_of(stale) is None
            assert state_of(first.container_name(keeper.key)) == "running"
        finally:
            second.cleanup()
        assert state_of(first.container_name(keeper.key)) == "running", "not second's to remove"
    finally:
        podman("rm", "-f", "-t", "0", stale, check=False)
        first.cleanup()
    for b in (first, second):
        flt = f"label={podman_backend.INSTANCE_LABEL}={b.instance}"
        assert podman("ps", "-a", "-q", "--filter", flt).stdout == ""
