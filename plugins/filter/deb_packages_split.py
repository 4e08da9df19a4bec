# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""deb_packages_split: which package specifications a host has plainly installed, answered on
the controller from a sigma.deploy.deb_packages_info result of the same run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.module_utils.host.deb_packages import (
    split_specs,
    status_of_installed,
)


def deb_packages_split(specs: Any, listed: Any) -> dict[str, Any]:
    """The deb_packages result deb_packages_info would give for ``specs`` on the host that
    ``listed`` (its deb_packages, with list_installed=true) came from."""
    if isinstance(specs, (str, bytes)) or not isinstance(specs, Sequence):
        raise AnsibleFilterError(
            f"deb_packages_split: expected a list of package specifications, got {specs!r}"
        )
    if not isinstance(listed, Mapping):
        raise AnsibleFilterError(
            "deb_packages_split: expected a deb_packages result of"
            f" sigma.deploy.deb_packages_info, got {listed!r}"
        )
    packages = listed.get("all_installed")
    if not isinstance(packages, Sequence) or isinstance(packages, (str, bytes)):
        raise AnsibleFilterError(
            "deb_packages_split: the deb_packages result has no all_installed list; run"
            " sigma.deploy.deb_packages_info with list_installed=true (and dpkg-query present)"
        )
    return split_specs(
        [str(spec) for spec in specs], status_of_installed(packages), listed.get("architecture")
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"deb_packages_split": deb_packages_split}
