#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hetzner_firewall
short_description: Manage Hetzner Cloud firewalls
version_added: 0.1.0
description:
  - Create, update and delete a firewall of a Hetzner Cloud project, with its rules and the
    servers and label selectors it applies to.
  - Rules are compared as a set, so their order does not matter, and addresses in their
    canonical form (V(192.0.2.1) is V(192.0.2.1/32)).
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  id:
    description:
      - The id of the firewall. Needed to rename a firewall; otherwise O(name) finds it.
    type: int
  name:
    description:
      - The name of the firewall. Required to create one.
    type: str
  labels:
    description:
      - User-defined labels. When given, the firewall has exactly these labels.
    type: dict
  rules:
    description:
      - The rules. When given, the firewall has exactly these rules (V([]) removes all of them).
      - Hetzner firewalls allow what a rule names and drop other incoming traffic.
    type: list
    elements: dict
    suboptions:
      direction:
        description:
          - V(in) for incoming traffic (uses O(rules[].source_ips)), V(out) for outgoing
            (uses O(rules[].destination_ips)).
        type: str
        required: true
        choices: [in, out]
      protocol:
        description:
          - The protocol.
        type: str
        required: true
        choices: [tcp, udp, icmp, esp, gre]
      port:
        description:
          - A port (V(22)) or a range (V(1024-5000)).
          - Only for V(tcp) and V(udp), where it is required.
        type: str
      source_ips:
        description:
          - Allowed source networks in CIDR notation, for O(rules[].direction=in).
        type: list
        elements: str
      destination_ips:
        description:
          - Allowed destination networks in CIDR notation, for O(rules[].direction=out).
        type: list
        elements: str
      description:
        description:
          - A description of the rule.
        type: str
  servers:
    description:
      - Servers (names or ids) the firewall applies to directly. When given, exactly these.
    type: list
    elements: str
  label_selectors:
    description:
      - Label selectors the firewall applies to (every server they match).
      - When given, exactly these.
    type: list
    elements: str
  state:
    description:
      - V(present) ensures the firewall exists as described; V(absent) removes it from
        everything it applies to and deletes it.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until the firewall is applied (its actions have finished).
    type: bool
    default: true
  wait_timeout:
    description:
      - The most seconds the whole task may wait for actions (a monotonic deadline).
    type: int
    default: 300
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows name, labels, rules, servers and label selectors.
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.hetzner
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.hetzner_firewall_info
  - module: sigma.deploy.hetzner_server
"""

EXAMPLES = r"""
- name: SSH from the office, web from everywhere, for every web server of the shop
  sigma.deploy.hetzner_firewall:
    name: shop-web
    rules:
      - {direction: in, protocol: tcp, port: "22", source_ips: [198.51.100.0/24]}
      - {direction: in, protocol: tcp, port: "80", source_ips: [0.0.0.0/0, "::/0"]}
      - {direction: in, protocol: tcp, port: "443", source_ips: [0.0.0.0/0, "::/0"]}
      - {direction: in, protocol: icmp, source_ips: [0.0.0.0/0, "::/0"]}
    label_selectors:
      - app=shop,role=web
  delegate_to: localhost

- name: Delete it
  sigma.deploy.hetzner_firewall:
    name: shop-web
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
hetzner_firewall:
  description: The firewall (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id of the firewall (null for one that check mode would create).
      type: int
      sample: 38
    name:
      description: The name of the firewall.
      type: str
      sample: shop-web
    labels:
      description: The labels of the firewall.
      type: dict
      sample: {"app": "shop"}
    rules:
      description: The rules in normal form, sorted.
      type: list
      elements: dict
      sample:
        - direction: in
          protocol: tcp
          port: "22"
          source_ips: [198.51.100.0/24]
          destination_ips: []
          description: null
    servers:
      description: The ids of the servers the firewall applies to directly.
      type: list
      elements: int
      sample: [42]
    label_selectors:
      description: The label selectors the firewall applies to.
      type: list
      elements: str
      sample: ["app=shop,role=web"]
    created:
      description: When the firewall was created (ISO 8601).
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
    message: "invalid input in field 'rules'"
    field: rules
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import (
    Resource,
    run_resource,
)
from ansible_collections.sigma.deploy.plugins.module_utils.client.shapes import plan_set
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.client import (
    HetznerClient,
    hetzner_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.shapes import (
    FIREWALL_MANAGED,
    applied_to,
    apply_to_payload,
    firewall_result,
    normalize_labels,
    normalize_rules,
    rule_payload,
)


class HetznerFirewall(Resource):
    client_class = HetznerClient
    collection = "firewalls"
    represent = "hetzner_firewall"
    managed = FIREWALL_MANAGED

    def shape(self, resource):
        return firewall_result(resource)

    def desired_rules(self):
        rules = self.params["rules"]
        return None if rules is None else [rule_payload(r) for r in normalize_rules(rules)]

    def desired_targets(self):
        """(server ids or None, label selectors or None): None leaves that kind alone."""
        refs = self.params["servers"]
        servers = (
            None if refs is None else [self.client.resolve("servers", r, "servers") for r in refs]
        )
        return servers, self.params["label_selectors"]

    def create(self):
        self.check_create("name")
        servers, selectors = self.desired_targets()
        body = {"name": self.params["name"]}
        if self.params["labels"] is not None:
            body["labels"] = normalize_labels(self.params["labels"])
        if self.params["rules"] is not None:
            body["rules"] = self.desired_rules()
        if servers or selectors:
            body["apply_to"] = apply_to_payload(servers or [], selectors or [])
        self.mark_changed()
        if self.check_mode:
            self.resource = dict(body, id=None, applied_to=body.get("apply_to", []))
            return
        answer = self.client.post("/firewalls", body)
        self.resource = answer["firewall"]
        self.wait(answer.get("actions") or [])

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
                self.resource = self.client.put(self.path(), changes)["firewall"]

    def set_rules(self):
        rules = self.desired_rules()
        if rules is None or normalize_rules(rules) == normalize_rules(self.resource.get("rules")):
            return
        self.mark_changed()
        if self.check_mode:
            self.resource["rules"] = rules
            return
        answer = self.client.post(self.path("/actions/set_rules"), {"rules": rules})
        self.wait(answer.get("actions") or [])

    def apply(self):
        servers, selectors = self.desired_targets()
        have_servers, have_selectors = applied_to(self.resource)
        add_servers, remove_servers = plan_set(
            have_servers, have_servers if servers is None else servers
        )
        add_selectors, remove_selectors = plan_set(
            have_selectors, have_selectors if selectors is None else selectors
        )
        self.change_targets(
            "remove_from_resources", "remove_from", remove_servers, remove_selectors
        )
        self.change_targets("apply_to_resources", "apply_to", add_servers, add_selectors)

    def change_targets(self, command, key, servers, selectors, always=False):
        entries = apply_to_payload(servers, selectors)
        if not entries:
            return
        self.mark_changed()
        if self.check_mode:
            current = self.resource.get("applied_to") or []
            if key == "apply_to":
                self.resource["applied_to"] = current + entries
            else:
                gone = {self.entry_key(e) for e in entries}
                self.resource["applied_to"] = [e for e in current if self.entry_key(e) not in gone]
            return
        answer = self.client.post(self.path(f"/actions/{command}"), {key: entries})
        self.wait(answer.get("actions") or [], always=always)

    @staticmethod
    def entry_key(entry):
        """What identifies an ``applied_to`` / ``apply_to`` entry."""
        kind = entry.get("type")
        return (kind, entry[kind]["id"] if kind == "server" else entry[kind]["selector"])

    def present(self):
        if self.resource is None:
            self.create()
        else:
            self.update()
            self.set_rules()
            self.apply()
        self.reread()

    def absent(self):
        if self.resource is None:
            return
        servers, selectors = applied_to(self.resource)
        self.change_targets("remove_from_resources", "remove_from", servers, selectors, always=True)
        self.mark_changed()
        if not self.check_mode:
            self.client.delete(self.path())
        self.resource = None


RULE_OPTIONS = dict(
    direction=dict(type="str", required=True, choices=["in", "out"]),
    protocol=dict(type="str", required=True, choices=["tcp", "udp", "icmp", "esp", "gre"]),
    port=dict(type="str"),
    source_ips=dict(type="list", elements="str"),
    destination_ips=dict(type="list", elements="str"),
    description=dict(type="str"),
)


def main():
    module = AnsibleModule(
        argument_spec=hetzner_argument_spec(
            id=dict(type="int"),
            name=dict(type="str"),
            labels=dict(type="dict"),
            rules=dict(type="list", elements="dict", options=RULE_OPTIONS),
            servers=dict(type="list", elements="str"),
            label_selectors=dict(type="list", elements="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=300),
        ),
        required_one_of=[["id", "name"]],
        supports_check_mode=True,
    )
    run_resource(module, HetznerFirewall)


if __name__ == "__main__":
    main()
