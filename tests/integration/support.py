"""Helpers for tests that build the collection, start local test hosts or run plays against
the cloud API simulator.

Imported as ``tests.integration.support`` (the root conftest puts the repository on sys.path).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.cloudsim import record

ROOT = Path(__file__).resolve().parents[2]
HOSTCTL = ROOT / "tests" / "hosts" / "hostctl.py"
BIN = Path(sys.executable).parent
COLLECTIONS = ROOT / ".build" / "collections"
ANSIBLE_PLAYBOOK = str(BIN / "ansible-playbook")

# The same environment the Makefile gives, so `pytest tests/integration` also works alone.
os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "tests" / "hosts" / "containers.conf"))
os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS))
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"


@dataclass
class Group:
    """A started group of test hosts and what it owns."""

    name: str
    inventory: Path
    hosts: dict[str, str]  # inventory name -> address
    key: str
    known_hosts: str


def hostctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HOSTCTL), *args], capture_output=True, text=True, check=False
    )


def start_group(name: str, count: int, inventory: Path) -> Group:
    proc = hostctl("up", "--group", name, "--count", str(count), "--inventory", str(inventory))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(inventory.read_text().split("\n", 1)[1])["all"]["children"][name]
    common = data["vars"]["ansible_ssh_common_args"]
    known_hosts = re.search(r"UserKnownHostsFile=(\S+)", common).group(1)
    return Group(
        name=name,
        inventory=inventory,
        hosts={h: v["ansible_host"] for h, v in data["hosts"].items()},
        key=data["vars"]["ansible_ssh_private_key_file"],
        known_hosts=known_hosts,
    )


def mitogen_env() -> dict[str, str]:
    """The environment that runs a playbook with the mitogen strategy (the optional accelerator,
    see the README), or nothing when SIGMA_MITOGEN=0 or mitogen is not installed."""
    if os.environ.get("SIGMA_MITOGEN", "1") == "0":
        return {}
    try:
        import ansible_mitogen
    except ImportError:
        return {}
    plugins = Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"
    return {"ANSIBLE_STRATEGY_PLUGINS": str(plugins), "ANSIBLE_STRATEGY": "mitogen_linear"}


def run_playbook(
    inventory: Path, playbook: str, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ansible-playbook", "-i", str(inventory), playbook, *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={**os.environ, **env} if env else None,
    )


# The application stack of the integration tests (conftest.py): groups and variables.
STACK_GROUPS = """\
all:
  children:
    lb: {hosts: {it-1: null}}
    db: {hosts: {it-1: null}}
    app: {hosts: {it-2: null, it-3: null, it-4: null}}
"""
STACK_VARS = [
    "-e", "sigma_db_password=it-Secret-0451",
    "-e", f"sigma_artifacts_dir={ROOT / '.build' / 'artifacts'}",
    "-e", "fastapi_app_workers=2",
]  # fmt: skip


def stack_groups(group: Group) -> Path:
    groups = group.inventory.parent / "groups.yml"
    groups.write_text(STACK_GROUPS)
    return groups


def stack_play(
    group: Group, playbook: str, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A playbook on the stack's hosts, with its groups and variables."""
    return run_playbook(
        group.inventory, playbook, "-i", str(stack_groups(group)), *STACK_VARS, *extra, env=env
    )


def site(group: Group, *extra: str) -> subprocess.CompletedProcess[str]:
    return stack_play(group, "playbooks/site.yml", *extra)


def recap(output: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP of an ansible-playbook run: host -> {ok, changed, failed, ...}."""
    stats = {}
    for line in output.split("PLAY RECAP", 1)[-1].splitlines():
        m = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if m:
            stats[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return stats


def ssh(group: Group, user: str, address: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ssh", "-i", group.key, "-o", f"UserKnownHostsFile={group.known_hosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=5", f"{user}@{address}", command,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )  # fmt: skip


# --- plays against the cloud API simulator -------------------------------------------------------
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFPRB2i5Dve4rcZ4YNJ8Uq4uTgA3TDmsiHtC8R+S09l7 it"
FINGERPRINT = "ca:21:8a:ab:81:63:25:8a:d2:66:ed:f7:26:b9:e2:0a"  # ssh-keygen -l -E md5
OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG2xSkSCx3BPVLBSfF6MGJF4nTGHrPN7YpV0mCBJwb1F it"


@dataclass(frozen=True)
class Vendor:
    """What differs between the vendors when a play runs against the simulator."""

    name: str  # the simulator's name for it, as sim.endpoint() takes it
    endpoint_env: str  # the environment variable the modules read the API endpoint from
    token_env: str  # ... and the API token from


HETZNER = Vendor("hetzner", "HCLOUD_ENDPOINT", "HCLOUD_TOKEN")
DIGITALOCEAN = Vendor("digitalocean", "DIGITALOCEAN_ENDPOINT", "DIGITALOCEAN_TOKEN")


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def collection_link() -> None:
    """What ``make collection-link`` does: make this checkout resolvable as sigma.deploy."""
    link = COLLECTIONS / "ansible_collections" / "sigma" / "deploy"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("../../../.."))


def play_env(vendor: Vendor, sim, env: dict | None = None) -> dict[str, str]:
    """The environment of a play: this checkout's collection, and the vendor's endpoint and
    token and the CA all at the simulator; ``env`` goes over all of it."""
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_NOCOLOR": "1",
        vendor.endpoint_env: sim.endpoint(vendor.name),
        vendor.token_env: sim.token,
        "REQUESTS_CA_BUNDLE": sim.trust_bundle,
        **(env or {}),
    }


def local_play(
    vendor: Vendor, tmp_path: Path, sim, tasks: str, env: dict | None = None, *args: str
) -> Run:
    """Run ``tasks`` in a local play; endpoint, token and CA come from the environment."""
    collection_link()
    body = textwrap.indent(textwrap.dedent(tasks).strip("\n"), "    ")
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n"
        "  connection: local\n"
        "  gather_facts: false\n"
        "  vars:\n"
        '    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        "  tasks:\n" + body + "\n"
    )
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", "localhost,", str(playbook), *args],
        env=play_env(vendor, sim, env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_ok(run: Run) -> None:
    assert run.rc == 0, run.output[-6000:]
    assert "failed=0" in run.stdout


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """A vendor API of the simulator: bearer token, the simulator's CA, no proxies."""

    def __init__(self, base: str, token: str, ca_path: str) -> None:
        self.base = base
        self.verify = ca_path
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        resp = self.session.request(
            method, self.base + path, json=body, verify=self.verify, timeout=30
        )
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else {}


def wait_for(what: str, check, timeout: float = 60.0):
    """Calls ``check`` every half second until it returns something true, and returns that;
    fails the test naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what}: not done after {timeout:.0f} s"
        time.sleep(0.5)


@dataclass
class ServerTargets:
    """The hosts a Hetzner load balancer of the simulator targets: now (call it), or as created
    and after each change, from the simulator's record (``history``)."""

    api: Api
    lb_id: int
    names: dict[int, str]  # server id -> host

    def __call__(self) -> frozenset[str]:
        found = self.api.call("GET", f"/load_balancers/{self.lb_id}")["load_balancer"]["targets"]
        return frozenset(self.names[t["server"]["id"]] for t in found if t["type"] == "server")

    def history(self, exchanges: list[dict]) -> list[frozenset[str]]:
        """From recorded exchanges that include the load balancer's creation."""
        sets = record.hetzner_lb_server_targets(exchanges, self.lb_id)
        return [frozenset(self.names[i] for i in ids) for ids in sets]


def hetzner_load_balancer(api: Api, hosts, name: str) -> ServerTargets:
    """A Hetzner load balancer in the API simulator with a server target per host (servers named
    as the hosts, as the hetzner inventory plugin names them), and its targets by host name."""
    names = {}
    for host in hosts:
        body = {"name": host, "server_type": "cx22", "image": "debian-12", "location": "fsn1"}
        names[api.call("POST", "/servers", body)["server"]["id"]] = host
    targets = [{"type": "server", "server": {"id": i}} for i in names]
    body = {"name": name, "load_balancer_type": "lb11", "location": "fsn1", "targets": targets}
    lb_id = api.call("POST", "/load_balancers", body)["load_balancer"]["id"]
    return ServerTargets(api, lb_id, names)
