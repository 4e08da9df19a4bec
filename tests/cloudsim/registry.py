"""The local OCI registry behind the container rungs' image names.

Images for Fly.io (``registry.fly.io/<app>:<tag>``) and ECR (``123456789012.dkr.ecr.us-east-1.
amazonaws.com/<repo>:<tag>``) are pushed to one Debian
``docker-registry`` serving on loopback, and the real names resolve to it for pulls through a
``registries.conf`` (``CONTAINERS_REGISTRIES_CONF``) entry that remaps their prefix: playbooks
write the names users write, and podman fetches them from here, never from the real registry
(a mirror entry would fall back to it). A push goes to the registry's own address
(``127.0.0.1:<port>/<app>:<tag>``).

    reg = Registry(state_dir, port=5765)
    reg.start()            # idempotent; returns once /v2/ answers
    reg.push_name("notes", "abc")   # "127.0.0.1:5765/notes:abc"
    reg.registries_conf    # the file to name in CONTAINERS_REGISTRIES_CONF
    reg.stop()

State (config, pid, log, blobs) lives under ``<state_dir>/registry``; the blobs survive a
restart, so an image is pushed once per source.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

BINARY = "docker-registry"
# The names that resolve to the local registry. ECR names are patterns of the account and region;
# registries.conf matches a prefix, so each rung adds the names its tests use.
MIRRORED = (
    "registry.fly.io",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com",  # the local AWS's account (moto's default)
)
START_SECONDS = 10.0


class RegistryError(Exception):
    """The registry could not be started; the message says why and what to do."""


def registries_conf_text(address: str, names: tuple[str, ...] = MIRRORED) -> str:
    """A registries.conf that sends pulls of ``names`` to ``address`` (plain HTTP, loopback)."""
    lines = [
        "# Written by tests/cloudsim/registry.py: the real image names, pulled from the local",
        "# registry. Use with CONTAINERS_REGISTRIES_CONF=<this file>.",
        'unqualified-search-registries = ["docker.io"]',
        "",
        "[[registry]]",
        f'location = "{address}"',
        "insecure = true",
    ]
    for name in names:
        # A remapped prefix, not a mirror: a pull never falls back to the real registry.
        lines += [
            "",
            "[[registry]]",
            f'prefix = "{name}"',
            f'location = "{address}"',
            "insecure = true",
        ]
    return "\n".join(lines) + "\n"


def config_text(data_dir: Path, port: int) -> str:
    return (
        "version: 0.1\n"
        "log:\n  level: warn\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {data_dir}\n"
        "  delete:\n    enabled: true\n"
        "http:\n"
        f"  addr: 127.0.0.1:{port}\n"
    )


class Registry:
    def __init__(self, state_dir: str | Path, port: int = 5765) -> None:
        self.dir = Path(state_dir) / "registry"
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.registries_conf = self.dir / "registries.conf"
        self._pid_file = self.dir / "pid"

    def push_name(self, repository: str, tag: str) -> str:
        """Where to push ``repository:tag`` (pulls use the real name)."""
        return f"{self.address}/{repository}:{tag}"

    def answering(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.address}/v2/", timeout=1) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _running_pid(self) -> int | None:
        try:
            pid = int(self._pid_file.read_text())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def start(self) -> None:
        binary = shutil.which(BINARY)
        if binary is None:
            raise RegistryError(
                f"{BINARY} not found: install Debian's package (apt-get install docker-registry)"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        self.registries_conf.write_text(registries_conf_text(self.address))
        if self._running_pid() and self.answering():
            return
        config = self.dir / "config.yml"
        config.write_text(config_text(self.dir / "data", self.port))
        with (self.dir / "log").open("ab") as log:
            process = subprocess.Popen(
                [binary, "serve", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.answering():
                return
            if process.poll() is not None:
                break
            time.sleep(0.1)
        tail = (self.dir / "log").read_text(errors="replace").splitlines()[-5:]
        self.stop()
        raise RegistryError(
            f"{BINARY} did not answer at {self.address} within {START_SECONDS:.0f} s; "
            f"its log ({self.dir / 'log'}) ends: " + " | ".join(tail)
        )

    def stop(self) -> None:
        pid = self._running_pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            for _attempt in range(50):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.1)
        self._pid_file.unlink(missing_ok=True)
