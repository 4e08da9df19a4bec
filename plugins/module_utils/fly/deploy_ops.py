# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The machine operations ``fly_deploy`` is made of, each under the deploy's lease and each
written to the deploy's steps: create (leased from birth), update in place, wait for a state
or for the checks, cordon, uncordon, stop and destroy.

Every wait has ``wait_timeout`` seconds. Waiting for health ends early, with the machine's
state, when the machine stops or is destroyed instead of passing its checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import wait_until
from ansible_collections.sigma.deploy.plugins.module_utils.fly import deploy_plan as dp
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import VENDOR
from ansible_collections.sigma.deploy.plugins.module_utils.fly.leases import Leases


class MachineGone(ApiError):
    """A machine the deploy works on was destroyed (by someone else, or its host is gone)."""


DEAD_STATES = ("stopped", "suspended", "failed", "destroying", "destroyed")
# Fly refused the request (a config, region or image it does not take): nothing changed.
REFUSED = (400, 422)


def refused(err: ApiError) -> bool:
    return err.status in REFUSED


def describe_checks(machine: Mapping[str, Any]) -> str:
    """``http: critical (connection refused)`` for each check a machine reports."""
    parts = []
    for check in machine.get("checks") or []:
        output = (check.get("output") or "").strip()
        parts.append(
            f"{check.get('name')}: {check.get('status')}" + (f" ({output})" if output else "")
        )
    return "; ".join(parts) or "no check reported yet"


class Machines:
    """One app's machines, as a deploy changes them."""

    def __init__(
        self,
        client,
        app: str,
        leases: Leases,
        log: Callable[[str], None],
        wait_timeout: float,
    ) -> None:
        self.client = client
        self.app = app
        self.leases = leases
        self.log = log
        self.wait_timeout = wait_timeout
        self.touched = False  # whether anything was changed (a failed task reports it)

    # --- reading --------------------------------------------------------------------------
    def list(self) -> list[dict[str, Any]]:
        return self.client.list_machines(self.app)

    def get(self, mid: str) -> dict[str, Any]:
        return self.client.get_machine(self.app, mid)

    # --- changing -------------------------------------------------------------------------
    def create(self, config: Mapping[str, Any], region: str | None, register: bool) -> dict:
        """A new machine, leased from birth; ``register=False`` keeps it out of the proxy's
        routing until :meth:`uncordon` (bluegreen's green machines)."""
        body: dict[str, Any] = {"config": dict(config), "lease_ttl": self.leases.ttl_s}
        if region:
            body["region"] = region
        if not register:
            body["skip_service_registration"] = True
        touched, self.touched = self.touched, True
        try:
            machine = self.client.create_machine(self.app, body)
        except ApiError as err:
            if refused(err):
                self.touched = touched
            raise
        self.leases.adopt(machine)
        where = f" in {machine.get('region')}" if machine.get("region") else ""
        self.log(
            f"created {machine['id']}{where} ({dp.release_of(machine)}, {dp.image_of(machine)})"
        )
        return machine

    def update(self, mid: str, config: Mapping[str, Any]) -> dict:
        machine = self._change(
            "update",
            mid,
            lambda nonce: self.client.update_machine(
                self.app, mid, {"config": dict(config)}, nonce
            ),
        )
        self.log(
            f"updated {mid} to {dp.release_of(machine)} ({dp.image_of(machine)}), "
            f"instance {machine.get('instance_id')}"
        )
        return machine

    def uncordon(self, mid: str) -> None:
        self._change("uncordon", mid, lambda nonce: self.client.uncordon(self.app, mid, nonce))
        self.log(f"uncordoned {mid}: it takes traffic")

    def cordon(self, mid: str) -> None:
        self._change("cordon", mid, lambda nonce: self.client.cordon(self.app, mid, nonce))
        self.log(f"cordoned {mid}: no new traffic")

    def stop(self, mid: str) -> None:
        self._change(
            "stop", mid, lambda nonce: self.client.stop_machine(self.app, mid, nonce=nonce)
        )
        self.log(f"stopping {mid}")

    def destroy(self, mid: str, force: bool = True, wait: bool = False) -> bool:
        """Destroy ``mid``; False when it was already gone. ``wait``: until Fly says it is
        destroyed (a machine that ran is stopped first: it stays in the app's list until then)."""
        try:
            self._change(
                "destroy",
                mid,
                lambda nonce: self.client.delete_machine(self.app, mid, force=force, nonce=nonce),
            )
        except MachineGone:
            self.leases.forget(mid)
            self.log(f"{mid} was already destroyed")
            return False
        self.leases.forget(mid)
        if wait:
            self.client.wait_machine(self.app, mid, "destroyed", None, self.wait_timeout)
        self.log(f"destroyed {mid}")
        return True

    def _change(self, what: str, mid: str, call):
        """``call(nonce)`` under the machine's lease; a machine that is gone (unknown, or
        destroyed: Fly answers 404 or 409) is :class:`MachineGone`; any other error names
        the machine."""
        touched, self.touched = self.touched, True
        try:
            return call(self.leases.nonce(mid))
        except ApiError as err:
            if refused(err):
                self.touched = touched
            if err.status in (404, 409) and self.is_gone(mid):
                raise MachineGone(
                    err.vendor, err.status, "machine_gone", f"machine {mid} is gone ({what})"
                ) from None
            if mid not in err.message:
                err.message = f"{what} {mid}: {err.message}"
            raise

    def is_gone(self, mid: str) -> bool:
        try:
            return self.get(mid).get("state") in dp.GONE_STATES
        except ApiError as err:
            if err.status == 404:
                return True
            raise

    # --- waiting --------------------------------------------------------------------------
    def wait_state(self, mid: str, state: str, instance_id: str | None = None) -> None:
        self.leases.keep()
        try:
            self.client.wait_machine(self.app, mid, state, instance_id, self.wait_timeout)
        except ApiError as err:
            if err.status != 408 and state != "destroyed" and self.is_gone(mid):
                raise MachineGone(
                    err.vendor, err.status, "machine_gone", f"machine {mid} is gone (wait)"
                ) from None
            raise
        self.log(f"{mid} is {state}")

    def wait_healthy(self, mid: str, instance_id: str | None = None) -> dict[str, Any]:
        """Wait until ``mid`` (this ``instance_id`` of it) is started and passes every check."""
        self.leases.keep()

        def ready(machine: Mapping[str, Any]) -> bool:
            if instance_id and machine.get("instance_id") != instance_id:
                return False
            return dp.is_healthy(machine) or machine.get("state") in DEAD_STATES

        passed, machine, took = wait_until(
            lambda: self.get(mid),
            ready,
            self.wait_timeout,
            interval=0.2,
            max_interval=1.0,
            clock=self.client.clock,
            sleep=self.client.sleep,
        )
        if passed and dp.is_healthy(machine):
            self.log(f"{mid} passes its checks ({took:.1f}s)")
            return machine
        if passed:
            problem = f"is {machine.get('state')} instead of passing its checks"
        else:
            problem = (
                f"does not pass its checks after {self.wait_timeout:g}s "
                f"({describe_checks(machine)})"
            )
        raise ApiError(VENDOR, None, "unhealthy", f"machine {mid} {problem}", "wait_timeout")
