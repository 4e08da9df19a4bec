"""module_utils/_access_log.py, the access_log_stats module on a log file, and the
canary_judge filter."""

from __future__ import annotations

import json
import math

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sigma.deploy.plugins.filter.canary_judge import FilterModule
from ansible_collections.sigma.deploy.plugins.module_utils import _access_log as access_log
from ansible_collections.sigma.deploy.plugins.modules import access_log_stats
from tests.unit.plugins.fakes import FakeModule

GROUPS = {
    "canary": ["127.0.0.1:8002", "127.0.0.1:3002"],
    "stable": ["127.0.0.1:8001", "127.0.0.1:3001"],
}
EMPTY = {
    "requests": 0,
    "errors": 0,
    "error_rate": 0.0,
    "p50_ms": None,
    "p95_ms": None,
    "p99_ms": None,
    "max_ms": None,
    "statuses": {},
    "latency_histogram": {},
}


def line(
    addr: str = "127.0.0.1:3002",
    status: int = 200,
    request_time: float = 0.004,
    uri: str = "/x",
    msec: float = 1764180000.123,
    upstream_status: str | None = None,
    upstream_time: str | None = None,
) -> str:
    """One access log line as nginx's sigma_json format writes it."""
    return json.dumps(
        {
            "time": "2026-11-26T18:00:00.123+00:00",
            "msec": msec,
            "remote_addr": "10.89.213.1",
            "request_id": "abc",
            "method": "GET",
            "uri": uri,
            "status": status,
            "bytes": 12,
            "request_time": request_time,
            "upstream": "notes_web" if addr else "",
            "upstream_addr": addr,
            "upstream_status": (str(status) if addr else "")
            if upstream_status is None
            else upstream_status,
            "upstream_response_time": (str(request_time) if addr else "")
            if upstream_time is None
            else upstream_time,
            "upstream_connect_time": "0.000" if addr else "",
            "http_user_agent": "test",
            "host": "example.test",
            "scheme": "https",
            "protocol": "HTTP/2.0",
        },
        separators=(",", ":"),
    )


# --- parsing ----------------------------------------------------------------------------


def test_parse_line_reads_the_fields_of_a_retried_request():
    text = line(
        "127.0.0.1:3002, 127.0.0.1:3001",
        status=200,
        request_time=0.012,
        upstream_status="502, 200",
        upstream_time="0.001, 0.010",
    )
    assert access_log.parse_line(text) == access_log.Entry(
        msec=1764180000.123,
        uri="/x",
        status=200,
        request_time=0.012,
        attempts=(
            access_log.Attempt("127.0.0.1:3002", "502", 0.001),
            access_log.Attempt("127.0.0.1:3001", "200", 0.01),
        ),
    )


def test_parse_line_of_a_request_nginx_answered_itself():
    assert access_log.parse_line(line("", status=301, request_time=0.0)) == access_log.Entry(
        1764180000.123, "/x", 301, 0.0, ()
    )


def test_parse_line_pads_missing_per_server_values():
    text = line("127.0.0.1:3002, 127.0.0.1:3001", upstream_status="502", upstream_time="-")
    assert access_log.parse_line(text).attempts == (
        access_log.Attempt("127.0.0.1:3002", "502", None),
        access_log.Attempt("127.0.0.1:3001", "", None),
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '{"msec": 1.0, "status": "200", "request_time": 0.1}',
        '{"msec": 1.0, "status": true, "request_time": 0.1}',
        '{"msec": 1.0, "status": 200}',
        '{"status": 200, "request_time": 0.1}',
        '{"msec": 1.0, "status": 200, "request_time": 0.1, "uri": 5}',
        '{"msec": 1.0, "status": 200, "request_time": 0.1',
    ],
)
def test_parse_line_refuses_what_is_not_ours(text):
    assert access_log.parse_line(text) is None


def test_split_upstream_takes_the_last_internal_redirect_segment():
    assert access_log.split_upstream("10.0.0.1:80, 10.0.0.2:80 : unix:/run/a.sock") == [
        "unix:/run/a.sock"
    ]
    assert access_log.split_upstream("[::1]:3002, 127.0.0.1:3001") == [
        "[::1]:3002",
        "127.0.0.1:3001",
    ]
    assert access_log.split_upstream("") == []
    assert access_log.split_upstream(None) == []


def test_build_index_maps_addresses_to_groups_and_refuses_overlaps():
    assert access_log.build_index({"a": ["x:1", " y:2 "], "b": []}) == {"x:1": "a", "y:2": "a"}
    with pytest.raises(ValueError, match="x:1 is in both a and b"):
        access_log.build_index({"a": ["x:1"], "b": ["x:1"]})
    with pytest.raises(ValueError, match="groups: a: expected a list of addresses"):
        access_log.build_index({"a": "x:1"})
    with pytest.raises(ValueError, match="groups: a: 5 is not an address"):
        access_log.build_index({"a": [5]})


# --- percentiles and errors ---------------------------------------------------------------


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 21)]
    assert access_log.nearest_rank(values, 50) == 10.0
    assert access_log.nearest_rank(values, 95) == 19.0
    assert access_log.nearest_rank(values, 99) == 20.0
    assert access_log.nearest_rank([7.0], 50) == 7.0
    assert access_log.nearest_rank([1.0, 2.0, 3.0], 50) == 2.0
    assert access_log.nearest_rank([], 95) is None


def test_499_is_never_an_error():
    assert access_log.is_error(500, 500)
    assert not access_log.is_error(499, 500)
    assert not access_log.is_error(499, 400)
    assert access_log.is_error(404, 400)
    assert not access_log.is_error(429, 500)


# --- latency histograms ------------------------------------------------------------------


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
    assert access_log.bucket_index(latency_ms) == index


def test_each_power_of_the_growth_is_the_top_of_its_bucket():
    for index in range(-347, 1000):
        top = access_log.HISTOGRAM_GROWTH**index
        assert access_log.bucket_index(top) == index
        assert access_log.bucket_index(math.nextafter(top, math.inf)) == index + 1


def test_bucket_upper_bounds():
    assert access_log.bucket_upper_ms(0) == 1.0
    assert access_log.bucket_upper_ms(71) == 4.08
    assert access_log.bucket_upper_ms(188) == 41.384
    assert access_log.bucket_upper_ms(338) == 806.972
    assert access_log.bucket_upper_ms(-348) == 0.002


def test_the_upper_bound_of_a_latency_s_bucket_is_within_the_resolution():
    # Every microsecond up to 2 ms, then every value 0.37 % apart up to a minute.
    latencies = [n / 1000 for n in range(1, 2001)]
    latencies += [2.0 * 1.0037**n for n in range(2800)]
    for latency in latencies:
        upper = access_log.bucket_upper_ms(access_log.bucket_index(latency))
        assert latency <= upper <= latency * 1.02 + 0.001, latency
    # Under the floor of 0.001 ms: the floor's bucket, rounded up.
    for latency in (0.0, 0.0004, 0.00099):
        assert access_log.bucket_upper_ms(access_log.bucket_index(latency)) == 0.002


def test_histogram_counts_only_non_empty_buckets_in_index_order():
    counts = access_log.histogram([4.0, 4.01, 0.0, 50.0, 3.99])
    assert counts == {"-348": 1, "70": 1, "71": 2, "198": 1}
    assert list(counts) == ["-348", "70", "71", "198"]
    assert access_log.histogram([]) == {}


def test_merge_histograms_adds_the_counts_of_each_bucket():
    assert access_log.merge_histograms([{"71": 3, "-2": 1}, {71: 2, "198": 0}, {}]) == {
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
        access_log.merge_histograms([counts])


def test_histogram_percentile_is_nearest_rank_at_the_bucket_s_upper_bound():
    counts = {0: 95, 198: 4, 338: 1}
    assert access_log.histogram_percentile(counts, 50) == 1.0
    assert access_log.histogram_percentile(counts, 95) == 1.0
    assert access_log.histogram_percentile(counts, 96) == 50.447
    assert access_log.histogram_percentile(counts, 99) == 50.447
    assert access_log.histogram_percentile(counts, 100) == 806.972
    assert access_log.histogram_percentile({}, 95) is None


# --- aggregation ------------------------------------------------------------------------


def aggregate(lines: list[str], **options) -> dict:
    aggregator = access_log.Aggregator(GROUPS, **options)
    for text in lines:
        aggregator.add_line(text)
    return aggregator.result()


def test_aggregate_counts_per_group_with_percentiles_and_statuses():
    result = aggregate(
        [line("127.0.0.1:3002", request_time=t / 1000) for t in (4, 2, 9, 3)]
        + [line("127.0.0.1:8002", status=500, request_time=0.05)]
        + [line("127.0.0.1:3001", status=404, request_time=0.001)]
        + [line("", status=301, request_time=0.0)]
        + ["garbage"]
    )
    assert result == {
        "lines": 8,
        "skipped": 1,
        "ignored": 0,
        "groups": {
            "canary": {
                "requests": 5,
                "errors": 1,
                "error_rate": 0.2,
                "p50_ms": 4.0,
                "p95_ms": 50.0,
                "p99_ms": 50.0,
                "max_ms": 50.0,
                "statuses": {"200": 4, "500": 1},
                "latency_histogram": {"36": 1, "56": 1, "71": 1, "111": 1, "198": 1},
            },
            "stable": {
                "requests": 1,
                "errors": 0,
                "error_rate": 0.0,
                "p50_ms": 1.0,
                "p95_ms": 1.0,
                "p99_ms": 1.0,
                "max_ms": 1.0,
                "statuses": {"404": 1},
                "latency_histogram": {"0": 1},
            },
        },
        "other": {
            "requests": 1,
            "errors": 0,
            "error_rate": 0.0,
            "p50_ms": 0.0,
            "p95_ms": 0.0,
            "p99_ms": 0.0,
            "max_ms": 0.0,
            "statuses": {"301": 1},
            "latency_histogram": {"-348": 1},
        },
    }


def test_a_retried_request_counts_for_the_last_server_and_fails_the_first():
    result = aggregate(
        [
            line(
                "127.0.0.1:3002, 127.0.0.1:3001",
                status=200,
                request_time=0.012,
                upstream_status="502, 200",
                upstream_time="0.001, 0.010",
            )
        ]
    )
    assert result["groups"] == {
        "canary": {
            "requests": 1,
            "errors": 1,
            "error_rate": 1.0,
            "p50_ms": 1.0,
            "p95_ms": 1.0,
            "p99_ms": 1.0,
            "max_ms": 1.0,
            "statuses": {"502": 1},
            "latency_histogram": {"0": 1},
        },
        "stable": {
            "requests": 1,
            "errors": 0,
            "error_rate": 0.0,
            "p50_ms": 12.0,
            "p95_ms": 12.0,
            "p99_ms": 12.0,
            "max_ms": 12.0,
            "statuses": {"200": 1},
            "latency_histogram": {"126": 1},
        },
    }
    assert result["other"] == EMPTY


def test_an_upstream_error_is_an_error_even_when_the_client_got_another_status():
    result = aggregate(
        [
            line("127.0.0.1:3002", status=200, upstream_status="503"),
            line("127.0.0.1:3002", status=499, upstream_status="499"),
            line("127.0.0.1:3002", status=502, upstream_status="-"),
        ]
    )
    assert result["groups"]["canary"]["errors"] == 2
    assert result["groups"]["canary"]["statuses"] == {"200": 1, "499": 1, "502": 1}


def test_error_status_moves_the_threshold():
    lines = [line(status=404), line(status=200)]
    assert aggregate(lines)["groups"]["canary"]["errors"] == 0
    assert aggregate(lines, error_status=400)["groups"]["canary"]["error_rate"] == 0.5


def test_since_and_uri_exclude_ignore_lines():
    result = aggregate(
        [
            line(msec=99.0),
            line(msec=100.0),
            line(msec=101.0, uri="/healthz"),
            line(msec=102.0, uri="/_next/static/a.js?v=1"),
        ],
        since=100.0,
        uri_exclude=["^/healthz$", r"^/_next/static/"],
    )
    assert (result["lines"], result["ignored"], result["groups"]["canary"]["requests"]) == (
        4,
        3,
        1,
    )


def test_a_bad_uri_exclude_is_refused():
    with pytest.raises(ValueError, match="uri_exclude: '\\(' is not a regular expression"):
        access_log.Aggregator(GROUPS, uri_exclude=["("])


def test_no_requests_gives_empty_groups():
    assert aggregate([]) == {
        "lines": 0,
        "skipped": 0,
        "ignored": 0,
        "groups": {"canary": EMPTY, "stable": EMPTY},
        "other": EMPTY,
    }


# --- judging a step -----------------------------------------------------------------------

LIMITS = {"max_error_rate": 0.01, "max_p95_ms": 500.0, "min_requests": 20}


def stats(requests: int, errors: int, p95: float | None) -> dict:
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": errors / requests if requests else 0.0,
        "p95_ms": p95,
    }


def test_judge_step_passes_within_the_limits():
    assert access_log.judge_step(stats(120, 0, 41.0), **LIMITS) == (
        True,
        "canary: 120 requests, 0 errors (0.00 %), p95 41 ms: pass "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    )


def test_judge_step_passes_at_the_limits():
    assert access_log.judge_step(stats(100, 1, 500.0), **LIMITS)[0]
    assert access_log.judge_step(stats(20, 0, 1.0), **LIMITS)[0]


def test_judge_step_fails_without_data():
    assert access_log.judge_step(stats(0, 0, None), **LIMITS, name="web") == (
        False,
        "web: 0 requests, 0 errors (0.00 %), p95 - ms: fail: no requests "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    )


def test_judge_step_names_every_reason():
    passed, message = access_log.judge_step(stats(10, 2, 612.5), **LIMITS)
    assert not passed
    assert message == (
        "canary: 10 requests, 2 errors (20.00 %), p95 612.5 ms: "
        "fail: too few requests, too many errors, p95 too slow "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)"
    )


def test_judge_step_fails_on_errors_alone():
    assert access_log.judge_step(stats(200, 3, 40.0), **LIMITS) == (
        False,
        "canary: 200 requests, 3 errors (1.50 %), p95 40 ms: fail: too many errors "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    )


def test_canary_judge_filter():
    judge = FilterModule().filters()["canary_judge"]
    assert judge(stats(120, 0, 41.0), max_error_rate="0.01", max_p95_ms=500, min_requests=20) == {
        "passed": True,
        "message": "canary: 120 requests, 0 errors (0.00 %), p95 41 ms: pass "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    }
    assert judge(stats(5, 0, 41.0))["passed"] is False
    with pytest.raises(AnsibleFilterError, match="expects one group's numbers"):
        judge([1, 2])
    with pytest.raises(AnsibleFilterError, match="canary_judge: "):
        judge(stats(5, 0, 1.0), max_p95_ms="fast")


def test_canary_judge_of_one_dict_ignores_its_histogram():
    judge = FilterModule().filters()["canary_judge"]
    one = {**stats(120, 0, 41.0), "latency_histogram": {"338": 120}}
    assert judge(one, max_p95_ms=500) == {
        "passed": True,
        "message": "canary: 120 requests, 0 errors (0.00 %), p95 41 ms: pass "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    }


# --- judging a step over several hosts ----------------------------------------------------


def host_canary(fast: int, slow: int = 0, errors: int = 0) -> dict:
    """One host's canary numbers as the module returns them: requests of 4 ms, of 800 ms,
    and of 4 ms that failed with 500."""
    lines = [line(request_time=0.004)] * fast + [line(request_time=0.8)] * slow
    lines += [line(status=500, request_time=0.004)] * errors
    return json.loads(json.dumps(aggregate(lines)["groups"]["canary"]))


def test_merging_two_hosts_takes_the_p95_over_all_their_requests():
    slow_tail = host_canary(fast=89, slow=10, errors=1)
    fast = host_canary(fast=100)
    # The worst host's own p95 is slow: 800 ms is above the limit.
    assert slow_tail["p95_ms"] == 800.0
    assert access_log.judge_step(slow_tail, **LIMITS)[0] is False
    judge = FilterModule().filters()["canary_judge"]
    assert judge([slow_tail, fast], **LIMITS) == {
        "passed": True,
        "message": "canary, merged over 2 hosts: 200 requests, 1 errors (0.50 %), p95 4.08 ms: "
        "pass (limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
        "merged": {
            "hosts": 2,
            "hosts_without_histogram": 0,
            "requests": 200,
            "errors": 1,
            "error_rate": 0.005,
            "p50_ms": 4.08,
            "p95_ms": 4.08,
            "p99_ms": 806.972,
            "latency_histogram": {"71": 190, "338": 10},
            "max_ms": 800.0,
        },
    }


def test_the_merged_p95_is_slow_when_enough_of_all_requests_are():
    merged = access_log.merge_stats([host_canary(fast=80, slow=20), host_canary(fast=100)])
    assert (merged["p50_ms"], merged["p95_ms"], merged["p99_ms"]) == (4.08, 806.972, 806.972)
    assert merged["latency_histogram"] == {"71": 180, "338": 20}


def test_a_host_without_a_histogram_falls_back_to_the_worst_host_s_p95():
    older = host_canary(fast=89, slow=10, errors=1)
    del older["latency_histogram"]
    passed, message, merged = access_log.judge_hosts(
        [older, host_canary(fast=100)], **LIMITS, name="web"
    )
    assert passed is False
    assert message == (
        "web, merged over 2 hosts: 200 requests, 1 errors (0.50 %), p95 800 ms "
        "(the worst host's: 1 host of 2 sent no latency histogram): fail: p95 too slow "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)"
    )
    assert merged == {
        "hosts": 2,
        "hosts_without_histogram": 1,
        "requests": 200,
        "errors": 1,
        "error_rate": 0.005,
        "p50_ms": 4.0,
        "p95_ms": 800.0,
        "p99_ms": 800.0,
        "max_ms": 800.0,
    }


def test_a_list_without_requests_fails():
    judge = FilterModule().filters()["canary_judge"]
    verdict = judge([dict(EMPTY), dict(EMPTY)], **LIMITS)
    assert verdict["passed"] is False
    assert verdict["message"] == (
        "canary, merged over 2 hosts: 0 requests, 0 errors (0.00 %), p95 - ms: fail: no requests "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)"
    )
    assert verdict["merged"]["p95_ms"] is None
    assert verdict["merged"]["latency_histogram"] == {}
    nothing = judge([], **LIMITS)
    assert nothing["passed"] is False
    assert nothing["message"].startswith(
        "canary, merged over 0 hosts: 0 requests, 0 errors (0.00 %), p95 - ms: fail: no requests"
    )


def test_a_list_of_one_host_is_judged_by_its_histogram():
    assert access_log.judge_hosts([host_canary(fast=30)], **LIMITS)[:2] == (
        True,
        "canary, merged over 1 host: 30 requests, 0 errors (0.00 %), p95 4.08 ms: pass "
        "(limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)",
    )


def test_canary_judge_refuses_a_list_of_what_is_not_numbers():
    judge = FilterModule().filters()["canary_judge"]
    with pytest.raises(AnsibleFilterError, match="or a list of them, one per host; item 2 is int"):
        judge([host_canary(fast=1), 5])
    with pytest.raises(AnsibleFilterError, match="one per host, got str"):
        judge("canary")
    with pytest.raises(
        AnsibleFilterError, match="canary_judge: latency_histogram: bucket 'x' is not an integer"
    ):
        judge([{**host_canary(fast=1), "latency_histogram": {"x": 1}}])


# --- the module on a log file -------------------------------------------------------------


def params(path, **extra) -> dict:
    return {
        "path": str(path),
        "offset": 0,
        "groups": GROUPS,
        "since": None,
        "error_status": 500,
        "uri_exclude": [],
        "max_bytes": 64 * 1024 * 1024,
        **extra,
    }


def read(path, check_mode: bool = False, **extra) -> dict:
    return access_log_stats.AccessLogStats(FakeModule(params(path, **extra), check_mode)).read()


def write(path, *lines: str, end: str = "\n") -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + end)


def test_module_continues_from_the_offset_of_the_previous_call(tmp_path):
    log = tmp_path / "access.log"
    write(log, line(), line())
    first = read(log)
    assert (first["offset"], first["lines"], first["rotated"], first["truncated"]) == (
        log.stat().st_size,
        2,
        False,
        False,
    )
    write(log, line("127.0.0.1:3001"), line("127.0.0.1:3001", status=503))
    second = read(log, offset=first["offset"])
    assert second["offset"] == log.stat().st_size
    assert second["lines"] == 2
    assert second["groups"]["canary"] == EMPTY
    assert second["groups"]["stable"]["statuses"] == {"200": 1, "503": 1}
    assert read(log, offset=second["offset"])["lines"] == 0


def test_module_leaves_a_partial_last_line_for_the_next_call(tmp_path):
    log = tmp_path / "access.log"
    whole = line()
    write(log, whole, line()[:30], end="")
    first = read(log, check_mode=True)
    assert (first["offset"], first["lines"], first["skipped"]) == (len(whole) + 1, 1, 0)
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(line()[30:] + "\n")
    second = read(log, offset=first["offset"])
    assert (second["offset"], second["lines"], second["skipped"]) == (log.stat().st_size, 1, 0)
    assert second["groups"]["canary"]["requests"] == 1


def test_module_starts_again_after_a_rotation(tmp_path):
    log = tmp_path / "access.log"
    write(log, line(), line(), line())
    offset = read(log)["offset"]
    log.unlink()
    write(log, line("127.0.0.1:3001"))
    result = read(log, offset=offset)
    assert (result["rotated"], result["offset"], result["lines"]) == (
        True,
        log.stat().st_size,
        1,
    )
    assert result["groups"]["stable"]["requests"] == 1


def test_module_counts_a_retry_for_both_groups(tmp_path):
    log = tmp_path / "access.log"
    write(
        log,
        line(
            "127.0.0.1:3002, 127.0.0.1:3001",
            status=200,
            request_time=0.012,
            upstream_status="502, 200",
            upstream_time="0.001, 0.010",
        ),
    )
    result = read(log)
    assert result["groups"]["canary"]["statuses"] == {"502": 1}
    assert result["groups"]["canary"]["errors"] == 1
    assert result["groups"]["stable"]["statuses"] == {"200": 1}
    assert result["groups"]["stable"]["errors"] == 0


def test_module_stops_at_max_bytes_on_a_line_boundary(tmp_path):
    log = tmp_path / "access.log"
    one = line()
    write(log, one, one, one)
    size = len(one) + 1
    first = read(log, max_bytes=2 * size + 5)
    assert (first["offset"], first["lines"], first["truncated"]) == (2 * size, 2, True)
    exact = read(log, max_bytes=2 * size)
    assert (exact["offset"], exact["lines"], exact["truncated"]) == (2 * size, 2, True)
    rest = read(log, offset=first["offset"], max_bytes=2 * size + 5)
    assert (rest["offset"], rest["lines"], rest["truncated"]) == (3 * size, 1, False)
    whole = read(log, max_bytes=3 * size)
    assert (whole["offset"], whole["truncated"]) == (3 * size, False)


def test_module_skips_a_line_longer_than_max_bytes(tmp_path):
    log = tmp_path / "access.log"
    write(log, line(uri="/" + "a" * 200), line())
    first = read(log, max_bytes=100)
    assert (first["offset"], first["lines"], first["skipped"], first["truncated"]) == (
        100,
        1,
        1,
        True,
    )


def test_module_refuses_bad_options(tmp_path):
    log = tmp_path / "access.log"
    write(log, line())
    with pytest.raises(access_log_stats.AccessLogError, match="offset: -1 is negative"):
        read(log, offset=-1)
    with pytest.raises(access_log_stats.AccessLogError, match="x:1 is in both"):
        read(log, groups={"a": ["x:1"], "b": ["x:1"]})
    with pytest.raises(access_log_stats.AccessLogError, match=r"reading .*missing\.log failed"):
        read(tmp_path / "missing.log")


def run_main(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        access_log_stats.main()
    return json.loads(capsys.readouterr().out)


def test_main_reports_no_change_with_the_stats(tmp_path, capsys):
    log = tmp_path / "access.log"
    write(log, line(), line("127.0.0.1:8001", status=502))
    result = run_main({"path": str(log), "groups": GROUPS, "_ansible_check_mode": True}, capsys)
    assert result["changed"] is False
    assert result["offset"] == log.stat().st_size
    assert result["groups"]["stable"]["errors"] == 1
    assert result["groups"]["canary"]["p50_ms"] == 4.0
    assert result["groups"]["canary"]["latency_histogram"] == {"71": 1}
    assert result["groups"]["stable"]["latency_histogram"] == {"71": 1}


def test_main_fails_with_the_reason(tmp_path, capsys):
    result = run_main({"path": str(tmp_path / "none.log"), "groups": GROUPS}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith(f"reading {tmp_path / 'none.log'} failed:")
