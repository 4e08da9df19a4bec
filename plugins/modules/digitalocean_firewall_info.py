#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: digitalocean_firewall_info
short_description: List DigitalOcean cloud firewalls
version_added: 0.1.0
description:
  - Read cloud firewalls by id, by name, or all of them (every page is read).
author:
  - sigma.deploy contributors (@sigma-deploy)
options:
  id:
    description:
      - The id (a UUID) of one firewall.
    type: str
  name:
    description:
      - Only firewalls with this name (DigitalOcean allows several).
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
  - sigma.deploy.digitalocean
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.digitalocean_firewall
"""

EXAMPLES = r"""
- name: The web firewall
  sigma.deploy.digitalocean_firewall_info:
    name: shop-web
  delegate_to: localhost
  register: fw

- name: The droplets it applies to directly
  ansible.builtin.debug:
    msg: "{{ fw.digitalocean_firewall_info[0].droplet_ids }}"
"""

RETURN = r"""
digitalocean_firewall_info:
  description: The firewalls found (an empty list when none match).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id of the firewall.
      type: str
      sample: bb4b2611-3d72-467b-8602-280330ecd65c
    name:
      description: The name of the firewall.
      type: str
      sample: shop-web
    status:
      description: V(waiting) while a change propagates, then V(succeeded) (or V(failed)).
      type: str
      sample: succeeded
    inbound_rules:
      description: The inbound rules in normal form, sorted.
      type: list
      elements: dict
      sample:
        - protocol: tcp
          ports: "22"
          sources: {addresses: [198.51.100.0/24]}
    outbound_rules:
      description: The outbound rules in normal form, sorted.
      type: list
      elements: dict
      sample:
        - protocol: tcp
          ports: "0"
          destinations: {addresses: [0.0.0.0/0, "::/0"]}
    droplet_ids:
      description: The ids of the droplets the firewall applies to directly, sorted.
      type: list
      elements: int
      sample: [3164444]
    tags:
      description: The tags the firewall applies to, sorted.
      type: list
      elements: str
      sample: [web]
    created_at:
      description: When the firewall was created (ISO 8601).
      type: str
      sample: "2026-01-30T23:50:00Z"
failure:
  description: The API error that failed the task.
  returned: failure
  type: dict
  sample:
    vendor: DigitalOcean
    status: 401
    code: Unauthorized
    message: "Unable to authenticate you. (check api_token, DIGITALOCEAN_TOKEN or DO_API_TOKEN)"
    field: null
    request_id: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import reader, run_info
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.client import (
    DigitalOceanClient,
    digitalocean_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.shapes import (
    firewall_result,
)


def main():
    module = AnsibleModule(
        argument_spec=digitalocean_argument_spec(
            id=dict(type="str"),
            name=dict(type="str"),
        ),
        mutually_exclusive=[["id", "name"]],
        supports_check_mode=True,
    )
    read = reader("firewalls", firewall_result)
    run_info(module, DigitalOceanClient, "digitalocean_firewall_info", read)


if __name__ == "__main__":
    main()
