"""The rolling deploy's batches: the same sizes as a play's `serial`."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.utils.helpers import pct_to_int

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


def test_a_percentage_rounds_down_with_at_least_one_host():
    seven = [f"h{n}" for n in range(1, 8)]
    # 30% of 7 is 2.1 hosts: batches of 2, like a play's serial: "30%" (not 3).
    assert serial_batches(seven, "30%") == [["h1", "h2"], ["h3", "h4"], ["h5", "h6"], ["h7"]]
    # 10% of 7 is 0.7 hosts: one at a time.
    assert serial_batches(seven, ["10%", "50%"]) == [["h1"], ["h2", "h3", "h4"], ["h5", "h6", "h7"]]


def ansible_batch_sizes(total: int, serial: list) -> list[int]:
    """The batch sizes of a play with this serial on `total` hosts: ansible-core's
    PlaybookExecutor._get_serialized_batches, with its own pct_to_int."""
    sizes, left, index = [], total, 0
    while left > 0:
        size = min(pct_to_int(serial[min(index, len(serial) - 1)], total), left)
        sizes.append(size)
        left -= size
        index += 1
    return sizes


@pytest.mark.parametrize("serial", [["30%"], ["33%"], ["1", "25%"], ["10%", "50%", "100%"]])
def test_batch_sizes_are_those_of_a_play(serial):
    for total in range(1, 16):
        hosts = [f"h{n}" for n in range(total)]
        got = [len(batch) for batch in serial_batches(hosts, serial)]
        assert (total, got) == (total, ansible_batch_sizes(total, serial))


def test_no_hosts_no_batches():
    assert serial_batches([], [1, "50%"]) == []


@pytest.mark.parametrize("bad", [0, -1, "0%", "150%", "half", True, [1, "x%"], 1.5])
def test_bad_serial_is_refused_by_name(bad):
    with pytest.raises(AnsibleFilterError, match="serial"):
        serial_batches(HOSTS, bad)
