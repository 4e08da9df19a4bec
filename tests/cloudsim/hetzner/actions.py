"""Hetzner actions: the core engine, indexed by resource, and the action endpoints.

An action is ``running`` until ``faults.action_delay`` has passed, then ``success`` (its
effect is applied) or ``error`` (``faults.action_error_next``: the effect does not happen).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from ..core import JSON, Action, Actions, Faults, Ids, Request, Response, now_iso
from . import base

ACTION_SORTS = {
    "id": lambda a: a.id,
    "command": lambda a: a.command,
    "status": lambda a: a.state,
    "started": lambda a: a.started,
    "finished": lambda a: a.finished or "",
}
FAILED = {"code": "action_failed", "message": "Action failed"}


class HetznerActions(Actions):
    """The core engine plus an index by resource and a set of the still running actions, so a
    request costs O(running actions), not O(all actions ever started)."""

    def __init__(self, ids: Ids, faults: Faults) -> None:
        super().__init__(ids, faults)
        self.pending: dict[int, Action] = {}
        self.by_resource: dict[tuple[str, int], list[Action]] = defaultdict(list)

    def start(
        self,
        command: str,
        resources: list[JSON],
        effect: Callable[[], None] | None = None,
        on_error: Callable[[], None] | None = None,
    ) -> Action:
        action = super().start(command, resources, effect, on_error)
        for resource in resources:
            self.by_resource[(resource["type"], resource["id"])].append(action)
        self.pending[action.id] = action
        self.tick()
        return action

    def tick(self) -> None:
        if not self.pending:
            return
        now = time.monotonic()
        held = self.faults.hold_command
        for action in [a for a in self.pending.values() if now >= a.due and a.command != held]:
            del self.pending[action.id]
            action.done = True
            action.finished = now_iso()
            callback = action.on_error if action.fail else action.effect
            try:
                if callback:
                    callback()
            except Exception as exc:  # a backend failure ends the action in error
                if action.fail:
                    raise
                action.fail = True
                action.error = {"code": "action_failed", "message": f"Action failed: {exc}"}
                if action.on_error:
                    action.on_error()

    def running(self, rtype: str, rid: int) -> bool:
        return any(not a.done for a in self.by_resource.get((rtype, rid), ()))

    def of(self, rtype: str, rid: int) -> list[Action]:
        return list(self.by_resource.get((rtype, rid), ()))

    def of_type(self, rtype: str) -> list[Action]:
        return [a for a in self.by_id.values() if any(r["type"] == rtype for r in a.resources)]

    def clear(self) -> None:
        self.by_id.clear()
        self.pending.clear()
        self.by_resource.clear()


def render(action: Action) -> JSON:
    error = None
    if action.done and action.fail:
        error = getattr(action, "error", None) or FAILED
    return {
        "id": action.id,
        "command": action.command,
        "status": action.state,
        "progress": 100 if action.done else 0,
        "started": action.started,
        "finished": action.finished,
        "resources": action.resources,
        "error": error,
    }


def one(action: Action, status: int = 201, **extra) -> Response:
    return Response(status, {"action": render(action), **extra})


def many(actions: list[Action], status: int = 201) -> Response:
    return Response(status, {"actions": [render(a) for a in actions]})


def _filtered(req: Request, actions: list[Action]) -> list[Action]:
    ids = req.query.get("id")
    if ids:
        try:
            wanted = {int(x) for x in ids}
        except ValueError as exc:
            raise base.bad_field("id", "must be an integer") from exc
        actions = [a for a in actions if a.id in wanted]
    statuses = req.query.get("status")
    if statuses:
        actions = [a for a in actions if a.state in statuses]
    return base.sort_items(req, actions, ACTION_SORTS)


def register(router, engine: HetznerActions) -> None:
    """``GET /actions?id=...`` and ``GET /actions/{id}``."""

    def list_actions(req: Request) -> Response:
        if not req.query.get("id"):
            raise base.bad_field("id", "Missing data for required field.")
        return base.page(req, _filtered(req, list(engine.by_id.values())), "actions", render)

    def get_action(req: Request) -> Response:
        action = engine.by_id.get(base.path_id(req, "action"))
        if action is None:
            raise base.not_found("action")
        return one(action, 200)

    router.add("GET", "/actions", list_actions)
    router.add("GET", "/actions/{id}", get_action)


def register_for(
    router, engine: HetznerActions, collection: str, rtype: str, exists: Callable[[int], bool]
) -> None:
    """The action endpoints of one resource kind (``/servers/actions``,
    ``/servers/{id}/actions``...). Register before ``/<collection>/{id}``."""
    what = rtype.replace("_", " ")

    def list_all(req: Request) -> Response:
        return base.page(req, _filtered(req, engine.of_type(rtype)), "actions", render)

    def get_one(req: Request) -> Response:
        action = engine.by_id.get(base.path_id(req, "action"))
        if action is None or not any(r["type"] == rtype for r in action.resources):
            raise base.not_found("action")
        return one(action, 200)

    def list_for(req: Request) -> Response:
        rid = base.path_id(req, what)
        if not exists(rid):
            raise base.not_found(what)
        return base.page(req, _filtered(req, engine.of(rtype, rid)), "actions", render)

    def get_for(req: Request) -> Response:
        rid = base.path_id(req, what)
        if not exists(rid):
            raise base.not_found(what)
        action = engine.by_id.get(base.path_id(req, "action", "action_id"))
        if action is None or action not in engine.by_resource.get((rtype, rid), ()):
            raise base.not_found("action")
        return one(action, 200)

    router.add("GET", f"/{collection}/actions", list_all)
    router.add("GET", f"/{collection}/actions/{{id}}", get_one)
    router.add("GET", f"/{collection}/{{id}}/actions", list_for)
    router.add("GET", f"/{collection}/{{id}}/actions/{{action_id}}", get_for)
