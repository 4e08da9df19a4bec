# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ip_networks: addresses and networks as networks (10.0.0.5 -> 10.0.0.5/32), on the controller."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError


def _network(entry: object) -> str | None:
    try:
        return str(ipaddress.ip_network(str(entry).strip(), strict=False))
    except ValueError:
        return None


def ip_networks(entries: list, invalid: bool = False) -> list[str]:
    """Each entry as a network; with invalid=True, the entries that are not one instead."""
    if not isinstance(entries, list):
        raise AnsibleFilterError(f"ip_networks: expected a list, got {type(entries).__name__}")
    if invalid:
        return [str(entry) for entry in entries if _network(entry) is None]
    bad = [str(entry) for entry in entries if _network(entry) is None]
    if bad:
        listed = ", ".join(repr(entry) for entry in bad)
        raise AnsibleFilterError(f"ip_networks: not an address or network: {listed}")
    return [_network(entry) for entry in entries]


class FilterModule:
    def filters(self) -> dict:
        return {"ip_networks": ip_networks}
