#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: digitalocean_ssh_key
short_description: Manage SSH keys of a DigitalOcean account
version_added: 0.1.0
description:
  - Upload, rename and delete an SSH key of a DigitalOcean account (team).
  - The key is found by O(id) or by O(name). DigitalOcean allows several keys with one name;
    when several carry O(name) the task fails and lists their ids instead of guessing.
  - DigitalOcean holds each public key once. Uploading a key that is already there under
    another name fails with that name and id, rather than renaming the other key.
  - The public key of an existing key cannot be changed in place; see O(force).
author:
  - sigma.deploy contributors (@sigma-deploy)
options:
  id:
    description:
      - The id of the SSH key. Needed to rename a key; otherwise O(name) finds it.
    type: int
  name:
    description:
      - The name of the SSH key. Required to upload a key.
    type: str
  public_key:
    description:
      - The public key in OpenSSH format (C(ssh-ed25519 AAAA... comment)).
      - Required to upload a key. Keys are compared by fingerprint, so the comment does not
        matter.
    type: str
  force:
    description:
      - When the key named O(name) holds a different public key, delete it and upload
        O(public_key) under the same name. Without it the module fails instead.
      - Droplets created with the old key keep it; only new droplets get the new one.
    type: bool
    default: false
  state:
    description:
      - V(present) ensures the key exists as described, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the name and the fingerprint.
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.digitalocean
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.digitalocean_ssh_key_info
  - module: sigma.deploy.digitalocean_droplet
"""

EXAMPLES = r"""
- name: Upload the deploy key
  sigma.deploy.digitalocean_ssh_key:
    name: deploy
    public_key: "{{ lookup('ansible.builtin.file', 'files/deploy.pub') }}"
  delegate_to: localhost

- name: Replace the key material of an existing key
  sigma.deploy.digitalocean_ssh_key:
    name: deploy
    public_key: "{{ lookup('ansible.builtin.file', 'files/deploy-2026.pub') }}"
    force: true
  delegate_to: localhost

- name: Rename a key
  sigma.deploy.digitalocean_ssh_key:
    id: 512189
    name: deploy-old
  delegate_to: localhost

- name: Delete the key
  sigma.deploy.digitalocean_ssh_key:
    name: deploy
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
digitalocean_ssh_key:
  description: The SSH key (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id of the key (null for a key that check mode would upload).
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
    status: 422
    code: unprocessable_entity
    message: "Key invalid, key should be of the format `type key [comment]`"
    field: public_key
    request_id: "4d9d8375-3c56-4925-a3e7-eb137fed17e9"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import (
    Resource,
    run_resource,
)
from ansible_collections.sigma.deploy.plugins.module_utils.client.shapes import ssh_key_fingerprint
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.client import (
    DigitalOceanClient,
    digitalocean_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.shapes import (
    SSH_KEY_MANAGED,
    ssh_key_result,
)


class DigitalOceanSSHKey(Resource):
    client_class = DigitalOceanClient
    collection = "ssh_keys"
    represent = "digitalocean_ssh_key"
    managed = SSH_KEY_MANAGED

    def shape(self, resource):
        return ssh_key_result(resource)

    def fingerprint(self):
        fingerprint = ssh_key_fingerprint(self.params["public_key"])
        if fingerprint is None:
            raise ApiError.refusal("public_key is not an OpenSSH public key (type key comment)")
        return fingerprint

    def check_not_uploaded(self, fingerprint):
        """Fail when the key is already there under another name (DigitalOcean holds each
        public key once)."""
        owner = self.client.get_by_id("ssh_keys", fingerprint)
        if owner is not None:
            raise ApiError.refusal(
                f"this public key is already uploaded as '{owner['name']}' (id {owner['id']})"
                "; DigitalOcean holds each key once: use that name, or rename it with "
                f"id={owner['id']}"
            )

    def create(self):
        if not self.params["name"] or not self.params["public_key"]:
            raise ApiError.refusal("name and public_key are required to upload an SSH key")
        fingerprint = self.fingerprint()
        self.check_not_uploaded(fingerprint)
        body = {"name": self.params["name"], "public_key": self.params["public_key"].strip()}
        self.mark_changed()
        if self.check_mode:
            self.resource = dict(body, id=None, fingerprint=fingerprint)
            return
        self.resource = self.client.post("/account/keys", body)["ssh_key"]

    def rename(self):
        name = self.params["name"]
        if self.params["id"] is None or name in (None, self.resource["name"]):
            return
        self.mark_changed()
        if self.check_mode:
            self.resource["name"] = name
            return
        self.resource = self.client.put(self.path(), {"name": name})["ssh_key"]

    def replace_if_key_differs(self):
        if self.params["public_key"] is None:
            return
        if self.fingerprint() == self.resource.get("fingerprint"):
            return
        if not self.params["force"]:
            raise ApiError.refusal(
                f"SSH key '{self.resource['name']}' holds a different public key; "
                "set force=true to delete it and upload the new one"
            )
        self.check_not_uploaded(self.fingerprint())
        name = self.resource["name"]
        self.delete()
        self.params["name"] = self.params["name"] or name
        self.create()

    def present(self):
        if self.resource is None:
            self.create()
            return
        self.replace_if_key_differs()
        self.rename()

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
        argument_spec=digitalocean_argument_spec(
            id=dict(type="int"),
            name=dict(type="str"),
            public_key=dict(type="str"),
            force=dict(type="bool", default=False),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        required_one_of=[["id", "name"]],
        supports_check_mode=True,
    )
    run_resource(module, DigitalOceanSSHKey)


if __name__ == "__main__":
    main()
