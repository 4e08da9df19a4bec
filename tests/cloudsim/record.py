"""The simulator's record of exchanges (``server.py`` appends one JSON line per exchange), read
back, and what happened derived from it.

A test that wants a sequence of states (the targets of a load balancer during a rolling
deploy) derives it from the record, where every change is, instead of polling, which misses
states that last less than its interval on a busy machine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from .core import JSON

HETZNER_TARGET_ACTION = re.compile(r"^/load_balancers/(\d+)/actions/(add_target|remove_target)$")
FINISHED = ("success", "error")


def mark(path: Path) -> int:
    """How many exchanges the record holds now: read from here on with ``exchanges``."""
    if not path.exists():
        return 0
    with path.open() as lines:
        return len(lines.readlines())


def exchanges(path: Path, start: int = 0) -> list[JSON]:
    """The exchanges of the record, from the ``start``-th (0: all) on."""
    if not path.exists():
        return []
    with path.open() as lines:
        return [json.loads(line) for n, line in enumerate(lines) if n >= start]


def _actions_in(body: object) -> list[JSON]:
    """The actions an answer shows (``action``, or a list of ``actions``), by id."""
    if not isinstance(body, dict):
        return []
    found = [body["action"]] if isinstance(body.get("action"), dict) else []
    found += [a for a in body.get("actions") or [] if isinstance(a, dict)]
    return sorted(found, key=lambda a: a.get("id", 0))


def _server_ids(targets: list[JSON]) -> set[int]:
    return {t["server"]["id"] for t in targets if t.get("type") == "server"}


def hetzner_lb_server_targets(record: Iterable[JSON], lb_id: int) -> list[frozenset[int]]:
    """The ids of the servers a Hetzner load balancer targets: as created, then after each
    change of them, in the order the changes took effect.

    A change is an ``add_target`` or ``remove_target`` action on the load balancer for a server,
    accepted by the API. It takes effect when its action succeeds, which the record shows in the
    action's own answer (an action done at once) or in a later answer that shows the action
    (``GET /actions/{id}``, a list of actions): the client waiting for it reads it. An action
    that ends in error, or is never seen to end, changes nothing. Other targets (label
    selectors, addresses) are left out.
    """
    current: set[int] | None = None
    history: list[frozenset[int]] = []
    waiting: dict[int, tuple[str, int]] = {}  # action id -> (command, server id)
    for line in record:
        if line.get("vendor") != "hetzner" or not 200 <= line.get("status", 0) < 300:
            continue
        body = line.get("response_body")
        method, path = line.get("method"), line.get("path", "")
        created = body.get("load_balancer") if isinstance(body, dict) else None
        if (method, path) == ("POST", "/load_balancers") and created and created["id"] == lb_id:
            current = _server_ids(created.get("targets") or [])
            history.append(frozenset(current))
            continue
        change = HETZNER_TARGET_ACTION.match(path)
        if method == "POST" and change and int(change.group(1)) == lb_id:
            target = json.loads(line.get("request_body") or "{}")
            if target.get("type") == "server":
                waiting[body["action"]["id"]] = (change.group(2), target["server"]["id"])
        for action in _actions_in(body):
            if action.get("id") not in waiting or action.get("status") not in FINISHED:
                continue
            command, server_id = waiting.pop(action["id"])
            if action["status"] == "error":
                continue
            if current is None:
                raise ValueError(f"load balancer {lb_id} changes before the record creates it")
            if command == "add_target":
                current.add(server_id)
            else:
                current.discard(server_id)
            history.append(frozenset(current))
    if current is None:
        raise ValueError(f"the record does not create load balancer {lb_id}")
    return history


def hetzner_server_creations(record: Iterable[JSON]) -> list[tuple[str, str]]:
    """What the record shows of the Hetzner servers created in it, in record order:
    ``("sent", name)`` when a ``POST /servers`` is accepted, ``("done", name)`` when an answer
    first shows that create's action finished (success or error).

    The create's action is the ``action`` of the ``POST /servers`` answer; it is seen finished
    in that answer itself (an action done at once) or in a later one that shows it (``GET
    /actions/{id}``, a list of actions). A create whose action is never seen to end has no
    ``done``. With creation in parallel every ``sent`` comes before the first ``done``; one
    server after another alternates them.
    """
    events: list[tuple[str, str]] = []
    waiting: dict[int, str] = {}  # action id -> server name
    for line in record:
        if line.get("vendor") != "hetzner" or not 200 <= line.get("status", 0) < 300:
            continue
        body = line.get("response_body")
        if (line.get("method"), line.get("path")) == ("POST", "/servers"):
            events.append(("sent", body["server"]["name"]))
            waiting[body["action"]["id"]] = body["server"]["name"]
        for action in _actions_in(body):
            if action.get("id") in waiting and action.get("status") in FINISHED:
                events.append(("done", waiting.pop(action["id"])))
    return events
