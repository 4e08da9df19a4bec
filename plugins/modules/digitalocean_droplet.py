#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: digitalocean_droplet
short_description: Manage DigitalOcean droplets
version_added: 0.1.0
description:
  - Create, update, power, resize, rebuild and delete a droplet.
  - The droplet is found by O(id) or by O(name). DigitalOcean allows several droplets with one
    name; this module does not (O(unique_name=true), the default), so running a task again
    never creates a twin. Every page of droplets is read to find the name. When several
    droplets already share the name, the task fails and lists their ids.
  - Every action the module starts is waited for (unless O(wait=false)) against one deadline,
    O(wait_timeout), for the whole task; an action that ends C(errored) fails the task.
  - After a droplet is created and its create action has completed, it is read again, so the
    result has its addresses.
  - A droplet whose creation failed (its create action C(errored), it never booted) is deleted
    and created again by the next run, so a failed run can simply be repeated.
author:
  - sigma.deploy contributors (@sigma-deploy)
options:
  id:
    description:
      - The id of the droplet. Needed to rename a droplet; otherwise O(name) finds it.
    type: int
  name:
    description:
      - The name (host name) of the droplet. Required to create one.
    type: str
  unique_name:
    description:
      - Treat O(name) as unique, find the droplet by it and never create a second one.
      - With V(false) each run without O(id) creates a new droplet (DigitalOcean's own
        behaviour), and every O(state) other than V(present) needs O(id).
    type: bool
    default: true
  region:
    description:
      - The region slug to create the droplet in, for example V(fra1). Without it DigitalOcean
        chooses.
      - A droplet cannot move; a different region for an existing droplet only gives a warning.
    type: str
  size:
    description:
      - The size slug, for example V(s-1vcpu-1gb). Required to create a droplet.
      - When an existing droplet has another size, it is resized. DigitalOcean resizes only
        droplets that are off; see O(allow_resize_stop).
    type: str
  resize_disk:
    description:
      - When resizing, also grow the disk. This is permanent, a droplet with a grown disk cannot
        be resized to a smaller size again. Without it only CPU and memory change.
    type: bool
    default: false
  allow_resize_stop:
    description:
      - DigitalOcean resizes only droplets that are off. With V(true), a running droplet whose
        O(size) differs is powered off, resized and powered on again (unless
        O(state=stopped)).
      - With V(false) such a task fails and changes nothing, so a droplet is never stopped by
        surprise.
    type: bool
    default: false
  image:
    description:
      - The image slug (V(debian-12-x64)) or id. Required to create a droplet and for
        O(state=rebuilt).
      - For an existing droplet the image is only used by O(state=rebuilt).
    type: str
  tags:
    description:
      - Tags. When given, the droplet has exactly these tags (tags missing are added, others
        removed). DigitalOcean compares tag names without case.
    type: list
    elements: str
  user_data:
    description:
      - Cloud-init user data, used when the droplet is created (DigitalOcean cannot change it
        later, nor pass it to a rebuild).
    type: str
  ssh_keys:
    description:
      - SSH keys to install for root when the droplet is created, each by name, id or
        fingerprint. An unknown key fails the task before anything is created.
    type: list
    elements: str
  firewalls:
    description:
      - Cloud firewalls (names or ids) to apply to the droplet. A new droplet is added to them
        right after it is created, before the task waits for it to boot.
      - Firewalls missing from an existing droplet are applied to it. Firewalls not listed are
        left alone (they may reach the droplet through its tags).
    type: list
    elements: str
  monitoring:
    description:
      - Install the monitoring agent when the droplet is created. For an existing droplet a
        difference only gives a warning.
    type: bool
  ipv6:
    description:
      - Give the droplet a public IPv6 address. An existing droplet without one gets it
        (C(enable_ipv6)); IPv6 cannot be turned off again, which gives a warning.
    type: bool
  vpc_uuid:
    description:
      - The VPC to create the droplet in. Without it the region's default VPC is used.
    type: str
  state:
    description:
      - V(present) ensures the droplet exists as described (a new one is started).
      - V(started), V(stopped) also power it on or off (a hard power-off).
      - V(restarted) reboots it (or powers it on when it was off).
      - V(rebuilt) reinstalls it from O(image); a droplet created by this same task is not
        rebuilt again.
      - V(absent) deletes it.
    type: str
    choices: [present, absent, started, stopped, restarted, rebuilt]
    default: present
  wait:
    description:
      - Wait until the actions the module started have completed (droplet created and active
        with its addresses, powered, resized, rebuilt; deleted), and until firewalls it added
        the droplet to have reached it.
      - Steps that other steps of the same task depend on (create before a power off, power
        off before a resize, rename, enabling IPv6) are always waited for.
      - Without waiting, a new droplet is returned as DigitalOcean shows it at once (status
        V(new), no addresses yet).
    type: bool
    default: true
  wait_timeout:
    description:
      - The most seconds the whole task may wait. A real deadline, measured on a monotonic
        clock from the start of the task; when it passes the task fails with code C(timeout).
    type: int
    default: 600
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: >-
      The diff shows name, status, region, size, image, tags, firewalls, IPv6 and monitoring.
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.digitalocean
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.digitalocean_droplet_info
  - module: sigma.deploy.digitalocean_ssh_key
  - module: sigma.deploy.digitalocean_firewall
"""

EXAMPLES = r"""
- name: A web droplet with the deploy key, behind the web firewall
  sigma.deploy.digitalocean_droplet:
    name: web-1
    size: s-1vcpu-1gb
    image: debian-12-x64
    region: fra1
    ssh_keys: [deploy]
    firewalls: [web]
    tags: [shop, web]
    ipv6: true
  delegate_to: localhost
  register: web

- name: Its address
  ansible.builtin.debug:
    msg: "{{ web.digitalocean_droplet.ipv4_address }}"

- name: Resize it, powering it off for the resize if it runs
  sigma.deploy.digitalocean_droplet:
    name: web-1
    size: s-2vcpu-4gb
    allow_resize_stop: true
  delegate_to: localhost

- name: Reinstall it
  sigma.deploy.digitalocean_droplet:
    name: web-1
    image: debian-12-x64
    state: rebuilt
  delegate_to: localhost

- name: Delete it
  sigma.deploy.digitalocean_droplet:
    name: web-1
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
digitalocean_droplet:
  description: The droplet (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id of the droplet (null for a droplet that check mode would create).
      type: int
      sample: 3164444
    name:
      description: The name of the droplet.
      type: str
      sample: web-1
    status:
      description: The status (V(new), V(active), V(off), V(archive)).
      type: str
      sample: active
    region:
      description: The region slug.
      type: str
      sample: fra1
    size:
      description: The size slug.
      type: str
      sample: s-1vcpu-1gb
    image:
      description: The slug (or, for images without one, the id) of the image.
      type: str
      sample: debian-12-x64
    vcpus:
      description: The number of virtual CPUs.
      type: int
      sample: 1
    memory:
      description: The memory in MiB.
      type: int
      sample: 1024
    disk:
      description: The disk size in GiB.
      type: int
      sample: 25
    ipv4_address:
      description: The public IPv4 address, or null (not yet known, or none).
      type: str
      sample: 203.0.113.10
    private_ipv4_address:
      description: The address in the VPC, or null.
      type: str
      sample: 10.110.0.2
    ipv6_address:
      description: The public IPv6 address, or null.
      type: str
      sample: "2001:db8::10"
    tags:
      description: The tags, sorted.
      type: list
      elements: str
      sample: [shop, web]
    firewalls:
      description: The names of the cloud firewalls that apply to the droplet, directly or
        through its tags.
      type: list
      elements: str
      sample: [web]
    ipv6:
      description: Whether the droplet has IPv6.
      type: bool
      sample: true
    monitoring:
      description: Whether the monitoring agent was installed.
      type: bool
      sample: false
    vpc_uuid:
      description: The VPC of the droplet.
      type: str
      sample: 5a4981aa-9653-4bd1-bef5-d6bff52042e4
    created_at:
      description: When the droplet was created (ISO 8601).
      type: str
      sample: "2026-01-30T23:50:00Z"
failure:
  description: The API error that failed the task.
  returned: failure
  type: dict
  sample:
    vendor: DigitalOcean
    status: 422
    code: unprocessable_entity
    message: "You specified an invalid size for Droplet creation."
    field: size
    request_id: "4d9d8375-3c56-4925-a3e7-eb137fed17e9"
"""

from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import (
    Resource,
    run_resource,
)
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.client import (
    DigitalOceanClient,
    DigitalOceanError,
    digitalocean_argument_spec,
    duplicate_name_error,
    looks_like_id,
)
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.shapes import (
    DROPLET_MANAGED,
    droplet_create_payload,
    droplet_firewalls,
    droplet_result,
    firewall_settled,
    image_ref,
    plan_tags,
    planned_droplet,
)


def pick(items, ref, field, kind, collection):
    """The one item of ``collection`` that ``ref`` names, by id (or fingerprint) or by name."""
    if looks_like_id(collection, ref):
        found = [i for i in items if str(i.get("id")) == ref or i.get("fingerprint") == ref]
    else:
        found = [i for i in items if i.get("name") == ref]
    if len(found) > 1:
        raise duplicate_name_error(kind, ref, found, field)
    if not found:
        raise DigitalOceanError(404, "not_found", f"{kind} '{ref}' not found", field)
    return found[0]


class DigitalOceanDroplet(Resource):
    client_class = DigitalOceanClient
    collection = "droplets"
    represent = "digitalocean_droplet"
    managed = DROPLET_MANAGED

    def __init__(self, module, client=None):
        super().__init__(module, client)
        self.created = False  # by this task: it is not rebuilt or restarted again
        self._firewalls = None

    def shape(self, resource):
        return droplet_result(resource)

    # --- reading ------------------------------------------------------------------------------
    def find(self):
        if self.params["id"] is not None:
            self.resource = self.client.get_by_id("droplets", self.params["id"])
        elif self.params["unique_name"]:
            self.resource = self.client.find_unique("droplets", self.params["name"])
        elif self.params["state"] != "present":
            # Without unique names only state=present (always a new droplet) needs no lookup.
            raise ApiError.refusal(f"state={self.params['state']} needs id when unique_name=false")
        self.note_firewalls()
        return self.resource

    def firewalls(self, fresh=False):
        if self._firewalls is None or fresh:
            self._firewalls = self.client.list("firewalls")
        return self._firewalls

    def note_firewalls(self, fresh=False):
        """Fill in the names of the firewalls that apply (the droplet object has none)."""
        if self.resource is not None and self.resource.get("id") is not None:
            self.resource["firewalls"] = droplet_firewalls(self.resource, self.firewalls(fresh))

    def reread(self):
        super().reread()
        if not self.check_mode:
            self.note_firewalls()

    def wanted_firewalls(self):
        refs = [str(ref).strip() for ref in self.params["firewalls"] or []]
        return [pick(self.firewalls(), ref, "firewalls", "firewall", "firewalls") for ref in refs]

    def wanted_ssh_keys(self):
        refs = [str(ref).strip() for ref in self.params["ssh_keys"] or []]
        if not refs:
            return []
        keys = self.client.list("ssh_keys")
        return [pick(keys, ref, "ssh_keys", "SSH key", "ssh_keys")["id"] for ref in refs]

    # --- creating -----------------------------------------------------------------------------
    def settle_new(self, state):
        """An existing droplet that is still ``new``: wait for its create action, or, when that
        errored (the droplet never booted), delete it so that it is created again."""
        if self.resource is None or self.resource.get("status") != "new" or state == "absent":
            return
        actions = self.client.paginate(self.path("/actions"), "actions")
        create = next((a for a in actions if a.get("type") == "create"), None)
        if create is None:
            return
        if create.get("status") == "errored":
            self.module.warn(
                f"droplet '{self.resource['name']}' ({self.resource['id']}) never finished "
                "being created (its create action errored); it is deleted and created again"
            )
            self.delete()
            return
        self.wait([create], always=state != "present")
        self.reread()

    def create(self):
        for option in ("name", "size", "image"):
            if not self.params[option]:
                raise ApiError.refusal(f"{option} is required to create a droplet")
        firewalls = self.wanted_firewalls()
        body = droplet_create_payload(self.params, self.wanted_ssh_keys())
        self.mark_changed()
        self.created = True
        if self.check_mode:
            self.resource = planned_droplet(self.params, [fw["name"] for fw in firewalls])
            return
        answer = self.send_create(body)
        self.resource = answer["droplet"]
        for firewall in firewalls:
            self.attach(firewall)
        self._firewalls = None  # read them again with the droplet
        links = (answer.get("links") or {}).get("actions") or []
        pending = [dict({"type": "create", "status": "in-progress"}, **a) for a in links]
        self.wait(pending, always=self.params["state"] == "stopped")
        self.wait_firewalls(firewalls)
        self.reread()

    def send_create(self, body):
        """POST the droplet once (never again after a server error: it may exist). When a
        server error hides a droplet that was made, adopt it (names are unique)."""
        try:
            return self.client.post("/droplets", body)
        except ApiError as err:
            if err.status is None or err.status < 500 or not self.params["unique_name"]:
                raise
            made = self.client.find_unique("droplets", body["name"])
            if made is None:
                raise
            self.module.warn(f"{err}; droplet '{body['name']}' was created all the same")
            actions = self.client.paginate(f"/droplets/{made['id']}/actions", "actions")
            links = [a for a in actions if a.get("type") == "create"]
            return {"droplet": made, "links": {"actions": links}}

    def attach(self, firewall):
        """Add the droplet to a firewall (a set: sending it twice does no harm)."""
        body = {"droplet_ids": [self.resource["id"]]}
        self.client.post(f"/firewalls/{firewall['id']}/droplets", body, idempotent=True)

    def wait_firewalls(self, firewalls):
        if self.check_mode or not self.params["wait"]:
            return
        for firewall in firewalls:
            _done, final, _took = self.client.poll(
                lambda ident=firewall["id"]: self.client.get(f"/firewalls/{ident}")["firewall"],
                firewall_settled,
                self.deadline,
                f"firewall '{firewall['name']}'",
            )
            if final.get("status") == "failed":
                raise DigitalOceanError(
                    None,
                    "firewall_failed",
                    f"firewall '{firewall['name']}' could not be applied to the droplet",
                    "firewalls",
                )

    # --- changing -----------------------------------------------------------------------------
    def action(self, kind, body=None, predicted=None, always=False):
        """Run a droplet action; in check mode apply ``predicted`` to the local copy instead."""
        self.mark_changed()
        if self.check_mode:
            self.resource.update(predicted or {})
            return
        answer = self.client.post(self.path("/actions"), dict(body or {}, type=kind))
        self.wait([answer.get("action")], always=always)
        self.reread()

    def rename(self):
        name = self.params["name"]
        if self.params["id"] is not None and name not in (None, self.resource["name"]):
            self.action("rename", {"name": name}, predicted={"name": name}, always=True)

    def retag(self):
        if self.params["tags"] is None:
            return
        add, remove = plan_tags(self.resource.get("tags"), self.params["tags"])
        resources = {
            "resources": [{"resource_id": str(self.resource["id"]), "resource_type": "droplet"}]
        }
        for tag in add + remove:
            self.mark_changed()
            if self.check_mode:
                continue
            path = f"/tags/{quote(tag, safe='')}/resources"
            if tag in add:
                # tags exist before they are applied; both are no-ops when done already
                self.client.post("/tags", {"name": tag}, idempotent=True)
                self.client.post(path, resources, idempotent=True)
            else:
                self.client.request("DELETE", path, body=resources)
        if add or remove:
            kept = [t for t in self.resource.get("tags") or [] if t not in remove]
            self.resource["tags"] = kept + add
            self.reread()

    def features(self):
        params, features = self.params, self.resource.get("features") or []
        name = self.resource["name"]
        if params["ipv6"] and "ipv6" not in features:
            self.action("enable_ipv6", predicted={"features": [*features, "ipv6"]}, always=True)
        elif params["ipv6"] is False and "ipv6" in features:
            self.module.warn(f"droplet '{name}' has IPv6; DigitalOcean cannot turn it off")
        if params["monitoring"] is not None and params["monitoring"] != ("monitoring" in features):
            self.module.warn(
                f"droplet '{name}': monitoring is chosen when a droplet is created; install or "
                "remove the agent on the droplet to change it"
            )
        for option, current in (
            ("region", (self.resource.get("region") or {}).get("slug")),
            ("vpc_uuid", self.resource.get("vpc_uuid")),
        ):
            if params[option] and current and params[option] != current:
                self.module.warn(
                    f"droplet '{name}' is in {option} {current}; a droplet cannot move to "
                    f"{params[option]} (delete it and create it there)"
                )

    def resize(self, stay_off):
        wanted = self.params["size"]
        if not wanted or wanted == self.resource.get("size_slug"):
            return
        running = self.resource.get("status") != "off"
        if running and not self.params["allow_resize_stop"]:
            raise ApiError.refusal(
                f"droplet '{self.resource['name']}' is running; resizing it to {wanted} "
                "needs it off. Set allow_resize_stop=true to let this task power it off, "
                "resize it and power it on again, or stop it first (state=stopped)."
            )
        if running:
            self.action("power_off", predicted={"status": "off"}, always=True)
        body = {"size": wanted, "disk": self.params["resize_disk"]}
        self.action("resize", body, predicted={"size_slug": wanted}, always=True)
        if running and not stay_off:
            self.action("power_on", predicted={"status": "active"})

    def apply_firewalls(self):
        attached = set(self.resource.get("firewalls") or [])
        missing = [fw for fw in self.wanted_firewalls() if fw["name"] not in attached]
        for firewall in missing:
            self.mark_changed()
            if not self.check_mode:
                self.attach(firewall)
        if missing:
            self.resource["firewalls"] = sorted(attached | {fw["name"] for fw in missing})
            self.wait_firewalls(missing)
            if not self.check_mode:
                self.note_firewalls(fresh=True)

    def present(self, stay_off):
        if self.resource is None:
            self.create()
            return
        self.rename()
        self.retag()
        self.features()
        self.resize(stay_off)
        self.apply_firewalls()

    def power(self, state):
        status = self.resource.get("status")
        if self.created and state != "stopped":
            return  # a new droplet is running already
        if state == "started" and status == "off":
            self.action("power_on", predicted={"status": "active"})
        elif state == "stopped" and status != "off":
            self.action("power_off", predicted={"status": "off"})
        elif state == "restarted":
            kind = "power_on" if status == "off" else "reboot"
            self.action(kind, predicted={"status": "active"})

    def rebuild(self):
        if self.created:
            return  # just created from the image: rebuilding it again would be waste
        if not self.params["image"]:
            raise ApiError.refusal("image is required for state=rebuilt")
        image = image_ref(self.params["image"])
        predicted = {"image": {"id": image} if isinstance(image, int) else {"slug": image}}
        self.action("rebuild", {"image": image}, predicted=dict(predicted, status="active"))

    def delete(self):
        self.mark_changed()
        if not self.check_mode:
            ident = self.resource["id"]
            self.client.delete(self.path())
            if self.params["wait"]:
                self.client.poll(
                    lambda: self.client.get_by_id("droplets", ident),
                    lambda d: d is None or d.get("status") == "archive",
                    self.deadline,
                    f"deleting droplet {ident}",
                )
        self.resource = None

    def absent(self):
        if self.resource is not None:
            self.delete()

    def ensure(self, state):
        self.settle_new(state)
        if state == "absent":
            self.absent()
            return
        self.present(stay_off=state == "stopped")
        if state == "rebuilt":
            self.rebuild()
        else:
            self.power(state)


def main():
    module = AnsibleModule(
        argument_spec=digitalocean_argument_spec(
            id=dict(type="int"),
            name=dict(type="str"),
            unique_name=dict(type="bool", default=True),
            region=dict(type="str"),
            size=dict(type="str"),
            resize_disk=dict(type="bool", default=False),
            allow_resize_stop=dict(type="bool", default=False),
            image=dict(type="str"),
            tags=dict(type="list", elements="str"),
            user_data=dict(type="str"),
            ssh_keys=dict(type="list", elements="str", no_log=False),
            firewalls=dict(type="list", elements="str"),
            monitoring=dict(type="bool"),
            ipv6=dict(type="bool"),
            vpc_uuid=dict(type="str"),
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
    run_resource(module, DigitalOceanDroplet)


if __name__ == "__main__":
    main()
