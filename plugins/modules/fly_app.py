#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fly_app
short_description: Manage Fly.io apps
version_added: 0.1.0
description:
  - Create and delete a Fly.io app through the Machines API.
  - An app's organization and network are fixed when it is created; an existing app in another
    organization or network is left as it is, with a warning.
  - Deleting an app deletes its machines, volumes and secrets with it.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  name:
    description:
      - The name of the app. App names are one namespace across all of Fly.io, so a name can
        be taken by an app of another organization.
    type: str
    required: true
  org:
    description:
      - The slug of the organization to create the app in.
    type: str
    default: personal
  network:
    description:
      - The custom private network to create the app in (Fly's default network when not given).
    type: str
  state:
    description:
      - V(present) ensures the app exists, V(absent) deletes it and everything in it.
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
  - module: sigma.deploy.fly_app_info
  - module: sigma.deploy.fly_machine
"""

EXAMPLES = r"""
- name: The app of the shop
  sigma.deploy.fly_app:
    name: shop
    org: acme
  delegate_to: localhost

- name: Remove a preview app and everything in it
  sigma.deploy.fly_app:
    name: "shop-pr-{{ pr_number }}"
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
fly_app:
  description: The app (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id of the app (null for an app that check mode would create).
      type: str
      sample: "xkg3ne5kpq1rz6m9"
    name:
      description: The name of the app.
      type: str
      sample: shop
    org:
      description: The slug of the app's organization.
      type: str
      sample: personal
    status:
      description: The app's status (V(pending), V(deployed), V(suspended)).
      type: str
      sample: deployed
    network:
      description: The app's custom network, or null for the default one.
      type: str
      sample: null
    machine_count:
      description: How many machines the app has.
      type: int
      sample: 3
    volume_count:
      description: How many volumes the app has.
      type: int
      sample: 0
failure:
  description: The API error that failed the task.
  returned: failure
  type: dict
  sample:
    vendor: Fly
    status: 422
    code: name_taken
    message: "Name has already been taken"
    field: name
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import run_resource
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import fly_argument_spec
from ansible_collections.sigma.deploy.plugins.module_utils.fly.resource import FlyResource
from ansible_collections.sigma.deploy.plugins.module_utils.fly.shapes import (
    APP_MANAGED,
    app_result,
)


class FlyApp(FlyResource):
    collection = "apps"
    represent = "fly_app"
    managed = APP_MANAGED

    @property
    def app(self):
        return self.params["name"]

    def shape(self, resource):
        return app_result(resource)

    def lookup(self):
        return self.client.get_app(self.app)

    def read(self, ident):
        return self.client.get_app(self.app)

    def create(self):
        org, network = self.params["org"], self.params["network"]
        self.mark_changed()
        if self.check_mode:
            self.resource = {"id": None, "name": self.app, "organization": {"slug": org}}
            self.resource["network"] = network
            return
        try:
            self.client.create_app(self.app, org, network)
        except ApiError as err:
            if err.status in (400, 409, 422):
                err.field = "org" if err.field == "org_slug" else "name"
            raise
        self.resource = self.client.get_app(self.app)

    def warn_fixed(self):
        shaped = app_result(self.resource)
        for option in ("org", "network"):
            wanted = self.params[option]
            if wanted and shaped[option] and wanted != shaped[option]:
                self.module.warn(
                    f"app '{self.app}' is in {option} {shaped[option]}; an app cannot move to "
                    f"{option} {wanted} (delete it and create it there)"
                )

    def present(self):
        if self.resource is None:
            self.create()
        else:
            self.warn_fixed()

    def absent(self):
        self.remove(lambda app: self.client.delete_app(self.app))


def main():
    module = AnsibleModule(
        argument_spec=fly_argument_spec(
            name=dict(type="str", required=True),
            org=dict(type="str", default="personal"),
            network=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    run_resource(module, FlyApp)


if __name__ == "__main__":
    main()
