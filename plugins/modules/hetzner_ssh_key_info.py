#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hetzner_ssh_key_info
short_description: List SSH keys of a Hetzner Cloud project
version_added: 0.1.0
description:
  - Read SSH keys by id, by name, by label selector, or all of them (every page is read).
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  id:
    description:
      - The id of one SSH key.
    type: int
  name:
    description:
      - The name of one SSH key.
    type: str
  label_selector:
    description:
      - A Hetzner label selector, for example V(app=shop,env!=test).
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
  - module: sigma.deploy.hetzner_ssh_key
"""

EXAMPLES = r"""
- name: All SSH keys of the app
  sigma.deploy.hetzner_ssh_key_info:
    label_selector: app=shop
  delegate_to: localhost
  register: keys

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ keys.hetzner_ssh_key_info | map(attribute='name') }}"
"""

RETURN = r"""
hetzner_ssh_key_info:
  description: The SSH keys found (an empty list when none match).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id of the key.
      type: int
      sample: 10086
    name:
      description: The name of the key.
      type: str
      sample: deploy
    fingerprint:
      description: The MD5 fingerprint of the key.
      type: str
      sample: "b7:2f:30:a0:2f:6c:58:6c:21:04:58:61:ba:06:3b:2f"
    public_key:
      description: The public key.
      type: str
      sample: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG2... deploy"
    labels:
      description: The labels of the key.
      type: dict
      sample: {"app": "shop"}
    created:
      description: When the key was created (ISO 8601).
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
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.shapes import ssh_key_result


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
    read = reader("ssh_keys", ssh_key_result, "label_selector")
    run_info(module, HetznerClient, "hetzner_ssh_key_info", read)


if __name__ == "__main__":
    main()
