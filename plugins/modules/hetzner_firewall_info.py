#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hetzner_firewall_info
short_description: List Hetzner Cloud firewalls
version_added: 0.1.0
description:
  - Read firewalls by id, by name, by label selector, or all of them (every page is read).
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  id:
    description:
      - The id of one firewall.
    type: int
  name:
    description:
      - The name of one firewall.
    type: str
  label_selector:
    description:
      - A Hetzner label selector, for example V(app=shop).
    type: str
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.hetzner
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.hetzner_firewall
"""

EXAMPLES = r"""
- name: The firewall of the web servers
  sigma.deploy.hetzner_firewall_info:
    name: shop-web
  delegate_to: localhost
  register: fw

- name: Its rules
  ansible.builtin.debug:
    msg: "{{ fw.hetzner_firewall_info[0].rules }}"
"""

RETURN = r"""
hetzner_firewall_info:
  description: The firewalls found (an empty list when none match).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id of the firewall.
      type: int
      sample: 38
    name:
      description: The name of the firewall.
      type: str
      sample: shop-web
    labels:
      description: The labels of the firewall.
      type: dict
      sample: {"app": "shop"}
    rules:
      description: The rules in normal form, sorted.
      type: list
      elements: dict
      sample:
        - direction: in
          protocol: tcp
          port: "22"
          source_ips: [198.51.100.0/24]
          destination_ips: []
          description: null
    servers:
      description: The ids of the servers the firewall applies to directly.
      type: list
      elements: int
      sample: [42]
    label_selectors:
      description: The label selectors the firewall applies to.
      type: list
      elements: str
      sample: ["app=shop,role=web"]
    created:
      description: When the firewall was created (ISO 8601).
      type: str
      sample: "2026-01-30T23:50:00+00:00"
failure:
  description: The API error that failed the task.
  returned: failure
  type: dict
  sample:
    vendor: Hetzner
    status: 401
    code: unauthorized
    message: "unable to authenticate"
    field: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import reader, run_info
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.client import (
    HetznerClient,
    hetzner_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.shapes import firewall_result


def main():
    module = AnsibleModule(
        argument_spec=hetzner_argument_spec(
            id=dict(type="int"),
            name=dict(type="str"),
            label_selector=dict(type="str"),
        ),
        mutually_exclusive=[["id", "name", "label_selector"]],
        supports_check_mode=True,
    )
    read = reader("firewalls", firewall_result, "label_selector")
    run_info(module, HetznerClient, "hetzner_firewall_info", read)


if __name__ == "__main__":
    main()
