# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""serial_batches: split hosts into deploy batches the way a play's `serial` does."""

from __future__ import annotations

import math

from ansible.errors import AnsibleFilterError


def batch_size(item: object, total: int) -> int:
    """One `serial` entry (a count, or a percentage such as "50%") as a number of hosts (>= 1)."""
    if isinstance(item, bool):
        raise AnsibleFilterError(f"serial: {item!r} is not a number of hosts or a percentage")
    if isinstance(item, int):
        size = item
    elif isinstance(item, str) and item.strip().endswith("%"):
        try:
            percent = float(item.strip()[:-1])
        except ValueError:
            raise AnsibleFilterError(
                f"serial: {item!r} is not a percentage such as '50%'"
            ) from None
        if not 0 < percent <= 100:
            raise AnsibleFilterError(f"serial: {item!r} must be above 0% and at most 100%")
        size = math.floor(percent / 100 * total)
    elif isinstance(item, str) and item.strip().isdigit():
        size = int(item)
    else:
        raise AnsibleFilterError(f"serial: {item!r} is not a number of hosts or a percentage")
    if isinstance(item, int) and size < 1:
        raise AnsibleFilterError(f"serial: {item!r} must be at least 1")
    return max(size, 1)


def serial_batches(hosts: list, serial: object = None) -> list[list]:
    """Hosts in batches: each entry of `serial` sizes the next batch, the last one repeats.

    An empty or missing `serial` makes one batch of every host.
    """
    hosts = list(hosts)
    if serial is None or serial in ([], ""):
        return [hosts] if hosts else []
    sizes = serial if isinstance(serial, list) else [serial]
    batches, position, index = [], 0, 0
    while position < len(hosts):
        size = batch_size(sizes[min(index, len(sizes) - 1)], len(hosts))
        batches.append(hosts[position : position + size])
        position += size
        index += 1
    return batches


class FilterModule:
    def filters(self) -> dict:
        return {"serial_batches": serial_batches}
