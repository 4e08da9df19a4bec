#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hetzner_server
short_description: Manage Hetzner Cloud servers
version_added: 0.1.0
description:
  - Create, update, power, rebuild and delete a server of a Hetzner Cloud project.
  - The server is found by O(id) or by O(name) (names are unique within a project), so
    running the task again never creates a second server.
  - Every action the module starts is waited for (unless O(wait=false)) against one deadline,
    O(wait_timeout), for the whole task; an action that ends in error fails the task with the
    vendor's error code.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  id:
    description:
      - The id of the server. Needed to rename a server; otherwise O(name) finds it.
    type: int
  name:
    description:
      - The name of the server. Required to create one.
    type: str
  server_type:
    description:
      - The server type, for example V(cx22). Required to create a server.
      - When an existing server has another type, it is resized with C(change_type). Hetzner
        resizes only stopped servers; see O(allow_resize_stop).
    type: str
  image:
    description:
      - The image to create the server from (name such as V(debian-12), or id).
        Required to create a server and for O(state=rebuilt).
      - For an existing server the image is only used by O(state=rebuilt).
    type: str
  location:
    description:
      - The location to create the server in, for example V(fsn1). Without it Hetzner chooses.
      - A server cannot move; a different location for an existing server only gives a warning.
    type: str
  labels:
    description:
      - User-defined labels. When given, the server has exactly these labels.
      - Values are stored as strings.
    type: dict
  user_data:
    description:
      - Cloud-init user data, used when the server is created or rebuilt.
    type: str
  ssh_keys:
    description:
      - SSH keys (names or ids) to install for root when the server is created.
      - An unknown key fails the task before anything is created.
    type: list
    elements: str
  firewalls:
    description:
      - Firewalls (names or ids) to apply to the server. A new server is created with them,
        so it is never reachable without them.
      - Firewalls missing from an existing server are applied to it. Firewalls not listed are
        left alone (they may reach the server through label selectors).
    type: list
    elements: str
  allow_resize_stop:
    description:
      - Hetzner changes the type of stopped servers only. With V(true), a running server whose
        O(server_type) differs is powered off, resized and powered on again (unless
        O(state=stopped)).
      - With V(false) such a task fails and changes nothing, so a server is never stopped by
        surprise; with O(state=stopped) the server is powered off for the resize anyway.
    type: bool
    default: false
  upgrade_disk:
    description:
      - When resizing, also grow the disk. A server with a grown disk cannot be resized to a
        smaller type again.
    type: bool
    default: false
  state:
    description:
      - V(present) ensures the server exists as described (a new one is started).
      - V(started), V(stopped) also power it on or off (a hard power-off).
      - V(restarted) reboots it (or powers it on when it was off).
      - V(rebuilt) reinstalls it from O(image); a server created by this same task is not
        rebuilt again.
      - V(absent) deletes it.
    type: str
    choices: [present, absent, started, stopped, restarted, rebuilt]
    default: present
  wait:
    description:
      - Wait until the actions the module started have finished (server created and running,
        powered, rebuilt, deleted).
      - Steps that depend on each other (power off before a resize) are always waited for.
    type: bool
    default: true
  wait_timeout:
    description:
      - The most seconds the whole task may wait for actions. A real deadline, measured on a
        monotonic clock from the start of the task.
    type: int
    default: 600
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows name, status, server type, image, location, labels and firewalls.
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.hetzner
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.hetzner_server_info
  - module: sigma.deploy.hetzner_ssh_key
  - module: sigma.deploy.hetzner_firewall
"""

EXAMPLES = r"""
- name: A web server with the deploy key and the web firewall
  sigma.deploy.hetzner_server:
    name: web-1
    server_type: cx22
    image: debian-12
    location: fsn1
    ssh_keys: [deploy]
    firewalls: [web]
    labels:
      app: shop
      role: web
  delegate_to: localhost
  register: web

- name: Its address
  ansible.builtin.debug:
    msg: "{{ web.hetzner_server.ipv4_address }}"

- name: Resize it, stopping it for the resize if it runs
  sigma.deploy.hetzner_server:
    name: web-1
    server_type: cx32
    allow_resize_stop: true
  delegate_to: localhost

- name: Reinstall it
  sigma.deploy.hetzner_server:
    name: web-1
    image: debian-12
    state: rebuilt
  delegate_to: localhost

- name: Remove it
  sigma.deploy.hetzner_server:
    name: web-1
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
hetzner_server:
  description: The server (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id of the server (null for a server that check mode would create).
      type: int
      sample: 42
    name:
      description: The name of the server.
      type: str
      sample: web-1
    status:
      description: The status (V(running), V(off), V(initializing), ...).
      type: str
      sample: running
    server_type:
      description: The name of the server type.
      type: str
      sample: cx22
    image:
      description: The name (or id) of the image the server was built from.
      type: str
      sample: debian-12
    location:
      description: The name of the location.
      type: str
      sample: fsn1
    ipv4_address:
      description: The public IPv4 address, or null for a server without one.
      type: str
      sample: 203.0.113.10
    ipv6:
      description: The public IPv6 network, or null for a server without one.
      type: str
      sample: "2001:db8:1:2::/64"
    private_ipv4:
      description: The address in the first private network, or null.
      type: str
      sample: 10.0.0.2
    labels:
      description: The labels of the server.
      type: dict
      sample: {"app": "shop", "role": "web"}
    firewalls:
      description: The ids of the firewalls that apply to the server.
      type: list
      elements: int
      sample: [38]
    created:
      description: When the server was created (ISO 8601).
      type: str
      sample: "2026-01-30T23:50:00+00:00"
failure:
  description: The API error that failed the task.
  returned: failure
  type: dict
  sample:
    vendor: Hetzner
    status: 422
    code: invalid_input
    message: "invalid input in field 'server_type'"
    field: server_type
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import (
    Resource,
    run_resource,
)
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.client import (
    HetznerClient,
    hetzner_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.shapes import (
    SERVER_MANAGED,
    normalize_labels,
    planned_server,
    server_create_payload,
    server_result,
    server_type_differs,
)


class HetznerServer(Resource):
    client_class = HetznerClient
    collection = "servers"
    represent = "hetzner_server"
    managed = SERVER_MANAGED

    def __init__(self, module, client=None):
        super().__init__(module, client)
        self.created = False  # by this task: it is not rebuilt or restarted again

    def shape(self, resource):
        return server_result(resource)

    def resolve_all(self, collection, field):
        return [self.client.resolve(collection, ref, field) for ref in self.params[field] or []]

    def create(self, start):
        self.check_create("name", "server_type", "image")
        firewall_ids = self.resolve_all("firewalls", "firewalls")
        params = dict(
            self.params, ssh_keys=[str(i) for i in self.resolve_all("ssh_keys", "ssh_keys")]
        )
        self.mark_changed()
        self.created = True
        if self.check_mode:
            self.resource = planned_server(params, "running" if start else "off", firewall_ids)
            return
        answer = self.client.post("/servers", server_create_payload(params, firewall_ids, start))
        self.resource = answer["server"]
        self.wait([answer.get("action"), *(answer.get("next_actions") or [])])
        self.reread()

    def action(self, command, body=None, predicted=None, always=False):
        """Run a server action; in check mode apply ``predicted`` to the local copy instead."""
        self.mark_changed()
        if self.check_mode:
            self.resource.update(predicted or {})
            return
        answer = self.client.post(self.path(f"/actions/{command}"), body)
        self.wait([answer.get("action")], always=always)
        self.reread()

    def update(self):
        changes = {}
        if self.params["id"] is not None and self.params["name"] not in (
            None,
            self.resource["name"],
        ):
            changes["name"] = self.params["name"]
        labels = normalize_labels(self.params["labels"])
        if labels is not None and labels != (self.resource.get("labels") or {}):
            changes["labels"] = labels
        if changes:
            self.mark_changed()
            if self.check_mode:
                self.resource.update(changes)
            else:
                self.resource = self.client.put(self.path(), changes)["server"]
        location = (self.resource.get("location") or {}).get("name")
        if self.params["location"] and location and self.params["location"] != location:
            self.module.warn(
                f"server '{self.resource['name']}' is in {location}; a server cannot move to "
                f"{self.params['location']} (delete it and create it there)"
            )

    def resize(self, stay_off):
        wanted = self.params["server_type"]
        if not server_type_differs(self.resource, wanted):
            return
        running = self.resource.get("status") != "off"
        if running and not (self.params["allow_resize_stop"] or stay_off):
            raise ApiError.refusal(
                f"server '{self.resource['name']}' is running; changing its type to {wanted} "
                "needs it stopped. Set allow_resize_stop=true to let this task power it off, "
                "resize it and power it on again, or stop it first (state=stopped)."
            )
        if running:
            self.action("poweroff", predicted={"status": "off"}, always=True)
        body = {"server_type": wanted, "upgrade_disk": self.params["upgrade_disk"]}
        self.action("change_type", body, predicted={"server_type": {"name": wanted}}, always=True)
        if running and not stay_off:
            self.action("poweron", predicted={"status": "running"})

    def apply_firewalls(self):
        if self.params["firewalls"] is None:
            return
        public = self.resource.setdefault("public_net", {})
        attached = {fw["id"] for fw in public.get("firewalls") or []}
        missing = [i for i in self.resolve_all("firewalls", "firewalls") if i not in attached]
        for ident in missing:
            self.mark_changed()
            if self.check_mode:
                public["firewalls"] = [*(public.get("firewalls") or []), {"id": ident}]
                continue
            body = {"apply_to": [{"type": "server", "server": {"id": self.resource["id"]}}]}
            answer = self.client.post(f"/firewalls/{ident}/actions/apply_to_resources", body)
            self.wait(answer.get("actions") or [])
        if missing:
            self.reread()

    def present(self, start):
        if self.resource is None:
            self.create(start)
            return
        self.update()
        self.resize(stay_off=not start)
        self.apply_firewalls()

    def power(self, state):
        if self.created:
            return  # created in the wanted power state (start_after_create)
        status = self.resource.get("status")
        if state == "started" and status == "off":
            self.action("poweron", predicted={"status": "running"})
        elif state == "stopped" and status != "off":
            self.action("poweroff", predicted={"status": "off"})
        elif state == "restarted":
            command = "poweron" if status == "off" else "reboot"
            self.action(command, predicted={"status": "running"})

    def rebuild(self):
        if self.created:
            return  # just created from the image: rebuilding it again would be waste (#580)
        if not self.params["image"]:
            raise ApiError.refusal("image is required for state=rebuilt")
        body = {"image": self.params["image"]}
        if self.params["user_data"]:
            body["user_data"] = self.params["user_data"]
        self.action(
            "rebuild",
            body,
            predicted={"image": {"name": self.params["image"]}, "status": "running"},
        )

    def absent(self):
        if self.resource is None:
            return
        self.mark_changed()
        if not self.check_mode:
            answer = self.client.delete(self.path())
            self.wait([(answer or {}).get("action")])
        self.resource = None

    def ensure(self, state):
        if state == "absent":
            self.absent()
            return
        self.present(start=state != "stopped")
        if state == "rebuilt":
            self.rebuild()
        else:
            self.power(state)


def main():
    module = AnsibleModule(
        argument_spec=hetzner_argument_spec(
            id=dict(type="int"),
            name=dict(type="str"),
            server_type=dict(type="str"),
            image=dict(type="str"),
            location=dict(type="str"),
            labels=dict(type="dict"),
            user_data=dict(type="str"),
            ssh_keys=dict(type="list", elements="str", no_log=False),
            firewalls=dict(type="list", elements="str"),
            allow_resize_stop=dict(type="bool", default=False),
            upgrade_disk=dict(type="bool", default=False),
            state=dict(
                type="str",
                default="present",
                choices=["present", "absent", "started", "stopped", "restarted", "rebuilt"],
            ),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=600),
        ),
        required_one_of=[["id", "name"]],
        supports_check_mode=True,
    )
    run_resource(module, HetznerServer)


if __name__ == "__main__":
    main()
