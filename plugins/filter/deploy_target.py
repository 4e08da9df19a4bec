# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters deploy_target_new, deploy_target_app and deploy_target_note (documented in their
.yml files): a deploy's target as one declared dict, plugins/module_utils/deploy/state.py."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.state import (
    StateError,
    target_new,
    target_new_app,
    target_note,
)


def deploy_target_new(info, release_id, name, lb_member, t0) -> dict:
    if not isinstance(info, Mapping):
        raise AnsibleFilterError(
            "deploy_target_new: _input must be what release_info read (a dict)"
        )
    try:
        return target_new(info, str(release_id), str(name), str(lb_member), float(t0))
    except StateError as err:
        raise AnsibleFilterError(f"deploy_target_new: {err}") from err


def deploy_target_app(before_release, current, name, t0) -> dict:
    return target_new_app(
        "" if before_release is None else str(before_release),
        boolean(current, strict=False),
        str(name),
        float(t0),
    )


def deploy_target_note(target, event, **fields) -> dict:
    if not isinstance(target, Mapping):
        raise AnsibleFilterError("deploy_target_note: _input must be a target (a dict)")
    for flag in ("start", "switch"):
        if flag in fields:
            fields[flag] = boolean(fields[flag], strict=False)
    try:
        return target_note(target, str(event), **fields)
    except StateError as err:
        raise AnsibleFilterError(f"deploy_target_note: {err}") from err


class FilterModule:
    def filters(self) -> dict:
        return {
            "deploy_target_new": deploy_target_new,
            "deploy_target_app": deploy_target_app,
            "deploy_target_note": deploy_target_note,
        }
