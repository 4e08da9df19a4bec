"""playbooks/provision.yml and destroy.yml against the simulated Hetzner API (memory backend):
servers made in parallel and only once, found by the inventory plugin, removed by label only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVERS = """
sigma_project: shop
sigma_wait_for_ssh: false
sigma_servers:
"""


def servers_file(tmp_path: Path, count: int) -> Path:
    lines = [
        f"  - {{name: shop-{i}, type: cx22, image: debian-12, location: fsn1, "
        f"labels: {{role: web}}}}"
        for i in range(1, count + 1)
    ]
    path = tmp_path / f"servers-{count}.yml"
    path.write_text(SERVERS + "\n".join(lines) + "\n")
    return path


@pytest.fixture
def env(sim, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")],
                   check=True)  # fmt: skip
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
        "HCLOUD_TOKEN": sim.token,
        "HCLOUD_ENDPOINT": sim.endpoint("hetzner"),
        "REQUESTS_CA_BUNDLE": sim.ca_path,
    }


def playbook(env, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ansible-playbook"), f"playbooks/{name}", "-e", "provider=hetzner", *extra],
        capture_output=True, text=True, env=env, cwd=ROOT, check=False, timeout=600,
    )  # fmt: skip


def api_servers(sim) -> list[dict]:
    resp = requests.get(
        sim.endpoint("hetzner") + "/servers",
        params={"per_page": 50},
        headers={"Authorization": f"Bearer {sim.token}"},
        verify=sim.ca_path,
        timeout=10,
    )
    resp.raise_for_status()
    return resp.json()["servers"]


def test_provision_is_parallel_idempotent_and_destroy_takes_only_its_own(sim, env, tmp_path):
    key = ["-e", f"sigma_ssh_public_key_file={tmp_path / 'k.pub'}"]
    # A server of somebody else, without the project label: destroy must leave it alone.
    requests.post(
        sim.endpoint("hetzner") + "/servers",
        json={"name": "not-ours", "server_type": "cx22", "image": "debian-12"},
        headers={"Authorization": f"Bearer {sim.token}"},
        verify=sim.ca_path,
        timeout=10,
    ).raise_for_status()
    sim.faults(action_delay=1.0)
    first = playbook(env, "provision.yml", "-e", f"@{servers_file(tmp_path, 3)}", *key)
    assert first.returncode == 0, first.stdout[-3000:]
    names = sorted(s["name"] for s in api_servers(sim))
    assert names == ["not-ours", "shop-1", "shop-2", "shop-3"]

    again = playbook(env, "provision.yml", "-e", f"@{servers_file(tmp_path, 3)}", *key)
    assert again.returncode == 0, again.stdout[-3000:]
    assert "changed=0" in again.stdout.split("PLAY RECAP")[-1]
    assert len(api_servers(sim)) == 4, "a second run must not create twins"

    inventory = tmp_path / "shop.hetzner.yml"
    inventory.write_text("plugin: sigma.deploy.hetzner\nlabel_selector: sigma-project=shop\n")
    listed = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(inventory), "--list"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    )  # fmt: skip
    assert sorted(json.loads(listed.stdout)["_meta"]["hostvars"]) == ["shop-1", "shop-2", "shop-3"]

    gone = playbook(env, "destroy.yml", "-e", "sigma_project=shop")
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert [s["name"] for s in api_servers(sim)] == ["not-ours"]


def test_ten_servers_take_about_as_long_as_one(sim, env, tmp_path):
    """Creation is parallel: with 2 s per action, ten servers must not take ten times one."""
    key = ["-e", f"sigma_ssh_public_key_file={tmp_path / 'k.pub'}"]
    sim.faults(action_delay=2.0)
    started = time.monotonic()
    one = playbook(env, "provision.yml", "-e", f"@{servers_file(tmp_path, 1)}", *key)
    one_took = time.monotonic() - started
    assert one.returncode == 0, one.stdout[-3000:]
    playbook(env, "destroy.yml", "-e", "sigma_project=shop")
    started = time.monotonic()
    ten = playbook(env, "provision.yml", "-e", f"@{servers_file(tmp_path, 10)}", *key)
    ten_took = time.monotonic() - started
    assert ten.returncode == 0, ten.stdout[-3000:]
    assert len(api_servers(sim)) == 10
    # A generous bound against sequential creation (which would be >= 10x); the benchmark
    # reports the real ratio.
    assert ten_took < one_took * 4, (one_took, ten_took)
