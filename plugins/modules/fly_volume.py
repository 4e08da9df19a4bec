#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fly_volume
short_description: Manage Fly.io volumes
version_added: 0.1.0
description:
  - Create, extend and delete a volume of a Fly.io app, found by O(name) (and O(region)) or by
    O(id).
  - Volumes only grow. A smaller O(size_gb) than the volume has fails the task; region and
    encryption are fixed when the volume is created.
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
      - The id of the volume (C(vol_...)). Otherwise O(name) finds it.
    type: str
  name:
    description:
      - The name of the volume (letters, digits and underscores). Fly lets several volumes
        share a name (one per machine); when several match O(name) (in O(region), when
        given), the task fails and lists their ids.
      - Required to create a volume.
    type: str
  region:
    description:
      - The region of the volume. Required to create one; also narrows the lookup by name.
    type: str
  size_gb:
    description:
      - The size in GB. A new volume is created with it (1 when not given); an existing
        smaller one is extended to it.
    type: int
  encrypted:
    description:
      - Whether a new volume is encrypted at rest.
    type: bool
    default: true
  state:
    description:
      - V(present) ensures the volume exists with at least O(size_gb), V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.fly
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.fly_volume_info
"""

EXAMPLES = r"""
- name: A data volume in Amsterdam
  sigma.deploy.fly_volume:
    app: shop
    name: data
    region: ams
    size_gb: 10
  delegate_to: localhost

- name: Remove it
  sigma.deploy.fly_volume:
    app: shop
    name: data
    region: ams
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
fly_volume:
  description: The volume (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id of the volume (null for a volume check mode would create).
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
      description: The state of the volume (V(created), ...).
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
    status: 400
    code: invalid
    message: "invalid region: unknown region 'xyz'"
    field: region
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import run_resource
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import fly_argument_spec
from ansible_collections.sigma.deploy.plugins.module_utils.fly.resource import (
    FlyResource,
    or_none,
)
from ansible_collections.sigma.deploy.plugins.module_utils.fly.shapes import (
    DESTROYED_VOLUME_STATES,
    VOLUME_MANAGED,
    volume_result,
)


class FlyVolume(FlyResource):
    collection = "volumes"
    represent = "fly_volume"
    managed = VOLUME_MANAGED

    def shape(self, resource):
        return volume_result(resource)

    def read(self, ident):
        return self.client.get_volume(self.app, ident)

    def lookup(self):
        if self.params["id"]:
            found = or_none(self.read, self.params["id"], "volume_id")
            return None if (found or {}).get("state") in DESTROYED_VOLUME_STATES else found
        name, region = self.params["name"], self.params["region"]
        found = [
            v
            for v in self.client.list_volumes(self.app)
            if v.get("name") == name
            and region in (None, v.get("region"))
            and v.get("state") not in DESTROYED_VOLUME_STATES
        ]
        return self.unique(found, f"named {name}" + (f" in {region}" if region else ""))

    def create(self):
        self.check_create("name", "region")
        body = {
            "name": self.params["name"],
            "region": self.params["region"],
            "size_gb": self.params["size_gb"] or 1,
            "encrypted": self.params["encrypted"],
        }
        self.mark_changed()
        if self.check_mode:
            self.resource = dict(body, id=None)
            return
        self.resource = self.client.create_volume(self.app, body)

    def extend(self):
        wanted, size = self.params["size_gb"], self.resource.get("size_gb")
        if wanted is None or size is None or wanted == size:
            return
        if wanted < size:
            raise ApiError.refusal(
                f"size_gb {wanted} is smaller than volume {self.resource['id']} ({size} GB); "
                "Fly volumes only grow (create a smaller one and move the data)"
            )
        self.mark_changed()
        if self.check_mode:
            self.resource["size_gb"] = wanted
            return
        answer = self.client.extend_volume(self.app, self.resource["id"], wanted) or {}
        if answer.get("needs_restart"):
            self.module.warn(
                f"volume {self.resource['id']} was extended to {wanted} GB; restart machine "
                f"{self.resource.get('attached_machine_id')} for it to see the new size"
            )
        self.reread()

    def warn_fixed(self):
        for option in ("region", "encrypted"):
            wanted, have = self.params[option], self.resource.get(option)
            if wanted is not None and have is not None and wanted != have:
                self.module.warn(
                    f"volume {self.resource['id']} has {option} {have}; it cannot change to "
                    f"{wanted} (create a new volume)"
                )

    def present(self):
        if self.resource is None:
            self.create()
            return
        self.warn_fixed()
        self.extend()

    def absent(self):
        self.remove(lambda volume: self.client.delete_volume(self.app, volume["id"]))


def main():
    module = AnsibleModule(
        argument_spec=fly_argument_spec(
            app=dict(type="str", required=True),
            id=dict(type="str"),
            name=dict(type="str"),
            region=dict(type="str"),
            size_gb=dict(type="int"),
            encrypted=dict(type="bool", default=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        required_one_of=[["id", "name"]],
        supports_check_mode=True,
    )
    run_resource(module, FlyVolume)


if __name__ == "__main__":
    main()
