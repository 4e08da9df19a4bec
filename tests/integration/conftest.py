"""Fixtures for the integration tests: groups of local test hosts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.support import Group, hostctl, start_group


@pytest.fixture(scope="module")
def three_hosts(tmp_path_factory) -> Iterator[Group]:
    inventory = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    group = start_group("it", 3, inventory)
    try:
        yield group
    finally:
        hostctl("down", "--group", "it")
