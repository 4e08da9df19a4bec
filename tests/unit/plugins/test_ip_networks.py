"""The ip_networks filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.filter.ip_networks import ip_networks


def test_addresses_and_networks_become_networks_in_normal_form():
    assert ip_networks(["10.0.0.5", "10.0.0.9/24", " fd00::1 ", "fd00::/64"]) == [
        "10.0.0.5/32",
        "10.0.0.0/24",
        "fd00::1/128",
        "fd00::/64",
    ]
    assert ip_networks([]) == []


def test_entries_that_are_not_networks_fail_naming_them_or_are_listed():
    entries = ["10.0.0.5", "db.example", "10.0.0.0/33", ""]
    with pytest.raises(
        AnsibleFilterError, match=r"not an address or network: 'db.example', '10.0.0.0/33', ''$"
    ):
        ip_networks(entries)
    assert ip_networks(entries, invalid=True) == ["db.example", "10.0.0.0/33", ""]
    with pytest.raises(AnsibleFilterError, match="expected a list, got str"):
        ip_networks("10.0.0.5")
