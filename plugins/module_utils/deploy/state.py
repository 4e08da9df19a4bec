# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declared state of a deploy, as two dicts changed only by pure functions that return a
new dict and refuse what the rules do not allow:

- the deploy (run once): built by ``deploy_start``, stopped by ``deploy_stop`` (a gate said no)
  or ``deploy_check`` (too many targets failed), closed by ``deploy_finish``;
- each target (a host of the VPS rung, or a whole app of the Fly.io rung): built by
  ``target_new`` (``target_new_app``) from what the target serves, changed by ``target_note``.

Used by the filters ``deploy_start``, ``deploy_stop``, ``deploy_check``, ``deploy_finish``,
``deploy_target_new``, ``deploy_target_app`` and ``deploy_target_note``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The fields of the deploy and what each holds.
DEPLOY_FIELDS = {
    "id": "the deploy's id (the lock's token, the ledger entry's id)",
    "kind": "deploy or rollback",
    "strategy": "blue_green, rolling or canary",
    "who": "who runs it",
    "job_id": "the AWX or Tower job, empty outside one",
    "started": "when it started (UTC, ISO 8601)",
    "started_at": "when it started (seconds since the epoch)",
    "abort": "it stops: no later phase moves anything",
    "error": "why it stopped (empty while it did not)",
    "failed_hosts": "the targets that failed or left, as the last check counted them",
    "gone_hosts": "the targets that left the run, when it finished",
    "result": "running, then succeeded or failed",
    "finished": "when it finished (UTC, ISO 8601; empty before)",
    "duration": "how long it took, in seconds with one decimal (empty before)",
}

# The fields of a target and what each holds.
TARGET_FIELDS = {
    "name": "the target's name (the inventory host)",
    "lb_member": "its name as a target of a provider load balancer",
    "before": "what it served when the deploy started: {release, slot}",
    "after": "where the release goes: {slot} (the idle slot)",
    "current": "it served the release already, so it stays as it is",
    "warm": "its idle slot runs the release already: a switch is all it takes",
    "result": "pending, unchanged, started, succeeded, failed or rolled_back",
    "error": "why it failed (empty when it did not)",
    "started": "this deploy started the new slot's units (a revert stops them)",
    "switched": "the traffic moves or moved to the new slot (a revert moves it back)",
    "moved": "a canary step sent part of the traffic to the new slot",
    "t0": "when the deploy began on it (seconds since the epoch)",
    "t1": "when it was last done or put back (none before)",
}

SLOTS = ("blue", "green")
# Per event: the results it may follow, and the fields it takes.
EVENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # Before the start and the switch: remember what is about to change, for a revert.
    "activate": (frozenset({"pending", "started"}), frozenset({"start", "switch"})),
    # The start (and the switch, if any) went well: started, or succeeded after a switch.
    "done": (frozenset({"pending", "started"}), frozenset({"at"})),
    "fail": (frozenset({"pending", "started"}), frozenset({"error"})),
    # A canary step sent part of the requests to the new slot.
    "move": (frozenset({"pending", "started", "succeeded", "failed"}), frozenset()),
    # Back on the old slot: a failed target stays failed, any other is rolled_back.
    "revert": (frozenset({"pending", "started", "succeeded", "failed"}), frozenset({"at"})),
}


class StateError(ValueError):
    """A deploy, a target or a change of one that the rules refuse."""


def _other(slot: str) -> str:
    return "green" if slot == "blue" else "blue"


def _weight(value: Any) -> int:
    """A canary weight as Jinja's ``default(0, true) | int`` read it: 0 when empty or no number."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _runs(slot: Mapping[str, Any]) -> bool:
    return bool(slot.get("api_active", False)) and bool(slot.get("web_active", False))


def target_new(
    info: Mapping[str, Any], release_id: str, name: str, lb_member: str, t0: float
) -> dict[str, Any]:
    """A target as the deploy finds it: ``info`` is what ``release_info`` read on it."""
    active = info.get("active_slot")
    if active not in SLOTS:
        raise StateError(f"{name} serves no slot (active_slot is {active!r}, not blue or green)")
    idle = _other(active)
    slots = info.get("slots") or {}
    current = (
        info.get("serving_release") == release_id
        and _weight(info.get("canary_weight")) == 0
        and _runs(slots.get(active) or {})
    )
    warm = (slots.get(idle) or {}).get("release_id") == release_id and _runs(slots.get(idle) or {})
    return {
        "name": name,
        "lb_member": lb_member,
        "before": {"release": info.get("serving_release") or "", "slot": active},
        "after": {"slot": idle},
        "current": current,
        "warm": warm,
        "result": "unchanged" if current else "pending",
        "error": "",
        "started": False,
        "switched": False,
        "moved": False,
        "t0": t0,
        "t1": None,
    }


def target_new_app(before_release: str, current: bool, name: str, t0: float) -> dict[str, Any]:
    """A target that is a whole app on a platform that runs its machines itself (the Fly.io
    rung): it has no slots; ``before_release`` is what it served, ``current`` whether it
    serves the release already (nothing to change: result unchanged)."""
    return {
        "name": name,
        "lb_member": "",
        "before": {"release": before_release or "", "slot": ""},
        "after": {"slot": ""},
        "current": bool(current),
        "warm": False,
        "result": "unchanged" if current else "pending",
        "error": "",
        "started": False,
        "switched": False,
        "moved": False,
        "t0": t0,
        "t1": None,
    }


def _apply(target: dict[str, Any], event: str, fields: Mapping[str, Any]) -> None:
    """Apply an allowed event to ``target`` (a copy)."""
    if event == "activate":
        start, switch = bool(fields.get("start", True)), bool(fields.get("switch", True))
        target["started"] = target["started"] or (start and not target["warm"])
        target["switched"] = target["switched"] or switch
    elif event == "done":
        target["result"] = "succeeded" if target["switched"] else "started"
        target["t1"] = fields["at"]
    elif event == "fail":
        target["result"] = "failed"
        target["error"] = str(fields["error"])
    elif event == "move":
        target["moved"] = True
    elif event == "revert":
        target["result"] = "failed" if target["result"] == "failed" else "rolled_back"
        target.update(switched=False, moved=False, started=False, t1=fields["at"])


def target_note(target: Mapping[str, Any], event: str, **fields: Any) -> dict[str, Any]:
    """``target`` with ``event`` applied, as a new dict; a move its result does not allow, an
    unknown event or field, or a missing one raises StateError."""
    if event not in EVENTS:
        raise StateError(f"unknown event {event!r} (known: {', '.join(EVENTS)})")
    allowed, takes = EVENTS[event]
    unknown = sorted(set(fields) - takes)
    if unknown:
        raise StateError(f"event {event!r} takes no {', '.join(unknown)}")
    needed = sorted(takes - {"start", "switch"} - set(fields))
    if needed:
        raise StateError(f"event {event!r} needs {', '.join(needed)}")
    missing = sorted(set(TARGET_FIELDS) - set(target))
    if missing:
        raise StateError(f"not a target (no {', '.join(missing)})")
    result = target["result"]
    if result not in allowed:
        raise StateError(
            f"{target['name']}: a target that is {result} cannot be noted {event!r}"
            f" (only one that is {', '.join(sorted(allowed))})"
        )
    new = {**target, "before": dict(target["before"]), "after": dict(target["after"])}
    _apply(new, event, fields)
    return new


def deploy_start(
    deploy_id: str,
    kind: str,
    strategy: str,
    who: str,
    job_id: str,
    started: str,
    started_at: float,
) -> dict[str, Any]:
    """A deploy as it starts: running, not stopped."""
    return {
        "id": deploy_id,
        "kind": kind,
        "strategy": strategy,
        "who": who,
        "job_id": job_id,
        "started": started,
        "started_at": started_at,
        "abort": False,
        "error": "",
        "failed_hosts": [],
        "gone_hosts": [],
        "result": "running",
        "finished": "",
        "duration": "",
    }


def _running(deploy: Mapping[str, Any], what: str) -> dict[str, Any]:
    """A copy of a running deploy; a finished one or a dict that is no deploy raises."""
    missing = sorted(set(DEPLOY_FIELDS) - set(deploy))
    if missing:
        raise StateError(f"not a deploy (no {', '.join(missing)})")
    if deploy["result"] != "running":
        raise StateError(f"deploy {deploy['id']} is {deploy['result']} already: it cannot {what}")
    return {**deploy, "failed_hosts": list(deploy["failed_hosts"])}


def deploy_stop(deploy: Mapping[str, Any], error: str) -> dict[str, Any]:
    """The deploy stopped by a gate (a migration, a canary step, the schema check), saying why."""
    new = _running(deploy, "stop")
    new.update(abort=True, error=str(error))
    return new


def deploy_check(deploy: Mapping[str, Any], outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The deploy after a count of its failed targets (what the filter ``deploy_outcome``
    returned: ``failed_hosts``, ``abort``, ``error``)."""
    new = _running(deploy, "be checked")
    new.update(
        failed_hosts=list(outcome["failed_hosts"]),
        abort=bool(outcome["abort"]),
        error=str(outcome["error"]),
    )
    return new


def deploy_finish(
    deploy: Mapping[str, Any], gone_hosts: list[str], finished: str, at: float
) -> dict[str, Any]:
    """The deploy closed at ``at``: failed when it stopped, a target failed, or one left."""
    new = _running(deploy, "finish")
    failed = new["abort"] or len(new["failed_hosts"]) > 0 or len(gone_hosts) > 0
    new.update(
        result="failed" if failed else "succeeded",
        gone_hosts=list(gone_hosts),
        finished=finished,
        duration=f"{at - float(new['started_at']):.1f}",
    )
    return new
