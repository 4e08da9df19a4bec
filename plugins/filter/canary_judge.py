# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: canary_judge
short_description: Whether a canary step's numbers pass its limits
version_added: 0.2.0
author:
  - sigma.deploy maintainers (@sigma-deploy)
description:
  - Takes one group's numbers from M(sigma.deploy.access_log_stats) (C(result.groups.canary)),
    or a list of them, one per host, and says whether the step passes, with a message that
    gives the numbers and the limits.
  - The step fails when the group had fewer than O(min_requests) requests (no data counts as
    a failure), when its error rate is above O(max_error_rate), or when its p95 latency is
    above O(max_p95_ms).
  - "For a list, the hosts are judged together: their requests and errors add up, the error
    rate is that of the sum, and the p95 is over all their requests, read from the merged
    C(latency_histogram) of the hosts. It is the upper bound of the histogram bucket that holds
    the p95, rounded up to the microsecond, so it is never below the exact p95 and at most 2 %
    plus 0.002 ms above it. The message starts with C(<name>, merged over <N> hosts)."
  - When an item of the list has no C(latency_histogram) (the output of an older
    M(sigma.deploy.access_log_stats)), the p95 of that judgement is the worst host's p95, and
    the message says so.
positional: _input
options:
  _input:
    description:
      - One group's numbers (C(requests), C(errors), C(error_rate), C(p95_ms)), or a list of
        them, one per host (each also with C(latency_histogram)). An empty list has no requests,
        so the step fails.
    type: raw
    required: true
  max_error_rate:
    description: The highest error rate that passes, from 0 to 1 (C(0.01) is 1 %).
    type: float
    default: 0.01
  max_p95_ms:
    description: The highest p95 latency that passes, in milliseconds.
    type: float
    default: 500.0
  min_requests:
    description: The fewest requests a step needs to be judged at all.
    type: int
    default: 20
  name:
    description: The group's name, for the message.
    type: str
    default: canary
seealso:
  - module: sigma.deploy.access_log_stats
"""

EXAMPLES = r"""
- name: Judge the canary step of one host
  ansible.builtin.assert:
    that: verdict.passed
    fail_msg: "{{ verdict.message }}"
    success_msg: "{{ verdict.message }}"
  vars:
    verdict: >-
      {{ step.groups.canary
         | sigma.deploy.canary_judge(max_error_rate=0.01, max_p95_ms=500, min_requests=20) }}
  # success_msg: canary: 120 requests, 0 errors (0.00 %), p95 41 ms: pass
  #   (limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)

- name: Judge the canary step over every host of the play (step registered on each)
  ansible.builtin.assert:
    that: verdict.passed
    fail_msg: "{{ verdict.message }}"
    success_msg: "{{ verdict.message }}"
  run_once: true
  vars:
    verdict: >-
      {{ ansible_play_hosts | map('extract', hostvars, 'step') | map(attribute='groups')
         | map(attribute='canary') | list
         | sigma.deploy.canary_judge(max_error_rate=0.01, max_p95_ms=500, min_requests=20) }}
  # success_msg: canary, merged over 3 hosts: 360 requests, 1 errors (0.28 %), p95 41.384 ms:
  #   pass (limits: errors <= 1.00 %, p95 <= 500 ms, at least 20 requests)
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    passed:
      description: Whether the step passes.
      type: bool
    message:
      description: The numbers, the verdict (with the reasons of a failure) and the limits.
      type: str
    merged:
      description:
        - For a list, the numbers the step was judged by, over all the hosts.
        - C(hosts), C(hosts_without_histogram), C(requests), C(errors), C(error_rate),
          C(p50_ms), C(p95_ms), C(p99_ms), C(max_ms), and C(latency_histogram) (the merged
          histogram, left out when a host had none; the percentiles are then the worst host's).
      type: dict
      returned: when the input is a list
"""

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.canary import (
    judge_hosts,
    judge_step,
)

EXPECTS = "canary_judge expects one group's numbers (a dict) or a list of them, one per host"


def _host_list(stats: Any) -> list[Mapping[str, Any]]:
    if isinstance(stats, (str, bytes)) or not isinstance(stats, Sequence):
        raise AnsibleFilterError(f"{EXPECTS}, got {type(stats).__name__}")
    for number, item in enumerate(stats, 1):
        if not isinstance(item, Mapping):
            raise AnsibleFilterError(f"{EXPECTS}; item {number} is {type(item).__name__}")
    return list(stats)


def canary_judge(
    stats, max_error_rate=0.01, max_p95_ms=500.0, min_requests=20, name="canary"
) -> dict:
    hosts = None if isinstance(stats, Mapping) else _host_list(stats)
    try:
        limits = (float(max_error_rate), float(max_p95_ms), int(min_requests))
        if hosts is None:
            passed, message = judge_step(stats, *limits, name=str(name))
            return {"passed": passed, "message": message}
        passed, message, merged = judge_hosts(hosts, *limits, name=str(name))
    except (TypeError, ValueError) as err:
        raise AnsibleFilterError(f"canary_judge: {err}") from err
    return {"passed": passed, "message": message, "merged": merged}


class FilterModule:
    def filters(self):
        return {"canary_judge": canary_judge}
