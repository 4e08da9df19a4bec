"""The app_deploy role's ``lb_provider`` entry point (how a rolling deploy drains a batch on a
provider load balancer), run by real ansible-playbook against the API simulator for Hetzner and
DigitalOcean: no test hosts, the three app hosts are local inventory names only.

Each step is checked through the simulator's own API: draining app-2 leaves exactly app-1 and
app-3 behind the load balancer, putting it back gives all three, doing that again changes
nothing, and an unknown member fails the play naming it without touching the targets.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.support import (
    ANSIBLE_PLAYBOOK,
    DIGITALOCEAN,
    HETZNER,
    ROOT,
    Api,
    Run,
    Vendor,
    collection_link,
    hetzner_load_balancer,
    play_env,
    recap,
)

HOSTS = ("app-1", "app-2", "app-3")
LB_NAME = "web-lb"

INVENTORY = """\
all:
  children:
    app:
      hosts: {app-1: null, app-2: null, app-3: null}
      vars:
        ansible_connection: local
        ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""

PLAYBOOK = """\
- name: Change the provider load balancer's targets as a rolling batch does
  hosts: app
  gather_facts: false
  tasks:
    - name: The role's lb_provider entry point
      ansible.builtin.include_role:
        name: sigma.deploy.app_deploy
        tasks_from: lb_provider
"""


def hetzner_setup(api: Api) -> Callable[[], frozenset[str]]:
    """Servers app-1..3 and a load balancer with each as a target; returns a reader of the
    names of the load balancer's server targets."""
    return hetzner_load_balancer(api, HOSTS, LB_NAME)


def digitalocean_setup(api: Api) -> Callable[[], frozenset[str]]:
    """Droplets app-1..3 and a load balancer with each in droplet_ids; returns a reader of the
    names of the load balancer's droplets."""
    names = {}
    for host in HOSTS:
        body = {"name": host, "region": "fra1", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}
        names[api.call("POST", "/droplets", body)["droplet"]["id"]] = host
    body = {
        "name": LB_NAME,
        "region": "fra1",
        "forwarding_rules": [
            {"entry_protocol": "http", "entry_port": 80, "target_protocol": "http",
             "target_port": 8080},
        ],
        "droplet_ids": list(names),
    }  # fmt: skip
    lb_id = api.call("POST", "/load_balancers", body)["load_balancer"]["id"]

    def current() -> frozenset[str]:
        lb = api.call("GET", f"/load_balancers/{lb_id}")["load_balancer"]
        assert not lb.get("tag"), lb
        return frozenset(names[i] for i in lb["droplet_ids"])

    return current


@dataclass(frozen=True)
class Case:
    vendor: Vendor
    api_path: str  # below sim.endpoint(vendor)
    setup: Callable[[Api], Callable[[], frozenset[str]]]
    token_in_var: bool  # app_deploy_lb_api_token, else the vendor's token variable
    not_found: str  # what the module says of a member that does not exist


# Hetzner's end-to-end test (test_site_deploy.py) gives the token in HCLOUD_TOKEN, so here
# Hetzner takes it from app_deploy_lb_api_token and DigitalOcean from DIGITALOCEAN_TOKEN.
CASES = {
    "hetzner": Case(HETZNER, "", hetzner_setup, True, "server 'app-9' not found"),
    "digitalocean": Case(
        DIGITALOCEAN, "/v2", digitalocean_setup, False, "droplet 'app-9' not found"
    ),
}


class LbPlay:
    """The lb_provider play of one case, run with the members and state given."""

    def __init__(self, case: Case, sim, tmp_path: Path) -> None:
        collection_link()
        self.case, self.sim, self.tmp_path = case, sim, tmp_path
        (tmp_path / "hosts.yml").write_text(INVENTORY)
        (tmp_path / "play.yml").write_text(PLAYBOOK)
        # This checkout's collection as the environment names it (support.py defaults it to
        # .build/collections, which collection_link() points at this checkout).
        env = {"ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"]}
        self.env = play_env(case.vendor, sim, env)
        self.env.pop("DO_API_TOKEN", None)  # the modules' other token variable
        if case.token_in_var:
            # The variable wins over the environment: a wrong token there would fail the play.
            self.env[case.vendor.token_env] = "not-the-token"

    def __call__(self, members: list[str], state: str) -> tuple[Run, dict[str, int]]:
        extra = {
            "app_deploy_lb_provider": self.case.vendor.name,
            "app_deploy_lb_name": LB_NAME,
            "app_deploy_lb_members": members,
            "app_deploy_lb_targets_state": state,
            "app_deploy_lb_drain_seconds": 0,
        }
        if self.case.token_in_var:
            extra["app_deploy_lb_api_token"] = self.sim.token
        extra_file = self.tmp_path / "extra.json"
        extra_file.write_text(json.dumps(extra))
        proc = subprocess.run(
            [ANSIBLE_PLAYBOOK, "-i", str(self.tmp_path / "hosts.yml"),
             str(self.tmp_path / "play.yml"), "-e", f"@{extra_file}"],
            env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        run = Run(proc.returncode, proc.stdout, proc.stderr)
        assert self.sim.token not in run.output, "the API token is in the play's output"
        stats = recap(run.stdout)
        assert set(stats) == set(HOSTS), run.output[-4000:]
        totals = {k: sum(s.get(k, 0) for s in stats.values()) for k in ("changed", "failed")}
        return run, totals


@pytest.mark.parametrize("provider", sorted(CASES))
def test_lb_provider_drains_and_restores_targets(sim, tmp_path, provider) -> None:
    case = CASES[provider]
    api = Api(sim.endpoint(case.vendor.name) + case.api_path, sim.token, sim.ca_path)
    targets = case.setup(api)
    everyone = frozenset(HOSTS)
    assert targets() == everyone
    play = LbPlay(case, sim, tmp_path)

    run, totals = play(["app-2"], "absent")
    assert run.rc == 0, run.output[-6000:]
    assert totals == {"changed": 1, "failed": 0}, run.output[-6000:]
    assert targets() == {"app-1", "app-3"}

    run, totals = play(["app-2"], "present")
    assert run.rc == 0, run.output[-6000:]
    assert totals == {"changed": 1, "failed": 0}, run.output[-6000:]
    assert targets() == everyone

    run, totals = play(["app-2"], "present")
    assert run.rc == 0, run.output[-6000:]
    assert totals == {"changed": 0, "failed": 0}, run.output[-6000:]
    assert targets() == everyone

    run, totals = play(["app-9"], "absent")
    assert run.rc != 0, run.output[-6000:]
    assert totals["failed"] == 1, run.output[-6000:]
    assert case.not_found in run.stdout, run.output[-6000:]
    assert targets() == everyone
