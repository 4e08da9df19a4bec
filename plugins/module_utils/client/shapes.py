# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure functions that every provider's shapes share: SSH key fingerprints, address blocks in
canonical form, and set plans."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress


def ssh_key_fingerprint(public_key):
    """The MD5 fingerprint the providers show (``aa:bb:...``), or None for text that is no key."""
    parts = (public_key or "").split()
    if len(parts) < 2:
        return None
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        digest = hashlib.md5(raw, usedforsecurity=False).hexdigest()
    except TypeError:  # Python < 3.9
        digest = hashlib.md5(raw).hexdigest()  # nosec - a fingerprint, not security
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def normalize_cidr(text):
    """An address or block in canonical form (``1.2.3.4`` -> ``1.2.3.4/32``, IPv6 compressed)."""
    text = str(text).strip()
    try:
        return str(ipaddress.ip_network(text))
    except ValueError:
        pass
    try:
        return str(ipaddress.ip_interface(text))
    except ValueError:
        return text


def plan_set(current, desired):
    """(to add, to remove) to turn the set ``current`` into ``desired``, both sorted."""
    current, desired = set(current), set(desired)
    return sorted(desired - current, key=str), sorted(current - desired, key=str)
