"""playbooks/site.yml on three local hosts over real SSH: converges, then changes nothing,
and the hosts are hardened as seen from outside."""

import os
import socket
import subprocess

import pytest

from tests.integration.support import hostctl, recap, run_playbook, ssh, start_group

pytestmark = pytest.mark.hosts


@pytest.fixture(scope="module")
def converged(three_hosts):
    first = run_playbook(three_hosts.inventory, "playbooks/site.yml")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    return three_hosts, first


def test_first_run_configures_every_host(converged):
    group, first = converged
    stats = recap(first.stdout)
    assert set(stats) == set(group.hosts)
    for host, s in stats.items():
        assert (s["failed"], s["unreachable"]) == (0, 0), host
        assert s["changed"] > 0, host


def test_second_run_changes_nothing(converged):
    group = converged[0]
    again = run_playbook(group.inventory, "playbooks/site.yml")
    assert again.returncode == 0, again.stdout[-4000:]
    stats = recap(again.stdout)
    assert set(stats) == set(group.hosts)
    for host, s in stats.items():
        assert (s["changed"], s["failed"], s["unreachable"]) == (0, 0, 0), (host, s)


def test_root_login_is_refused_and_the_admin_user_can_sudo(converged):
    group = converged[0]
    for address in group.hosts.values():
        root = ssh(group, "root", address, "true")
        assert root.returncode == 255, root.stderr
        assert "Permission denied" in root.stderr
        admin = ssh(group, "sigma", address, "sudo -n id -u")
        assert admin.returncode == 0, admin.stderr
        assert admin.stdout.strip() == "0"


LISTENING_ON_8080 = """
import socket, time
for _ in range(50):
    try:
        socket.create_connection(("127.0.0.1", 8080), 1).close()
        break
    except OSError:
        time.sleep(0.1)
else:
    raise SystemExit(1)
"""


def connect(address: str, port: int) -> str:
    """'open', 'refused' (allowed by the firewall, nothing listening) or 'dropped'."""
    try:
        with socket.create_connection((address, port), timeout=3):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "dropped"


def test_firewall_lets_through_only_the_listed_ports(converged):
    group = converged[0]
    name, address = next(iter(group.hosts.items()))
    container = f"sigma-{name}"
    # Something listens on 8080 inside the host; from outside it must not be reachable.
    subprocess.run(
        ["podman", "exec", "-d", container, "python3", "-m", "http.server", "8080"], check=True
    )
    probe = subprocess.run(
        ["podman", "exec", container, "python3", "-c", LISTENING_ON_8080], check=False
    )
    assert probe.returncode == 0, "the listener inside the host did not start"
    assert connect(address, 22) == "open"
    assert connect(address, 80) == "refused"  # allowed, nothing listens yet
    assert connect(address, 443) == "refused"
    assert connect(address, 8080) == "dropped"


def test_hosts_removed_leave_nothing_behind(tmp_path):
    inventory = tmp_path / "hosts.yml"
    group = start_group("it-clean", 1, inventory)
    keydir = group.key.rsplit("/", 1)[0]
    assert inventory.exists()
    proc = hostctl("down", "--group", "it-clean")
    assert proc.returncode == 0, proc.stderr
    left = subprocess.run(
        ["podman", "ps", "-a", "--filter", "label=io.sigma-deploy.group=it-clean", "-q"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert left.stdout.strip() == ""
    assert not inventory.exists()
    assert not os.path.exists(keydir)
