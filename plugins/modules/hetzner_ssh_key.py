#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hetzner_ssh_key
short_description: Manage SSH keys in a Hetzner Cloud project
version_added: 0.1.0
description:
  - Create, update (name, labels) and delete an SSH key of a Hetzner Cloud project.
  - The public key of an existing key cannot be changed in place; see O(force).
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  id:
    description:
      - The id of the SSH key. Needed to rename a key; otherwise O(name) finds it.
    type: int
  name:
    description:
      - The name of the SSH key, unique within the project.
      - Required to create a key.
    type: str
  public_key:
    description:
      - The public key in OpenSSH format (C(ssh-ed25519 AAAA... comment)).
      - Required to create a key. Keys are compared by fingerprint, so the comment does not matter.
    type: str
  labels:
    description:
      - User-defined labels. When given, the key has exactly these labels.
      - Values are stored as strings.
    type: dict
  force:
    description:
      - When the key named O(name) holds a different public key, delete it and create it again
        with O(public_key). Without it the module fails instead of changing the key.
    type: bool
    default: false
  state:
    description:
      - V(present) ensures the key exists as described, V(absent) removes it.
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
  - sigma.deploy.hetzner
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.hetzner_ssh_key_info
"""

EXAMPLES = r"""
- name: Upload the deploy key
  sigma.deploy.hetzner_ssh_key:
    name: deploy
    public_key: "{{ lookup('ansible.builtin.file', 'files/deploy.pub') }}"
    labels:
      app: shop
  delegate_to: localhost

- name: Replace the key material of an existing key
  sigma.deploy.hetzner_ssh_key:
    name: deploy
    public_key: "{{ lookup('ansible.builtin.file', 'files/deploy-2026.pub') }}"
    force: true
  delegate_to: localhost

- name: Remove the key
  sigma.deploy.hetzner_ssh_key:
    name: deploy
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
hetzner_ssh_key:
  description: The SSH key (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id of the key (null for a key that check mode would create).
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
    status: 409
    code: uniqueness_error
    message: "SSH key with the same fingerprint already exists"
    field: public_key
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import (
    Resource,
    run_resource,
)
from ansible_collections.sigma.deploy.plugins.module_utils.client.shapes import ssh_key_fingerprint
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.client import (
    HetznerClient,
    hetzner_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.shapes import (
    SSH_KEY_MANAGED,
    normalize_labels,
    ssh_key_result,
)


class HetznerSSHKey(Resource):
    client_class = HetznerClient
    collection = "ssh_keys"
    represent = "hetzner_ssh_key"
    managed = SSH_KEY_MANAGED

    def shape(self, resource):
        return ssh_key_result(resource)

    def create(self):
        self.check_create("name", "public_key")
        body = {"name": self.params["name"], "public_key": self.params["public_key"]}
        if self.params["labels"] is not None:
            body["labels"] = normalize_labels(self.params["labels"])
        self.mark_changed()
        if self.check_mode:
            self.resource = dict(body, id=None, fingerprint=ssh_key_fingerprint(body["public_key"]))
            return
        self.resource = self.client.post("/ssh_keys", body)["ssh_key"]

    def update(self):
        changes = {}
        name = self.params["name"]
        if name is not None and self.params["id"] is not None and name != self.resource["name"]:
            changes["name"] = name
        labels = normalize_labels(self.params["labels"])
        if labels is not None and labels != (self.resource.get("labels") or {}):
            changes["labels"] = labels
        if changes:
            self.mark_changed()
            if self.check_mode:
                self.resource = dict(self.resource, **changes)
            else:
                self.resource = self.client.put(self.path(), changes)["ssh_key"]

    def replace_if_key_differs(self):
        public_key = self.params["public_key"]
        if public_key is None or ssh_key_fingerprint(public_key) == self.resource.get(
            "fingerprint"
        ):
            return
        if not self.params["force"]:
            raise ApiError.refusal(
                f"SSH key '{self.resource['name']}' holds a different public key; "
                "set force=true to delete it and upload the new one"
            )
        self.delete()
        self.create()

    def present(self):
        if self.resource is None:
            self.create()
        else:
            self.replace_if_key_differs()
            self.update()
        self.reread()

    def delete(self):
        self.mark_changed()
        if not self.check_mode:
            self.client.delete(self.path())
        self.resource = None

    def absent(self):
        if self.resource is not None:
            self.delete()


def main():
    module = AnsibleModule(
        argument_spec=hetzner_argument_spec(
            id=dict(type="int"),
            name=dict(type="str"),
            public_key=dict(type="str"),
            labels=dict(type="dict"),
            force=dict(type="bool", default=False),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        required_one_of=[["id", "name"]],
        supports_check_mode=True,
    )
    run_resource(module, HetznerSSHKey)


if __name__ == "__main__":
    main()
