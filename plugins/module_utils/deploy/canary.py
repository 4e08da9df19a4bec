# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judging a canary step from the numbers of the access_log_stats module (one group's stats,
see ``access_log``): whether they pass the limits, with a message that gives the numbers, for
one host (``judge_step``) or for several hosts together (``judge_hosts``). The canary_judge
filter's logic.

Several hosts' numbers of one group are merged first (``merge_stats``): requests and errors
add up, and the percentiles are read from the sum of their latency histograms (see
``latency``), so they are over all the hosts' requests. When a host sent no
histogram (an older module's output), they are the worst host's instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.access_log import PERCENTILES
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.latency import (
    HISTOGRAM_KEY,
    histogram_percentile,
    keyed,
    merge_histograms,
)


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
