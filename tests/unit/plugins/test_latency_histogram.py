"""module_utils/deploy/latency.py: the buckets of the log-scale latency histogram, a
histogram of latencies, merging several and reading a percentile from one."""

from __future__ import annotations

import math

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import (
    latency as latency_histogram,
)


@pytest.mark.parametrize(
    ("latency_ms", "index"),
    [
        (1.0, 0),
        (1.02, 1),
        (1.0201, 2),
        (0.99, 0),
        (0.98, -1),
        (3.99, 70),
        (4.0, 71),
        (41.0, 188),
        (50.0, 198),
        (800.0, 338),
        (0.001, -348),
        (0.0, -348),
        (-1.0, -348),
    ],
)
def test_bucket_index(latency_ms, index):
    assert latency_histogram.bucket_index(latency_ms) == index


def test_each_power_of_the_growth_is_the_top_of_its_bucket():
    for index in range(-347, 1000):
        top = latency_histogram.HISTOGRAM_GROWTH**index
        assert latency_histogram.bucket_index(top) == index
        assert latency_histogram.bucket_index(math.nextafter(top, math.inf)) == index + 1


def test_bucket_upper_bounds():
    assert latency_histogram.bucket_upper_ms(0) == 1.0
    assert latency_histogram.bucket_upper_ms(71) == 4.08
    assert latency_histogram.bucket_upper_ms(188) == 41.384
    assert latency_histogram.bucket_upper_ms(338) == 806.972
    assert latency_histogram.bucket_upper_ms(-348) == 0.002


def test_the_upper_bound_of_a_latency_s_bucket_is_within_the_resolution():
    # Every microsecond up to 2 ms, then every value 0.37 % apart up to a minute.
    latencies = [n / 1000 for n in range(1, 2001)]
    latencies += [2.0 * 1.0037**n for n in range(2800)]
    for latency in latencies:
        upper = latency_histogram.bucket_upper_ms(latency_histogram.bucket_index(latency))
        assert latency <= upper <= latency * 1.02 + 0.001, latency
    # Under the floor of 0.001 ms: the floor's bucket, rounded up.
    for latency in (0.0, 0.0004, 0.00099):
        assert latency_histogram.bucket_upper_ms(latency_histogram.bucket_index(latency)) == 0.002


def test_histogram_counts_only_non_empty_buckets_in_index_order():
    counts = latency_histogram.histogram([4.0, 4.01, 0.0, 50.0, 3.99])
    assert counts == {"-348": 1, "70": 1, "71": 2, "198": 1}
    assert list(counts) == ["-348", "70", "71", "198"]
    assert latency_histogram.histogram([]) == {}


def test_merge_histograms_adds_the_counts_of_each_bucket():
    assert latency_histogram.merge_histograms([{"71": 3, "-2": 1}, {71: 2, "198": 0}, {}]) == {
        71: 5,
        -2: 1,
    }


@pytest.mark.parametrize(
    ("counts", "error"),
    [
        ({"x": 1}, "bucket 'x' is not an integer"),
        ({"1.5": 1}, "bucket '1.5' is not an integer"),
        ({"3": -1}, "bucket 3: -1 is not a count"),
        ({"3": "2"}, "bucket 3: '2' is not a count"),
        ({"3": True}, "bucket 3: True is not a count"),
        ([1, 2], "expected a dict, got list"),
    ],
)
def test_merge_histograms_refuses_what_is_not_a_histogram(counts, error):
    with pytest.raises(ValueError, match=f"latency_histogram: {error}"):
        latency_histogram.merge_histograms([counts])


def test_histogram_percentile_is_nearest_rank_at_the_bucket_s_upper_bound():
    counts = {0: 95, 198: 4, 338: 1}
    assert latency_histogram.histogram_percentile(counts, 50) == 1.0
    assert latency_histogram.histogram_percentile(counts, 95) == 1.0
    assert latency_histogram.histogram_percentile(counts, 96) == 50.447
    assert latency_histogram.histogram_percentile(counts, 99) == 50.447
    assert latency_histogram.histogram_percentile(counts, 100) == 806.972
    assert latency_histogram.histogram_percentile({}, 95) is None
