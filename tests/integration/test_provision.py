"""playbooks/provision.yml and destroy.yml against the simulated APIs (memory backend):
servers made in parallel and only once, found by the inventory plugin, removed by the
project's label or tag only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.cloudsim import record

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

PROVIDERS = {
    "hetzner": {
        "env": ("HCLOUD_ENDPOINT", "HCLOUD_TOKEN"),
        "server": "{{name: {name}, type: cx22, image: debian-12, location: fsn1}}",
        "list": ("/servers", "servers", {"per_page": 50}),
        "create": ("/servers", {"name": "not-ours", "server_type": "cx22", "image": "debian-12"}),
        "inventory": "plugin: sigma.deploy.hetzner\nlabel_selector: sigma-project=shop\n",
    },
    "digitalocean": {
        "env": ("DIGITALOCEAN_ENDPOINT", "DIGITALOCEAN_TOKEN"),
        "server": "{{name: {name}, type: s-1vcpu-1gb, image: debian-12-x64, location: fra1}}",
        "list": ("/v2/droplets", "droplets", {"per_page": 200}),
        "create": ("/v2/droplets", {"name": "not-ours", "size": "s-1vcpu-1gb",
                                    "image": "debian-12-x64", "region": "fra1"}),
        "inventory": "plugin: sigma.deploy.digitalocean\ntags: [sigma-project-shop]\n",
    },
}  # fmt: skip


class Provider:
    def __init__(self, name: str, sim, tmp_path: Path):
        self.name, self.sim, self.tmp = name, sim, tmp_path
        self.spec = PROVIDERS[name]
        key = tmp_path / "k"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        self.key_args = ["-e", f"sigma_ssh_public_key_file={key}.pub"]
        endpoint_var, token_var = self.spec["env"]
        self.env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
            endpoint_var: sim.endpoint(name),
            token_var: sim.token,
            "REQUESTS_CA_BUNDLE": sim.trust_bundle,
        }

    def servers_file(self, count: int) -> Path:
        path = self.tmp / f"servers-{count}.yml"
        lines = ["  - " + self.spec["server"].format(name=f"shop-{i}") for i in range(1, count + 1)]
        path.write_text(
            "sigma_project: shop\nsigma_wait_for_ssh: false\nsigma_servers:\n"
            + "\n".join(lines)
            + "\n"
        )
        return path

    def playbook(self, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "ansible-playbook"), f"playbooks/{name}", "-e", f"provider={self.name}",
             *extra],
            capture_output=True, text=True, env=self.env, cwd=ROOT, check=False, timeout=600,
        )  # fmt: skip

    def provision(self, count: int) -> subprocess.CompletedProcess[str]:
        return self.playbook("provision.yml", "-e", f"@{self.servers_file(count)}", *self.key_args)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        base = self.sim.endpoint(self.name)
        resp = requests.request(
            method, base + path, headers={"Authorization": f"Bearer {self.sim.token}"},
            verify=self.sim.ca_path, timeout=10, **kwargs,
        )  # fmt: skip
        resp.raise_for_status()
        return resp

    def names(self) -> list[str]:
        path, key, params = self.spec["list"]
        return sorted(s["name"] for s in self.api("GET", path, params=params).json()[key])


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request, sim, tmp_path) -> Provider:
    return Provider(request.param, sim, tmp_path)


def test_provision_is_idempotent_and_destroy_takes_only_its_own(provider):
    path, body = provider.spec["create"]
    provider.api("POST", path, json=body)  # somebody else's server: destroy must keep it
    provider.sim.faults(action_delay=1.0)
    first = provider.provision(3)
    assert first.returncode == 0, first.stdout[-3000:]
    assert provider.names() == ["not-ours", "shop-1", "shop-2", "shop-3"]

    again = provider.provision(3)
    assert again.returncode == 0, again.stdout[-3000:]
    assert "changed=0" in again.stdout.split("PLAY RECAP")[-1]
    assert len(provider.names()) == 4, "a second run must not create twins"

    inventory = provider.tmp / f"shop.{provider.name}.yml"
    inventory.write_text(provider.spec["inventory"])
    listed = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(inventory), "--list"],
        capture_output=True, text=True, env=provider.env, cwd=provider.tmp, check=True,
    )  # fmt: skip
    assert sorted(json.loads(listed.stdout)["_meta"]["hostvars"]) == ["shop-1", "shop-2", "shop-3"]

    gone = provider.playbook("destroy.yml", "-e", "sigma_project=shop")
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert provider.names() == ["not-ours"]


def test_ten_servers_are_created_in_parallel(sim, tmp_path):
    """Creation is parallel: with every create action held running, all ten creates are sent;
    only then do they finish. One server after another would send one create and wait for
    it. Proven from the simulator's record, whatever the machine's load (`make bench` reports
    the time ten take against one)."""
    hetzner = Provider("hetzner", sim, tmp_path)
    sim.faults(hold_command="create_server")
    start = record.mark(sim.record)
    run = subprocess.Popen(
        [str(BIN / "ansible-playbook"), "playbooks/provision.yml", "-e", "provider=hetzner",
         "-e", f"@{hetzner.servers_file(10)}", *hetzner.key_args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=hetzner.env, cwd=ROOT,
    )  # fmt: skip
    try:
        sent = _wait_for_creates(sim.record, start, 10, run)
        sim.faults(hold_command="")
        output = run.communicate(timeout=600)[0]
    finally:
        run.kill()
    assert sent == 10, output[-3000:]
    assert run.returncode == 0, output[-3000:]
    assert len(hetzner.names()) == 10
    events = record.hetzner_server_creations(record.exchanges(sim.record, start))
    assert [event[0] for event in events] == ["sent"] * 10 + ["done"] * 10, events
    assert sorted(name for kind, name in events if kind == "done") == sorted(
        f"shop-{i}" for i in range(1, 11)
    )


def _wait_for_creates(path: Path, start: int, count: int, run: subprocess.Popen) -> int:
    """How many creates the record shows once it shows ``count`` of them, or once the run
    ended or ten minutes passed without it (a run that creates one server after another stops
    at one: its first action never finishes while actions are held)."""
    deadline = time.monotonic() + 600
    while True:
        events = record.hetzner_server_creations(record.exchanges(path, start))
        sent = sum(event[0] == "sent" for event in events)
        if sent >= count or run.poll() is not None or time.monotonic() > deadline:
            return sent
        time.sleep(0.2)


def test_a_run_that_failed_half_way_completes_on_the_next_without_duplicates(provider):
    provider.sim.faults(action_error_next=1)  # the first create action ends in error
    first = provider.provision(3)
    assert first.returncode != 0, "the failed action must fail the run"
    assert "error" in first.stdout.lower()
    second = provider.provision(3)
    assert second.returncode == 0, second.stdout[-3000:]
    assert provider.names() == ["shop-1", "shop-2", "shop-3"]
