# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canary analysis of nginx's JSON access log (``log_format sigma_json`` of the nginx_proxy
role): parse a line, say which group of upstream servers answered it, add it up per group and
judge a canary step. Pure computation; reading the file is the access_log_stats module's job.

How a line is counted:

- nginx lists one ``upstream_addr`` / ``upstream_status`` / ``upstream_response_time`` value per
  server it tried, separated by ``, `` (and by `` : `` after an internal redirect; only the last
  such segment is looked at). The request is counted for the group of the last server: that is
  the answer the client got, with the client's ``status`` and ``request_time``.
- nginx tries another server only after a failure (``proxy_next_upstream error timeout
  http_502 http_503``), so every earlier server in the list counts one failed request for its
  group too, labelled with that server's upstream status and timed by its
  ``upstream_response_time``. A group's ``requests`` therefore counts requests sent to its
  servers, one client request possibly counting for two groups.
- A request is an error when the client's status, or the last server's upstream status, is
  ``error_status`` (500) or more. 499 (the client closed the connection before the answer)
  is never an error: it says nothing about the server.
- A request that no upstream served (``upstream_addr`` empty: a redirect, a rate-limited
  request) or whose server is in no group is counted in ``other``.

Each group also keeps a latency histogram, so that several hosts' numbers can be merged into
percentiles over all their requests (``merge_stats``): bucket ``i`` holds the latencies in
``(1.02 ** (i - 1), 1.02 ** i]`` milliseconds, each bucket 2 % wider than the one before.
A percentile read from it is the upper bound of the bucket that holds the nearest-rank value,
rounded up to the microsecond, so it is never below the exact percentile and at most 2 % plus
0.002 ms above it (0.001 ms for the rounding, 0.001 ms for latencies under the floor).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

CLIENT_CLOSED = 499
PERCENTILES = (50, 95, 99)
HISTOGRAM_KEY = "latency_histogram"
HISTOGRAM_GROWTH = 1.02
# Latencies below this (nginx logs 0.000 s for a fast answer) count in its bucket.
HISTOGRAM_FLOOR_MS = 0.001
_LOG_GROWTH = math.log(HISTOGRAM_GROWTH)


class Attempt(NamedTuple):
    """One server nginx tried for a request."""

    address: str
    status: str
    seconds: float | None


class Entry(NamedTuple):
    """The fields of one access log line that the analysis uses."""

    msec: float
    uri: str
    status: int
    request_time: float
    attempts: tuple[Attempt, ...]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def split_upstream(value: Any) -> list[str]:
    """The per-server values of an ``$upstream_*`` field (its last internal-redirect segment)."""
    if not isinstance(value, str) or not value.strip():
        return []
    return [part.strip() for part in value.split(" : ")[-1].split(",")]


def _seconds(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parse_line(line: bytes | str) -> Entry | None:
    """The entry of one log line, or None when the line is not one of ours."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    msec = _number(data.get("msec"))
    status = data.get("status")
    request_time = _number(data.get("request_time"))
    uri = data.get("uri", "")
    if msec is None or request_time is None or not isinstance(uri, str):
        return None
    if isinstance(status, bool) or not isinstance(status, int):
        return None
    addresses = split_upstream(data.get("upstream_addr"))
    statuses = split_upstream(data.get("upstream_status"))
    times = split_upstream(data.get("upstream_response_time"))
    attempts = tuple(
        Attempt(
            address,
            statuses[i] if i < len(statuses) else "",
            _seconds(times[i]) if i < len(times) else None,
        )
        for i, address in enumerate(addresses)
    )
    return Entry(msec, uri, status, request_time, attempts)


def build_index(groups: Mapping[str, Any]) -> dict[str, str]:
    """Upstream address -> group name; an address may belong to one group only."""
    index: dict[str, str] = {}
    for name, addresses in groups.items():
        if isinstance(addresses, str) or not isinstance(addresses, Sequence):
            raise ValueError(f"groups: {name}: expected a list of addresses")
        for address in addresses:
            if not isinstance(address, str) or not address.strip():
                raise ValueError(f"groups: {name}: {address!r} is not an address")
            key = address.strip()
            if key in index and index[key] != name:
                raise ValueError(f"groups: {key} is in both {index[key]} and {name}")
            index[key] = name
    return index


def is_error(status: int, error_status: int) -> bool:
    return status >= error_status and status != CLIENT_CLOSED


def nearest_rank(ordered: Sequence[float], percent: int) -> float | None:
    """The nearest-rank percentile of sorted values (None when there are none)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percent * len(ordered) / 100))
    return ordered[rank - 1]


def _millis(seconds: float) -> float:
    return round(seconds * 1000, 3)


# --- latency histograms -------------------------------------------------------------------


def bucket_index(latency_ms: float) -> int:
    """The histogram bucket of a latency: bucket i holds (1.02 ** (i - 1), 1.02 ** i] ms."""
    value = max(latency_ms, HISTOGRAM_FLOOR_MS)
    index = math.ceil(math.log(value) / _LOG_GROWTH)
    # The logarithm may round across a bucket's edge; the powers decide.
    if HISTOGRAM_GROWTH**index < value:
        index += 1
    elif HISTOGRAM_GROWTH ** (index - 1) >= value:
        index -= 1
    return index


def bucket_upper_ms(index: int) -> float:
    """The upper bound of a bucket in milliseconds, rounded up to a microsecond."""
    return math.ceil(HISTOGRAM_GROWTH**index * 1000) / 1000


def histogram(latencies: Iterable[float]) -> dict[str, int]:
    """Count per non-empty bucket, keyed by the bucket index as a string (as in JSON)."""
    counts: dict[int, int] = {}
    for latency in latencies:
        index = bucket_index(latency)
        counts[index] = counts.get(index, 0) + 1
    return keyed(counts)


def keyed(counts: Mapping[int, int]) -> dict[str, int]:
    """A histogram as the module returns it: keyed by the bucket index as a string, in order."""
    return {str(index): counts[index] for index in sorted(counts)}


def _bucket(key: Any, count: Any) -> tuple[int, int]:
    """One histogram entry as (index, count); a ValueError when it is not one."""
    try:
        index = int(key)
    except (TypeError, ValueError):
        raise ValueError(f"{HISTOGRAM_KEY}: bucket {key!r} is not an integer") from None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"{HISTOGRAM_KEY}: bucket {key}: {count!r} is not a count")
    return index, count


def merge_histograms(histograms: Iterable[Mapping[Any, Any]]) -> dict[int, int]:
    """The sum of several histograms, bucket by bucket (index -> count)."""
    merged: dict[int, int] = {}
    for counts in histograms:
        if not isinstance(counts, Mapping):
            raise ValueError(f"{HISTOGRAM_KEY}: expected a dict, got {type(counts).__name__}")
        for key, count in counts.items():
            index, number = _bucket(key, count)
            if number:
                merged[index] = merged.get(index, 0) + number
    return merged


def histogram_percentile(counts: Mapping[int, int], percent: int) -> float | None:
    """The nearest-rank percentile of a histogram as its bucket's upper bound (None if empty)."""
    rank = max(1, math.ceil(percent * sum(counts.values()) / 100))
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return bucket_upper_ms(index)
    return None


class GroupStats:
    """Requests, errors, statuses and latencies (ms) of one group."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.statuses: dict[str, int] = {}
        self.latencies: list[float] = []

    def add(self, status: str, error: bool, latency_ms: float | None) -> None:
        self.requests += 1
        self.errors += int(error)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if latency_ms is not None:
            self.latencies.append(latency_ms)

    def as_dict(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        result: dict[str, Any] = {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": self.errors / self.requests if self.requests else 0.0,
        }
        for percent in PERCENTILES:
            result[f"p{percent}_ms"] = nearest_rank(ordered, percent)
        result["max_ms"] = ordered[-1] if ordered else None
        result["statuses"] = dict(sorted(self.statuses.items()))
        result[HISTOGRAM_KEY] = histogram(ordered)
        return result


class Aggregator:
    """Adds up log lines per group of upstream servers."""

    def __init__(
        self,
        groups: Mapping[str, Any],
        error_status: int = 500,
        since: float | None = None,
        uri_exclude: Iterable[str] = (),
    ) -> None:
        self.index = build_index(groups)
        self.error_status = error_status
        self.since = since
        self.excluded: list[re.Pattern[str]] = []
        for pattern in uri_exclude:
            try:
                self.excluded.append(re.compile(pattern))
            except re.error as err:
                raise ValueError(
                    f"uri_exclude: {pattern!r} is not a regular expression: {err}"
                ) from err
        self.groups = {name: GroupStats() for name in groups}
        self.other = GroupStats()
        self.lines = 0
        self.skipped = 0
        self.ignored = 0

    def stats_for(self, address: str) -> GroupStats:
        name = self.index.get(address)
        return self.other if name is None else self.groups[name]

    def add_line(self, line: bytes | str | None) -> None:
        """Count one line; None stands for a line that could not be read at all."""
        self.lines += 1
        entry = parse_line(line) if line is not None else None
        if entry is None:
            self.skipped += 1
        elif not self.wanted(entry):
            self.ignored += 1
        else:
            self.add(entry)

    def wanted(self, entry: Entry) -> bool:
        if self.since is not None and entry.msec < self.since:
            return False
        return not any(pattern.search(entry.uri) for pattern in self.excluded)

    def add(self, entry: Entry) -> None:
        *earlier, last = entry.attempts or (Attempt("", "", None),)
        for attempt in earlier:
            latency = None if attempt.seconds is None else _millis(attempt.seconds)
            self.stats_for(attempt.address).add(attempt.status or "-", True, latency)
        error = is_error(entry.status, self.error_status)
        if last.status.isdigit():
            error = error or is_error(int(last.status), self.error_status)
        self.stats_for(last.address).add(str(entry.status), error, _millis(entry.request_time))

    def result(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "skipped": self.skipped,
            "ignored": self.ignored,
            "groups": {name: stats.as_dict() for name, stats in self.groups.items()},
            "other": self.other.as_dict(),
        }


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def judge_step(
    stats: Mapping[str, Any],
    max_error_rate: float,
    max_p95_ms: float,
    min_requests: int,
    *,
    name: str = "canary",
    p95_note: str = "",
) -> tuple[bool, str]:
    """Whether one group's stats of a canary step pass, and a message that gives the numbers.

    Fewer than ``min_requests`` requests fail the step: no data is not a good sign.
    ``p95_note`` follows the p95 in the message (where it comes from, when that needs saying).
    """
    requests = int(stats.get("requests") or 0)
    errors = int(stats.get("errors") or 0)
    rate = float(stats.get("error_rate") or 0.0)
    p95 = stats.get("p95_ms")
    reasons = []
    if requests < min_requests:
        reasons.append("too few requests" if requests else "no requests")
    if rate > max_error_rate:
        reasons.append("too many errors")
    if p95 is not None and p95 > max_p95_ms:
        reasons.append("p95 too slow")
    if p95 is None and requests >= min_requests:
        reasons.append("no latencies")
    verdict = "pass" if not reasons else "fail: " + ", ".join(reasons)
    message = (
        f"{name}: {requests} requests, {errors} errors ({rate * 100:.2f} %), "
        f"p95 {'-' if p95 is None else _num(p95)} ms{p95_note}: {verdict} "
        f"(limits: errors <= {max_error_rate * 100:.2f} %, p95 <= {_num(max_p95_ms)} ms, "
        f"at least {min_requests} requests)"
    )
    return not reasons, message


# --- several hosts ------------------------------------------------------------------------


def _worst(items: Sequence[Mapping[str, Any]], key: str) -> float | None:
    values = [item[key] for item in items if item.get(key) is not None]
    return max(values) if values else None


def merge_stats(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One group's numbers over several hosts (one stats dict per host).

    Requests and errors add up; the percentiles come from the merged latency histograms. When
    an item has no histogram (an older module's output) they are the worst host's instead, and
    ``hosts_without_histogram`` says for how many hosts.
    """
    requests = sum(int(item.get("requests") or 0) for item in items)
    errors = sum(int(item.get("errors") or 0) for item in items)
    missing = sum(1 for item in items if item.get(HISTOGRAM_KEY) is None)
    merged: dict[str, Any] = {
        "hosts": len(items),
        "hosts_without_histogram": missing,
        "requests": requests,
        "errors": errors,
        "error_rate": errors / requests if requests else 0.0,
    }
    if missing:
        for percent in PERCENTILES:
            merged[f"p{percent}_ms"] = _worst(items, f"p{percent}_ms")
    else:
        counts = merge_histograms(item[HISTOGRAM_KEY] for item in items)
        for percent in PERCENTILES:
            merged[f"p{percent}_ms"] = histogram_percentile(counts, percent)
        merged[HISTOGRAM_KEY] = keyed(counts)
    merged["max_ms"] = _worst(items, "max_ms")
    return merged


def _hosts(count: int) -> str:
    return f"{count} host" if count == 1 else f"{count} hosts"


def judge_hosts(
    items: Sequence[Mapping[str, Any]],
    max_error_rate: float,
    max_p95_ms: float,
    min_requests: int,
    *,
    name: str = "canary",
) -> tuple[bool, str, dict[str, Any]]:
    """Judge one group's stats from several hosts together (see ``judge_step``); also return
    the merged numbers."""
    merged = merge_stats(items)
    missing = merged["hosts_without_histogram"]
    note = (
        f" (the worst host's: {_hosts(missing)} of {merged['hosts']} sent no latency histogram)"
        if missing
        else ""
    )
    passed, message = judge_step(
        merged,
        max_error_rate,
        max_p95_ms,
        min_requests,
        name=f"{name}, merged over {_hosts(merged['hosts'])}",
        p95_note=note,
    )
    return passed, message, merged
