"""DigitalOcean's own Python client, pydo, against the simulator: what it sees must match.

pydo talks HTTPS only when given a token, so it reaches the simulator over TLS with the
simulator's CA (``connection_verify``), at ``endpoint`` = ``.../digitalocean`` (pydo appends
``/v2/...`` like it does to https://api.digitalocean.com).
"""

from __future__ import annotations

import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

pydo = pytest.importorskip("pydo")
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError  # noqa: E402


@pytest.fixture
def client(sim):
    return pydo.Client(
        token=sim.token, endpoint=sim.endpoint("digitalocean"), connection_verify=sim.ca_path
    )


def raw(sim, path: str) -> dict:
    """The same resource read with plain requests, to compare with what pydo returns."""
    response = requests.get(
        sim.endpoint("digitalocean") + "/v2" + path,
        headers={"Authorization": f"Bearer {sim.token}"},
        verify=sim.ca_path,
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def wait_for(client, action_id: int, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        action = client.actions.get(action_id=action_id)["action"]
        if action["status"] != "in-progress":
            return action
        assert time.monotonic() < deadline, f"action {action_id} still in progress"
        time.sleep(0.05)


def new_public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " pydo@sigma"


def test_pydo_droplet_lifecycle(sim, client):
    sim.faults(action_delay=0.3)

    key = client.ssh_keys.create(body={"name": "pydo-key", "public_key": new_public_key()})
    key = key["ssh_key"]
    assert client.ssh_keys.get(ssh_key_identifier=key["fingerprint"])["ssh_key"] == key

    created = client.droplets.create(
        body={
            "name": "pydo-1",
            "region": "fra1",
            "size": "s-1vcpu-1gb",
            "image": "debian-12-x64",
            "ssh_keys": [key["fingerprint"]],
            "tags": ["pydo"],
        }
    )
    droplet = created["droplet"]
    assert droplet["status"] == "new"
    create_action = created["links"]["actions"][0]
    assert client.actions.get(action_id=create_action["id"])["action"]["status"] == "in-progress"
    assert wait_for(client, create_action["id"])["status"] == "completed"

    listed = client.droplets.list(tag_name="pydo")
    assert listed["meta"]["total"] == 1
    (seen,) = listed["droplets"]
    assert seen["id"] == droplet["id"]
    assert seen["status"] == "active"
    assert seen["networks"]["v4"]
    assert seen == raw(sim, f"/droplets/{droplet['id']}")["droplet"]

    # tag it
    client.tags.create(body={"name": "pydo-extra"})
    client.tags.assign_resources(
        tag_id="pydo-extra",
        body={"resources": [{"resource_id": str(droplet["id"]), "resource_type": "droplet"}]},
    )
    assert client.droplets.get(droplet_id=droplet["id"])["droplet"]["tags"] == [
        "pydo",
        "pydo-extra",
    ]
    assert client.droplets.list(tag_name="pydo-extra")["meta"]["total"] == 1
    tag = client.tags.get(tag_id="pydo-extra")["tag"]
    assert tag["resources"]["droplets"]["count"] == 1

    # power-cycle: off, then on, polling each action
    off = client.droplet_actions.post(droplet_id=droplet["id"], body={"type": "power_off"})
    assert off["action"]["status"] == "in-progress"
    assert wait_for(client, off["action"]["id"])["status"] == "completed"
    assert client.droplets.get(droplet_id=droplet["id"])["droplet"]["status"] == "off"
    on = client.droplet_actions.post(droplet_id=droplet["id"], body={"type": "power_on"})
    assert wait_for(client, on["action"]["id"])["status"] == "completed"
    assert client.droplets.get(droplet_id=droplet["id"])["droplet"]["status"] == "active"

    actions = client.droplet_actions.list(droplet_id=droplet["id"])
    assert [a["type"] for a in actions["actions"]] == ["power_on", "power_off", "create"]
    assert all(a["status"] == "completed" for a in actions["actions"])
    assert actions == raw(sim, f"/droplets/{droplet['id']}/actions")
    one = client.droplet_actions.get(droplet_id=droplet["id"], action_id=off["action"]["id"])
    assert one["action"]["type"] == "power_off"
    assert one["action"]["resource_id"] == droplet["id"]

    # delete
    client.droplets.destroy(droplet_id=droplet["id"])
    assert client.droplets.list(tag_name="pydo")["meta"]["total"] == 0
    gone = client.droplets.get(droplet_id=droplet["id"])  # pydo returns documented 404 bodies
    assert gone["id"] == "not_found"
    client.ssh_keys.delete(ssh_key_identifier=key["id"])
    assert client.ssh_keys.list()["ssh_keys"] == []


def test_pydo_sees_catalogues(client):
    regions = {r["slug"] for r in client.regions.list()["regions"]}
    assert {"fra1", "ams3", "nyc3", "sfo3", "lon1", "sgp1"} <= regions
    assert "s-1vcpu-1gb" in {s["slug"] for s in client.sizes.list(per_page=200)["sizes"]}
    images = client.images.list(type="distribution", per_page=200)["images"]
    assert "debian-12-x64" in {i["slug"] for i in images}


def test_pydo_errors(sim, client):
    with pytest.raises(HttpResponseError) as invalid:
        client.droplets.create(
            body={"name": "x", "region": "fra1", "size": "nope", "image": "debian-12-x64"}
        )
    assert invalid.value.status_code == 422
    assert "size" in invalid.value.message

    stranger = pydo.Client(
        token="wrong", endpoint=sim.endpoint("digitalocean"), connection_verify=sim.ca_path
    )
    with pytest.raises(ClientAuthenticationError) as denied:
        stranger.droplets.list()
    assert denied.value.status_code == 401
    assert "Unable to authenticate you" in denied.value.message


def test_pydo_errored_action(sim, client):
    created = client.droplets.create(
        body={"name": "err-1", "region": "ams3", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}
    )
    droplet_id = created["droplet"]["id"]
    sim.faults(action_error_next=1)
    action = client.droplet_actions.post(droplet_id=droplet_id, body={"type": "reboot"})
    assert wait_for(client, action["action"]["id"])["status"] == "errored"
    listed = client.actions.list()["actions"]
    assert listed[0]["id"] == action["action"]["id"]
    assert listed[0]["status"] == "errored"
