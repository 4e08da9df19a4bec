#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fly_app_info
short_description: List Fly.io apps
version_added: 0.1.0
description:
  - Read one app by name, or every app of an organization.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  name:
    description:
      - The name of one app. An app that does not exist gives an empty list.
    type: str
  org:
    description:
      - The slug of the organization whose apps to list (when O(name) is not given).
    type: str
    default: personal
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
  - module: sigma.deploy.fly_app
"""

EXAMPLES = r"""
- name: Every app of the organization
  sigma.deploy.fly_app_info:
    org: acme
  delegate_to: localhost
  register: apps

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ apps.fly_app_info | map(attribute='name') }}"
"""

RETURN = r"""
fly_app_info:
  description: The apps found (an empty list when none match).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id of the app.
      type: str
      sample: "xkg3ne5kpq1rz6m9"
    name:
      description: The name of the app.
      type: str
      sample: shop
    org:
      description: The slug of the app's organization (null in a list, which does not carry it).
      type: str
      sample: personal
    status:
      description: The app's status.
      type: str
      sample: deployed
    network:
      description: The app's custom network, or null.
      type: str
      sample: null
    machine_count:
      description: How many machines the app has.
      type: int
      sample: 3
    volume_count:
      description: How many volumes the app has (null in a list).
      type: int
      sample: 0
failure:
  description: The API error that failed the task.
  returned: failure
  type: dict
  sample:
    vendor: Fly
    status: 401
    code: unauthorized
    message: "You must be authenticated to view this. (check api_token or FLY_API_TOKEN)"
    field: api_token
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import fly_argument_spec
from ansible_collections.sigma.deploy.plugins.module_utils.fly.resource import run_fly_info
from ansible_collections.sigma.deploy.plugins.module_utils.fly.shapes import app_result


def read(client, params):
    if params["name"]:
        found = client.get_app(params["name"])
        return [app_result(found)] if found is not None else []
    return [app_result(app) for app in client.list_apps(params["org"])]


def main():
    module = AnsibleModule(
        argument_spec=fly_argument_spec(
            name=dict(type="str"),
            org=dict(type="str", default="personal"),
        ),
        supports_check_mode=True,
    )
    run_fly_info(module, "fly_app_info", read)


if __name__ == "__main__":
    main()
