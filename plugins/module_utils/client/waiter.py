# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Waiting, after kubernetes.core's waiter: readiness is a pure function of a resource, and one
loop polls it against a monotonic deadline and says how long it took.

Modules never wait in check mode: nothing was started that could become ready.
"""

from __future__ import annotations

import time


class Deadline:
    """A point in monotonic time, shared by every wait of one task (``wait_timeout``)."""

    def __init__(self, seconds, clock=time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.at = clock() + seconds

    def remaining(self):
        return max(0.0, self.at - self.clock())


def wait_until(
    fetch, ready, timeout, interval=1.0, max_interval=5.0, clock=time.monotonic, sleep=time.sleep
):
    """Poll ``fetch()`` until ``ready(resource)`` holds or ``timeout`` seconds have passed.

    The pause starts at ``interval`` and doubles up to ``max_interval``, never sleeping past
    the deadline. Returns ``(ready, last resource, seconds it took)``; the resource is always
    read at least once, even with a timeout of zero.
    """
    start = clock()
    deadline = start + timeout
    pause = interval
    while True:
        resource = fetch()
        if ready(resource):
            return True, resource, clock() - start
        left = deadline - clock()
        if left <= 0:
            return False, resource, clock() - start
        sleep(min(pause, left))
        pause = min(pause * 2, max_interval)
