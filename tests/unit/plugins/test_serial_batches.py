"""The rolling deploy's batches: the same sizes as a play's `serial`."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.filter.serial_batches import serial_batches

HOSTS = ["h1", "h2", "h3", "h4", "h5", "h6"]


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (None, [HOSTS]),
        ([], [HOSTS]),
        (1, [["h1"], ["h2"], ["h3"], ["h4"], ["h5"], ["h6"]]),
        ([1, "50%", "100%"], [["h1"], ["h2", "h3", "h4"], ["h5", "h6"]]),
        (["10%"], [["h1"], ["h2"], ["h3"], ["h4"], ["h5"], ["h6"]]),
        ([2, "100%"], [["h1", "h2"], ["h3", "h4", "h5", "h6"]]),
        (["3"], [["h1", "h2", "h3"], ["h4", "h5", "h6"]]),
        ([10], [HOSTS]),
    ],
)
def test_batches_follow_serial(serial, expected):
    assert serial_batches(HOSTS, serial) == expected


def test_no_hosts_no_batches():
    assert serial_batches([], [1, "50%"]) == []


@pytest.mark.parametrize("bad", [0, -1, "0%", "150%", "half", True, [1, "x%"], 1.5])
def test_bad_serial_is_refused_by_name(bad):
    with pytest.raises(AnsibleFilterError, match="serial"):
        serial_batches(HOSTS, bad)
