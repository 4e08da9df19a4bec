#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fly_volume_info
short_description: List the volumes of a Fly.io app
version_added: 0.1.0
description:
  - Read one volume by id, the volumes with a name, or every volume of an app. Volumes being
    destroyed are left out.
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
      - The id of one volume. A volume that does not exist gives an empty list.
    type: str
  name:
    description:
      - Only the volumes with this name.
    type: str
  region:
    description:
      - Only the volumes in this region.
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
  - sigma.deploy.fly
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.fly_volume
"""

EXAMPLES = r"""
- name: The data volumes of the app
  sigma.deploy.fly_volume_info:
    app: shop
    name: data
  delegate_to: localhost
  register: volumes
"""

RETURN = r"""
fly_volume_info:
  description: The volumes found (an empty list when none match), each as
    M(sigma.deploy.fly_volume) returns one.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id of the volume.
      type: str
      sample: vol_4y5zd2kgxp8p0x1r
    name:
      description: The name of the volume.
      type: str
      sample: data
    region:
      description: The region of the volume.
      type: str
      sample: ams
    state:
      description: The state of the volume.
      type: str
      sample: created
    size_gb:
      description: The size in GB.
      type: int
      sample: 10
    encrypted:
      description: Whether the volume is encrypted at rest.
      type: bool
      sample: true
    zone:
      description: The hardware zone of the volume.
      type: str
      sample: "d8a2"
    attached_machine_id:
      description: The machine the volume is mounted in, or null.
      type: str
      sample: null
    created_at:
      description: When the volume was created.
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
from ansible_collections.sigma.deploy.plugins.module_utils.fly.resource import (
    or_none,
    run_fly_info,
)
from ansible_collections.sigma.deploy.plugins.module_utils.fly.shapes import (
    DESTROYED_VOLUME_STATES,
    volume_result,
)


def read(client, params):
    app = params["app"]
    if params["id"]:
        one = or_none(lambda ident: client.get_volume(app, ident), params["id"], "volume_id")
        found = [one] if one is not None else []
    else:
        found = client.list_volumes(app)
    return [
        volume_result(v)
        for v in found
        if v.get("state") not in DESTROYED_VOLUME_STATES
        and params["name"] in (None, v.get("name"))
        and params["region"] in (None, v.get("region"))
    ]


def main():
    module = AnsibleModule(
        argument_spec=fly_argument_spec(
            app=dict(type="str", required=True),
            id=dict(type="str"),
            name=dict(type="str"),
            region=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    run_fly_info(module, "fly_volume_info", read)


if __name__ == "__main__":
    main()
