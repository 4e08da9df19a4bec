"""The testinfra `host` fixture of every scenario, reached with `podman exec`.

testinfra has no mapping for Ansible's podman connection and would otherwise run an Ansible
module for every command (seconds each); `podman exec` takes a fraction of that.
"""

from __future__ import annotations

import pytest
import testinfra

PODMAN_CONNECTIONS = ("podman", "containers.podman.podman")


@pytest.fixture(scope="module")
def host(_testinfra_host):
    """The molecule instance, through `podman exec` when molecule connects that way."""
    backend = _testinfra_host.backend
    if (
        getattr(backend, "NAME", "") == "ansible"
        and backend.get_variables().get("ansible_connection") in PODMAN_CONNECTIONS
    ):
        return testinfra.get_host(f"podman://{backend.host}")
    return _testinfra_host
