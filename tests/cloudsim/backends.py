"""Where simulated servers live. ``memory``: nowhere, addresses from a benchmark range;
``podman``: real systemd test hosts on the project network (see ``podman_backend.py``).

A backend gives each server its addresses and carries out power changes. The vendors keep
the API-visible state (status, names, labels) themselves.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Machine:
    """What a backend knows of one server."""

    key: str  # unique, e.g. "hetzner-1000"
    name: str
    ipv4: str | None
    ipv6: str | None  # the first address of the server's /64
    private_ipv4: str | None = None
    running: bool = True
    ssh_keys: list[str] = field(default_factory=list)


class Backend(Protocol):
    def create(
        self, key: str, name: str, ssh_keys: list[str], user_data: str | None
    ) -> Machine: ...
    def power(self, machine: Machine, on: bool) -> None: ...
    def reboot(self, machine: Machine) -> None: ...
    def rebuild(self, machine: Machine, ssh_keys: list[str]) -> None: ...
    def delete(self, machine: Machine) -> None: ...


# 198.18.0.0/15 is set aside for benchmarks (RFC 2544): never a real host, and no test sends
# traffic to a memory-backend server.
_IPV4_POOL = ipaddress.ip_network("198.18.0.0/15")
_IPV6_BASE = ipaddress.ip_network("2001:db8::/32")  # documentation prefix
_PRIVATE_POOL = ipaddress.ip_network("10.0.0.0/16")


class MemoryBackend:
    """Servers that exist only as data: instant, and good for thousands of them."""

    def __init__(self) -> None:
        self._count = 0

    def create(self, key: str, name: str, ssh_keys: list[str], user_data: str | None) -> Machine:
        self._count += 1
        n = self._count
        ipv6 = ipaddress.IPv6Address(int(_IPV6_BASE.network_address) + (n << 64) + 1)
        return Machine(
            key=key,
            name=name,
            ipv4=str(_IPV4_POOL.network_address + n),
            ipv6=str(ipv6),
            private_ipv4=str(_PRIVATE_POOL.network_address + 1 + n),
            ssh_keys=list(ssh_keys),
        )

    def power(self, machine: Machine, on: bool) -> None:
        machine.running = on

    def reboot(self, machine: Machine) -> None:
        machine.running = True

    def rebuild(self, machine: Machine, ssh_keys: list[str]) -> None:
        machine.ssh_keys = list(ssh_keys)
        machine.running = True

    def delete(self, machine: Machine) -> None:
        machine.running = False
