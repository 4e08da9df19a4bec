#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: deb_packages_info
short_description: Tell which Debian packages are installed, and which ones apt has to look at
version_added: 0.2.0
description:
  - Reads, and never changes, the dpkg database of a Debian host with one C(dpkg-query) call,
    and splits the given package specifications in two lists, the ones that are plainly
    installed, and the ones that are left for M(ansible.builtin.apt) to handle.
  - A specification is plainly installed when it is a bare package name (optionally with an
    architecture, V(name:arch)), and dpkg lists that package, of the host's architecture (or
    V(all)) when none is given, as installed and wanted (C(ii) or C(hi)) with no error flag.
  - Everything else is pending, so that apt decides about it exactly as it would without this
    module (a package that is missing, half installed, unpacked but not configured, marked
    for removal or unknown to dpkg; a virtual package; a version pin (V(name=1.2)), a
    comparison (V(name>=1.2)), a wildcard (V(name*)), a C(.deb) file or URL). Without
    C(dpkg-query) on the host, every specification is pending.
  - Use it in front of M(ansible.builtin.apt), with RV(deb_packages.pending) as apt's
    O(ansible.builtin.apt#module:name), and skip apt when that list is empty. apt then also
    skips its package index refresh (O(ansible.builtin.apt#module:update_cache)), which is
    only needed to install something.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  name:
    description:
      - The package specifications, as they would be given to M(ansible.builtin.apt).
    type: list
    elements: str
    required: true
  list_installed:
    description:
      - Also list every package that dpkg lists as plainly installed
        (RV(deb_packages.all_installed)), so that later questions about other packages can be
        answered on the controller with the P(sigma.deploy.deb_packages_split#filter) filter
        instead of another call.
      - The role C(sigma.deploy.server_base) does so and keeps the result in
        C(server_base_deb_packages), for the collection's roles that follow in the same run.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs in check mode too, so apt can plan there.
  diff_mode:
    support: none
  platform:
    platforms: debian
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: ansible.builtin.apt
  - module: ansible.builtin.package_facts
"""

EXAMPLES = r"""
- name: Find which packages apt has to install
  sigma.deploy.deb_packages_info:
    name: [nginx, openssl, procps]
  register: nginx_packages

- name: Install them
  ansible.builtin.apt:
    name: "{{ nginx_packages.deb_packages.pending }}"
    state: present
    update_cache: true
    cache_valid_time: 3600
  when: nginx_packages.deb_packages.pending | length > 0
"""

RETURN = r"""
deb_packages:
  description: The given specifications, split by what apt has to do about them.
  returned: always
  type: dict
  contains:
    installed:
      description: The specifications that are plainly installed, in the given order.
      type: list
      elements: str
      sample: [nginx, openssl]
    pending:
      description: The specifications left for apt (missing, not plainly installed, or not a
        bare package name), in the given order, without repeats.
      type: list
      elements: str
      sample: [procps, certbot=2.1.0-4]
    architecture:
      description: The host's dpkg architecture; null without C(dpkg).
      type: str
      sample: amd64
    all_installed:
      description:
        - Every package dpkg lists as plainly installed, as C(name:architecture), sorted;
          null without C(dpkg-query).
      returned: when O(list_installed=true)
      type: list
      elements: str
      sample: ["nginx:amd64", "tzdata:all"]
  sample:
    installed: [nginx, openssl]
    pending: [procps]
    architecture: amd64
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.host.deb_packages import (
    QUERY_FORMAT,
    installed_packages,
    parse_status,
    query_names,
    split_specs,
)


class DebPackagesError(Exception):
    """A failure with a message meant for the user."""


class DebPackagesInfo:
    """Reads the dpkg database of the host."""

    def __init__(self, module):
        self.module = module
        self.dpkg = module.get_bin_path("dpkg")
        self.dpkg_query = module.get_bin_path("dpkg-query")

    def run(self, specs, list_installed=False):
        names = query_names(specs)
        if not (self.dpkg and self.dpkg_query and (names or list_installed)):
            status = {}
        else:
            # Without names, dpkg-query lists every package it knows of.
            status = self.status([] if list_installed else names)
        result = split_specs(specs, status, self.architecture())
        if list_installed:
            result["all_installed"] = installed_packages(status) if self.dpkg_query else None
        return result

    def architecture(self):
        if not self.dpkg:
            return None
        rc, out, err = self.module.run_command([self.dpkg, "--print-architecture"])
        if rc != 0:
            raise DebPackagesError(f"dpkg --print-architecture failed (rc {rc}): {err.strip()}")
        return out.strip()

    def status(self, names):
        # rc 1: some name is unknown to dpkg (it says so on stderr); those are pending.
        rc, out, err = self.module.run_command(
            [
                self.dpkg_query,
                "--show",
                f"--showformat={QUERY_FORMAT}",
                *(["--", *names] if names else []),
            ]
        )
        if rc not in (0, 1):
            raise DebPackagesError(f"dpkg-query failed (rc {rc}): {err.strip()}")
        return parse_status(out)


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "list", "elements": "str", "required": True},
            "list_installed": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    try:
        packages = DebPackagesInfo(module).run(
            module.params["name"], module.params["list_installed"]
        )
    except DebPackagesError as err:
        module.fail_json(msg=str(err))
    module.exit_json(changed=False, deb_packages=packages)


if __name__ == "__main__":
    main()
