"""Run ``ansible-inventory`` on one plugin configuration against the simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ANSIBLE_INVENTORY = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
ENV = {  # vendor: (endpoint variable, token variable, plugin name)
    "hetzner": ("HCLOUD_ENDPOINT", "HCLOUD_TOKEN", "sigma.deploy.hetzner"),
    "digitalocean": ("DIGITALOCEAN_ENDPOINT", "DIGITALOCEAN_TOKEN", "sigma.deploy.digitalocean"),
}


def run_inventory(sim, tmp_path, vendor, config, token=None):
    endpoint_var, token_var, plugin = ENV[vendor]
    path = tmp_path / f"servers.{vendor}.yml"
    path.write_text(config)
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text(f"[inventory]\nenable_plugins = {plugin}\n")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(cfg),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
        token_var: token or sim.token,
        endpoint_var: sim.endpoint(vendor),
        "REQUESTS_CA_BUNDLE": sim.ca_path,
    }
    return subprocess.run(
        [ANSIBLE_INVENTORY, "-i", str(path), "--list"],
        capture_output=True, text=True, env=env, check=False, cwd=tmp_path,
    )  # fmt: skip
