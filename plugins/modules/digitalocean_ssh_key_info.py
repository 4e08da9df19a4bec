#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: digitalocean_ssh_key_info
short_description: List SSH keys of a DigitalOcean account
version_added: 0.1.0
description:
  - Read SSH keys by id, by fingerprint, by name, or all of them (every page is read).
author:
  - sigma.deploy contributors (@sigma-deploy)
options:
  id:
    description:
      - The id of one SSH key.
    type: int
  fingerprint:
    description:
      - The MD5 fingerprint of one SSH key (C(aa:bb:...)).
    type: str
  name:
    description:
      - Only keys with this name (DigitalOcean allows several).
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
  - module: sigma.deploy.digitalocean_ssh_key
"""

EXAMPLES = r"""
- name: All SSH keys of the account
  sigma.deploy.digitalocean_ssh_key_info:
  delegate_to: localhost
  register: keys

- name: Their names
  ansible.builtin.debug:
    msg: "{{ keys.digitalocean_ssh_key_info | map(attribute='name') }}"
"""

RETURN = r"""
digitalocean_ssh_key_info:
  description: The SSH keys found (an empty list when none match).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id of the key.
      type: int
      sample: 512189
    name:
      description: The name of the key.
      type: str
      sample: deploy
    fingerprint:
      description: The MD5 fingerprint of the key.
      type: str
      sample: "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"
    public_key:
      description: The public key.
      type: str
      sample: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG2... deploy"
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

from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import run_info
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.client import (
    DigitalOceanClient,
    digitalocean_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.shapes import (
    ssh_key_result,
)


def read(client, params):
    """The key with an id or a fingerprint, the keys with a name, or every key."""
    ident = params["id"] if params["id"] is not None else params["fingerprint"]
    return [ssh_key_result(k) for k in client.select("ssh_keys", ident, params["name"])]


def main():
    module = AnsibleModule(
        argument_spec=digitalocean_argument_spec(
            id=dict(type="int"),
            fingerprint=dict(type="str"),
            name=dict(type="str"),
        ),
        mutually_exclusive=[["id", "fingerprint", "name"]],
        supports_check_mode=True,
    )
    run_info(module, DigitalOceanClient, "digitalocean_ssh_key_info", read)


if __name__ == "__main__":
    main()
