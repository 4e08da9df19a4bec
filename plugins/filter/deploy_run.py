# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters deploy_start, deploy_stop, deploy_check and deploy_finish (documented in their .yml
files): the deploy as one declared dict, plugins/module_utils/deploy/state.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import state


def _deploy(name: str, value) -> Mapping:
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(f"{name}: _input must be a deploy (a dict)")
    return value


def deploy_start(deploy_id, kind, strategy, who, job_id, started, started_at) -> dict:
    texts = (deploy_id, kind, strategy, who, job_id, started)
    try:
        return state.deploy_start(*(str(t) for t in texts), started_at=float(started_at))
    except (TypeError, ValueError) as err:
        raise AnsibleFilterError(f"deploy_start: started_at must be a number: {err}") from err


def deploy_stop(deploy, error) -> dict:
    try:
        return state.deploy_stop(_deploy("deploy_stop", deploy), str(error))
    except state.StateError as err:
        raise AnsibleFilterError(f"deploy_stop: {err}") from err


def deploy_check(deploy, outcome) -> dict:
    if not isinstance(outcome, Mapping) or not {"failed_hosts", "abort", "error"} <= set(outcome):
        raise AnsibleFilterError("deploy_check: outcome must be what deploy_outcome returned")
    try:
        return state.deploy_check(_deploy("deploy_check", deploy), outcome)
    except state.StateError as err:
        raise AnsibleFilterError(f"deploy_check: {err}") from err


def deploy_finish(deploy, gone_hosts, finished, at) -> dict:
    if isinstance(gone_hosts, (str, bytes)) or not isinstance(gone_hosts, Sequence):
        raise AnsibleFilterError("deploy_finish: gone_hosts must be a list of hosts")
    try:
        return state.deploy_finish(
            _deploy("deploy_finish", deploy), list(gone_hosts), str(finished), float(at)
        )
    except state.StateError as err:
        raise AnsibleFilterError(f"deploy_finish: {err}") from err


class FilterModule:
    def filters(self) -> dict:
        return {
            "deploy_start": deploy_start,
            "deploy_stop": deploy_stop,
            "deploy_check": deploy_check,
            "deploy_finish": deploy_finish,
        }
