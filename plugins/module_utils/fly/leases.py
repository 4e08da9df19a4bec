# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The leases ``fly_deploy`` holds on every machine it touches.

A deploy takes the leases of the machines it will change before it changes anything, so a
machine leased by another stops it with nothing changed. Machines it creates are leased from
birth (``lease_ttl`` in the create request; Fly answers with the nonce). Every change names
the lease (``fly-machine-lease-nonce``). Leases are refreshed while the deploy works (Fly's
refresh: the same ``POST .../lease`` with the nonce) and released in a ``finally``, whatever
happened; a machine destroyed took its lease with it.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import NONCE_HEADER


class LeaseHeld(ApiError):
    """A machine the deploy needs is leased by someone else."""


class Leases:
    """The nonces of the leases this deploy holds, by machine id."""

    def __init__(
        self,
        client,
        app: str,
        ttl_s: int,
        description: str,
        log: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.client = client
        self.app = app
        self.ttl_s = int(ttl_s)
        self.description = description
        self.log = log
        self.nonces: dict[str, str] = {}
        self.refreshed_at = client.clock()
        self.problems: list[str] = []

    def __contains__(self, mid: str) -> bool:
        return mid in self.nonces

    def nonce(self, mid: str) -> str | None:
        return self.nonces.get(mid)

    def acquire(self, mid: str) -> str:
        """Lease ``mid``; a lease held by another is :class:`LeaseHeld` naming the holder."""
        if mid in self.nonces:
            return self.nonces[mid]
        try:
            nonce = self.client.acquire_lease(self.app, mid, self.ttl_s, self.description)
        except ApiError as err:
            if err.status == 409:
                raise LeaseHeld(
                    err.vendor, err.status, "lease_held", err.message, "lease"
                ) from None
            raise
        self.nonces[mid] = nonce
        return nonce

    def acquire_all(self, mids) -> None:
        for mid in mids:
            self.acquire(mid)
        if self.nonces:
            self.log(f"leased {len(self.nonces)} machine(s) for {self.ttl_s}s: {self.ids()}")

    def adopt(self, machine: dict) -> None:
        """A machine created with ``lease_ttl``: keep its nonce, or lease it now when Fly's
        answer had none."""
        nonce = machine.get("nonce") or (machine.get("lease") or {}).get("nonce")
        if nonce:
            self.nonces[machine["id"]] = nonce
        else:
            self.acquire(machine["id"])

    def forget(self, mid: str) -> None:
        """The machine is gone, and its lease with it."""
        self.nonces.pop(mid, None)

    def ids(self) -> str:
        return ", ".join(sorted(self.nonces))

    def keep(self) -> None:
        """Refresh every lease once half its time has passed (called between steps)."""
        now = self.client.clock()
        if now - self.refreshed_at < self.ttl_s / 2:
            return
        for mid, nonce in list(self.nonces.items()):
            path = f"/apps/{quote(self.app, safe='')}/machines/{quote(mid, safe='')}/lease"
            try:
                self.client.request(
                    "POST",
                    path,
                    params={"ttl": self.ttl_s},
                    body={"ttl": self.ttl_s, "description": self.description},
                    headers={NONCE_HEADER: nonce},
                )
            except ApiError as err:
                if err.status == 404:
                    self.forget(mid)
                    continue
                raise
        self.refreshed_at = now

    def release_all(self) -> None:
        """Release every lease; a failure is noted (``problems``), never raised: this runs in
        a ``finally``, and an unreleased lease expires on its own after ``ttl_s``."""
        for mid, nonce in list(self.nonces.items()):
            try:
                self.client.release_lease(self.app, mid, nonce)
            except ApiError as err:
                if err.status != 404:
                    self.problems.append(f"lease on {mid} not released ({err}); it expires")
            except Exception as err:  # whatever happens, try the others
                self.problems.append(f"lease on {mid} not released ({err}); it expires")
            self.nonces.pop(mid, None)
