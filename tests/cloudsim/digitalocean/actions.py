"""Actions: the core engine (delay and injected errors) seen as DigitalOcean actions.

A core action is ``running`` → ``success`` | ``error``; DigitalOcean calls these
``in-progress`` → ``completed`` | ``errored``. Only unfinished actions are looked at on each
request, so thousands of finished actions cost nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..core import Action, Actions, Faults, Ids, Request, Response, Router, now_iso
from .catalog import REGIONS, region_json
from .common import JSON, paginate, require_int, zulu

STATUS = {"running": "in-progress", "success": "completed", "error": "errored"}


class DoActions(Actions):
    def __init__(self, ids: Ids, faults: Faults) -> None:
        super().__init__(ids, faults, kind="action")
        self.pending: dict[int, Action] = {}

    def start(
        self,
        command: str,
        resources: list[JSON],
        effect: Callable[[], None] | None = None,
        on_error: Callable[[], None] | None = None,
    ) -> Action:
        action = Action(
            id=self.ids.next(self.kind),
            command=command,
            resources=resources,
            started=now_iso(),
            due=time.monotonic() + self.faults.action_delay,
            fail=self.faults.take_action_error(),
            effect=effect,
            on_error=on_error,
        )
        self.by_id[action.id] = action
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
            if callback:
                try:
                    callback()
                except Exception:  # the backend failed: the action errs, not this request
                    action.fail = True

    def reset(self) -> None:
        self.by_id.clear()
        self.pending.clear()

    # -- API ------------------------------------------------------------------------------
    def routes(self, router: Router) -> None:
        router.add("GET", "/actions", self.list)
        router.add("GET", "/actions/{action_id}", self.get_one)

    def list(self, request: Request) -> Response:
        newest_first = list(reversed(self.by_id.values()))
        return Response(200, paginate(request, "actions", newest_first, render))

    def get_one(self, request: Request) -> Response:
        action = self.get(require_int(request.params["action_id"], "action"))
        return Response(200, {"action": render(action)})


def render(action: Action) -> JSON:
    resource = action.resources[0] if action.resources else {}
    body: JSON = {
        "id": action.id,
        "status": STATUS[action.state],
        "type": action.command,
        "started_at": zulu(action.started),
        "completed_at": zulu(action.finished),
        "resource_id": resource.get("id"),
        "resource_type": resource.get("type", "droplet"),
        "region_slug": resource.get("region"),
    }
    if resource.get("region") in REGIONS:
        body["region"] = region_json(resource["region"])
    return body


def link(base: str, action: Action, rel: str) -> JSON:
    return {"id": action.id, "rel": rel, "href": f"{base}/actions/{action.id}"}
