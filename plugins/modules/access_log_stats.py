#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: access_log_stats
short_description: Requests, errors and latencies per upstream group from nginx's JSON access log
version_added: 0.2.0
description:
  - Reads the JSON access log that the P(sigma.deploy.nginx_proxy#role) role writes
    (C(log_format sigma_json), one object per line) from a byte O(offset), and adds up the
    requests per group of upstream servers (a canary and the stable version, say).
  - Made for canary analysis during a deploy; each step passes the RV(offset) of the previous
    call, so that it reads only its own lines. Judge a group's numbers with the
    P(sigma.deploy.canary_judge#filter) filter.
  - A request is counted for the group of the last server nginx tried (the answer the client
    got), with the client's status and C(request_time).
  - "When nginx retried another server (C(upstream_addr) C(127.0.0.1:3002, 127.0.0.1:3001),
    C(upstream_status) C(502, 200)), each earlier server counts one failed request for its group
    as well, with its own upstream status and C(upstream_response_time): nginx moves on only
    after a failure. So a group's C(requests) are the requests its servers were sent. After an
    internal redirect (values separated by C( : )) only the last part is looked at."
  - A request that no upstream served (C(upstream_addr) empty) or whose server is in no group is
    counted in RV(other).
  - Each group also has a compact latency histogram, RV(groups.latency_histogram), that adds up
    over hosts; the P(sigma.deploy.canary_judge#filter) filter merges a list of the hosts'
    numbers into percentiles over all their requests.
  - Read-only; never reports a change.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  path:
    description:
      - The access log file.
    type: path
    required: true
  offset:
    description:
      - The byte position to start reading from; pass the RV(offset) of the previous call.
      - When the file is now shorter than O(offset) it was rotated; reading starts at 0 and
        RV(rotated) says so. A rotation after which the new file has already grown past
        O(offset) is not noticed.
    type: int
    default: 0
  groups:
    description:
      - Group name to the upstream addresses of its servers, as nginx logs them in
        C(upstream_addr) (C(127.0.0.1:8002), C([::1]:8002), C(unix:/run/app.sock)).
      - An address may belong to one group only.
    type: dict
    required: true
  since:
    description:
      - Unix time; lines with an earlier C(msec) are ignored (counted in RV(ignored)).
    type: float
  error_status:
    description:
      - A client status or a last upstream status of this or more is an error.
      - 499 (the client closed the connection before the answer) is never an error.
    type: int
    default: 500
  uri_exclude:
    description:
      - Regular expressions (Python, searched anywhere in C(uri), which includes the query);
        matching lines are ignored (counted in RV(ignored)). For example C(^/healthz$).
    type: list
    elements: str
    default: []
  max_bytes:
    description:
      - Read at most this many bytes per call; RV(truncated) says when more was left.
      - A single line longer than this is left out (counted in RV(unparsed)).
    type: int
    default: 67108864
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode changes nothing about what it does.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - plugin: sigma.deploy.canary_judge
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Note where the log ends before the canary gets traffic
  ansible.builtin.stat:
    path: /var/log/nginx/notes.access.log
  register: log_start

# ... give the canary its share of the traffic, wait a minute ...

- name: Read the canary step's lines
  sigma.deploy.access_log_stats:
    path: /var/log/nginx/notes.access.log
    offset: "{{ log_start.stat.size }}"
    groups:
      canary: ["127.0.0.1:8002", "127.0.0.1:3002"]
      stable: ["127.0.0.1:8001", "127.0.0.1:3001"]
    uri_exclude: ['^/healthz$']
  register: step

- name: Judge the canary
  ansible.builtin.assert:
    that: verdict.passed
    fail_msg: "{{ verdict.message }}"
    success_msg: "{{ verdict.message }}"
  vars:
    verdict: >-
      {{ step.groups.canary
         | sigma.deploy.canary_judge(max_error_rate=0.01, max_p95_ms=500, min_requests=20) }}
"""

RETURN = r"""
offset:
  description:
    - The byte position after the last complete line read; pass it to the next call. A last
      line without its newline (nginx is still writing it) is left for the next call.
  returned: always
  type: int
  sample: 48213
rotated:
  description: Whether the file was shorter than O(offset), so reading started at 0.
  returned: always
  type: bool
truncated:
  description: Whether O(max_bytes) stopped the reading before the end of the file.
  returned: always
  type: bool
lines:
  description: The lines read (counted, unparsed and ignored).
  returned: always
  type: int
  sample: 240
unparsed:
  description:
    - Lines that are not a JSON object with C(msec), C(status) and C(request_time).
  returned: always
  type: int
  sample: 0
ignored:
  description: Lines left out by O(since) or O(uri_exclude).
  returned: always
  type: int
  sample: 12
groups:
  description:
    - Per group of O(groups), the numbers of its requests. Percentiles are nearest-rank,
      of C(request_time) in milliseconds (C(upstream_response_time) for a failed attempt nginx
      retried elsewhere), and null when the group has no requests.
  returned: always
  type: dict
  sample:
    canary:
      requests: 120
      errors: 1
      error_rate: 0.008333333333333333
      p50_ms: 4.0
      p95_ms: 41.0
      p99_ms: 63.0
      max_ms: 70.0
      statuses:
        "200": 119
        "502": 1
      latency_histogram:
        "56": 31
        "71": 82
        "188": 5
        "210": 1
        "215": 1
    stable:
      requests: 0
      errors: 0
      error_rate: 0.0
      p50_ms: null
      p95_ms: null
      p99_ms: null
      max_ms: null
      statuses: {}
      latency_histogram: {}
  contains:
    requests:
      description: Requests its servers were sent.
      type: int
    errors:
      description: Those that were errors.
      type: int
    error_rate:
      description: errors / requests, from 0 to 1; 0.0 without requests.
      type: float
    p50_ms:
      description: Median latency in milliseconds.
      type: float
    p95_ms:
      description: 95th percentile latency in milliseconds.
      type: float
    p99_ms:
      description: 99th percentile latency in milliseconds.
      type: float
    max_ms:
      description: Highest latency in milliseconds.
      type: float
    statuses:
      description: Count per status (as a string).
      type: dict
    latency_histogram:
      description:
        - The latencies counted in log-scale buckets, each 2 % wider than the one before, for
          merging the numbers of several hosts (add the counts of each bucket).
        - The key is the bucket's index I(i), an integer (a string, as in any JSON object); the
          value is the count of latencies in bucket I(i), above 1.02^(I(i)-1) and at most
          1.02^I(i) milliseconds (index C(0) is up to 1 ms, C(71) up to 4.08 ms, C(198) up to
          50.45 ms). Latencies under 0.001 ms count in the bucket of 0.001 ms (C(-348)).
        - Only non-empty buckets are listed, in the order of their index; C({}) without
          latencies.
        - A percentile taken as the upper bound of the bucket that holds it is never below the
          exact one and at most 2 % above.
      type: dict
other:
  description: The same numbers for requests of no group (or not proxied).
  returned: always
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import access_log


class AccessLogError(Exception):
    """The log cannot be read, or an option is wrong."""


class AccessLogStats:
    def __init__(self, module: AnsibleModule):
        self.module = module
        self.params = module.params

    def read(self) -> dict:
        params = self.params
        if params["offset"] < 0:
            raise AccessLogError(f"offset: {params['offset']} is negative")
        if params["max_bytes"] < 1:
            raise AccessLogError(f"max_bytes: {params['max_bytes']} is not positive")
        try:
            aggregator = access_log.Aggregator(
                params["groups"],
                error_status=params["error_status"],
                since=params["since"],
                uri_exclude=params["uri_exclude"],
            )
        except ValueError as err:
            raise AccessLogError(str(err)) from err
        try:
            with open(params["path"], "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                rotated = params["offset"] > size
                start = 0 if rotated else params["offset"]
                handle.seek(start)
                offset, truncated = self.consume(handle, start, aggregator)
        except OSError as err:
            raise AccessLogError(f"reading {params['path']} failed: {err}") from err
        return {"offset": offset, "rotated": rotated, "truncated": truncated, **aggregator.result()}

    def consume(self, handle, start: int, aggregator: access_log.Aggregator) -> tuple[int, bool]:
        """Feed complete lines to the aggregator; return the offset after them and whether
        max_bytes stopped the reading."""
        position = start
        budget = self.params["max_bytes"]
        while budget > 0:
            line = handle.readline(budget)
            if not line.endswith(b"\n"):
                # End of file, a line nginx is still writing, or the budget ends in this line.
                cut = len(line) == budget and handle.read(1) != b""
                if cut and position == start:
                    # A line longer than max_bytes would stop every later call here.
                    aggregator.add_line(None)
                    position += len(line)
                return position, cut
            aggregator.add_line(line)
            position += len(line)
            budget -= len(line)
        return position, handle.read(1) != b""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "offset": {"type": "int", "default": 0},
            "groups": {"type": "dict", "required": True},
            "since": {"type": "float"},
            "error_status": {"type": "int", "default": 500},
            "uri_exclude": {"type": "list", "elements": "str", "default": []},
            "max_bytes": {"type": "int", "default": 64 * 1024 * 1024},
        },
        supports_check_mode=True,
    )
    try:
        result = AccessLogStats(module).read()
    except AccessLogError as err:
        module.fail_json(msg=str(err))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
