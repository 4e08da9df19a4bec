"""How the release command's end is read from a machine's events (fly-go's shapes)."""

from __future__ import annotations

from ansible_collections.sigma.deploy.plugins.module_utils.fly.release_command import exit_code


def exit_event(request: dict, ts: int) -> dict:
    return {
        "type": "exit",
        "status": "stopped",
        "source": "flyd",
        "timestamp": ts,
        "request": request,
    }


def test_no_exit_event_is_no_exit_code():
    assert (
        exit_code([{"type": "start", "status": "started", "timestamp": 1, "request": {}}]) is None
    )


def test_an_exit_event_without_a_code_is_a_clean_exit():
    assert exit_code([exit_event({"exit_event": {"exited_at": "2026-12-07T00:00:00Z"}}, 1)]) == 0


def test_the_code_of_the_newest_exit_event_counts():
    events = [
        exit_event({"exit_event": {"exit_code": 3}}, 2),
        exit_event({"exit_event": {}}, 1),
    ]
    assert exit_code(events) == 3
    assert exit_code(list(reversed(events))) == 3


def test_the_monitor_event_wins_over_the_exit_event():
    request = {"MonitorEvent": {"exit_event": {"exit_code": 137}}, "exit_event": {"exit_code": 1}}
    assert exit_code([exit_event(request, 1)]) == 137
