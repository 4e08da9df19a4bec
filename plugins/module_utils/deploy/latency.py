# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The log-scale latency histogram of the access log analysis: which bucket a latency falls
in, a histogram of latencies, the sum of several hosts' histograms and a percentile read from
one. Pure computation on numbers; it knows nothing of the access log.

Bucket ``i`` holds the latencies in ``(1.02 ** (i - 1), 1.02 ** i]`` milliseconds, each bucket
2 % wider than the one before. A histogram is a dict of the non-empty buckets, keyed by the
bucket index as a string (as in JSON), in index order, so that several hosts' histograms add
up into percentiles over all their requests.

A percentile read from it is the upper bound of the bucket that holds the nearest-rank value,
rounded up to the microsecond, so it is never below the exact percentile and at most 2 % plus
0.002 ms above it (0.001 ms for the rounding, 0.001 ms for latencies under the floor).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

HISTOGRAM_KEY = "latency_histogram"
HISTOGRAM_GROWTH = 1.02
# Latencies below this (nginx logs 0.000 s for a fast answer) count in its bucket.
HISTOGRAM_FLOOR_MS = 0.001
_LOG_GROWTH = math.log(HISTOGRAM_GROWTH)


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
