#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fly_machine_info
short_description: List the machines of a Fly.io app
version_added: 0.1.0
description:
  - Read one machine by id, the machines with a name, or every machine of an app, optionally
    only those of a region or with some metadata.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  app:
    description:
      - The name of the app. An app Fly does not know fails the task.
    type: str
    required: true
  id:
    description:
      - The id of one machine. A machine that does not exist gives an empty list.
    type: str
  name:
    description:
      - Only the machines with this name.
    type: str
  region:
    description:
      - Only the machines in this region.
    type: str
  metadata:
    description:
      - Only the machines whose metadata has all these keys and values (for example
        C(sigma_release=r42)).
    type: dict
  include_deleted:
    description:
      - Also list destroyed machines.
    type: bool
    default: false
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
  - module: sigma.deploy.fly_machine
"""

EXAMPLES = r"""
- name: The machines of release r42
  sigma.deploy.fly_machine_info:
    app: shop
    metadata:
      sigma_release: r42
  delegate_to: localhost
  register: release

- name: Show their states
  ansible.builtin.debug:
    msg: "{{ release.fly_machine_info | items2dict(key_name='id', value_name='state') }}"
"""

RETURN = r"""
fly_machine_info:
  description: The machines found (an empty list when none match), each as
    M(sigma.deploy.fly_machine) returns one.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id of the machine.
      type: str
      sample: "e784079b449483"
    name:
      description: The name of the machine.
      type: str
      sample: web-1
    app:
      description: The app of the machine.
      type: str
      sample: shop
    region:
      description: The region of the machine.
      type: str
      sample: ams
    state:
      description: The state of the machine.
      type: str
      sample: started
    image:
      description: The image of its config.
      type: str
      sample: registry.fly.io/shop:r42
    instance_id:
      description: The id of this version of the machine.
      type: str
      sample: "01J9Z6W5X8Q0"
    private_ip:
      description: The machine's private address.
      type: str
      sample: "fdaa:0:1:a7b:1::2"
    metadata:
      description: The metadata of the machine.
      type: dict
      sample: {"sigma_release": "r42"}
    cordoned:
      description: Whether the proxy routes no traffic to it.
      type: bool
      sample: false
    checks:
      description: The state of its health checks.
      type: list
      elements: dict
      sample: [{"name": "http", "status": "passing", "output": "200 OK"}]
    config:
      description: The whole machine config.
      type: dict
      sample: {"image": "registry.fly.io/shop:r42"}
    created_at:
      description: When the machine was created.
      type: str
      sample: "2026-08-01T10:00:00Z"
    updated_at:
      description: When the machine last changed.
      type: str
      sample: "2026-08-01T10:05:00Z"
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
from ansible_collections.sigma.deploy.plugins.module_utils.fly.resource import (
    or_none,
    run_fly_info,
)
from ansible_collections.sigma.deploy.plugins.module_utils.fly.shapes import (
    machine_result,
    metadata_matches,
)


def read(client, params):
    app = params["app"]
    metadata = {str(k): str(v) for k, v in (params["metadata"] or {}).items()}
    if params["id"]:
        one = or_none(lambda ident: client.get_machine(app, ident), params["id"], "machine_id")
        found = [one] if one is not None else []
    else:
        found = client.list_machines(
            app, params["include_deleted"], metadata or None, params["region"]
        )
    # The filters are applied here too: a list filter Fly ignores must not widen the answer.
    return [
        machine_result(m, app)
        for m in found
        if params["name"] in (None, m.get("name"))
        and params["region"] in (None, m.get("region"))
        and metadata_matches(m.get("config"), metadata)
    ]


def main():
    module = AnsibleModule(
        argument_spec=fly_argument_spec(
            app=dict(type="str", required=True),
            id=dict(type="str"),
            name=dict(type="str"),
            region=dict(type="str"),
            metadata=dict(type="dict"),
            include_deleted=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    run_fly_info(module, "fly_machine_info", read)


if __name__ == "__main__":
    main()
