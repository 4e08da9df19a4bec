"""Fixtures for the integration tests: the local test hosts of the application stack.

One stack for the session: it-1 is the load balancer and the database, it-2..4 run the app.
site.yml converges it once; test_site.py checks it, then test_site_deploy.py deploys to it
(pytest runs the files in that order).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.aws_support import AwsWorld, start_aws_world
from tests.integration.fly_support import FlyWorld, start_world
from tests.integration.support import Group, hostctl, site, start_group


@pytest.fixture(scope="session")
def stack_hosts(tmp_path_factory) -> Iterator[Group]:
    inventory = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    group = start_group("it", 4, inventory)
    try:
        yield group
    finally:
        hostctl("down", "--group", "it")


@pytest.fixture(scope="session")
def converged(stack_hosts):
    """The stack after a first site.yml run, and that run."""
    first = site(stack_hosts)
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-2000:]
    return stack_hosts, first


@pytest.fixture(scope="session")
def aws_world(tmp_path_factory) -> Iterator[AwsWorld]:
    """The local AWS with real ECS tasks and RDS databases, its registry holding the app's
    images, for the session (tests/integration/aws_support.py)."""
    server, world = start_aws_world(tmp_path_factory.mktemp("aws"))
    try:
        yield world
    finally:
        server.shutdown()
        world.sim.close()


@pytest.fixture(scope="session")
def fly_world(tmp_path_factory) -> Iterator[FlyWorld]:
    """The local Fly with real machines, its registry holding the app's images, for the
    session (tests/integration/fly_support.py)."""
    server, world = start_world(tmp_path_factory.mktemp("fly"))
    try:
        yield world
    finally:
        server.shutdown()
        world.sim.close()
