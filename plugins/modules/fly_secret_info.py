#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fly_secret_info
short_description: List the secrets of a Fly.io app, without their values
version_added: 0.1.0
description:
  - Read the names of an app's secrets, with the digest and the dates Fly lists for each.
    Values are never read.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  app:
    description:
      - The name of the app. An app Fly does not know fails the task.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.fly
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.fly_secret
"""

EXAMPLES = r"""
- name: The secrets of the app
  sigma.deploy.fly_secret_info:
    app: shop
  delegate_to: localhost
  register: secrets

- name: Fail when the database URL is missing
  ansible.builtin.assert:
    that: "'DATABASE_URL' in secrets.fly_secret_info | map(attribute='name')"
"""

RETURN = r"""
fly_secret_info:
  description: The app's secrets (names, never values).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The name of the secret.
      type: str
      sample: DATABASE_URL
    digest:
      description: Fly's digest of the value (it tells values apart; it cannot be reversed).
      type: str
      sample: "73eb694e9d599c38"
    created_at:
      description: When the secret was first set.
      type: str
      sample: "2026-08-01T10:00:00Z"
    updated_at:
      description: When its value last changed.
      type: str
      sample: "2026-08-01T10:00:00Z"
failure:
  description: The API error that failed the task.
  returned: failure
  type: dict
  sample:
    vendor: Fly
    status: 404
    code: not_found
    message: "app 'shop' not found"
    field: app
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import fly_argument_spec
from ansible_collections.sigma.deploy.plugins.module_utils.fly.resource import run_fly_info
from ansible_collections.sigma.deploy.plugins.module_utils.fly.shapes import secret_result


def read(client, params):
    return [secret_result(s) for s in client.list_secrets(params["app"])]


def main():
    module = AnsibleModule(
        argument_spec=fly_argument_spec(app=dict(type="str", required=True)),
        supports_check_mode=True,
    )
    run_fly_info(module, "fly_secret_info", read)


if __name__ == "__main__":
    main()
