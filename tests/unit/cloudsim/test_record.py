"""Sequences of state derived from the simulator's record of exchanges (tests/cloudsim/record.py):
on small hand-made records, then on what the simulator records."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.cloudsim import record

LB = 7


def server(server_id: int) -> dict:
    return {"type": "server", "server": {"id": server_id}}


def created(lb_id: int, *server_ids: int, vendor: str = "hetzner") -> dict:
    targets = [{**server(i), "use_private_ip": False, "health_status": []} for i in server_ids] + [
        {"type": "ip", "ip": {"ip": "203.0.113.9"}, "health_status": []}
    ]
    return {
        "vendor": vendor,
        "method": "POST",
        "path": "/load_balancers",
        "request_body": "{}",
        "status": 201,
        "response_body": {
            "load_balancer": {"id": lb_id, "targets": targets},
            "action": {"id": 100 + lb_id, "command": "create_load_balancer", "status": "success"},
        },
    }


def change(command: str, action_id: int, status: str, server_id: int, lb_id: int = LB) -> dict:
    """An add_target or remove_target of a server, accepted, its action answered as status."""
    return {
        "vendor": "hetzner",
        "method": "POST",
        "path": f"/load_balancers/{lb_id}/actions/{command}",
        "request_body": json.dumps(server(server_id)),
        "status": 201,
        "response_body": {"action": {"id": action_id, "command": command, "status": status}},
    }


def read(path: str, *actions: tuple[int, str]) -> dict:
    """A read that shows actions: GET /actions/{id} ({"action"}) or a list ({"actions"})."""
    shown = [{"id": i, "command": "x", "status": s} for i, s in actions]
    body = {"action": shown[0]} if len(shown) == 1 else {"actions": shown}
    return {
        "vendor": "hetzner",
        "method": "GET",
        "path": path,
        "request_body": "",
        "status": 200,
        "response_body": body,
    }


def test_actions_done_at_once_take_effect_in_the_record_order():
    exchanges = [
        created(LB, 1, 2, 3),
        change("remove_target", 1, "success", 1),
        change("add_target", 2, "success", 1),
        change("remove_target", 3, "success", 2),
        change("add_target", 4, "success", 2),
    ]
    assert record.hetzner_lb_server_targets(exchanges, LB) == [
        frozenset({1, 2, 3}),
        frozenset({2, 3}),
        frozenset({1, 2, 3}),
        frozenset({1, 3}),
        frozenset({1, 2, 3}),
    ]


def test_a_running_action_takes_effect_when_a_later_answer_shows_it_succeeded():
    exchanges = [
        created(LB, 1, 2),
        change("remove_target", 1, "running", 2),
        read("/actions/1", (1, "running")),
        change("remove_target", 2, "running", 1),  # not waited for: a second, at once
        read("/actions", (2, "success"), (1, "success")),  # shown in id order
        read("/actions/1", (1, "success")),  # seen again: no second change
    ]
    assert record.hetzner_lb_server_targets(exchanges, LB) == [
        frozenset({1, 2}),
        frozenset({1}),
        frozenset(),
    ]


def test_what_does_not_change_the_targets_is_left_out():
    exchanges = [
        created(LB + 1, 5),
        created(LB, 1, 2),
        change("remove_target", 1, "success", 5, lb_id=LB + 1),  # another load balancer
        change("remove_target", 2, "error", 1),  # its action failed
        change("add_target", 3, "running", 3),  # never seen to end
        {**change("remove_target", 4, "success", 2), "status": 404, "response_body": {}},
        {**change("remove_target", 5, "success", 2), "vendor": "digitalocean"},
        {
            **change("add_target", 6, "success", 0),
            "request_body": json.dumps({"type": "label_selector", "label_selector": {}}),
        },
    ]
    assert record.hetzner_lb_server_targets(exchanges, LB) == [frozenset({1, 2})]


def test_a_record_without_the_load_balancer_is_refused():
    with pytest.raises(ValueError, match=r"^the record does not create load balancer 7$"):
        record.hetzner_lb_server_targets([created(LB + 1, 1)], LB)
    with pytest.raises(ValueError, match=r"^load balancer 7 changes before the record creates"):
        record.hetzner_lb_server_targets([change("remove_target", 1, "success", 1)], LB)


def test_mark_and_exchanges_read_from_where_the_mark_was(tmp_path):
    path = tmp_path / "exchanges.jsonl"
    assert (record.mark(path), record.exchanges(path)) == (0, [])
    path.write_text('{"n": 1}\n{"n": 2}\n')
    start = record.mark(path)
    with path.open("a") as out:
        out.write('{"n": 3}\n')
    assert (start, record.exchanges(path, start), len(record.exchanges(path))) == (2, [{"n": 3}], 3)


def test_the_simulator_records_enough_to_follow_a_load_balancer(sim):
    """Against the simulator: slow actions, waited for as our modules wait (GET /actions/{id})."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sim.token}"
    base = sim.endpoint("hetzner")

    def call(method: str, path: str, body: dict | None = None) -> dict:
        answer = session.request(method, base + path, json=body, verify=sim.ca_path, timeout=30)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def wait(action: dict) -> None:
        while action["status"] == "running":
            time.sleep(0.05)
            action = call("GET", f"/actions/{action['id']}")["action"]

    start = record.mark(sim.record)
    ids = []
    for name in ("rec-1", "rec-2"):
        body = {"name": name, "server_type": "cx22", "image": "debian-12", "location": "fsn1"}
        ids.append(call("POST", "/servers", body)["server"]["id"])
    body = {
        "name": "rec-lb",
        "load_balancer_type": "lb11",
        "location": "fsn1",
        "targets": [server(i) for i in ids],
    }
    lb_id = call("POST", "/load_balancers", body)["load_balancer"]["id"]
    sim.faults(action_delay=0.2)
    for command, server_id in [("remove_target", ids[0]), ("add_target", ids[0])]:
        wait(
            call("POST", f"/load_balancers/{lb_id}/actions/{command}", server(server_id))["action"]
        )
    sim.faults(action_error_next=1)
    failed = call("POST", f"/load_balancers/{lb_id}/actions/remove_target", server(ids[1]))
    wait(failed["action"])
    assert record.hetzner_lb_server_targets(record.exchanges(sim.record, start), lb_id) == [
        frozenset(ids),
        frozenset({ids[1]}),
        frozenset(ids),
    ]


def create(name: str, action_id: int, status: str = "running") -> dict:
    """An accepted POST /servers whose create action is answered as status."""
    return {
        "vendor": "hetzner",
        "method": "POST",
        "path": "/servers",
        "request_body": json.dumps({"name": name}),
        "status": 201,
        "response_body": {
            "server": {"id": 50 + action_id, "name": name},
            "action": {"id": action_id, "command": "create_server", "status": status},
            "next_actions": [{"id": 90 + action_id, "command": "start_server", "status": status}],
        },
    }


def test_creations_in_parallel_are_all_sent_before_the_first_is_seen_done():
    exchanges = [
        create("a", 1),
        read("/actions/1", (1, "running")),
        create("b", 2),
        read("/actions", (1, "success"), (2, "running")),
        read("/actions/2", (2, "error")),  # an action ending in error has ended too
        read("/actions/1", (1, "success")),  # seen again: no second "done"
    ]
    assert record.hetzner_server_creations(exchanges) == [
        ("sent", "a"),
        ("sent", "b"),
        ("done", "a"),
        ("done", "b"),
    ]


def test_creations_one_after_another_alternate():
    exchanges = [
        create("a", 1, status="success"),  # done at once
        create("b", 2),
        read("/actions/92", (92, "success")),  # b's start action, not its create
        read("/actions/2", (2, "success")),
    ]
    assert record.hetzner_server_creations(exchanges) == [
        ("sent", "a"),
        ("done", "a"),
        ("sent", "b"),
        ("done", "b"),
    ]


def test_what_creates_no_server_is_left_out():
    exchanges = [
        {**create("refused", 1), "status": 422, "response_body": {"error": {}}},
        {**create("other-vendor", 2), "vendor": "digitalocean"},
        {**change("add_target", 3, "success", 1)},  # another resource's action
        create("never-done", 4),
        read("/actions/1", (1, "success")),  # the refused create's id: nothing was made
    ]
    assert record.hetzner_server_creations(exchanges) == [("sent", "never-done")]
