"""Fixtures shared by every test folder: the cloud API simulator."""

from __future__ import annotations

import dataclasses
import json
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.cloudsim import contract  # noqa: E402
from tests.cloudsim.app import Settings, start  # noqa: E402
from tests.cloudsim.core import Faults  # noqa: E402


@dataclass
class CloudSim:
    """A running simulator (HTTPS, its own CA) and the ways to steer it."""

    url: str
    token: str
    ca_path: str
    sim: object
    record: Path

    @property
    def trust_bundle(self) -> str:
        """What a client environment's REQUESTS_CA_BUNDLE names: the trust store plus our CA."""
        from tests.cloudsim.tls import trust_bundle_path

        return trust_bundle_path(self.ca_path)

    def endpoint(self, vendor: str) -> str:
        prefix = {
            "hetzner": "/hetzner/v1",
            "digitalocean": "/digitalocean",
            "fly": "/fly/v1",
            "fly-prometheus": "/fly/prometheus",
        }[vendor]
        return self.url + prefix

    @property
    def aws_url(self) -> str:
        """Where the AWS APIs answer (``AWS_ENDPOINT_URL``)."""
        return next(v.url for v in self.sim.vendors if v.name == "aws")

    def aws(self, service: str, region: str = "us-east-1"):
        """A boto3 client of the local AWS, as a user's environment would make it."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.aws_url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            verify=self.ca_path,
        )

    def admin(self, path: str, data: dict | None = None) -> dict:
        import ssl

        ctx = ssl.create_default_context(cafile=self.ca_path)
        body = json.dumps(data).encode() if data is not None else None
        req = urllib.request.Request(
            self.url + "/_admin/" + path, data=body, method="POST" if body is not None else "GET"
        )
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return json.loads(resp.read())

    def reset(self) -> None:
        """Forget every resource and clear every fault."""
        self.admin("faults", dataclasses.asdict(Faults()))
        self.admin("reset", {})

    def faults(self, **settings) -> dict:
        return self.admin("faults", settings)


@pytest.fixture(scope="session")
def cloudsim(tmp_path_factory) -> CloudSim:
    """One HTTPS simulator for the whole session (memory backend).

    Every exchange is recorded; at the end of the session each is checked against the vendor
    spec, and any mismatch fails the session, as do missing specs.
    """
    tmp = tmp_path_factory.mktemp("cloudsim")
    settings = Settings(
        port=0, tls=True, ca_path=str(tmp / "ca.pem"), record=str(tmp / "exchanges.jsonl")
    )
    server, sim, url = start(settings)
    handle = CloudSim(url, settings.token, settings.ca_path, sim, Path(settings.record))
    yield handle
    server.shutdown()
    sim.close()
    missing = contract.missing_reason()
    if missing is not None:
        pytest.fail(f"cannot check the simulator's exchanges: {missing}", pytrace=False)
    count, problems = contract.check_file(handle.record)
    if problems:
        shown = "\n".join(problems[:30])
        pytest.fail(
            f"{len(problems)} of {count} simulator exchanges do not match the vendor "
            f"specs:\n{shown}",
            pytrace=False,
        )


@pytest.fixture
def sim(cloudsim) -> CloudSim:
    """The session simulator, emptied and without faults for this test."""
    cloudsim.reset()
    return cloudsim
