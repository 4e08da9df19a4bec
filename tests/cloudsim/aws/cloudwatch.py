"""CloudWatch: percentile statistics (``p95``, ``p99.9``), which moto 5.2.6 answers with
nothing (its ``Statistics`` knows only Sum, Average, Minimum, Maximum and SampleCount, and the
missing value then breaks its serializer). A blue-green shift's metric gate reads the p95 of
``TargetResponseTime``.

The engine extends moto's class in this process: a ``pNN`` statistic is the nearest-rank
percentile of the period's single values (AWS computes percentiles from the raw values for
high-resolution data the same way, give or take its interpolation).
"""

from __future__ import annotations

import math
import re
from typing import Any

from moto.cloudwatch.models import Statistics

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")
_original = Statistics.get_statistics_for_type


def percentile(values: list[float], percent: float) -> float | None:
    """The nearest-rank percentile of ``values`` (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _statistic(self: Statistics, stat: str) -> Any:
    match = _PERCENTILE.match(stat)
    if match is None:
        return _original(self, stat)
    return percentile([float(v) for v in self.metric_single_values_list], float(match.group(1)))


class CloudWatchEngine:
    def __init__(self) -> None:
        Statistics.get_statistics_for_type = _statistic  # type: ignore[method-assign]


def install(aws: Any) -> CloudWatchEngine:
    return CloudWatchEngine()
