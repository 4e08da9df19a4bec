"""The Fly vendor: its state, the lock it shares with the simulator, the check prober and the
hooks of the proxy stand-in.

Locking: every request is handled under the simulator's one lock (``server.py``); the vendor
builds a :class:`threading.Condition` on that same lock (``attach``). ``/wait`` and the
launches that create and update wait for sleep on it, which releases the lock fully (it is an
RLock), so other requests go on meanwhile. Runtime reports and the check prober take the lock
themselves and ``notify_all``. Routing listeners are called on their own thread, never under
the lock.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable

from ..core import JSON, ApiError, Faults, Response, Router, Vendor, now_iso
from . import apps, lifecycle, machines, secrets, volumes
from .metrics import Stats
from .runtime import Runtime, make_runtime

PROBE_INTERVAL = 1.0  # seconds between two rounds of checks on started machines


class FlyVendor(Vendor):
    name = "fly"
    prefix = "/fly/v1"

    def __init__(self, faults: Faults, backend, runtime: Runtime | None = None) -> None:
        super().__init__(faults, backend)
        self.cond = threading.Condition(self.lock)
        self.runtime: Runtime = runtime or make_runtime(backend, faults)
        self.clock: Callable[[], float] = time.time  # lease expiry; tests may replace it
        self.waiters = 0  # requests sleeping in wait_for now
        self.launch_wait_s = 60.0  # how long create/update wait for the runtime's first word
        self.stats = Stats()
        self.on_routing_change: list[Callable[[str], None]] = []
        self.apps: dict[str, apps.App] = {}
        self.machines: dict[str, machines.Machine] = {}
        self.volumes: dict[str, JSON] = {}
        self._prober: threading.Thread | None = None
        self._stop_probing = threading.Event()
        self._wake_prober = threading.Event()
        self._changes: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._notifier: threading.Thread | None = None
        self.router = Router()
        for module in (apps, secrets, machines, lifecycle, volumes):
            module.register(self.router, self)

    # --- the HTTP layer's hooks -------------------------------------------------------------

    def attach(self, lock) -> None:
        self.lock = lock
        self.cond = threading.Condition(lock)

    def authorized(self, header: str, token: str) -> bool:
        return header in (f"Bearer {token}", f"FlyV1 {token}")

    def error_body(self, err: ApiError) -> JSON:
        body: JSON = {"error": err.message}
        if "status" in err.details:
            body["status"] = err.details["status"]
        return body

    def admin(self, method: str, path: str, body) -> Response | None:
        """``POST /_admin/fly/stats``: ``{"records": [{"app", "machine_id", "status",
        "seconds"}]}`` into the stats the Prometheus endpoint reads."""
        if path != "/_admin/fly/stats" or method != "POST":
            return None
        records = (body or {}).get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise ApiError(400, "invalid_input", 'expected {"records": [...]}')
        for rec in records:
            self.stats.record(rec["app"], rec["machine_id"], rec["status"], rec["seconds"])
        return Response(200, {"recorded": len(records)})

    def reset(self) -> None:
        self._stop_prober()
        for machine in self.machines.values():
            if machine.state != "destroyed":
                self.runtime.destroy(machine.id, lambda *_: None)
        self.apps.clear()
        self.machines.clear()
        self.volumes.clear()
        self.stats.clear()
        self.cond.notify_all()  # waiters on forgotten machines answer now (404)

    def close(self) -> None:
        self._stop_prober()
        self._changes.put(None)
        self.runtime.close()

    # --- runtime reports --------------------------------------------------------------------

    def reporter(self, machine_id: str) -> Callable[[str, dict], None]:
        """The ``report`` a runtime calls for one machine: applied under the lock."""

        def report(event: str, details: dict) -> None:
            with self.cond:
                machine = self.machines.get(machine_id)
                if machine is not None:
                    machines.apply_report(self, machine, event, details)
                self.cond.notify_all()
            if machine is not None:
                self.routing_changed(machine.app)

        return report

    def wait_for(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Sleep on the condition (the lock released) until ``ready()`` or the timeout."""
        deadline = time.monotonic() + timeout
        self.waiters += 1
        try:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True
        finally:
            self.waiters -= 1

    # --- checks -----------------------------------------------------------------------------

    def wake_prober(self) -> None:
        """Probe soon (a machine just started); starts the prober thread when needed."""
        if self._prober is None or not self._prober.is_alive():
            self._stop_probing = threading.Event()
            self._prober = threading.Thread(
                target=self._probe_loop, args=(self._stop_probing,), name="fly-prober", daemon=True
            )
            self._prober.start()
        self._wake_prober.set()

    def _stop_prober(self) -> None:
        self._stop_probing.set()
        self._wake_prober.set()

    def _probe_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._wake_prober.clear()
            self.probe_now()
            self._wake_prober.wait(PROBE_INTERVAL)

    def probe_now(self) -> None:
        """One round of checks on every started machine: gathered and stored under the lock,
        probed outside it. Tests call this to probe synchronously."""
        with self.cond:
            todo = [
                (m.id, m.instance_id, m.app, machines.check_specs(m))
                for m in self.machines.values()
                if m.state == "started"
            ]
        results = []
        for machine_id, instance_id, app, specs in todo:
            outcome = {name: self.runtime.probe(machine_id, check) for name, check in specs.items()}
            results.append((machine_id, instance_id, app, outcome))
        changed = set()
        with self.cond:
            for machine_id, instance_id, app, outcome in results:
                machine = self.machines.get(machine_id)
                if machine is None or machine.state != "started":
                    continue
                if machine.instance_id != instance_id:
                    continue
                for name, (ok, output) in outcome.items():
                    status = "passing" if ok else "critical"
                    old = machine.checks.get(name, {}).get("status")
                    machine.checks[name] = {
                        "name": name,
                        "status": status,
                        "output": output,
                        "updated_at": now_iso(),
                    }
                    if old != status:
                        changed.add(app)
            self.cond.notify_all()
        for app in changed:
            self.routing_changed(app)

    # --- the proxy stand-in's hooks ---------------------------------------------------------

    def routable(self, app: str) -> list[tuple[str, str | None, int]]:
        """(machine id, address, internal port) of every machine the proxy may send traffic
        to: started, not cordoned (nor left unregistered by skip_service_registration), and
        every check passing."""
        with self.cond:
            candidates = [
                (m.id, machines.internal_ports(m))
                for m in self.machines.values()
                if m.app == app and machines.serves(m)
            ]
        routes = []
        for machine_id, ports in candidates:
            address = self.runtime.address(machine_id)
            routes.extend((machine_id, address, port) for port in ports)
        return routes

    def routing_changed(self, app: str) -> None:
        """Tell the routing listeners, on the notifier thread (never under the lock)."""
        if not self.on_routing_change:
            return
        if self._notifier is None or not self._notifier.is_alive():
            self._notifier = threading.Thread(
                target=self._notify_loop, name="fly-routing", daemon=True
            )
            self._notifier.start()
        self._changes.put(app)

    def _notify_loop(self) -> None:
        while (app := self._changes.get()) is not None:
            for listener in list(self.on_routing_change):
                with contextlib.suppress(Exception):  # one listener's bug spares the others
                    listener(app)

    # --- shared lookups ---------------------------------------------------------------------

    def app(self, name: str) -> apps.App:
        found = self.apps.get(name)
        if found is None:
            raise ApiError(404, "not_found", "app not found")
        return found

    def machine(self, app: str, machine_id: str) -> machines.Machine:
        self.app(app)
        found = self.machines.get(machine_id)
        if found is None or found.app != app:
            raise ApiError(404, "not_found", "machine not found")
        return found
