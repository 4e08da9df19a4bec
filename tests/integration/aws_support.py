"""The local AWS of the integration tests: the simulator with real ECS tasks and RDS databases
(podman runtime), the app's image in the local registry under its ECR name, and PostgreSQL's
image for RDS (``CLOUDSIM_RDS_IMAGE``).

``aws_world`` (a session fixture in ``conftest.py``, from :func:`start_aws_world`) gives an
:class:`AwsWorld`; the simulator's close removes the tasks' containers.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.cloudsim.aws import vendor_of
from tests.integration.sim_support import start_podman_simulator

ACCOUNT_ID = "123456789012"
ECR = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"


@dataclass
class AwsWorld:
    sim: Any  # the simulator (its "aws" vendor has the ECS engine)
    url: str  # AWS_ENDPOINT_URL
    ca_path: str
    image: str  # the app's image, by its ECR name

    @property
    def env(self) -> dict[str, str]:
        """What a user's environment holds for the local AWS (tools/cloudsim.sh env)."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_CA_BUNDLE": self.ca_path,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }

    def engine(self, name: str):
        return vendor_of(self.sim).engine(name)

    def admin(self, path: str) -> dict:
        """An ``/_admin/aws/...`` answer of the simulator (``albs``, ``albs/stats``, ``rds``)."""
        from tests.cloudsim.core import Response

        answer = vendor_of(self.sim).admin("GET", f"/_admin/aws/{path}", None)
        assert isinstance(answer, Response), path
        return answer.body

    def client(self, service: str):
        import boto3

        return boto3.client(
            service, endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing", verify=self.ca_path,
        )  # fmt: skip

    @property
    def ecs_engine(self):
        return vendor_of(self.sim).engine("ecs")

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


def start_aws_world(tmp: Path) -> tuple[Any, AwsWorld]:
    """(the simulator's server, the world): the caller shuts both down."""
    server, sim, _url, settings, images = start_podman_simulator(tmp)
    os.environ["CLOUDSIM_RDS_IMAGE"] = images["postgres_image"]
    return server, AwsWorld(sim, vendor_of(sim).url, settings.ca_path, ecr_name(images["image"]))
