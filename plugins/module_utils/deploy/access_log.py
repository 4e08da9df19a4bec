# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canary analysis of nginx's JSON access log (``log_format sigma_json`` of the nginx_proxy
role): parse a line, say which group of upstream servers answered it and add it up per group.
Pure computation; reading the file is the access_log_stats module's job, the latency
histogram is in ``latency`` and judging a canary step in ``canary``.

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

Each group also keeps a latency histogram (``latency_histogram``), so that several hosts'
numbers can be merged into percentiles over all their requests (``canary.merge_stats``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.latency import (
    HISTOGRAM_KEY,
    histogram,
)

CLIENT_CLOSED = 499
PERCENTILES = (50, 95, 99)


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
        self.unparsed = 0
        self.ignored = 0

    def stats_for(self, address: str) -> GroupStats:
        name = self.index.get(address)
        return self.other if name is None else self.groups[name]

    def add_line(self, line: bytes | str | None) -> None:
        """Count one line; None stands for a line that could not be read at all."""
        self.lines += 1
        entry = parse_line(line) if line is not None else None
        if entry is None:
            self.unparsed += 1
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
            "unparsed": self.unparsed,
            "ignored": self.ignored,
            "groups": {name: stats.as_dict() for name, stats in self.groups.items()},
            "other": self.other.as_dict(),
        }
