# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The release command (database migrations) of ``fly_deploy``: run once, before any traffic
moves, in a temporary machine of the new image with the app's env (Fly adds the app's
secrets to every machine), never restarted and destroyed by Fly when it ends
(``auto_destroy``), and destroyed by us in any case.

Its end is read from the machine's events, as flyctl does: the newest ``exit`` event's exit
code (fly-go's ``request.exit_event.exit_code`` or ``request.MonitorEvent.exit_event...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import wait_until
from ansible_collections.sigma.deploy.plugins.module_utils.fly import deploy_plan as dp
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import VENDOR
from ansible_collections.sigma.deploy.plugins.module_utils.fly.deploy_ops import Machines

ENDED = ("stopped", "destroying", "destroyed")
SHOWN_EVENTS = 5


def exit_code(events: Sequence[Mapping[str, Any]]) -> int | None:
    """The exit code of the newest ``exit`` event (events come newest first), or None."""
    newest = sorted(events, key=lambda e: e.get("timestamp") or 0, reverse=True)
    for event in newest:
        if event.get("type") != "exit":
            continue
        request = event.get("request") or {}
        monitor = (request.get("MonitorEvent") or {}).get("exit_event") or {}
        for source in (monitor, request.get("exit_event") or {}, request):
            if source.get("exit_code") is not None:
                return int(source["exit_code"])
    return None


def event_lines(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """The last events of a machine, oldest first, one line each: ``start started (flyd)``."""
    newest = sorted(events, key=lambda e: e.get("timestamp") or 0, reverse=True)[:SHOWN_EVENTS]
    lines = []
    for event in reversed(newest):
        request = event.get("request") or {}
        detail = {k: v for k, v in request.items() if k in ("exit_code", "error")}
        extra = "".join(f" {k}={v}" for k, v in sorted(detail.items()))
        lines.append(f"{event.get('type')} {event.get('status')} ({event.get('source')}){extra}")
    return lines


def _ended(machine: Mapping[str, Any]) -> bool:
    return machine.get("state") in ENDED or exit_code(machine.get("events") or []) is not None


def run_release_command(
    machines: Machines,
    template: Mapping[str, Any],
    image: str,
    release_id: str,
    command: Sequence[str],
    region: str | None,
) -> dict[str, Any]:
    """Run ``command`` once and wait for it to end; its machine id and exit code. A non-zero
    exit, a machine that never ends within ``wait_timeout``, or one whose exit code cannot be
    read raise :class:`ApiError` with the machine's last events. The machine is destroyed."""
    config = dp.release_command_config(template, image, release_id, command)
    machine = machines.create(config, region, register=False)
    mid = machine["id"]
    machines.log(f"release command {' '.join(command)!r} runs in {mid}")
    try:
        ended, machine, took = wait_until(
            lambda: machines.get(mid),
            _ended,
            machines.wait_timeout,
            interval=0.2,
            max_interval=2.0,
            clock=machines.client.clock,
            sleep=machines.client.sleep,
        )
        events = _events(machines, mid, machine)
        code = exit_code(events)
        if not ended:
            raise _failure(f"did not end within {machines.wait_timeout:g}s", mid, events)
        if code is None:
            raise _failure("ended without an exit code", mid, events)
        if code != 0:
            raise _failure(f"exited with code {code}", mid, events)
        machines.log(f"release command in {mid} exited 0 ({took:.1f}s)")
        return {"machine_id": mid, "exit_code": code}
    finally:
        machines.destroy(mid)


def _events(machines: Machines, mid: str, machine: Mapping[str, Any]) -> list:
    try:
        return machines.client.list_events(machines.app, mid) or []
    except ApiError:
        return list(machine.get("events") or [])


def _failure(what: str, mid: str, events: Sequence[Mapping[str, Any]]) -> ApiError:
    shown = "; ".join(event_lines(events)) or "none"
    return ApiError(
        VENDOR,
        None,
        "release_command_failed",
        f"the release command (machine {mid}) {what}; nothing was switched. "
        f"Its last events: {shown}",
        "release_command",
    )
