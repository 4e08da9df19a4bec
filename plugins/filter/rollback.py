# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters previous_release and rollback_release (documented in their .yml files): the release
a rollback goes back to, plugins/module_utils/deploy/rollback.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import rollback


def previous_release(served, release_id) -> str:
    if isinstance(served, (str, Mapping)) or not isinstance(served, Iterable):
        raise AnsibleFilterError(
            "previous_release: _input must be a list of releases (what each target served)"
        )
    return rollback.previous_release(served, str(release_id))


def rollback_release(read, given="") -> dict:
    if not isinstance(read, Mapping):
        raise AnsibleFilterError(
            "rollback_release: _input must be what sigma.deploy.release_info read (a dict)"
        )
    return rollback.rollback_release(read, "" if given is None else str(given))


class FilterModule:
    def filters(self) -> dict:
        return {"previous_release": previous_release, "rollback_release": rollback_release}
