# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When to retry an API call and how long to wait: pure functions, after amazon.aws's
``module_utils/retries.py``. Throttling (429) and server errors (5xx, not 501) are retried;
validation errors never are. A request that is not idempotent (POST) is sent again only when
that cannot do it twice (:func:`may_resend`). Waits use full-jitter exponential backoff and
are never shorter than the server's ``Retry-After``.
"""

from __future__ import annotations

import email.utils
import random
import time

IDEMPOTENT_METHODS = frozenset(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])


def parse_retry_after(value, now=None):
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class RetryPolicy:
    """How often and how long to retry: ``retries`` after the first attempt, all of it within
    ``total`` seconds; the n-th wait is uniform in [0, min(cap, base * 2**(n-1))] (full jitter)
    and never shorter than the server's ``Retry-After``.
    """

    def __init__(self, retries=5, total=120.0, base=1.0, cap=30.0, rand=random.random):
        self.retries = retries
        self.total = total
        self.base = base
        self.cap = cap
        self.rand = rand

    def delay(self, attempt, retry_after=None):
        """Seconds to wait after failed attempt number ``attempt`` (1 for the first)."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        wait = self.rand() * ceiling
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait

    def next_delay(self, attempt, elapsed, retry_after=None):
        """The wait before the next attempt, or None when the retries or the time are spent."""
        if attempt > self.retries:
            return None
        wait = self.delay(attempt, retry_after)
        if elapsed + wait > self.total:
            return None
        return wait


def retryable_status(status):
    """Throttling and server errors are retried; 501 (not implemented) and 4xx are not."""
    return status == 429 or (status is not None and status >= 500 and status != 501)


def may_resend(method, status, sent=True):
    """Whether a failed request may be sent again without risk of doing it twice.

    An idempotent method always may. Any other (POST) only when it never reached the server
    (``sent`` is False: a connect error) or when the server refused it before doing anything (an
    answer below 500: throttling, or a provider's "conflict" and "locked"); never after a 5xx
    or a read timeout, which may come after the work was done.
    """
    if method.upper() in IDEMPOTENT_METHODS or not sent:
        return True
    return status is not None and status < 500
