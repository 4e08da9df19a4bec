"""The simulator with real containers (podman backend) and the local registry holding the
reference app's images: what the Fly and AWS integration worlds both start from.

The registry listens on a free port of this session (``CLOUDSIM_REGISTRY_PORT``); the names
users write (``registry.fly.io/...``, ``<account>.dkr.ecr.<region>.amazonaws.com/...``)
resolve to it through its registries.conf (``tests/cloudsim/registry.py``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.cloudsim.app import Settings, start

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_images(registry: str, postgres: bool = True) -> dict[str, str]:
    """Build (once per source) and push the app's images: ``{"image": ..., ["postgres_image":
    ...]}``, named ``registry.fly.io/<repository>:<tag>``."""
    args = [sys.executable, str(ROOT / "tools" / "app_image.py"), "--registry", registry]
    if not postgres:
        args.append("--no-postgres")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=1200, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def start_podman_simulator(tmp: Path, postgres: bool = True):
    """(server, simulator, url, settings, images): an HTTPS simulator whose machines and tasks
    are podman containers, and the app's images in its registry."""
    os.environ["CLOUDSIM_STATE"] = str(tmp)
    os.environ["CLOUDSIM_REGISTRY_PORT"] = str(free_port())
    settings = Settings(port=0, tls=True, ca_path=str(tmp / "ca.pem"), backend="podman")
    server, sim, url = start(settings)
    registry = f"127.0.0.1:{os.environ['CLOUDSIM_REGISTRY_PORT']}"
    try:
        images = build_images(registry, postgres=postgres)
    except BaseException:
        server.shutdown()
        sim.close()
        raise
    return server, sim, url, settings, images


def module_play(
    module: str, args: dict, env: dict[str, str], tmp_path: Path, name: str
) -> tuple[int, dict, str]:
    """Run one module with ``args`` in a local play (as a user's playbook would), with ``env``
    added to the environment; returns (rc, the module's result, the play's output)."""
    from tests.integration.support import ANSIBLE_PLAYBOOK, COLLECTIONS, collection_link

    collection_link()
    result_file = tmp_path / f"{name}.json"
    playbook = tmp_path / f"{name}.yml"
    keep = {"content": "{{ done | to_json }}", "dest": str(result_file), "mode": "0600"}
    play = {
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": [
            {"name": "Run", module: args, "register": "done", "ignore_errors": True},
            {"name": "Keep the result", "ansible.builtin.copy": keep},
        ],
    }
    playbook.write_text(json.dumps([play]))
    full_env = {
        **os.environ,
        **env,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_NOCOLOR": "1",
    }
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", "localhost,", str(playbook)],
        env=full_env, capture_output=True, text=True, timeout=900, check=False, cwd=ROOT,
    )  # fmt: skip
    result = json.loads(result_file.read_text()) if result_file.exists() else {}
    rc = 1 if result.get("failed") or proc.returncode else 0
    return rc, result, proc.stdout + proc.stderr
