"""module_utils/deploy/access_log.py (parsing a line and adding lines up per group) and the
access_log_stats module on a log file."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import access_log
from ansible_collections.sigma.deploy.plugins.modules import access_log_stats
from tests.unit.plugins.access_log_lines import EMPTY, GROUPS, aggregate, line
from tests.unit.plugins.fakes import FakeModule

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


# --- aggregation ------------------------------------------------------------------------


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
        "unparsed": 1,
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
        "unparsed": 0,
        "ignored": 0,
        "groups": {"canary": EMPTY, "stable": EMPTY},
        "other": EMPTY,
    }


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
    assert (first["offset"], first["lines"], first["unparsed"]) == (len(whole) + 1, 1, 0)
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(line()[30:] + "\n")
    second = read(log, offset=first["offset"])
    assert (second["offset"], second["lines"], second["unparsed"]) == (log.stat().st_size, 1, 0)
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
    assert (first["offset"], first["lines"], first["unparsed"], first["truncated"]) == (
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
