#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fly_secret
short_description: Set and unset the secrets of a Fly.io app
version_added: 0.1.0
description:
  - Set or unset app secrets, which Fly gives every machine of the app as environment
    variables.
  - A machine sees a new value only once it is updated or restarted (for example by the next
    M(sigma.deploy.fly_deploy)); the result's RV(fly_secret.version) is the secrets version
    to wait for.
  - Values are never printed, logged or returned; the result names secrets only.
  - "Idempotence: Fly never returns a secret's value, and the digest it lists is computed in a
    way Fly does not document, so the module cannot tell whether a value changed. With
    O(update=on_create) (the default) it sets only the secrets the app does not have yet, so
    a second run changes nothing; with O(update=always) it sets every given secret on each
    run and reports a change (use it to rotate a value, as C(update_password=always) of
    M(ansible.builtin.user))."
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  app:
    description:
      - The name of the app. An app Fly does not know fails the task.
    type: str
    required: true
  secrets:
    description:
      - The secrets to set, as names and values. Names are environment variable names.
      - Required with O(state=present).
    type: dict
  names:
    description:
      - The names of the secrets to unset with O(state=absent). Names the app does not have
        are skipped.
    type: list
    elements: str
  update:
    description:
      - V(on_create) sets only secrets the app does not have; V(always) sets every one given.
    type: str
    choices: [on_create, always]
    default: on_create
  state:
    description:
      - V(present) sets O(secrets), V(absent) unsets O(names).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff lists the names of the app's secrets, never values.
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.fly
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.fly_secret_info
"""

EXAMPLES = r"""
- name: The database URL of the app
  sigma.deploy.fly_secret:
    app: shop
    secrets:
      DATABASE_URL: "{{ vault_database_url }}"
  delegate_to: localhost

- name: Rotate the session key
  sigma.deploy.fly_secret:
    app: shop
    secrets:
      SESSION_KEY: "{{ lookup('ansible.builtin.password', '/dev/null', length=40) }}"
    update: always
  delegate_to: localhost

- name: Unset an old one
  sigma.deploy.fly_secret:
    app: shop
    names: [LEGACY_TOKEN]
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
fly_secret:
  description: What the task did to the app's secrets (names only).
  returned: always
  type: dict
  contains:
    app:
      description: The app.
      type: str
      sample: shop
    names:
      description: The names of the app's secrets after the task, sorted.
      type: list
      elements: str
      sample: [DATABASE_URL, SESSION_KEY]
    set:
      description: The names set by this task (in check mode, that it would set).
      type: list
      elements: str
      sample: [SESSION_KEY]
    unset:
      description: The names unset by this task.
      type: list
      elements: str
      sample: []
    version:
      description: The app's secrets version after the change (null when nothing changed or
        in check mode).
      type: int
      sample: 7
failure:
  description: The API error that failed the task.
  returned: failure
  type: dict
  sample:
    vendor: Fly
    status: 400
    code: invalid
    message: "invalid secret name 'db-url': an env var name"
    field: secrets
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import run_resource
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import fly_argument_spec
from ansible_collections.sigma.deploy.plugins.module_utils.fly.resource import FlyResource


class FlySecrets(FlyResource):
    """The app's secrets as one resource: the names it has (values never leave the task)."""

    collection = "secrets"
    represent = "fly_secret"
    managed = ("names",)

    def __init__(self, module, client=None):
        super().__init__(module, client)
        self.done = {"set": [], "unset": [], "version": None}

    def lookup(self):
        return {"names": sorted(s["name"] for s in self.client.list_secrets(self.app))}

    def shape(self, resource):
        return dict({"app": self.app, "names": resource["names"]}, **self.done)

    def refuse_values(self):
        """Values must be strings: a number or a dict would be sent as JSON, not as the text
        the machine sees (and the message must not show it)."""
        for name, value in self.params["secrets"].items():
            if not isinstance(value, str):
                raise ApiError.refusal(
                    f"secrets.{name} must be a string (got a {type(value).__name__}); quote it"
                )

    def present(self):
        self.refuse_values()
        have = set(self.resource["names"])
        always = self.params["update"] == "always"
        values = {n: v for n, v in self.params["secrets"].items() if always or n not in have}
        if not values:
            return
        self.mark_changed()
        self.done["set"] = sorted(values)
        if not self.check_mode:
            answer = self.set_values(values)
            self.done["version"] = (answer or {}).get("version")
        self.resource = {"names": sorted(have | set(values))}

    def set_values(self, values):
        try:
            return self.client.set_secrets(self.app, values)
        except ApiError as err:
            if err.status in (400, 422):
                err.field = "secrets"
            raise

    def absent(self):
        have = set(self.resource["names"])
        gone = sorted(n for n in set(self.params["names"] or []) if n in have)
        if not gone:
            return
        self.mark_changed()
        self.done["unset"] = gone
        for name in gone:
            if not self.check_mode:
                answer = self.client.delete_secret(self.app, name)
                self.done["version"] = (answer or {}).get("version")
        self.resource = {"names": sorted(have - set(gone))}


def main():
    module = AnsibleModule(
        argument_spec=fly_argument_spec(
            app=dict(type="str", required=True),
            secrets=dict(type="dict", no_log=True),
            names=dict(type="list", elements="str", no_log=False),
            update=dict(type="str", choices=["on_create", "always"], default="on_create"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        required_if=[("state", "present", ["secrets"]), ("state", "absent", ["names"])],
        supports_check_mode=True,
    )
    run_resource(module, FlySecrets)


if __name__ == "__main__":
    main()
