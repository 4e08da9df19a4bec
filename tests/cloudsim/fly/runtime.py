"""Where a simulated Fly machine runs: the data plane behind the Machines API.

The vendor (``vendor.py``) keeps the API-visible state; a :class:`Runtime` runs what a
machine's config describes. ``launch``, ``stop`` and ``destroy`` return at once and do their
work on the runtime's own thread; when a machine's state changes the runtime calls
``report(event, details)`` with one of ``started``, ``stopped``, ``destroyed``, ``failed``
(it could not run: ``details["error"]`` says why; ``details["reason"] == "image"`` when the
image could not be fetched) or ``exited`` (the main process ended: ``details["exit_code"]``).
``report`` takes the simulator's lock itself; a runtime never does. ``launch`` on a key that
was stopped runs it again with the new spec (a restart or an update).

Two runtimes: :class:`MemoryRuntime` (here; machines are data, the default) and the podman
runtime (``podman_runtime.py``, real containers), chosen by the simulator's backend.
"""

from __future__ import annotations

import heapq
import importlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Report = Callable[[str, dict], None]


@dataclass
class RunSpec:
    """What to run for one machine version: the config with the app's secrets merged."""

    image: str
    env: dict[str, str] = field(default_factory=dict)  # config.env plus the app's secrets
    cmd: list[str] | None = None  # init.cmd
    init: dict = field(default_factory=dict)  # config.init as sent
    guest: dict = field(default_factory=dict)
    services: list = field(default_factory=list)
    checks: dict = field(default_factory=dict)  # config.checks (top-level, by name)
    name: str = ""
    # Paths in the container whose data outlives a restart of the same key (a new ``launch``
    # after ``stop``) and goes with ``destroy``: the podman runtime mounts a named volume on
    # each (an RDS instance's PGDATA); the memory runtime has no data to keep.
    volumes: list[str] = field(default_factory=list)


class Runtime(Protocol):
    def launch(self, key: str, spec: RunSpec, report: Report) -> None: ...
    def stop(self, key: str, signal: str, timeout_s: float, report: Report) -> None: ...
    def destroy(self, key: str, report: Report) -> None: ...
    def probe(self, key: str, check: dict) -> tuple[bool, str]: ...
    def address(self, key: str) -> str | None: ...  # where the machine's ports answer
    def close(self) -> None: ...


class MemoryRuntime:
    """Machines that exist only as data. Every change is reported on the runtime's one worker
    thread, in the order it was asked for, ``delay()`` seconds later (the simulator passes
    ``Faults.action_delay``: 0 by default).

    Test hooks (documented for the deploy tests, so that failing releases need no podman):
    an image reference containing ``:missing`` cannot be pulled (``failed``, reason
    ``image``); checks fail when the image reference contains ``:failing`` or the machine's
    env has ``SIM_CHECKS_FAIL=1``; a machine whose env has ``SIM_EXIT_CODE=<n>`` exits with
    that code right after it started (a release command).
    """

    def __init__(self, delay: Callable[[], float] = lambda: 0.0) -> None:
        self.delay = delay
        self.specs: dict[str, RunSpec] = {}  # what each machine runs now (tests read env)
        self.running: set[str] = set()
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="fly-memory-runtime", daemon=True)
        self._thread.start()

    def launch(self, key: str, spec: RunSpec, report: Report) -> None:
        def run() -> None:
            if ":missing" in spec.image:
                report("failed", {"reason": "image", "error": "manifest unknown"})
                return
            self.specs[key] = spec
            self.running.add(key)
            report("started", {})
            if "SIM_EXIT_CODE" in spec.env:  # a command that runs to its end (a release command)
                self.running.discard(key)
                report("exited", {"exit_code": int(spec.env["SIM_EXIT_CODE"])})

        self._later(run)

    def stop(self, key: str, signal: str, timeout_s: float, report: Report) -> None:
        def run() -> None:
            self.running.discard(key)
            report("stopped", {"signal": signal})

        self._later(run)

    def destroy(self, key: str, report: Report) -> None:
        def run() -> None:
            self.running.discard(key)
            self.specs.pop(key, None)
            report("destroyed", {})

        self._later(run)

    def probe(self, key: str, check: dict) -> tuple[bool, str]:
        spec = self.specs.get(key)
        if spec is None or key not in self.running:
            return False, "machine is not running"
        if ":failing" in spec.image or spec.env.get("SIM_CHECKS_FAIL") == "1":
            return False, f"{check.get('type', 'tcp')} check on port {check.get('port')} failed"
        return True, "Success"

    def address(self, key: str) -> str | None:
        return None  # nothing listens: the memory runtime has no data plane

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._queue.clear()
            self._cv.notify_all()

    def _later(self, action: Callable[[], None]) -> None:
        with self._cv:
            heapq.heappush(self._queue, (time.monotonic() + self.delay(), next(self._seq), action))
            self._cv.notify_all()

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._closed and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cv.wait(timeout)
                if self._closed:
                    return
                _due, _seq, action = heapq.heappop(self._queue)
            action()  # outside our condition: report() takes the simulator's lock


def make_runtime(backend: Any, faults: Any) -> Runtime:
    """The runtime for the simulator's backend: memory (one per caller), or podman (the lead's
    ``podman_runtime.py``, imported only when asked for; one per backend)."""
    kind = type(backend).__name__
    if backend is None or kind == "MemoryBackend":
        return MemoryRuntime(lambda: float(faults.action_delay))
    if kind == "PodmanBackend":
        try:
            module = importlib.import_module(f"{__package__}.podman_runtime")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.podman_runtime":
                raise
            raise RuntimeError(
                "the Fly simulator's podman runtime (tests/cloudsim/fly/podman_runtime.py) is "
                "missing: use CLOUDSIM_BACKEND=memory or add that module"
            ) from exc
        # One podman runtime per backend: Fly's machines and AWS's tasks and databases share it
        # (and its registry, which listens on one port).
        shared = getattr(backend, "shared_runtime", None)
        if shared is None:
            shared = backend.shared_runtime = module.PodmanRuntime(faults=faults, backend=backend)
        return shared
    raise ValueError(f"no Fly runtime for the {kind} backend")
