"""Simulated servers that are real: systemd test hosts on the project's podman network.

A created server is a container of the test-host image (``tests/hosts``) named
``sigma-sim-<instance>-<key>``, with the server's name as hostname, exactly the requested SSH
public keys in root's ``authorized_keys``, and its address on the project network reported as
the server's public IPv4. ``create`` returns as soon as the container runs and the keys are in
place (about half a second); like on the real clouds, sshd answers a second or two later and
provisioning waits for it.

Addresses are fixed for a server's life, as a cloud's primary IP is: podman hands out a new
address on every start, so each server is given a static address (picked from the top of the
subnet down, while podman's own allocator is kept counting from the bottom: ``podman_ipam``).
If another container took the address while the server was off all the same, power on moves
the server to a free one and updates ``Machine.ipv4`` (the vendors report what the Machine
says, and give their load balancers the new address).

Containers carry the labels of ``tests/hosts/hostctl.py`` (group ``sim``), so
``hostctl.py down --all`` removes them, an instance label (``cleanup()`` removes this backend's
containers) and an owner label (process id and start time): a new backend removes the
containers whose owner process is gone (an interrupted run) but leaves alone those of another
live simulator.

Load balancers are ``lbproxy.LoadBalancers``: TCP proxies on loopback addresses.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import re
import secrets
import sys
import threading
from pathlib import Path

from .backends import Machine
from .lbproxy import LoadBalancers
from .podman_ipam import allocator_kept

HOSTCTL_PATH = Path(__file__).resolve().parents[1] / "hosts" / "hostctl.py"
GROUP = "sim"
STOP_SECONDS = 5
MAX_ADDRESS_TRIES = 30


def _load_hostctl():
    """tests/hosts is not a package: load hostctl.py by path, once."""
    name = "sigma_deploy_hostctl"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HOSTCTL_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


hostctl = _load_hostctl()
HostError = hostctl.HostError
LABEL = hostctl.LABEL
OWNER_LABEL = f"{LABEL}.sim-owner"
INSTANCE_LABEL = f"{LABEL}.sim-instance"
KEY_LABEL = f"{LABEL}.sim-key"
IP_LABEL = f"{LABEL}.sim-ip"


def _process_start(pid: int) -> str | None:
    """The start time of a process (clock ticks since boot), or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields follow the last ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def _owner_id() -> str:
    pid = os.getpid()
    return f"{pid}:{_process_start(pid)}"


def _owner_alive(owner: str) -> bool:
    pid, _sep, start = owner.partition(":")
    return pid.isdigit() and _process_start(int(pid)) == start


def address_taken(exc: Exception) -> bool:
    """Whether podman refused a static address because another container holds it. The CNI
    bridge plugin says so in two ways: "already allocated", or (when podman's CNI cache lacks
    the network) "is not available in range set"."""
    text = str(exc)
    return "already allocated" in text or "is not available in range set" in text


def mac_for(address: str) -> str:
    """A fixed, locally administered MAC for an address (02:53 and the four address bytes).

    podman gives a container a random MAC on every start. The host keeps the old one in its
    neighbour table for half a minute or more, so a server that comes back on its address would
    be unreachable that long (measured: about 40 s). With the MAC tied to the address, whatever
    the host remembers for it stays right across power cycles, rebuilds and re-creations.
    """
    return "02:53:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(address).packed)


def _hostname(name: str) -> str:
    """A server name as a hostname: what the clouds allow already is one; be safe anyway."""
    host = re.sub(r"[^A-Za-z0-9.-]", "-", name).strip("-.")[:63].strip("-.")
    return host or "server"


class PodmanBackend:
    """Servers as systemd containers; load balancers as TCP proxies on loopback."""

    def __init__(self, lb_interval: float = 2.0, lb_timeout: float = 1.0) -> None:
        self.network = hostctl.NETWORK
        self.subnet = ipaddress.ip_network(hostctl.SUBNET)
        try:
            self.image = hostctl.image_tag()  # a missing image fails here, with the fix named
            hostctl.network_ensure()
        except HostError as exc:  # app.make_backend's callers report ValueError as bad settings
            raise ValueError(f"CLOUDSIM_BACKEND=podman: {exc}") from exc
        self.owner = _owner_id()
        self.instance = secrets.token_hex(3)
        self._lock = threading.Lock()  # guards _claimed
        self._claimed: set[str] = set()  # addresses of this backend's containers
        self._machines: dict[str, Machine] = {}  # key -> machine
        self._user_data: dict[str, str | None] = {}
        self._lbs = LoadBalancers(interval=lb_interval, timeout=lb_timeout)
        self.removed_stale = self._remove_stale()
        info = json.loads(hostctl.run(["podman", "network", "inspect", self.network]))[0]
        self.bridge = info.get("network_interface") or ""

    # -- the Backend protocol ----------------------------------------------------------------

    def create(self, key: str, name: str, ssh_keys: list[str], user_data: str | None) -> Machine:
        if key in self._machines:
            raise ValueError(f"machine {key} exists")
        container = self.container_name(key)
        address = self._run(container, key, _hostname(name), prefer=None)
        try:
            self._install(container, ssh_keys, user_data)
        except BaseException:
            self._remove(container)
            self._release(address)
            raise
        machine = Machine(
            key=key, name=name, ipv4=address, ipv6=None, private_ipv4=None, running=True,
            ssh_keys=list(ssh_keys),
        )  # fmt: skip
        self._machines[key] = machine
        self._user_data[key] = user_data
        return machine

    def power(self, machine: Machine, on: bool) -> None:
        container = self.container_name(machine.key)
        if on:
            self._start(machine, container)
        else:
            hostctl.run(["podman", "stop", "-t", str(STOP_SECONDS), container])
            machine.running = False

    def reboot(self, machine: Machine) -> None:
        container = self.container_name(machine.key)
        hostctl.run(["podman", "stop", "-t", str(STOP_SECONDS), container])
        self._start(machine, container)

    def rebuild(self, machine: Machine, ssh_keys: list[str]) -> None:
        """A fresh container from the image, same name and (if free) same address."""
        container = self.container_name(machine.key)
        self._remove(container)
        self._release(machine.ipv4)
        machine.running = False
        address = self._run(container, machine.key, _hostname(machine.name), prefer=machine.ipv4)
        self._install(container, ssh_keys, self._user_data.get(machine.key))
        machine.ipv4 = address
        machine.ssh_keys = list(ssh_keys)
        machine.running = True

    def delete(self, machine: Machine) -> None:
        self._remove(self.container_name(machine.key))
        self._release(machine.ipv4)
        machine.running = False
        self._machines.pop(machine.key, None)
        self._user_data.pop(machine.key, None)

    # -- load balancers (called by the vendors when present) ---------------------------------

    def lb_create(self, key: str) -> str:
        return self._lbs.lb_create(key)

    def lb_set(self, key: str, services: list[tuple[int, int]], targets: list[str]) -> None:
        self._lbs.lb_set(key, services, targets)

    def lb_health(self, key: str) -> dict[tuple[str, int], str]:
        return self._lbs.lb_health(key)

    def lb_delete(self, key: str) -> None:
        self._lbs.lb_delete(key)

    # -- housekeeping --------------------------------------------------------------------------

    def container_name(self, key: str) -> str:
        return f"sigma-sim-{self.instance}-" + re.sub(r"[^A-Za-z0-9_.-]", "-", key)

    def containers(self) -> list[dict]:
        """This backend's containers, as ``podman ps --format json`` lists them."""
        return [
            c
            for c in hostctl.list_containers(GROUP)
            if (c.get("Labels") or {}).get(INSTANCE_LABEL) == self.instance
        ]

    def cleanup(self) -> int:
        """Remove every container and load balancer this backend made; returns the count."""
        self._lbs.lb_close_all()
        names = [c["Names"][0] for c in self.containers()]
        if names:
            hostctl.run(["podman", "rm", "-f", "-t", "0", *names], check=False)
        for machine in self._machines.values():
            machine.running = False
        self._machines.clear()
        self._user_data.clear()
        with self._lock:
            self._claimed.clear()
        return len(names)

    def _remove_stale(self) -> int:
        stale = [
            c["Names"][0]
            for c in hostctl.list_containers(GROUP)
            if not _owner_alive((c.get("Labels") or {}).get(OWNER_LABEL, ""))
        ]
        if stale:
            hostctl.run(["podman", "rm", "-f", "-t", "0", *stale], check=False)
        return len(stale)

    # -- podman --------------------------------------------------------------------------------

    def _taken(self) -> set[str]:
        """Addresses that simulated servers hold, running or not, in any live simulator."""
        taken = {m.ipv4 for m in self._machines.values() if m.ipv4}
        for c in hostctl.list_containers(GROUP):
            ip = (c.get("Labels") or {}).get(IP_LABEL)
            if ip:
                taken.add(ip)
        return taken

    def _running_addresses(self) -> set[str]:
        """Addresses held right now by any container on the network."""
        out = hostctl.run(
            ["podman", "ps", "-q", "--filter", f"network={self.network}"], check=False
        ).split()
        if not out:
            return set()
        fmt = f'{{{{(index .NetworkSettings.Networks "{self.network}").IPAddress}}}}'
        lines = hostctl.run(["podman", "inspect", "-f", fmt, *out], check=False)
        return {line.strip() for line in lines.splitlines() if line.strip()}

    def _candidates(self, prefer: str | None, avoid: set[str]):
        """Free-looking addresses, the preferred one first, then from the top of the subnet."""
        gateway = self.subnet.network_address + 1
        if prefer and prefer not in avoid:
            yield prefer
        for host in reversed(list(self.subnet.hosts())):
            if host != gateway and str(host) not in avoid and str(host) != prefer:
                yield str(host)

    def _claim(self, prefer: str | None, avoid: set[str]) -> str | None:
        """Reserve a free-looking address for a container about to start (thread-safe)."""
        with self._lock:
            for address in self._candidates(prefer, avoid | self._claimed):
                self._claimed.add(address)
                return address
        return None

    def _release(self, address: str | None) -> None:
        with self._lock:
            self._claimed.discard(address or "")

    def _run(self, container: str, key: str, hostname: str, prefer: str | None) -> str:
        """``podman run`` the container with a static address; returns the address.

        Only the choice of address is under the lock, so creations in several threads run
        their ``podman run`` at once. Another process may take an address first: podman then
        says it is allocated and the next one is tried.
        """
        avoid = self._taken()
        avoid.discard(prefer or "")
        refreshed = False
        for _attempt in range(MAX_ADDRESS_TRIES):
            address = self._claim(prefer, avoid)
            if address is None:
                break
            args = [
                "podman", "run", "-d", "--name", container, "--hostname", hostname,
                "--network", self.network, "--ip", address, "--mac-address", mac_for(address),
                "--systemd", "always",
                "--label", f"{LABEL}.group={GROUP}", "--label", f"{OWNER_LABEL}={self.owner}",
                "--label", f"{INSTANCE_LABEL}={self.instance}", "--label", f"{KEY_LABEL}={key}",
                "--label", f"{IP_LABEL}={address}",
            ]  # fmt: skip
            for cap in hostctl.CAPS:
                args += ["--cap-add", cap]
            try:
                with allocator_kept(self.network, address):
                    hostctl.run([*args, self.image, "/sbin/init"])
            except HostError as exc:
                self._release(address)
                self._remove(container)  # a failed run leaves a created container
                if not address_taken(exc):
                    raise
                avoid.add(address)
                if not refreshed:  # learn every address in use, once, then go on
                    avoid |= self._running_addresses()
                    refreshed = True
                continue
            self._forget_neighbour(address)
            return address
        raise HostError(f"no free address for {container} on {self.network} ({self.subnet})")

    def _start(self, machine: Machine, container: str) -> None:
        """Start a stopped container; if its address was taken meanwhile, move it."""
        try:
            with allocator_kept(self.network, machine.ipv4 or ""):
                hostctl.run(["podman", "start", container])
        except HostError as exc:
            if not address_taken(exc):
                raise
            self._move(machine, container)
        self._forget_neighbour(machine.ipv4)
        machine.running = True

    def _move(self, machine: Machine, container: str) -> None:
        """Start a stopped container on a new address (its own was taken while it was off)."""
        avoid = self._taken() | self._running_addresses()
        hostctl.run(["podman", "network", "disconnect", self.network, container])
        for _attempt in range(MAX_ADDRESS_TRIES):
            address = self._claim(None, avoid)
            if address is None:
                break
            hostctl.run(
                ["podman", "network", "connect", "--ip", address,
                 "--mac-address", mac_for(address), self.network, container]
            )  # fmt: skip
            try:
                with allocator_kept(self.network, address):
                    hostctl.run(["podman", "start", container])
            except HostError as exc:
                self._release(address)
                if not address_taken(exc):
                    raise
                avoid.add(address)
                hostctl.run(["podman", "network", "disconnect", self.network, container])
                continue
            self._release(machine.ipv4)
            machine.ipv4 = address
            return
        raise HostError(f"no free address to start {container} on {self.network}")

    def _install(self, container: str, ssh_keys: list[str], user_data: str | None) -> None:
        keys = "".join(k.strip() + "\n" for k in ssh_keys if k.strip())
        hostctl.install_key(container, keys)
        if user_data:
            # Kept where cloud-init keeps it, for inspection; nothing runs it.
            script = (
                "install -d /var/lib/cloud/instance && cat > /var/lib/cloud/instance/user-data.txt"
            )
            hostctl.run(
                ["podman", "exec", "-i", container, "sh", "-c", script], input_text=user_data
            )

    def _forget_neighbour(self, address: str | None) -> None:
        """Drop what the host remembers of this address's MAC (best effort).

        The fixed MACs make this rarely matter; it covers an address that a container not of
        ours (random MAC) held before.
        """
        if address and self.bridge:
            hostctl.run(["ip", "neigh", "flush", "to", address, "dev", self.bridge], check=False)

    def _remove(self, container: str) -> None:
        hostctl.run(["podman", "rm", "-f", "-t", "0", container], check=False)
