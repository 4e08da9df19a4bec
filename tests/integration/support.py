"""Helpers for tests that build the collection or start local test hosts.

Imported as ``tests.integration.support`` (the root conftest puts the repository on sys.path).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOSTCTL = ROOT / "tests" / "hosts" / "hostctl.py"
BIN = Path(sys.executable).parent

# The same environment the Makefile gives, so `pytest tests/integration` also works alone.
os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "tests" / "hosts" / "containers.conf"))
os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
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


def run_playbook(inventory: Path, playbook: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ansible-playbook", "-i", str(inventory), playbook, *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


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
