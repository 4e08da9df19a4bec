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
  - Takes one group's numbers from M(sigma.deploy.access_log_stats) (C(result.groups.canary))
    and says whether the step passes, with a message that gives the numbers and the limits.
  - The step fails when the group had fewer than O(min_requests) requests (no data counts as
    a failure), when its error rate is above O(max_error_rate), or when its p95 latency is
    above O(max_p95_ms).
positional: _input
options:
  _input:
    description: One group's numbers (C(requests), C(errors), C(error_rate), C(p95_ms)).
    type: dict
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
- name: Judge the canary step
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
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.module_utils._access_log import judge_step


def canary_judge(
    stats, max_error_rate=0.01, max_p95_ms=500.0, min_requests=20, name="canary"
) -> dict:
    if not isinstance(stats, Mapping):
        raise AnsibleFilterError(
            f"canary_judge expects one group's numbers (a dict), got {type(stats).__name__}"
        )
    try:
        passed, message = judge_step(
            stats, float(max_error_rate), float(max_p95_ms), int(min_requests), name=str(name)
        )
    except (TypeError, ValueError) as err:
        raise AnsibleFilterError(f"canary_judge: {err}") from err
    return {"passed": passed, "message": message}


class FilterModule:
    def filters(self):
        return {"canary_judge": canary_judge}
