"""Hetzner's own Python client (hcloud-python) against the simulator: what it sees matches.

Resources are referenced by name (``ServerType(name=...)``, ``SSHKey(name=...)``): hcloud sends
ids as JSON integers where the vendor's OpenAPI file says ``string`` (its prose says "ID or
name"), and every request here is also checked against that file at the end of the session.
"""

from __future__ import annotations

import base64
import os
import struct

import pytest

hcloud = pytest.importorskip("hcloud")

from hcloud import APIException  # noqa: E402
from hcloud.actions import ActionFailedException  # noqa: E402
from hcloud.firewalls import FirewallResource, FirewallRule  # noqa: E402
from hcloud.firewalls.domain import FirewallResourceLabelSelector  # noqa: E402
from hcloud.images import Image  # noqa: E402
from hcloud.load_balancer_types import LoadBalancerType  # noqa: E402
from hcloud.load_balancers import (  # noqa: E402
    LoadBalancerHealthCheck,
    LoadBalancerService,
    LoadBalancerTarget,
    LoadBalancerTargetLabelSelector,
)
from hcloud.locations import Location  # noqa: E402
from hcloud.server_types import ServerType  # noqa: E402
from hcloud.ssh_keys import SSHKey  # noqa: E402


def public_key() -> str:
    blob = b"\x00\x00\x00\x0bssh-ed25519" + struct.pack(">I", 32) + os.urandom(32)
    return "ssh-ed25519 " + base64.b64encode(blob).decode() + " fidelity@sim"


@pytest.fixture
def client(sim, monkeypatch):
    # hcloud uses requests, which takes its CA bundle from the environment.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.trust_bundle)
    return hcloud.Client(token=sim.token, api_endpoint=sim.endpoint("hetzner"), poll_interval=0.05)


def create_server(client, name: str, labels: dict, key: str | None = None):
    response = client.servers.create(
        name=name,
        server_type=ServerType(name="cx22"),
        image=Image(name="debian-12"),
        location=Location(name="nbg1"),
        ssh_keys=[SSHKey(name=key)] if key else None,
        labels=labels,
    )
    response.action.wait_until_finished()
    for action in response.next_actions:
        action.wait_until_finished()
    return response


def test_create_list_and_label_through_hcloud(client):
    key = client.ssh_keys.create(name="fid-key", public_key=public_key(), labels={"a": "b"})
    assert key.fingerprint.count(":") == 15
    assert client.ssh_keys.get_by_name("fid-key").id == key.id
    assert client.ssh_keys.get_by_fingerprint(key.fingerprint).name == "fid-key"

    response = create_server(client, "fid-1", {"app": "fid", "env": "test"}, key="fid-key")
    assert response.root_password is None
    assert response.action.command == "create_server"
    assert response.action.status == "success"
    assert [a.command for a in response.next_actions] == ["start_server"]
    create_server(client, "fid-2", {"app": "other"})

    server = client.servers.get_by_id(response.server.id)
    assert server.status == "running"
    assert server.name == "fid-1"
    assert server.server_type.name == "cx22"
    assert server.location.name == "nbg1"
    assert server.image.name == "debian-12"
    assert server.public_net.ipv4.ip
    assert server.public_net.ipv6.network.endswith("::")
    assert server.labels == {"app": "fid", "env": "test"}

    assert [s.name for s in client.servers.get_all(label_selector="app=fid")] == ["fid-1"]
    assert {s.name for s in client.servers.get_all(label_selector="app")} == {"fid-1", "fid-2"}
    assert client.servers.get_by_name("fid-2").labels == {"app": "other"}

    server.update(labels={"app": "fid", "env": "prod"})
    assert client.servers.get_by_id(server.id).labels == {"app": "fid", "env": "prod"}
    assert [s.name for s in client.servers.get_all(label_selector="env=prod")] == ["fid-1"]
    key.delete()
    assert client.ssh_keys.get_all() == []


def test_power_cycle_actions_and_delete_through_hcloud(client, sim):
    server = client.servers.get_by_id(create_server(client, "cycle-1", {}).server.id)
    sim.faults(action_delay=0.3)
    off = server.power_off()
    assert off.status == "running"
    off.wait_until_finished()
    assert off.status == "success"
    server.reload()
    assert server.status == "off"
    assert [s.name for s in client.servers.get_all(status=["off"])] == ["cycle-1"]
    on = server.power_on()
    on.wait_until_finished()
    server.reload()
    assert server.status == "running"
    sim.faults(action_delay=0)

    commands = [a.command for a in server.get_actions(sort=["id"])]
    assert commands == ["create_server", "start_server", "stop_server", "start_server"]
    assert client.actions.get_by_id(off.id).command == "stop_server"
    assert client.servers.actions.get_by_id(on.id).status == "success"

    sim.faults(action_error_next=1)
    failing = server.reboot()
    with pytest.raises(ActionFailedException):
        failing.wait_until_finished()
    assert failing.status == "error"
    assert failing.error["code"] == "action_failed"

    server.delete().wait_until_finished()
    with pytest.raises(APIException) as raised:
        client.servers.get_by_id(server.id)
    assert raised.value.code == "not_found"
    assert client.servers.get_all() == []


def test_catalogues_through_hcloud(client):
    assert client.server_types.get_by_name("cx22").cores == 2
    image = client.images.get_by_name_and_architecture("debian-12", "arm")
    assert (image.name, image.architecture) == ("debian-12", "arm")
    assert {loc.name for loc in client.locations.get_all()} >= {"fsn1", "nbg1", "hel1", "ash"}
    assert client.load_balancer_types.get_by_name("lb11").max_targets == 25


def test_errors_through_hcloud(client, sim):
    create_server(client, "dup-1", {})
    with pytest.raises(APIException) as raised:
        client.servers.create(
            name="dup-1", server_type=ServerType(name="cx22"), image=Image(name="debian-12")
        )
    assert raised.value.code == "uniqueness_error"
    with pytest.raises(APIException) as raised:
        client.servers.create(
            name="x-1", server_type=ServerType(name="nope"), image=Image(name="debian-12")
        )
    assert raised.value.code == "invalid_input"
    assert raised.value.details["fields"][0]["name"] == "server_type"

    bad = hcloud.Client(token="wrong", api_endpoint=sim.endpoint("hetzner"))
    with pytest.raises(APIException) as raised:
        bad.servers.get_all()
    assert raised.value.code == "unauthorized"

    # hcloud retries rate_limit_exceeded by itself.
    sim.faults(rate_limit_next=1)
    assert [s.name for s in client.servers.get_all()] == ["dup-1"]


def test_firewall_and_load_balancer_through_hcloud(client):
    create_server(client, "edge-1", {"role": "web"})
    rule = FirewallRule(direction="in", protocol="tcp", port="443", source_ips=["0.0.0.0/0"])
    selector = FirewallResource(
        type="label_selector", label_selector=FirewallResourceLabelSelector("role=web")
    )
    created = client.firewalls.create(name="fid-fw", rules=[rule], resources=[selector])
    for action in created.actions:
        action.wait_until_finished()
    firewall = client.firewalls.get_by_name("fid-fw")
    assert firewall.rules[0].port == "443"
    assert firewall.applied_to[0].label_selector.selector == "role=web"
    server = client.servers.get_by_name("edge-1")
    assert [(f.firewall.id, f.status) for f in server.public_net.firewalls] == [
        (firewall.id, "applied")
    ]

    service = LoadBalancerService(
        protocol="tcp",
        listen_port=443,
        destination_port=443,
        proxyprotocol=False,
        health_check=LoadBalancerHealthCheck(
            protocol="tcp", port=443, interval=15, timeout=10, retries=3
        ),
    )
    target = LoadBalancerTarget(
        type="label_selector", label_selector=LoadBalancerTargetLabelSelector("role=web")
    )
    response = client.load_balancers.create(
        name="fid-lb",
        load_balancer_type=LoadBalancerType(name="lb11"),
        location=Location(name="nbg1"),
        services=[service],
        targets=[target],
    )
    response.action.wait_until_finished()
    lb = client.load_balancers.get_by_name("fid-lb")
    assert lb.public_net.ipv4.ip
    assert lb.services[0].listen_port == 443
    resolved = lb.targets[0].targets
    assert [t.server.id for t in resolved] == [server.id]
    assert resolved[0].health_status[0].status == "healthy"
    # hcloud 2.27's lb.delete() expects an action in the answer; the vendor's OpenAPI file (and
    # so the simulator) answers 204 without a body. The client's generic request takes that.
    assert client.request("DELETE", f"/load_balancers/{lb.id}") == {}
    assert client.load_balancers.get_all() == []
    firewall.remove_from_resources([selector])[0].wait_until_finished()
    firewall.delete()
    assert client.firewalls.get_all() == []
