#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fly_machine
short_description: Manage Fly.io Machines
version_added: 0.1.0
description:
  - Create, update, start, stop and destroy one machine of a Fly.io app, found by O(name) (or
    O(id)).
  - Every change to an existing machine holds a lease on it (C(fly-machine-lease-nonce)),
    released whatever happens; a machine leased by someone else fails the task with an error
    that names the holder and when the lease ends.
  - For releases of a whole app (several machines, strategies, health checks) use
    M(sigma.deploy.fly_deploy).
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  app:
    description:
      - The name of the app the machine belongs to. An app Fly does not know fails the task
        before anything is made.
    type: str
    required: true
  id:
    description:
      - The id of the machine. Otherwise O(name) finds it.
    type: str
  name:
    description:
      - The name of the machine, its identity within the app. Fly lets names repeat; when
        several live machines share it, the task fails and lists their ids.
      - Required to create a machine.
    type: str
  region:
    description:
      - The region to create the machine in (for example V(ams)). Fly picks one when it is
        not given. A machine does not move; an existing one in another region is left there,
        with a warning.
    type: str
  config:
    description:
      - The machine config as the Machines API takes it (C(image), C(env), C(guest),
        C(services), C(checks), C(restart), C(init), ...). C(image) is required to create a
        machine.
      - Each top-level key given replaces the machine's one; keys not given keep their value.
      - A config is already applied when C(env), C(metadata), C(image), C(cmd) and
        C(entrypoint) are equal to the machine's, and every other key given is contained in
        the machine's (Fly fills in defaults such as C(guest.cpu_kind)).
      - Changing it updates the machine, which restarts it if it runs.
    type: dict
  metadata:
    description:
      - Metadata keys to set on the machine (values are strings). Keys not given are kept.
      - Set without restarting the machine unless O(config) changes too.
    type: dict
  skip_service_registration:
    description:
      - Create or update the machine without registering its services with Fly's proxy, so
        it takes no traffic (blue-green deploys). V(false) leaves an existing machine's
        registration as it is (M(sigma.deploy.fly_deploy) uncordons machines).
    type: bool
    default: false
  state:
    description:
      - V(present) ensures the machine exists with this config (a new machine is started, an
        existing one keeps its power state).
      - V(started) and V(stopped) also start or stop it; V(absent) destroys it.
    type: str
    choices: [present, started, stopped, absent]
    default: present
  force:
    description:
      - With O(state=absent), destroy a running machine at once (killed) instead of stopping
        it first.
    type: bool
    default: false
  lease_ttl:
    description:
      - Seconds the lease on a machine lasts, should the task die before releasing it.
    type: int
    default: 60
  wait:
    description:
      - Wait until the machine is started or stopped as asked.
    type: bool
    default: true
  wait_timeout:
    description:
      - The most seconds the whole task waits for machines to change state.
      - A machine this task created that does not start in time is destroyed again.
    type: int
    default: 120
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
  - module: sigma.deploy.fly_machine_info
  - module: sigma.deploy.fly_app
"""

EXAMPLES = r"""
- name: A worker machine
  sigma.deploy.fly_machine:
    app: shop
    name: worker-1
    region: ams
    config:
      image: registry.fly.io/shop:r42
      env:
        ROLE: worker
      guest:
        cpus: 1
        memory_mb: 512
      restart:
        policy: on-failure
    metadata:
      role: worker
  delegate_to: localhost

- name: Stop it for the night
  sigma.deploy.fly_machine:
    app: shop
    name: worker-1
    state: stopped
  delegate_to: localhost

- name: Destroy it
  sigma.deploy.fly_machine:
    app: shop
    name: worker-1
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
fly_machine:
  description: The machine (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id of the machine (null for a machine check mode would create).
      type: str
      sample: "e784079b449483"
    name:
      description: The name of the machine.
      type: str
      sample: worker-1
    app:
      description: The app of the machine.
      type: str
      sample: shop
    region:
      description: The region of the machine.
      type: str
      sample: ams
    state:
      description: The state (V(created), V(started), V(stopped), ...).
      type: str
      sample: started
    image:
      description: The image of its config.
      type: str
      sample: registry.fly.io/shop:r42
    instance_id:
      description: The id of this version of the machine (changes with each update).
      type: str
      sample: "01J9Z6W5X8Q0"
    private_ip:
      description: The machine's address in the app's private network.
      type: str
      sample: "fdaa:0:1:a7b:1::2"
    metadata:
      description: The metadata of the machine.
      type: dict
      sample: {"role": "worker"}
    cordoned:
      description: Whether the proxy routes no traffic to it.
      type: bool
      sample: false
    checks:
      description: The state of its health checks (C(name), C(status), C(output)).
      type: list
      elements: dict
      sample: []
    config:
      description: The whole machine config, with Fly's defaults.
      type: dict
      sample: {"image": "registry.fly.io/shop:r42", "guest": {"cpus": 1, "memory_mb": 512}}
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
    status: 409
    code: conflict
    message: "machine e784079b449483 is leased by ci@acme.example (deploy r41), until
      2026-08-01T10:00:00Z: lease currently held"
    field: lease
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import run_resource
from ansible_collections.sigma.deploy.plugins.module_utils.fly.client import fly_argument_spec
from ansible_collections.sigma.deploy.plugins.module_utils.fly.machine import (
    MachineResource,
    machine_options,
)
from ansible_collections.sigma.deploy.plugins.module_utils.fly.shapes import (
    config_matches,
    desired_config,
    metadata_matches,
    planned_machine,
)

RUNNING = ("started", "starting")


class FlyMachine(MachineResource):
    def create(self, state):
        self.check_create("name")
        config = desired_config(None, self.params["config"], self.metadata())
        if not config.get("image"):
            raise ApiError.refusal("config.image is required to create a machine")
        launch = state != "stopped"
        self.mark_changed()
        if self.check_mode:
            planned = planned_machine(self.params["name"], self.params["region"], config, None)
            self.resource = dict(planned, state="started" if launch else "stopped")
            return
        body = {"name": self.params["name"], "config": config}
        if self.params["region"]:
            body["region"] = self.params["region"]
        if self.params["skip_service_registration"]:
            body["skip_service_registration"] = True
        if not launch:
            body["skip_launch"] = True
        self.resource = self.client.create_machine(self.app, body)
        if launch:
            self.started_or_removed()
        self.reread()

    def started_or_removed(self):
        """Wait until the new machine runs; one that does not is destroyed, not left behind."""
        try:
            self.wait_state("started")
        except ApiError as err:
            self.client.delete_machine(self.app, self.resource["id"], force=True)
            self.resource = None
            err.message += "; the new machine was destroyed again"
            err.field = err.field or "config"
            raise

    def config_change(self):
        """The config to send, or None when the machine already has it."""
        current = self.resource.get("config") or {}
        wanted = self.params["config"]
        if wanted is None or config_matches(current, wanted):
            return None
        return desired_config(current, wanted, self.metadata())

    def power_change(self, state):
        running = self.resource.get("state") in RUNNING
        if state == "started" and not running:
            return "started"
        if state == "stopped" and running:
            return "stopped"
        return None

    def update(self, config, nonce):
        body = {"config": config}
        if self.params["skip_service_registration"]:
            body["skip_service_registration"] = True  # never sent false: a cordon stays
        running = self.resource.get("state") in RUNNING
        if not running:
            body["skip_launch"] = True  # its power state is power()'s business
        if self.check_mode:
            self.resource["config"] = config
            return
        self.resource = self.client.update_machine(self.app, self.resource["id"], body, nonce)
        if running:
            self.wait_state("started")

    def power(self, wanted, nonce):
        if self.check_mode:
            self.resource["state"] = wanted
            return
        if wanted == "started":
            self.client.start_machine(self.app, self.resource["id"], nonce=nonce)
        else:
            self.client.stop_machine(self.app, self.resource["id"], nonce=nonce)
        self.wait_state(wanted, instance=False)

    def set_metadata(self):
        """Metadata keys that differ, set one by one (no restart)."""
        metadata = self.metadata()
        if metadata_matches(self.resource.get("config"), metadata):
            return
        self.mark_changed()
        have = (self.resource.get("config") or {}).get("metadata") or {}
        for key, value in metadata.items():
            if have.get(key) == value:
                continue
            if not self.check_mode:
                self.client.set_metadata(self.app, self.resource["id"], key, value)
        config = self.resource.setdefault("config", {})
        config["metadata"] = dict(have, **metadata)

    def change(self, state):
        config = self.config_change()
        power = self.power_change(state)
        if config is not None or power is not None:
            self.mark_changed()
            with self.leased() as nonce:
                if config is not None:
                    self.update(config, nonce)
                if power is not None:
                    self.power(power, nonce)
        if config is None:
            self.set_metadata()
        self.reread()

    def destroy(self):
        self.mark_changed()
        with self.leased() as nonce:
            if not self.check_mode:
                mid = self.resource["id"]
                if not self.params["force"] and self.resource.get("state") in RUNNING:
                    self.client.stop_machine(self.app, mid, nonce=nonce)
                    self.wait_state("stopped", instance=False)
                self.client.delete_machine(self.app, mid, force=self.params["force"], nonce=nonce)
        self.resource = None

    def ensure(self, state):
        if self.resource is None:
            if state != "absent":
                self.create(state)
            return
        if state == "absent":
            self.destroy()
            return
        self.warn_region()
        self.change(state)


def main():
    module = AnsibleModule(
        argument_spec=fly_argument_spec(**machine_options()),
        required_one_of=[["id", "name"]],
        supports_check_mode=True,
    )
    run_resource(module, FlyMachine)


if __name__ == "__main__":
    main()
