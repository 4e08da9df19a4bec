"""Start, list and remove local test hosts: Debian 12 systemd containers reached over SSH.

Hosts live on the project's own podman network. Each group of hosts gets its own SSH key pair
in a temporary directory; everything a group owns (containers, key directory, inventory file)
is recorded in container labels, so ``down`` removes all of it and a later ``up`` or
``down --all`` removes what an interrupted run left behind.

    hostctl.py up --group demo --count 3 --inventory inventories/local/hosts.yml
    hostctl.py ls
    hostctl.py down --group demo        # or: down --all
"""

from __future__ import annotations

import argparse
import concurrent.futures
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
NETWORK = os.environ.get("SIGMA_NETWORK", "sigma-deploy")
SUBNET = os.environ.get("SIGMA_SUBNET", "10.89.213.0/24")
LABEL = "io.sigma-deploy"
CAPS = ("AUDIT_WRITE", "NET_ADMIN", "NET_RAW", "SYS_ADMIN")
SSH_WAIT_SECONDS = 90.0


class HostError(Exception):
    """A failure with a message meant for the user."""


@dataclass(frozen=True)
class Host:
    name: str
    address: str


def run(args: list[str], check: bool = True, input_text: str | None = None) -> str:
    """Run a command and return its standard output; raise HostError with its stderr."""
    proc = subprocess.run(args, capture_output=True, text=True, input=input_text, check=False)
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise HostError(f"{' '.join(args[:3])} failed: " + " | ".join(detail))
    return proc.stdout


def container_name(group: str, index: int) -> str:
    return f"sigma-{group}-{index}"


def validate_group(group: str) -> str:
    if not group or not all(c.isalnum() or c == "-" for c in group) or len(group) > 30:
        raise HostError(f"group {group!r}: expected 1-30 letters, digits or '-'")
    return group


def render_inventory(group: str, hosts: list[Host], key_file: str, known_hosts: str) -> str:
    """The YAML inventory (JSON is valid YAML) for a group of hosts, reached as root over SSH."""
    ssh_args = f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes"
    data = {
        "all": {
            "children": {
                group: {
                    "hosts": {h.name: {"ansible_host": h.address} for h in hosts},
                    # The image's Python, as an inventory of known servers names it: no
                    # interpreter discovery (an extra round trip) on every first connection.
                    "vars": {
                        "ansible_python_interpreter": "/usr/bin/python3",
                        "sigma_bootstrap_user": "root",
                        "ansible_ssh_private_key_file": key_file,
                        "ansible_ssh_common_args": ssh_args,
                    },
                }
            }
        }
    }
    header = f"# Written by tests/hosts/hostctl.py for group {group}; removed by 'down'.\n"
    return header + json.dumps(data, indent=2, sort_keys=True) + "\n"


def network_ensure() -> None:
    ipaddress.ip_network(SUBNET)  # a bad SIGMA_SUBNET fails here, clearly
    out = run(["podman", "network", "ls", "--format", "{{.Name}}"])
    if NETWORK in out.split():
        info = json.loads(run(["podman", "network", "inspect", NETWORK]))[0]
        subnets = [s.get("subnet") for s in info.get("subnets", [])]
        if SUBNET not in subnets:
            raise HostError(
                f"podman network {NETWORK} exists with subnets {subnets}, expected {SUBNET}; "
                f"remove it (podman network rm {NETWORK}) or set SIGMA_SUBNET"
            )
        return
    run(["podman", "network", "create", "--subnet", SUBNET, "--label", f"{LABEL}=network", NETWORK])


def network_remove_if_unused() -> None:
    # make test runs several host jobs side by side: one job's teardown must not remove the
    # network while another job is about to put hosts on it (SIGMA_KEEP_NETWORK=1 there).
    if os.environ.get("SIGMA_KEEP_NETWORK"):
        return
    out = run(
        ["podman", "ps", "-a", "--filter", f"network={NETWORK}", "--format", "{{.Names}}"],
        check=False,
    )
    if not out.strip():
        run(["podman", "network", "rm", "-f", NETWORK], check=False)


def image_tag() -> str:
    tag = run(["bash", str(HERE / "build-image.sh"), "--print-tag"]).strip()
    if subprocess.run(["podman", "image", "exists", tag], check=False).returncode != 0:
        raise HostError(f"test-host image {tag} is missing: run 'make image'")
    return tag


def list_containers(group: str | None) -> list[dict]:
    flt = f"label={LABEL}.group" + (f"={group}" if group else "")
    out = run(["podman", "ps", "-a", "--filter", flt, "--format", "json"])
    return json.loads(out or "[]")


def down(group: str | None) -> int:
    """Remove the hosts of one group (or of every group) and all they own."""
    containers = list_containers(group)
    names = [c["Names"][0] for c in containers]
    if names:
        run(["podman", "rm", "-f", "-t", "0", *names])
    for c in containers:
        labels = c.get("Labels") or {}
        keydir = labels.get(f"{LABEL}.keydir", "")
        if keydir.startswith(tempfile.gettempdir() + "/sigma-hosts-") and os.path.isdir(keydir):
            shutil.rmtree(keydir, ignore_errors=True)
        inventory = labels.get(f"{LABEL}.inventory", "")
        if inventory and os.path.isfile(inventory):
            os.unlink(inventory)
    network_remove_if_unused()
    return len(names)


def start_container(tag: str, group: str, index: int, keydir: str, inventory: str) -> str:
    name = container_name(group, index)
    args = [
        "podman",
        "run",
        "-d",
        "--name",
        name,
        "--hostname",
        f"{group}-{index}",
        "--network",
        NETWORK,
        "--systemd",
        "always",
        "--label",
        f"{LABEL}.group={group}",
        "--label",
        f"{LABEL}.keydir={keydir}",
        "--label",
        f"{LABEL}.inventory={inventory}",
    ]
    for cap in CAPS:
        args += ["--cap-add", cap]
    run([*args, tag, "/sbin/init"])
    return name


def install_key(name: str, public_key: str) -> None:
    script = (
        "install -d -m 700 /root/.ssh && cat > /root/.ssh/authorized_keys "
        "&& chmod 600 /root/.ssh/authorized_keys"
    )
    run(["podman", "exec", "-i", name, "sh", "-c", script], input_text=public_key)


def address_of(name: str) -> str:
    info = json.loads(run(["podman", "inspect", name]))[0]
    nets = info["NetworkSettings"]["Networks"]
    return nets[NETWORK]["IPAddress"]


def wait_for_ssh(address: str, deadline: float) -> str:
    """Poll sshd until it offers a host key; return the known_hosts lines."""
    while True:
        proc = subprocess.run(
            ["ssh-keyscan", "-T", "2", "-t", "ed25519", address],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout
        if time.monotonic() > deadline:
            raise HostError(f"sshd on {address} did not answer within {SSH_WAIT_SECONDS:.0f} s")
        time.sleep(0.5)


def up(group: str, count: int, inventory: str | None) -> list[Host]:
    validate_group(group)
    if not 1 <= count <= 20:
        raise HostError(f"count {count}: expected 1 to 20 hosts")
    tag = image_tag()
    inventory_path = os.path.abspath(inventory) if inventory else ""
    removed = down(group)
    if removed:
        print(f"hostctl: removed {removed} stale host(s) of group {group}")
    network_ensure()
    keydir = tempfile.mkdtemp(prefix=f"sigma-hosts-{group}-")
    key = os.path.join(keydir, "id_ed25519")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"sigma-{group}", "-f", key])
    public_key = Path(key + ".pub").read_text()

    def boot(index: int) -> Host:
        name = start_container(tag, group, index, keydir, inventory_path)
        install_key(name, public_key)
        return Host(name=f"{group}-{index}", address=address_of(name))

    deadline = time.monotonic() + SSH_WAIT_SECONDS
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(count, 8)) as pool:
            hosts = list(pool.map(boot, range(1, count + 1)))
            keys = list(pool.map(lambda h: wait_for_ssh(h.address, deadline), hosts))
    except BaseException:
        down(group)
        shutil.rmtree(keydir, ignore_errors=True)
        raise
    known_hosts = os.path.join(keydir, "known_hosts")
    Path(known_hosts).write_text("".join(keys))
    if inventory_path:
        os.makedirs(os.path.dirname(inventory_path), exist_ok=True)
        Path(inventory_path).write_text(render_inventory(group, hosts, key, known_hosts))
    return hosts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start a group of hosts (replacing a stale one)")
    p_up.add_argument("--group", required=True)
    p_up.add_argument("--count", type=int, default=1)
    p_up.add_argument("--inventory", help="write an Ansible inventory for the group here")
    p_down = sub.add_parser("down", help="remove a group of hosts, or all of them")
    target = p_down.add_mutually_exclusive_group(required=True)
    target.add_argument("--group")
    target.add_argument("--all", action="store_true")
    sub.add_parser("ls", help="list the project's hosts")
    sub.add_parser("network", help="create the project network if it is missing")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            started = time.monotonic()
            hosts = up(args.group, args.count, args.inventory)
            took = time.monotonic() - started
            print(f"hostctl: {len(hosts)} host(s) of group {args.group} up in {took:.1f} s")
            for h in hosts:
                print(f"  {h.name:<12} {h.address}")
            if args.inventory:
                print(f"  inventory: {args.inventory}")
        elif args.command == "down":
            removed = down(None if args.all else validate_group(args.group))
            print(f"hostctl: removed {removed} host(s)")
        elif args.command == "network":
            network_ensure()
        else:
            for c in list_containers(None):
                print(
                    f"{c['Names'][0]:<24} {c.get('State', '?'):<10} "
                    f"{(c.get('Labels') or {}).get(LABEL + '.group', '')}"
                )
    except HostError as exc:
        print(f"hostctl: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
