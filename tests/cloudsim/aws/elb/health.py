"""Target health as an ALB keeps it: states, reasons, health checks and draining.

Each registered target of a target group that a listener uses is health checked every
``HealthCheckIntervalSeconds`` (times the engine's time scale). As the ELB user guide says,
a newly registered target is ``initial`` (``Elb.RegistrationInProgress``) until its first check, one
interval after registration, and must pass one health check to be ``healthy``; after that it turns
``unhealthy`` after ``UnhealthyThresholdCount`` failures in a row and ``healthy`` again after
``HealthyThresholdCount`` successes in a row (a new target also turns ``unhealthy`` after
``UnhealthyThresholdCount`` failures). A target of a group no listener uses is ``unused``
(``Target.NotInUse``) and not checked. A target that leaves the registrations is ``draining``
(``Target.DeregistrationInProgress``) for the group's ``deregistration_delay.timeout_seconds``
(times the time scale; a changed attribute applies to targets already draining), then gone.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .model import EMPTY, State, TargetGroup, TargetKey

INITIAL, HEALTHY, UNHEALTHY, UNUSED, DRAINING, UNAVAILABLE = (
    "initial", "healthy", "unhealthy", "unused", "draining", "unavailable",
)  # fmt: skip
REASONS = {  # AWS's TargetHealth reason codes and their descriptions
    "Elb.RegistrationInProgress": "Target registration is in progress",
    "Elb.InitialHealthChecking": "Initial health checks in progress",
    "Target.FailedHealthChecks": "Health checks failed",
    "Target.Timeout": "Request timed out",
    "Target.NotRegistered": "Target is not registered to the target group",
    "Target.NotInUse": "Target group is not configured to receive traffic from the load balancer",
    "Target.DeregistrationInProgress": "Target deregistration is in progress",
    "Target.HealthCheckDisabled": "Health checks are disabled",
}
log = logging.getLogger(__name__)


@dataclass
class Verdict:
    """One health check's outcome; ``contactable``: the proxy may send traffic there (a
    loopback address, or one a prober answered for)."""

    ok: bool
    reason: str = ""
    description: str = ""
    contactable: bool = False


Probe = Callable[[TargetGroup, str, int], Verdict]


@dataclass
class Entry:
    state: str
    reason: str | None
    description: str | None = None
    successes: int = 0
    failures: int = 0
    due: float = 0.0
    probing: bool = False
    contactable: bool = False
    drain_started: float = 0.0

    def set(self, state: str, reason: str | None, description: str | None = None) -> None:
        self.state = state
        self.reason = reason
        self.description = description if description else REASONS.get(reason or "")


class Health:
    """Every target's health, kept current by a checker thread."""

    def __init__(
        self, probe: Probe, scale: Callable[[], float], workers: int = 8, clock=time.monotonic
    ) -> None:
        self._probe = probe
        self._scale = scale
        self._clock = clock
        self._state: State = EMPTY
        self._entries: dict[TargetKey, Entry] = {}
        self._cv = threading.Condition()
        self._closed = False
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="elb-hc")
        self._thread = threading.Thread(target=self._run, name="elb-health", daemon=True)
        self._thread.start()

    # -- what the engine tells and asks -------------------------------------------------------

    def sync(self, state: State) -> None:
        """Take moto's current registrations: new targets are ``initial``, targets that left
        start draining, targets of deleted groups are gone."""
        now = self._clock()
        with self._cv:
            self._state = state
            registered = set()
            for group in state.target_groups.values():
                for target_id, port in group.targets:
                    key = (group.arn, target_id, port)
                    registered.add(key)
                    entry = self._entries.get(key)
                    first_check = now + group.health.interval * self._scale()
                    if entry is None or entry.state == DRAINING:
                        entry = self._entries[key] = Entry(INITIAL, "Elb.RegistrationInProgress")
                        entry.set(INITIAL, "Elb.RegistrationInProgress")  # its description
                        entry.due = first_check
                    if not group.in_use:
                        entry.set(UNUSED, "Target.NotInUse")
                    elif entry.state == UNUSED:
                        entry.set(INITIAL, "Elb.RegistrationInProgress")
                        entry.successes = entry.failures = 0
                        entry.due = first_check
                    elif not group.health.enabled:
                        entry.set(UNAVAILABLE, "Target.HealthCheckDisabled")
            for key in list(self._entries):
                if key in registered:
                    continue
                entry = self._entries[key]
                group = state.target_groups.get(key[0])
                if group is None or not group.in_use or entry.state == UNUSED:
                    del self._entries[key]
                elif entry.state != DRAINING:
                    entry.set(DRAINING, "Target.DeregistrationInProgress")
                    entry.drain_started = now
            self._expire(now)
            self._cv.notify_all()

    def target_health(self, key: TargetKey) -> tuple[str, str | None, str | None]:
        """(state, reason, description) of a target; ``unused`` when it is not registered."""
        with self._cv:
            self._expire(self._clock())
            entry = self._entries.get(key)
            if entry is None:
                return UNUSED, "Target.NotRegistered", REASONS["Target.NotRegistered"]
            return entry.state, entry.reason, entry.description

    def targets(self, group_arn: str) -> list[tuple[str, int]]:
        """The targets DescribeTargetHealth lists: registered ones, then draining ones."""
        with self._cv:
            self._expire(self._clock())
            return [(k[1], k[2]) for k in self._entries if k[0] == group_arn]

    def routable(self, group_arn: str) -> list[tuple[str, int, bool]]:
        """(id, port, contactable) of the targets that get new requests: the healthy ones, or,
        when none is healthy, every registered target that is not draining (AWS fails open)."""
        with self._cv:
            mine = [(k, e) for k, e in self._entries.items() if k[0] == group_arn]
        healthy = [(k, e) for k, e in mine if e.state in (HEALTHY, UNAVAILABLE)]
        chosen = healthy or [(k, e) for k, e in mine if e.state in (INITIAL, UNHEALTHY)]
        return [(k[1], k[2], e.contactable) for k, e in chosen]

    def rescale(self) -> None:
        """The time scale changed: no check waits longer than one new interval."""
        now = self._clock()
        with self._cv:
            for key, entry in self._entries.items():
                group = self._state.target_groups.get(key[0])
                if group is not None:
                    entry.due = min(entry.due, now + group.health.interval * self._scale())
            self._cv.notify_all()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._entries.clear()
            self._cv.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def clear(self) -> None:
        with self._cv:
            self._entries.clear()
            self._state = EMPTY

    # -- the checker ---------------------------------------------------------------------------

    def _expire(self, now: float) -> None:
        scale = self._scale()
        for key, entry in list(self._entries.items()):
            if entry.state != DRAINING:
                continue
            group = self._state.target_groups.get(key[0])
            delay = group.deregistration_delay if group else 0.0
            if now >= entry.drain_started + delay * scale:
                del self._entries[key]

    def _run(self) -> None:
        while True:
            with self._cv:
                if self._closed:
                    return
                now = self._clock()
                self._expire(now)
                due = [
                    (key, entry)
                    for key, entry in self._entries.items()
                    if entry.state in (INITIAL, HEALTHY, UNHEALTHY)
                    and not entry.probing
                    and entry.due <= now
                ]
                for key, entry in due:
                    group = self._state.target_groups[key[0]]
                    entry.probing = True
                    entry.due = now + group.health.interval * self._scale()
                    self._pool.submit(self._check, key, group)
                waits = [e.due - now for e in self._entries.values() if not e.probing]
                self._cv.wait(min([w for w in waits if w > 0] + [0.1]))  # and draining ends

    def _check(self, key: TargetKey, group: TargetGroup) -> None:
        try:
            verdict = self._probe(group, key[1], key[2])
        except Exception as exc:  # a prober's bug must not stop the checker
            log.exception("health check of %s failed", key)
            verdict = Verdict(False, "Target.FailedHealthChecks", str(exc))
        with self._cv:
            entry = self._entries.get(key)
            if entry is None:
                return
            entry.probing = False
            entry.contactable = verdict.contactable
            if entry.state in (INITIAL, HEALTHY, UNHEALTHY):
                self._judge(entry, group, verdict)
            self._cv.notify_all()

    @staticmethod
    def _judge(entry: Entry, group: TargetGroup, verdict: Verdict) -> None:
        if verdict.ok:
            entry.successes += 1
            entry.failures = 0
            needed = 1 if entry.state == INITIAL else group.health.healthy_threshold
            if entry.state != HEALTHY and entry.successes >= needed:
                entry.set(HEALTHY, None)
            return
        entry.failures += 1
        entry.successes = 0
        if entry.state == UNHEALTHY or entry.failures >= group.health.unhealthy_threshold:
            entry.set(UNHEALTHY, verdict.reason, verdict.description)
        elif entry.state == INITIAL:
            entry.set(INITIAL, "Elb.InitialHealthChecking")
