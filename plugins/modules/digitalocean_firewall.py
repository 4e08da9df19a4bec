#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: digitalocean_firewall
short_description: Manage DigitalOcean cloud firewalls
version_added: 0.1.0
description:
  - Create, update and delete a cloud firewall with its inbound and outbound rules and the
    droplets and tags it applies to.
  - Rules are compared as a set, so their order does not matter, and in a normal form
    (addresses canonical, V(all), V(0) and V(1-65535) the same ports, ICMP without ports).
  - The firewall is found by O(id) or by O(name). DigitalOcean allows several firewalls with
    one name; when several carry O(name) the task fails and lists their ids.
author:
  - sigma.deploy contributors (@sigma-deploy)
options:
  id:
    description:
      - The id (a UUID) of the firewall. Needed to rename a firewall; otherwise O(name) finds it.
    type: str
  name:
    description:
      - The name of the firewall (letters, digits, C(.) and C(-)). Required to create one.
    type: str
  inbound_rules:
    description:
      - The inbound rules. When given, the firewall has exactly these (V([]) removes all).
      - A cloud firewall drops inbound traffic that no rule allows.
    type: list
    elements: dict
    suboptions:
      protocol:
        description:
          - The protocol.
        type: str
        required: true
        choices: [tcp, udp, icmp]
      ports:
        description:
          - A port (V(22)), a range (V(8000-9000)), or V(0) / V(all) for every port (the
            default). Not used for V(icmp).
        type: str
      sources:
        description:
          - Where the traffic may come from; at least one of the lists.
        type: dict
        required: true
        suboptions:
          addresses:
            description:
              - IPv4 and IPv6 addresses and CIDR blocks.
            type: list
            elements: str
          droplet_ids:
            description:
              - Droplet ids.
            type: list
            elements: int
          load_balancer_uids:
            description:
              - Load balancer ids.
            type: list
            elements: str
          kubernetes_ids:
            description:
              - Kubernetes cluster ids.
            type: list
            elements: str
          tags:
            description:
              - Tags; every droplet carrying one.
            type: list
            elements: str
  outbound_rules:
    description:
      - The outbound rules. When given, the firewall has exactly these (V([]) removes all).
      - A cloud firewall drops outbound traffic that no rule allows.
    type: list
    elements: dict
    suboptions:
      protocol:
        description:
          - The protocol.
        type: str
        required: true
        choices: [tcp, udp, icmp]
      ports:
        description:
          - A port (V(53)), a range (V(8000-9000)), or V(0) / V(all) for every port (the
            default). Not used for V(icmp).
        type: str
      destinations:
        description:
          - Where the traffic may go; at least one of the lists.
        type: dict
        required: true
        suboptions:
          addresses:
            description:
              - IPv4 and IPv6 addresses and CIDR blocks.
            type: list
            elements: str
          droplet_ids:
            description:
              - Droplet ids.
            type: list
            elements: int
          load_balancer_uids:
            description:
              - Load balancer ids.
            type: list
            elements: str
          kubernetes_ids:
            description:
              - Kubernetes cluster ids.
            type: list
            elements: str
          tags:
            description:
              - Tags; every droplet carrying one.
            type: list
            elements: str
  droplets:
    description:
      - Droplets (names or ids) the firewall applies to directly. When given, exactly these.
      - A name must belong to one droplet only.
    type: list
    elements: str
    aliases: [droplet_ids]
  tags:
    description:
      - Tags the firewall applies to (every droplet carrying one). When given, exactly these.
    type: list
    elements: str
  state:
    description:
      - V(present) ensures the firewall exists as described; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until a change has reached every droplet (the firewall's status is no longer
        C(waiting)); a status of C(failed) fails the task.
    type: bool
    default: true
  wait_timeout:
    description:
      - The most seconds the whole task may wait (a monotonic deadline).
    type: int
    default: 300
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows name, inbound and outbound rules, droplets and tags.
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.digitalocean
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.digitalocean_firewall_info
  - module: sigma.deploy.digitalocean_droplet
"""

EXAMPLES = r"""
- name: SSH from the office, web from everywhere, for every droplet tagged web
  sigma.deploy.digitalocean_firewall:
    name: shop-web
    inbound_rules:
      - {protocol: tcp, ports: "22", sources: {addresses: [198.51.100.0/24]}}
      - {protocol: tcp, ports: "80", sources: {addresses: [0.0.0.0/0, "::/0"]}}
      - {protocol: tcp, ports: "443", sources: {addresses: [0.0.0.0/0, "::/0"]}}
      - {protocol: icmp, sources: {addresses: [0.0.0.0/0, "::/0"]}}
    outbound_rules:
      - {protocol: tcp, ports: all, destinations: {addresses: [0.0.0.0/0, "::/0"]}}
      - {protocol: udp, ports: all, destinations: {addresses: [0.0.0.0/0, "::/0"]}}
    tags: [web]
  delegate_to: localhost

- name: Apply it to one more droplet, by name
  sigma.deploy.digitalocean_firewall:
    name: shop-web
    droplets: [web-1]
  delegate_to: localhost

- name: Delete it
  sigma.deploy.digitalocean_firewall:
    name: shop-web
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
digitalocean_firewall:
  description: The firewall (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id of the firewall (null for one that check mode would create).
      type: str
      sample: bb4b2611-3d72-467b-8602-280330ecd65c
    name:
      description: The name of the firewall.
      type: str
      sample: shop-web
    status:
      description: V(waiting) while a change propagates, then V(succeeded) (or V(failed)).
      type: str
      sample: succeeded
    inbound_rules:
      description: The inbound rules in normal form, sorted.
      type: list
      elements: dict
      sample:
        - protocol: tcp
          ports: "22"
          sources: {addresses: [198.51.100.0/24]}
    outbound_rules:
      description: The outbound rules in normal form, sorted.
      type: list
      elements: dict
      sample:
        - protocol: tcp
          ports: "0"
          destinations: {addresses: [0.0.0.0/0, "::/0"]}
    droplet_ids:
      description: The ids of the droplets the firewall applies to directly, sorted.
      type: list
      elements: int
      sample: [3164444]
    tags:
      description: The tags the firewall applies to, sorted.
      type: list
      elements: str
      sample: [web]
    created_at:
      description: When the firewall was created (ISO 8601).
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
    message: "inbound_rules.ports must be a port, a range such as 8000-9000, 0 or all"
    field: inbound_rules.ports
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
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.shapes import (
    FIREWALL_MANAGED,
    firewall_payload,
    firewall_result,
    firewall_settled,
)


def comparable(firewall):
    """The managed part of a firewall, tags without case (as DigitalOcean compares them)."""
    shaped = firewall_result(firewall)
    shaped["tags"] = sorted(t.lower() for t in shaped["tags"])
    return {key: shaped[key] for key in FIREWALL_MANAGED}


class DigitalOceanFirewall(Resource):
    client_class = DigitalOceanClient
    collection = "firewalls"
    represent = "digitalocean_firewall"
    managed = FIREWALL_MANAGED

    def shape(self, resource):
        return firewall_result(resource)

    def wanted(self):
        """The whole firewall as it should be: what the task gives, else what it has."""
        params, current = self.params, self.resource or {}
        name = current.get("name") or params["name"]
        if params["name"] and (params["id"] is not None or not current):
            name = params["name"]
        refs = params["droplets"]
        droplet_ids = (
            current.get("droplet_ids")
            if refs is None
            else [self.client.resolve("droplets", ref, "droplets") for ref in refs]
        )

        def given(option, key):
            return params[option] if params[option] is not None else current.get(key)

        return firewall_payload(
            name,
            given("inbound_rules", "inbound_rules"),
            given("outbound_rules", "outbound_rules"),
            droplet_ids,
            given("tags", "tags"),
        )

    def settle(self):
        self.wait_for(firewall_settled, f"firewall '{self.resource['name']}'")
        if self.resource.get("status") == "failed":
            raise DigitalOceanError(
                None,
                "firewall_failed",
                f"firewall '{self.resource['name']}' could not be applied to every droplet",
            )

    def create(self):
        if not self.params["name"]:
            raise ApiError.refusal("name is required to create a firewall")
        body = self.wanted()
        self.mark_changed()
        if self.check_mode:
            self.resource = dict(body, id=None, status="succeeded")
            return
        self.resource = self.client.post("/firewalls", body)["firewall"]
        self.settle()

    def update(self):
        body = self.wanted()
        if comparable(dict(self.resource, **body)) == comparable(self.resource):
            return
        self.mark_changed()
        if self.check_mode:
            self.resource.update(body)
            return
        self.resource = self.client.put(self.path(), body)["firewall"]
        self.settle()

    def present(self):
        if self.resource is None:
            self.create()
        else:
            self.update()

    def absent(self):
        if self.resource is None:
            return
        self.mark_changed()
        if not self.check_mode:
            self.client.delete(self.path())
        self.resource = None


TARGET_OPTIONS = dict(
    addresses=dict(type="list", elements="str"),
    droplet_ids=dict(type="list", elements="int"),
    load_balancer_uids=dict(type="list", elements="str"),
    kubernetes_ids=dict(type="list", elements="str"),
    tags=dict(type="list", elements="str"),
)


def rule_options(target):
    return dict(
        protocol=dict(type="str", required=True, choices=["tcp", "udp", "icmp"]),
        ports=dict(type="str"),
        **{target: dict(type="dict", required=True, options=TARGET_OPTIONS)},
    )


def main():
    module = AnsibleModule(
        argument_spec=digitalocean_argument_spec(
            id=dict(type="str"),
            name=dict(type="str"),
            inbound_rules=dict(type="list", elements="dict", options=rule_options("sources")),
            outbound_rules=dict(type="list", elements="dict", options=rule_options("destinations")),
            droplets=dict(type="list", elements="str", aliases=["droplet_ids"]),
            tags=dict(type="list", elements="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=300),
        ),
        required_one_of=[["id", "name"]],
        supports_check_mode=True,
    )
    run_resource(module, DigitalOceanFirewall)


if __name__ == "__main__":
    main()
