# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declared state of a deploy's target (a host of the VPS rung today): one dict, built by
``target_new`` from what the target serves and changed only by ``target_note``, which returns a
new dict and refuses a move its result does not allow. Pure functions of plain data, used by
the filters ``deploy_target_new`` and ``deploy_target_note``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


class TargetError(ValueError):
    """A target or a note that the rules refuse."""


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
        raise TargetError(f"{name} serves no slot (active_slot is {active!r}, not blue or green)")
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
    unknown event or field, or a missing one raises TargetError."""
    if event not in EVENTS:
        raise TargetError(f"unknown event {event!r} (known: {', '.join(EVENTS)})")
    allowed, takes = EVENTS[event]
    unknown = sorted(set(fields) - takes)
    if unknown:
        raise TargetError(f"event {event!r} takes no {', '.join(unknown)}")
    needed = sorted(takes - {"start", "switch"} - set(fields))
    if needed:
        raise TargetError(f"event {event!r} needs {', '.join(needed)}")
    missing = sorted(set(TARGET_FIELDS) - set(target))
    if missing:
        raise TargetError(f"not a target (no {', '.join(missing)})")
    result = target["result"]
    if result not in allowed:
        raise TargetError(
            f"{target['name']}: a target that is {result} cannot be noted {event!r}"
            f" (only one that is {', '.join(sorted(allowed))})"
        )
    new = {**target, "before": dict(target["before"]), "after": dict(target["after"])}
    _apply(new, event, fields)
    return new
