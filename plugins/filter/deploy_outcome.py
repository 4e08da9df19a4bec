# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: deploy_outcome
short_description: Which hosts of a deploy failed, whether it stops, and each host's result
version_added: 0.3.0
author:
  - sigma.deploy maintainers (@sigma-deploy)
description:
  - The per-host bookkeeping of the role C(sigma.deploy.app_deploy), as one function of the
    hosts' facts, tested by equality.
  - A host has failed when it left the play (unreachable, or a task failed outside a rescue) or
    when it noted the result V(failed) (C(result) of its fact C(__app_deploy_target), built by
    the filter C(sigma.deploy.deploy_target_new)).
  - "The deploy stops when it was stopped already (O(aborted)) or when the failed hosts are more
    than O(max_fail_percentage) percent of the hosts. A stopping deploy with no O(error) yet gets
    C(failed on <hosts>: <their errors>); a failed host that noted no error
    (C(error) of its target) is named V(unreachable) there."
  - C(host_results) is what the release ledger records of each host. C(result) is
    V(failed or unreachable) for a host that left the play, V(not started) for one that noted
    none. C(from) is the release it served before. C(slot) is the new slot after a success,
    else the old one. C(error) is its error.
positional: _input, hostvars, alive
options:
  _input:
    description: All the hosts of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  hostvars:
    description:
      - C(hostvars), where each host's fact C(__app_deploy_target) is read when set (its
        C(result), C(error), C(before.release), C(before.slot) and C(after.slot)).
    type: dict
    required: true
  alive:
    description: The hosts still in the play (C(ansible_play_hosts)).
    type: list
    elements: str
    required: true
  aborted:
    description: Whether the deploy was stopped already.
    type: bool
    default: false
  error:
    description: The deploy's error so far; kept as it is when not empty.
    type: str
    default: ""
  max_fail_percentage:
    description: The failed hosts tolerated, in percent of all the hosts.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Count the failed hosts, stop the deploy when they are too many
  ansible.builtin.set_fact:
    deploy_failed_hosts: "{{ outcome.failed_hosts }}"
    deploy_abort: "{{ outcome.abort }}"
    deploy_error: "{{ outcome.error }}"
  run_once: true
  vars:
    outcome: >-
      {{ ansible_play_hosts_all | sigma.deploy.deploy_outcome(hostvars, ansible_play_hosts,
           aborted=deploy_abort, error=deploy_error, max_fail_percentage=10) }}
"""

RETURN = r"""
_value:
  description: The outcome.
  type: dict
  contains:
    failed_hosts:
      description: The hosts gone from the play (sorted), then those marked failed (in play order).
      type: list
      elements: str
    abort:
      description: Whether the deploy stops.
      type: bool
    error:
      description: The deploy's error (empty while it does not stop).
      type: str
    host_results:
      description: Per host, C(result), C(from), C(slot) and C(error), in play order.
      type: dict
"""

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.outcome import host_view, outcome


def _percent(value) -> int:
    """An integer as Jinja's ``int`` filter reads it (``"10"``, ``10.0``); 0 when it is none."""
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def deploy_outcome(hosts, hostvars, alive, aborted=False, error="", max_fail_percentage=0) -> dict:
    for name, value in (("_input", hosts), ("alive", alive)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise AnsibleFilterError(f"deploy_outcome: {name} must be a list of hosts")
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("deploy_outcome: hostvars must be hostvars (a mapping)")
    hosts, alive = list(hosts), list(alive)
    views = {host: host_view(hostvars[host]) for host in hosts}
    return outcome(
        hosts,
        alive,
        views,
        aborted=boolean(aborted, strict=False),
        error=str(error),
        max_fail_percent=_percent(max_fail_percentage),
    )


class FilterModule:
    def filters(self) -> dict:
        return {"deploy_outcome": deploy_outcome}
