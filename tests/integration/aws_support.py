"""The local AWS of the integration tests: the simulator with real ECS tasks (podman runtime)
and the app's image in the local registry under its ECR name.

``aws_world`` (a session fixture, made available by ``conftest.py``) gives an
:class:`AwsWorld`; the simulator's close removes the tasks' containers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.sim_support import start_podman_simulator

ACCOUNT_ID = "123456789012"
ECR = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"


@dataclass
class AwsWorld:
    sim: Any  # the simulator (its "aws" vendor has the ECS engine)
    url: str  # AWS_ENDPOINT_URL
    ca_path: str
    image: str  # the app's image, by its ECR name

    def client(self, service: str):
        import boto3

        return boto3.client(
            service, endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing", verify=self.ca_path,
        )  # fmt: skip

    @property
    def ecs_engine(self):
        return next(v for v in self.sim.vendors if v.name == "aws").engine("ecs")

    def wait(self, what: str, probe, timeout: float = 300.0):
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
            time.sleep(1.0)


def ecr_name(image: str) -> str:
    """``registry.fly.io/notes:<tag>`` (what tools/app_image.py prints) by its ECR name."""
    return f"{ECR}/{image.split('/', 1)[1]}"


@pytest.fixture(scope="session")
def aws_world(tmp_path_factory) -> Iterator[AwsWorld]:
    server, sim, _url, settings, images = start_podman_simulator(
        tmp_path_factory.mktemp("aws"), postgres=False
    )
    aws = next(v for v in sim.vendors if v.name == "aws")
    try:
        yield AwsWorld(sim, aws.url, settings.ca_path, ecr_name(images["image"]))
    finally:
        server.shutdown()
        sim.close()
