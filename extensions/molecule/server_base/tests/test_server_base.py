"""Outcomes of sigma.deploy.server_base on a provider-like Debian 12 host.

Run by molecule (scenario server_base) through testinfra; `host` is the converged container.
"""

from __future__ import annotations

import json
import socket

import pytest

ADMIN = "sigma"
ALLOWED_TCP_PORTS = {22, 80, 443, 8443}
SSH = (
    "ssh -i /root/provider_key -o BatchMode=yes -o StrictHostKeyChecking=no"
    " -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10"
)
SWAP_BYTES = 64 * 1024 * 1024
SYSCTL_DEFAULTS = {
    "kernel.kptr_restrict": "2",
    "kernel.dmesg_restrict": "1",
    "kernel.unprivileged_bpf_disabled": "1",
    "net.ipv4.conf.all.rp_filter": "1",
    "net.ipv4.conf.all.accept_redirects": "0",
    "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv4.conf.all.accept_source_route": "0",
    "net.ipv6.conf.all.accept_redirects": "0",
    "net.ipv4.tcp_syncookies": "1",
    "net.ipv4.icmp_echo_ignore_broadcasts": "1",
    "fs.protected_hardlinks": "1",
    "fs.protected_symlinks": "1",
    "vm.swappiness": "10",
}


def sshd_settings(host) -> dict[str, str]:
    """The settings sshd takes from its configuration (`sshd -T`), keyed by lower-case name."""
    lines = host.check_output("/usr/sbin/sshd -T").splitlines()
    return dict(line.split(" ", 1) for line in lines if " " in line)


def sigma_input_rules(host) -> list[dict]:
    """Rules of the role's input chain, from `nft -j list ruleset`."""
    ruleset = json.loads(host.check_output("nft -j list ruleset"))["nftables"]
    return [
        item["rule"]
        for item in ruleset
        if "rule" in item
        and item["rule"]["table"] == "sigma_firewall"
        and item["rule"]["chain"] == "input"
    ]


def accepted_tcp_dports(rule: dict) -> set[int]:
    """Destination ports a rule accepts over TCP (empty if it does not match on them)."""
    exprs = rule["expr"]
    if not any("accept" in expr for expr in exprs):
        return set()
    ports: set[int] = set()
    for expr in exprs:
        match = expr.get("match")
        if not match or match["left"].get("payload") != {"protocol": "tcp", "field": "dport"}:
            continue
        assert match["op"] in ("==", "in"), rule
        right = match["right"]
        values = right["set"] if isinstance(right, dict) and "set" in right else [right]
        for value in values:
            assert isinstance(value, int), f"port ranges are not expected here: {rule}"
            ports.add(value)
    return ports


def test_sshd_settings(host):
    settings = sshd_settings(host)
    assert settings["passwordauthentication"] == "no"  # despite the provider's drop-in
    assert settings["kbdinteractiveauthentication"] == "no"
    assert settings["permitrootlogin"] == "no"
    assert settings["pubkeyauthentication"] == "yes"
    assert settings["x11forwarding"] == "no"
    assert settings["allowagentforwarding"] == "no"
    assert settings["maxauthtries"] == "3"
    assert settings["ciphers"] == (
        "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com"
    )
    assert settings["macs"] == (
        "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com"
    )
    assert settings["kexalgorithms"] == (
        "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org"
    )


def test_admin_user(host):
    user = host.user(ADMIN)
    assert user.exists
    assert user.shell == "/bin/bash"
    assert "sudo" in user.groups
    ssh_dir = host.file(f"{user.home}/.ssh")
    assert ssh_dir.mode == 0o700
    assert ssh_dir.user == ADMIN
    keys = host.file(f"{user.home}/.ssh/authorized_keys")
    assert keys.mode == 0o600
    assert keys.user == ADMIN
    provider_key = host.file("/root/provider_key.pub").content_string.split()[1]
    assert provider_key in keys.content_string


def test_admin_logs_in_with_the_provider_key_and_can_sudo(host):
    result = host.run(f"{SSH} {ADMIN}@127.0.0.1 sudo -n true")
    assert result.rc == 0, result.stderr


def test_root_login_refused(host):
    result = host.run(f"{SSH} root@127.0.0.1 true")
    assert result.rc != 0
    assert "Permission denied" in result.stderr


def test_only_public_key_authentication_offered(host):
    result = host.run(f"{SSH} -o PubkeyAuthentication=no {ADMIN}@127.0.0.1 true")
    assert result.rc != 0
    assert "Permission denied (publickey)" in result.stderr


def test_firewall_ruleset(host):
    assert host.service("nftables").is_enabled
    chains = {
        item["chain"]["name"]: item["chain"]
        for item in json.loads(host.check_output("nft -j list ruleset"))["nftables"]
        if "chain" in item and item["chain"]["table"] == "sigma_firewall"
    }
    assert chains["input"]["policy"] == "drop"
    assert chains["forward"]["policy"] == "drop"
    assert chains["output"]["policy"] == "accept"
    accepted: set[int] = set()
    for rule in sigma_input_rules(host):
        accepted |= accepted_tcp_dports(rule)
    assert accepted == ALLOWED_TCP_PORTS


@pytest.fixture
def listeners(host):
    """Throw-away TCP listeners inside the host on an allowed and a closed port."""
    units = {8443: "sigma-probe-8443", 9443: "sigma-probe-9443"}
    for port, unit in units.items():
        host.check_output(f"systemd-run --unit={unit} python3 -m http.server --bind 0.0.0.0 {port}")
    host.check_output(
        "for i in $(seq 50); do ss -ltn | grep -q ':8443 ' && ss -ltn | grep -q ':9443 '"
        " && exit 0; sleep 0.1; done; exit 1"
    )
    yield units
    for unit in units.values():
        host.run(f"systemctl stop {unit}")


def can_connect(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=3):
            return True
    except OSError:
        return False


def test_firewall_filters_traffic_from_the_network(host, listeners):
    """From the controller (on the project network): allowed ports answer, others do not."""
    address = next(a for a in host.interface("eth0").addresses if ":" not in a)
    assert can_connect(address, 22)
    assert can_connect(address, 8443)
    assert not can_connect(address, 9443)
    # The closed port is served, just not reachable from outside.
    assert host.run("bash -c 'exec 3<>/dev/tcp/127.0.0.1/9443'").rc == 0


def test_unattended_upgrades(host):
    assert host.package("unattended-upgrades").is_installed
    periodic = host.file("/etc/apt/apt.conf.d/20auto-upgrades").content_string
    assert 'APT::Periodic::Unattended-Upgrade "1";' in periodic
    assert 'APT::Periodic::Update-Package-Lists "1";' in periodic
    origins = host.check_output("apt-config dump Unattended-Upgrade::Origins-Pattern")
    patterns = [line.split(" ", 1)[1].strip('";') for line in origins.splitlines()[1:]]
    assert patterns == [
        "origin=Debian,codename=${distro_codename},label=Debian-Security",
        "origin=Debian,codename=${distro_codename}-security,label=Debian-Security",
    ]


def test_journald_limits(host):
    dropin = host.file("/etc/systemd/journald.conf.d/50-sigma.conf")
    assert "SystemMaxUse=500M" in dropin.content_string
    assert "Compress=yes" in dropin.content_string
    assert host.service("systemd-journald").is_running


def test_time(host):
    assert host.package("systemd-timesyncd").is_installed
    # Enabled; in a container it never runs (ConditionVirtualization=!container).
    assert host.service("systemd-timesyncd").is_enabled
    assert (
        "NTP=0.debian.pool.ntp.org"
        in host.file("/etc/systemd/timesyncd.conf.d/50-sigma.conf").content_string
    )
    assert host.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Etc/UTC"


def test_sysctl_file(host):
    sysctl = host.file("/etc/sysctl.d/90-sigma-hardening.conf")
    assert sysctl.mode == 0o644
    settings = dict(
        (part.strip() for part in line.split("=", 1))
        for line in sysctl.content_string.splitlines()
        if line and not line.startswith("#")
    )
    assert settings == SYSCTL_DEFAULTS


def test_swap_file(host):
    swap = host.file("/swapfile")
    assert swap.is_file
    assert swap.size == SWAP_BYTES
    assert swap.mode == 0o600
    assert swap.user == "root"
    # mkswap's signature sits at the end of the first page.
    assert host.check_output("tail -c +4087 /swapfile | head -c 10") == "SWAPSPACE2"
    assert "/swapfile none swap sw 0 0" in host.file("/etc/fstab").content_string
