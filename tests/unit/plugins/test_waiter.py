"""The waiter: a pure readiness predicate polled against a monotonic deadline."""

from __future__ import annotations

from ansible_collections.sigma.deploy.plugins.module_utils.client.waiter import Deadline, wait_until


def reader(states):
    """fetch() that returns the next state each call (the last one repeats)."""
    seen = list(states)

    def fetch():
        return {"status": seen.pop(0) if len(seen) > 1 else seen[0]}

    return fetch


def running_done(resource):
    return resource["status"] == "running"


def test_ready_at_once_takes_no_time(clock):
    ok, resource, took = wait_until(
        reader(["running"]), running_done, 10, clock=clock, sleep=clock.sleep
    )
    assert (ok, resource, took) == (True, {"status": "running"}, 0.0)
    assert clock.sleeps == []


def test_polls_with_doubling_pauses_and_returns_the_seconds_it_took(clock):
    states = ["starting"] * 5 + ["running"]
    ok, _resource, took = wait_until(
        reader(states), running_done, 60, interval=1, max_interval=4, clock=clock, sleep=clock.sleep
    )
    assert ok is True
    assert clock.sleeps == [1, 2, 4, 4, 4]
    assert took == 15


def test_stops_at_the_deadline_without_sleeping_past_it(clock):
    ok, resource, took = wait_until(
        reader(["starting"]),
        running_done,
        10,
        interval=1,
        max_interval=4,
        clock=clock,
        sleep=clock.sleep,
    )
    assert (ok, resource) == (False, {"status": "starting"})
    assert clock.sleeps == [1, 2, 4, 3]
    assert took == 10


def test_a_zero_timeout_still_reads_once(clock):
    calls = []

    def fetch():
        calls.append(1)
        return {"status": "starting"}

    assert wait_until(fetch, running_done, 0, clock=clock, sleep=clock.sleep) == (
        False,
        {"status": "starting"},
        0.0,
    )
    assert calls == [1]


def test_deadline_counts_down_on_the_monotonic_clock(clock):
    deadline = Deadline(30, clock=clock)
    clock.sleep(12)
    assert deadline.remaining() == 18
    clock.sleep(40)
    assert deadline.remaining() == 0.0
