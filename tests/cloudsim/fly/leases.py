"""Machine leases: ``POST/GET/DELETE /apps/{app}/machines/{id}/lease``.

As fly-go (``AcquireLease``, ``RefreshLease``, ``ReleaseLease``): the ttl comes as a query
parameter (a body ``{"ttl", "description"}`` as the 2024 spec has it is read too), the
answer is ``{"status": "success", "data": {"nonce", "expires_at", "owner", "version",
"description"}}``, and the nonce travels in the ``fly-machine-lease-nonce`` header.

A lease lasts ``ttl`` seconds by ``vendor.clock`` (replaceable in tests). While it holds,
every changing call on the machine (update, start, stop, restart, delete, cordon, uncordon)
needs its nonce: without one the answer is 409 naming the holder and the expiry; with
another nonce, 412.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from ..core import JSON, ApiError, Request, Response, Router

HEADER = "fly-machine-lease-nonce"
OWNER = "sim@cloudsim.invalid"  # whose token holds it: the simulator has one user
DEFAULT_TTL = 30


@dataclass
class Lease:
    nonce: str
    owner: str
    description: str
    expires_at: float
    version: str

    def json(self) -> JSON:
        return {
            "nonce": self.nonce,
            "expires_at": int(self.expires_at),
            "owner": self.owner,
            "description": self.description,
            "version": self.version,
        }


def new(vendor, ttl: int, description: str) -> Lease:
    if ttl < 1:
        raise ApiError(400, "invalid_input", f"invalid ttl: at least 1 second (got {ttl})")
    return Lease(
        nonce=uuid.uuid4().hex[:12],
        owner=OWNER,
        description=description,
        expires_at=vendor.clock() + ttl,
        version=uuid.uuid4().hex[:26].upper(),
    )


def current(vendor, machine) -> Lease | None:
    """The machine's lease while it holds; an expired one is dropped."""
    if machine.lease is not None and machine.lease.expires_at <= vendor.clock():
        machine.lease = None
    return machine.lease


def held_message(vendor, machine, lease: Lease) -> str:
    when = datetime.fromtimestamp(lease.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    left = max(0, round(lease.expires_at - vendor.clock()))
    holder = f"{lease.owner} ({lease.description})" if lease.description else lease.owner
    return (
        f"lease for machine {machine.id} currently held by {holder}, expires at {when} (in {left}s)"
    )


def require(vendor, machine, req: Request) -> None:
    """Refuse a changing call on a leased machine unless it carries the lease's nonce."""
    lease = current(vendor, machine)
    if lease is None:
        return
    nonce = req.headers.get(HEADER)
    if not nonce:
        raise ApiError(409, "conflict", held_message(vendor, machine, lease))
    if nonce != lease.nonce:
        raise ApiError(
            412,
            "failed_precondition",
            f"lease nonce mismatch for machine {machine.id}: "
            + held_message(vendor, machine, lease),
        )


def _ttl(req: Request, body: JSON) -> int:
    raw = req.arg("ttl", None)
    if raw is None:
        raw = body.get("ttl", DEFAULT_TTL)
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_input", f"invalid ttl: seconds (got {raw!r})") from exc


def acquire(vendor, req: Request) -> Response:
    m = vendor.machine(req.params["app"], req.params["id"])
    body = req.body if isinstance(req.body, dict) else {}
    ttl = _ttl(req, body)
    lease = current(vendor, m)
    if lease is not None:
        if req.headers.get(HEADER) != lease.nonce:
            raise ApiError(409, "conflict", held_message(vendor, m, lease))
        lease.expires_at = vendor.clock() + ttl  # a refresh by the holder
    else:
        m.lease = lease = new(vendor, ttl, str(body.get("description") or ""))
    return Response(200, {"status": "success", "data": lease.json()})


def show(vendor, req: Request) -> Response:
    m = vendor.machine(req.params["app"], req.params["id"])
    lease = current(vendor, m)
    if lease is None:
        raise ApiError(404, "not_found", f"no lease on machine {m.id}")
    return Response(200, {"status": "success", "data": lease.json()})


def release(vendor, req: Request) -> Response:
    m = vendor.machine(req.params["app"], req.params["id"])
    require(vendor, m, req)
    m.lease = None
    return Response(200, {"ok": True})


def register(router: Router, vendor) -> None:
    router.add("POST", "/apps/{app}/machines/{id}/lease", partial(acquire, vendor))
    router.add("GET", "/apps/{app}/machines/{id}/lease", partial(show, vendor))
    router.add("DELETE", "/apps/{app}/machines/{id}/lease", partial(release, vendor))
