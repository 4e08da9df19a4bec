#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: digitalocean_load_balancer
short_description: Manage DigitalOcean load balancers and the droplets behind them
version_added: 0.1.0
description:
  - Create, update and delete a regional load balancer with its forwarding rules, health
    check and sticky sessions, and the droplets behind it (by id, or every droplet carrying a
    tag).
  - Droplets can also be added or removed one at a time (O(droplets_state)), which is how
    deploys drain a droplet before working on it and put it back afterwards. Only the
    droplets named change, so tasks for different droplets do not undo each other.
  - Settings the task leaves out keep their values. DigitalOcean replaces a whole load
    balancer on update, so the module sends the settings it does not manage as they are.
  - The load balancer is found by O(id) or by O(name). DigitalOcean allows several load
    balancers with one name; when several carry O(name) the task fails and lists their ids.
author:
  - sigma.deploy contributors (@sigma-deploy)
options:
  id:
    description:
      - The id (a UUID) of the load balancer. Needed to rename one; otherwise O(name) finds it.
    type: str
  name:
    description:
      - The name of the load balancer. Required to create one.
    type: str
  region:
    description:
      - The region slug, for example V(fra1). Required to create a load balancer; its droplets
        must be in the same region.
      - A load balancer cannot move; a different region for an existing one gives a warning.
    type: str
  size_unit:
    description:
      - How many nodes the load balancer has (1 to 100). New load balancers have 1.
      - Mutually exclusive with O(size).
    type: int
  size:
    description:
      - The legacy size, for the few regions that still use it instead of O(size_unit).
    type: str
    choices: [lb-small, lb-medium, lb-large]
  forwarding_rules:
    description:
      - How traffic is forwarded to the droplets, one rule per entry port. Required to create a
        load balancer; when given, exactly these rules.
    type: list
    elements: dict
    suboptions:
      entry_protocol:
        description:
          - The protocol clients use.
        type: str
        required: true
        choices: [http, https, http2, http3, tcp, udp]
      entry_port:
        description:
          - The port clients connect to.
        type: int
        required: true
      target_protocol:
        description:
          - The protocol spoken to the droplets.
        type: str
        required: true
        choices: [http, https, http2, tcp, udp]
      target_port:
        description:
          - The port of the droplets.
        type: int
        required: true
      certificate_id:
        description:
          - The id of the certificate of an V(https), V(http2) or V(http3) entry.
        type: str
      tls_passthrough:
        description:
          - Pass TLS through to the droplets instead of terminating it.
        type: bool
        default: false
  health_check:
    description:
      - How droplets are checked. Values left out take DigitalOcean's defaults (V(http) on
        port V(80), path V(/), every 10 s, timeout 5 s, healthy after 3 and unhealthy after
        5 results), so a task that leaves them out stays unchanged.
    type: dict
    suboptions:
      protocol:
        description:
          - V(http), V(https) or V(tcp) (connect only).
        type: str
        choices: [http, https, tcp]
      port:
        description:
          - The port to check.
        type: int
      path:
        description:
          - The path to request (not for V(tcp)).
        type: str
      check_interval_seconds:
        description:
          - Seconds between checks.
        type: int
      response_timeout_seconds:
        description:
          - Seconds a check may take.
        type: int
      healthy_threshold:
        description:
          - Passed checks before a droplet counts as healthy.
        type: int
      unhealthy_threshold:
        description:
          - Failed checks before a droplet counts as unhealthy.
        type: int
  sticky_sessions:
    description:
      - Keep a client on one droplet with a cookie.
    type: dict
    suboptions:
      type:
        description:
          - V(cookies) or V(none).
        type: str
        choices: [cookies, none]
        default: none
      cookie_name:
        description:
          - The cookie's name, default V(DO-LB).
        type: str
      cookie_ttl_seconds:
        description:
          - The cookie's lifetime, default V(300).
        type: int
  redirect_http_to_https:
    description:
      - Redirect plain HTTP on port 80 to HTTPS on port 443.
    type: bool
  enable_proxy_protocol:
    description:
      - Use the PROXY protocol towards the droplets.
    type: bool
  enable_backend_keepalive:
    description:
      - Keep connections to the droplets open.
    type: bool
  http_idle_timeout_seconds:
    description:
      - Seconds an idle HTTP connection stays open (30 to 600).
    type: int
  vpc_uuid:
    description:
      - The VPC to create the load balancer in. Without it the region's default VPC is used.
    type: str
  droplets:
    description:
      - Droplets by name or id. What happens to them depends on O(droplets_state).
      - A name must belong to one droplet only.
      - Mutually exclusive with O(tag).
    type: list
    elements: str
  droplets_state:
    description:
      - V(exact) makes O(droplets) the complete list (others are removed); on a load balancer
        that selects droplets by tag it switches to these droplets.
      - V(present) adds the O(droplets) that are missing and leaves the others alone.
      - V(absent) removes the O(droplets) and leaves the others alone (drain a droplet).
      - V(present) and V(absent) need a load balancer that selects droplets by id.
    type: str
    choices: [exact, present, absent]
    default: exact
  tag:
    description:
      - Put every droplet carrying this tag (in the load balancer's region) behind it, instead
        of droplets by id. Adding and removing the tag then adds and removes droplets.
    type: str
  state:
    description:
      - V(present) ensures the load balancer exists as described; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until a new load balancer is C(active) (it has its address); C(errored) fails the
        task.
    type: bool
    default: true
  wait_timeout:
    description:
      - The most seconds the whole task may wait (a monotonic deadline).
    type: int
    default: 600
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: >-
      The diff shows name, region, size, forwarding rules, health check, sticky sessions, the
      other settings, droplet ids and tag.
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.digitalocean
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.digitalocean_load_balancer_info
  - module: sigma.deploy.digitalocean_droplet
"""

EXAMPLES = r"""
- name: A load balancer for the web droplets of the shop
  sigma.deploy.digitalocean_load_balancer:
    name: shop
    region: fra1
    forwarding_rules:
      - {entry_protocol: http, entry_port: 80, target_protocol: http, target_port: 8080}
    health_check:
      port: 8080
      path: /healthz
    droplets: [web-1, web-2]
  delegate_to: localhost

- name: Drain web-1 before deploying to it
  sigma.deploy.digitalocean_load_balancer:
    name: shop
    droplets: [web-1]
    droplets_state: absent
  delegate_to: localhost

- name: Put it back
  sigma.deploy.digitalocean_load_balancer:
    name: shop
    droplets: [web-1]
    droplets_state: present
  delegate_to: localhost

- name: Every droplet tagged web, instead
  sigma.deploy.digitalocean_load_balancer:
    name: shop
    tag: web
  delegate_to: localhost
"""

RETURN = r"""
digitalocean_load_balancer:
  description: The load balancer (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id (null for a load balancer that check mode would create).
      type: str
      sample: 4de7ac8b-495b-4884-9a69-1050c6793cd6
    name:
      description: The name.
      type: str
      sample: shop
    status:
      description: V(new) until it has its address, then V(active) (or V(errored)).
      type: str
      sample: active
    ip:
      description: The public IPv4 address, or null while it is new.
      type: str
      sample: 203.0.113.1
    ipv6:
      description: The public IPv6 address, or null.
      type: str
      sample: "2001:db8:ffff::1"
    region:
      description: The region slug.
      type: str
      sample: fra1
    size:
      description: The legacy size.
      type: str
      sample: lb-small
    size_unit:
      description: The number of nodes.
      type: int
      sample: 1
    forwarding_rules:
      description: The forwarding rules, sorted by entry port.
      type: list
      elements: dict
      sample:
        - entry_protocol: http
          entry_port: 80
          target_protocol: http
          target_port: 8080
          certificate_id: ""
          tls_passthrough: false
    health_check:
      description: The health check with every default filled in (C(path) null for tcp).
      type: dict
      sample:
        protocol: http
        port: 8080
        path: /healthz
        check_interval_seconds: 10
        response_timeout_seconds: 5
        healthy_threshold: 3
        unhealthy_threshold: 5
    sticky_sessions:
      description: The sticky sessions.
      type: dict
      sample: {type: none}
    redirect_http_to_https:
      description: Whether plain HTTP is redirected to HTTPS.
      type: bool
      sample: false
    enable_proxy_protocol:
      description: Whether the PROXY protocol is used.
      type: bool
      sample: false
    enable_backend_keepalive:
      description: Whether connections to droplets are kept open.
      type: bool
      sample: false
    http_idle_timeout_seconds:
      description: Seconds an idle HTTP connection stays open.
      type: int
      sample: 60
    vpc_uuid:
      description: The VPC.
      type: str
      sample: 5a4981aa-9653-4bd1-bef5-d6bff52042e4
    droplet_ids:
      description: The ids of the droplets behind it (for a tag, those carrying it), sorted.
      type: list
      elements: int
      sample: [3164444, 3164445]
    tag:
      description: The tag that selects its droplets, or null when they are given by id.
      type: str
      sample: null
    created_at:
      description: When it was created (ISO 8601).
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
    message: "droplet_ids: droplet 3164446 is in nyc3, not in the load balancer's region fra1"
    field: droplet_ids
    request_id: "4d9d8375-3c56-4925-a3e7-eb137fed17e9"
"""

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
)
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.load_balancer import (
    LOAD_BALANCER_MANAGED,
    desired_settings,
    health_check_payload,
    load_balancer_create_payload,
    load_balancer_ready,
    load_balancer_result,
    load_balancer_update_payload,
    plan_droplets,
    planned_load_balancer,
    settings_changes,
)


class DigitalOceanLoadBalancer(Resource):
    client_class = DigitalOceanClient
    collection = "load_balancers"
    represent = "digitalocean_load_balancer"
    managed = LOAD_BALANCER_MANAGED

    def shape(self, resource):
        return load_balancer_result(resource)

    def wanted_droplets(self):
        refs = self.params["droplets"]
        if refs is None:
            return None
        return sorted({self.client.resolve("droplets", ref, "droplets") for ref in refs})

    def settle(self):
        name = self.resource["name"]
        self.wait_for(load_balancer_ready, f"load balancer '{name}'")
        if self.resource.get("status") == "errored":
            raise DigitalOceanError(
                None, "load_balancer_errored", f"load balancer '{name}' errored"
            )

    def create(self):
        for option in ("name", "region", "forwarding_rules"):
            if not self.params[option]:
                raise ApiError.refusal(f"{option} is required to create a load balancer")
        settings = desired_settings(self.params)
        absent = self.params["droplets_state"] == "absent"
        droplet_ids = [] if absent else self.wanted_droplets() or []
        self.mark_changed()
        if self.check_mode:
            self.resource = planned_load_balancer(self.params, settings, droplet_ids)
            return
        body = load_balancer_create_payload(self.params, settings, droplet_ids)
        self.resource = self.client.post("/load_balancers", body)["load_balancer"]
        self.settle()

    def targets_switch(self, wanted_ids):
        """(tag, droplet ids) when the way droplets are selected changes, else (None, None)."""
        tag, current_tag = self.params["tag"], self.resource.get("tag") or None
        if tag and tag != current_tag:
            return tag, None
        if current_tag and wanted_ids is not None:
            if self.params["droplets_state"] != "exact":
                raise ApiError.refusal(
                    f"load balancer '{self.resource['name']}' selects its droplets by tag "
                    f"'{current_tag}': add or remove the tag on the droplet, or give "
                    "droplets_state=exact to select droplets by id instead"
                )
            return None, wanted_ids
        return None, None

    def update_settings(self, wanted_ids):
        changes = settings_changes(self.resource, desired_settings(self.params))
        name = self.params["name"]
        if self.params["id"] is not None and name not in (None, self.resource["name"]):
            changes["name"] = name
        tag, droplet_ids = self.targets_switch(wanted_ids)
        region = (self.resource.get("region") or {}).get("slug")
        if self.params["region"] and region and self.params["region"] != region:
            self.module.warn(
                f"load balancer '{self.resource['name']}' is in {region}; it cannot move"
            )
        if not changes and tag is None and droplet_ids is None:
            return
        self.mark_changed()
        if self.check_mode:
            for key, value in changes.items():
                self.resource[key] = health_check_payload(value) if key == "health_check" else value
            if tag is not None:
                self.resource.update(tag=tag, droplet_ids=[])
            elif droplet_ids is not None:
                self.resource.update(tag=None, droplet_ids=droplet_ids)
            return
        body = load_balancer_update_payload(self.resource, changes, tag, droplet_ids)
        self.resource = self.client.put(self.path(), body)["load_balancer"]
        self.settle()

    def update_droplets(self, wanted_ids):
        if wanted_ids is None or self.resource.get("tag"):
            return
        current = self.resource.get("droplet_ids") or []
        add, remove = plan_droplets(current, wanted_ids, self.params["droplets_state"])
        for method, ids in (("POST", add), ("DELETE", remove)):
            if not ids:
                continue
            self.mark_changed()
            if not self.check_mode:  # members of a set: sending it twice does no harm
                body = {"droplet_ids": ids}
                self.client.request(method, self.path("/droplets"), body=body, idempotent=True)
        if add or remove:
            self.resource["droplet_ids"] = sorted((set(current) - set(remove)) | set(add))
            self.reread()

    def present(self):
        if self.resource is None:
            self.create()
            return
        wanted_ids = self.wanted_droplets()
        self.update_settings(wanted_ids)
        self.update_droplets(wanted_ids)

    def absent(self):
        if self.resource is None:
            return
        self.mark_changed()
        if not self.check_mode:
            self.client.delete(self.path())
        self.resource = None


FORWARDING_RULE_OPTIONS = dict(
    entry_protocol=dict(
        type="str", required=True, choices=["http", "https", "http2", "http3", "tcp", "udp"]
    ),
    entry_port=dict(type="int", required=True),
    target_protocol=dict(
        type="str", required=True, choices=["http", "https", "http2", "tcp", "udp"]
    ),
    target_port=dict(type="int", required=True),
    certificate_id=dict(type="str"),
    tls_passthrough=dict(type="bool", default=False),
)
HEALTH_CHECK_OPTIONS = dict(
    protocol=dict(type="str", choices=["http", "https", "tcp"]),
    port=dict(type="int"),
    path=dict(type="str"),
    check_interval_seconds=dict(type="int"),
    response_timeout_seconds=dict(type="int"),
    healthy_threshold=dict(type="int"),
    unhealthy_threshold=dict(type="int"),
)
STICKY_OPTIONS = dict(
    type=dict(type="str", choices=["cookies", "none"], default="none"),
    cookie_name=dict(type="str"),
    cookie_ttl_seconds=dict(type="int"),
)


def main():
    module = AnsibleModule(
        argument_spec=digitalocean_argument_spec(
            id=dict(type="str"),
            name=dict(type="str"),
            region=dict(type="str"),
            size_unit=dict(type="int"),
            size=dict(type="str", choices=["lb-small", "lb-medium", "lb-large"]),
            forwarding_rules=dict(type="list", elements="dict", options=FORWARDING_RULE_OPTIONS),
            health_check=dict(type="dict", options=HEALTH_CHECK_OPTIONS),
            sticky_sessions=dict(type="dict", options=STICKY_OPTIONS),
            redirect_http_to_https=dict(type="bool"),
            enable_proxy_protocol=dict(type="bool"),
            enable_backend_keepalive=dict(type="bool"),
            http_idle_timeout_seconds=dict(type="int"),
            vpc_uuid=dict(type="str"),
            droplets=dict(type="list", elements="str"),
            droplets_state=dict(
                type="str", choices=["exact", "present", "absent"], default="exact"
            ),
            tag=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=600),
        ),
        required_one_of=[["id", "name"]],
        mutually_exclusive=[["size", "size_unit"], ["droplets", "tag"]],
        supports_check_mode=True,
    )
    run_resource(module, DigitalOceanLoadBalancer)


if __name__ == "__main__":
    main()
