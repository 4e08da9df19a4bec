"""Fly machines that really run: one podman container per machine, on the project network.

A launched machine pulls its image by the name the user wrote (``registry.fly.io/<app>:<tag>``);
the local registry (``tests/cloudsim/registry.py``, started here) serves it through the
``registries.conf`` mirror, so an image that was never pushed fails as on Fly. The container
runs the image's command (or ``init.cmd``) with the machine's env, written to a file of mode
0600 that is removed once podman has read it (secrets never appear on a command line). Its
address on the project network is where the proxy stand-in and the check prober reach it;
``<app>.internal`` names every app's started machines (``--add-host``), as Fly's private
network DNS does, so a machine finds its database app by name.

Every podman call happens on a thread of its own, never under the simulator's lock; changes
are reported through ``report`` as ``runtime.py`` describes. When the main process ends by
itself (a release command), ``exited`` reports its code.

Containers carry the labels of the server backend (group ``sim``: ``hostctl.py down --all``
removes them; owner and instance: a new simulator removes those of a dead one).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

from ..podman_backend import (
    GROUP,
    INSTANCE_LABEL,
    KEY_LABEL,
    LABEL,
    OWNER_LABEL,
    PodmanBackend,
    hostctl,
)
from ..podman_ipam import allocator_kept
from ..registry import Registry
from .runtime import Report, RunSpec

STOP_SECONDS_DEFAULT = 10.0
PULL_SECONDS = 300.0
PROBE_TIMEOUT = 2.0
SIGNALS = {"SIGINT", "SIGTERM", "SIGKILL", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGHUP"}


def _duration(value: object, default: float) -> float:
    """Fly writes timeouts as Go durations ("2s", "500ms", "1m"); numbers are seconds."""
    if isinstance(value, int | float):
        return float(value)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", str(value or "").strip())
    if not match:
        return default
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number / 1000 if unit == "ms" else number * 60 if unit == "m" else number


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _podman(args: list[str], timeout: float | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def _last_lines(proc: subprocess.CompletedProcess, n: int = 3) -> str:
    return " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-n:])


class PodmanRuntime:
    def __init__(self, faults=None, backend: PodmanBackend | None = None) -> None:
        self.backend = backend
        self.network = hostctl.NETWORK
        self.owner = backend.owner if backend else ""
        self.instance = backend.instance if backend else "solo"
        self._lock = threading.Lock()  # guards the dicts below and the registry's start
        # The registry: at CLOUDSIM_REGISTRY_PORT, started now, where one is asked for (the demo,
        # the Fly tests: they push to it); else on a free port, at the first launch, so that
        # simulators that run no Fly machine start none and never collide on a port.
        state = os.environ.get("CLOUDSIM_STATE") or str(Path.cwd() / ".build" / "cloudsim")
        port = os.environ.get("CLOUDSIM_REGISTRY_PORT")
        self.registry = Registry(state, int(port) if port else _free_port())
        self._registry_started = False
        if port:
            self._start_registry()
        self.env = {**os.environ, "CONTAINERS_REGISTRIES_CONF": str(self.registry.registries_conf)}
        self._addresses: dict[str, str] = {}  # key -> address of a started machine
        # key -> the address it had: a machine (or a database) that is run again keeps it, as
        # a Fly machine keeps its private address and an RDS endpoint its name
        self._kept: dict[str, str] = {}
        self._apps: dict[str, str] = {}  # key -> app name (from FLY_APP_NAME)
        self._stopping: set[str] = set()  # keys whose exit we caused
        self._key_locks: dict[str, threading.Lock] = {}
        self._envdir = tempfile.mkdtemp(prefix="sigma-fly-env-")
        os.chmod(self._envdir, 0o700)

    def _start_registry(self) -> None:
        with self._lock:
            if not self._registry_started:
                self.registry.start()
                self._registry_started = True

    # -- the Runtime protocol --------------------------------------------------------------

    def launch(self, key: str, spec: RunSpec, report: Report) -> None:
        self._spawn(key, self._launch, key, spec, report)

    def stop(self, key: str, signal: str, timeout_s: float, report: Report) -> None:
        self._spawn(key, self._stop, key, signal, timeout_s, report)

    def destroy(self, key: str, report: Report) -> None:
        self._spawn(key, self._destroy, key, report)

    def probe(self, key: str, check: dict) -> tuple[bool, str]:
        with self._lock:
            address = self._addresses.get(key)
        if address is None:
            return False, "machine is not running"
        port = int(check.get("port") or 0)
        timeout = min(_duration(check.get("timeout"), PROBE_TIMEOUT), 10.0)
        if check.get("type", "tcp") == "http":
            return self._probe_http(address, port, check, timeout)
        try:
            with socket.create_connection((address, port), timeout=timeout):
                return True, f"TCP connect {address}:{port}: Success"
        except OSError as exc:
            return False, f"TCP connect {address}:{port}: {exc}"

    def address(self, key: str) -> str | None:
        with self._lock:
            return self._addresses.get(key)

    def close(self) -> None:
        with self._lock:
            self._stopping.update(self._key_locks)
        names = [
            c["Names"][0]
            for c in hostctl.list_containers(GROUP)
            if (c.get("Labels") or {}).get(INSTANCE_LABEL) == self.instance
            and c["Names"][0].startswith("sigma-fly-")
        ]
        if names:
            _podman(["rm", "-f", "-t", "0", *names])
        with self._lock:
            self._addresses.clear()
        if self._registry_started:
            self.registry.stop()
        with contextlib.suppress(OSError):
            os.rmdir(self._envdir)

    # -- work, each on its own thread, one at a time per machine ---------------------------

    def container(self, key: str) -> str:
        return f"sigma-fly-{self.instance}-" + re.sub(r"[^A-Za-z0-9_.-]", "-", key)

    def _spawn(self, key: str, work, *args) -> None:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())

        def run() -> None:
            with key_lock:
                work(*args)

        threading.Thread(target=run, name=f"fly-podman-{key}", daemon=True).start()

    def _launch(self, key: str, spec: RunSpec, report: Report) -> None:
        self._start_registry()
        container = self.container(key)
        with self._lock:
            self._stopping.add(key)  # a container of an earlier version is gone on purpose
        _podman(["rm", "-f", "-t", "0", container])
        if _podman(["image", "exists", spec.image]).returncode != 0:
            pulled = subprocess.run(
                ["podman", "pull", "-q", spec.image],
                capture_output=True, text=True, check=False, env=self.env, timeout=PULL_SECONDS,
            )  # fmt: skip
            if pulled.returncode != 0:
                report(
                    "failed", {"reason": "image", "error": f"{spec.image}: {_last_lines(pulled)}"}
                )
                return
        env_file = Path(self._envdir) / f"{container}.env"
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            for name, value in spec.env.items():
                out.write(f"{name}={str(value).replace(chr(10), ' ')}\n")
        args = [
            "run", "-d", "--name", container, "--network", self.network,
            "--env-file", str(env_file), "--hostname", re.sub(r"[^a-z0-9-]", "-", key.lower()),
            "--label", f"{LABEL}.group={GROUP}", "--label", f"{OWNER_LABEL}={self.owner}",
            "--label", f"{INSTANCE_LABEL}={self.instance}", "--label", f"{KEY_LABEL}={key}",
        ]  # fmt: skip
        for host, address in self._internal_hosts():
            args += ["--add-host", f"{host}:{address}"]
        for number, path in enumerate(spec.volumes):
            args += ["-v", f"{container}-data{number}:{path}"]
        if spec.init.get("entrypoint"):
            args += ["--entrypoint", json.dumps(spec.init["entrypoint"])]
        args.append(spec.image)
        args += list(spec.cmd or [])
        with self._lock:
            wanted = self._kept.get(key)
        try:
            started = self._run(container, args, wanted)
        finally:
            env_file.unlink(missing_ok=True)
        if started.returncode != 0:
            _podman(["rm", "-f", "-t", "0", container])
            report("failed", {"reason": "run", "error": _last_lines(started)})
            return
        fmt = f'{{{{(index .NetworkSettings.Networks "{self.network}").IPAddress}}}}'
        address = _podman(["inspect", "-f", fmt, container]).stdout.strip()
        with self._lock:
            self._addresses[key] = address
            self._kept[key] = address
            self._apps[key] = spec.env.get("FLY_APP_NAME", "")
            self._stopping.discard(key)
        report("started", {"private_ip": address})
        threading.Thread(
            target=self._watch, args=(key, container, report), name=f"fly-wait-{key}", daemon=True
        ).start()

    def _run(self, container: str, args: list[str], address: str | None):
        """``podman run`` on the address the key had, when it had one and it is free; else
        on the one podman's allocator gives."""
        if address:
            at = [*args[:2], "--ip", address, *args[2:]]
            with allocator_kept(self.network, address):
                started = _podman(at)
            if started.returncode == 0:
                return started
            _podman(["rm", "-f", "-t", "0", container])
        return _podman(args)

    def _watch(self, key: str, container: str, report: Report) -> None:
        """Report the main process's exit unless we stopped it (a release command ends)."""
        waited = _podman(["wait", container])
        code = waited.stdout.strip()
        with self._lock:
            ours = key in self._stopping
            if not ours:
                self._addresses.pop(key, None)
        if not ours and waited.returncode == 0 and code.lstrip("-").isdigit():
            report("exited", {"exit_code": int(code)})

    def _stop(self, key: str, signal: str, timeout_s: float, report: Report) -> None:
        container = self.container(key)
        with self._lock:
            self._stopping.add(key)
            self._addresses.pop(key, None)
        timeout = timeout_s if timeout_s and timeout_s > 0 else STOP_SECONDS_DEFAULT
        if signal and signal.upper() in SIGNALS and signal.upper() != "SIGTERM":
            _podman(["kill", "--signal", signal.upper(), container])
            with contextlib.suppress(subprocess.TimeoutExpired):  # then podman stop kills it
                _podman(["wait", "--condition", "stopped", container], timeout=timeout)
        _podman(["stop", "-t", str(int(timeout)), container])
        report("stopped", {"signal": signal or "SIGTERM"})

    def _destroy(self, key: str, report: Report) -> None:
        with self._lock:
            self._stopping.add(key)
            self._addresses.pop(key, None)
            self._kept.pop(key, None)
            self._apps.pop(key, None)
        container = self.container(key)
        _podman(["rm", "-f", "-t", "0", container])
        volumes = _podman(["volume", "ls", "-q", "--filter", f"name={container}-data"])
        for volume in volumes.stdout.split():  # the RunSpec.volumes of this key
            if re.fullmatch(re.escape(container) + r"-data\d+", volume):
                _podman(["volume", "rm", "-f", volume])
        report("destroyed", {})

    # -- helpers ---------------------------------------------------------------------------

    def _internal_hosts(self) -> list[tuple[str, str]]:
        """``<app>.internal`` for every app with a started machine (its first one)."""
        with self._lock:
            seen: dict[str, str] = {}
            for key, address in sorted(self._addresses.items()):
                app = self._apps.get(key)
                if app and app not in seen:
                    seen[app] = address
        return [(f"{app}.internal", address) for app, address in sorted(seen.items())]

    @staticmethod
    def _probe_http(address: str, port: int, check: dict, timeout: float) -> tuple[bool, str]:
        path = check.get("path") or "/"
        method = (check.get("method") or "GET").upper()
        connection = http.client.HTTPConnection(address, port, timeout=timeout)
        try:
            connection.request(method, path, headers={"User-Agent": "Consul Health Check"})
            status = connection.getresponse().status
        except OSError as exc:
            return False, f"{method} http://{address}:{port}{path}: {exc}"
        finally:
            connection.close()
        line = f"{method} http://{address}:{port}{path}: {status}"
        return 200 <= status < 400, line
