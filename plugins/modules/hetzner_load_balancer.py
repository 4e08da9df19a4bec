#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hetzner_load_balancer
short_description: Manage Hetzner Cloud load balancers, their services and targets
version_added: 0.1.0
description:
  - Create, update and delete a load balancer of a Hetzner Cloud project with its services
    (listeners with health checks) and targets (servers, label selectors, IPs).
  - Targets can also be added or removed one at a time (O(targets_state)), which is how
    deploys drain a server before working on it and put it back afterwards.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  id:
    description:
      - The id of the load balancer. Needed to rename one; otherwise O(name) finds it.
    type: int
  name:
    description:
      - The name of the load balancer. Required to create one.
    type: str
  load_balancer_type:
    description:
      - The type, for example V(lb11). Required to create a load balancer; an existing one of
        another type is changed to it.
    type: str
  location:
    description:
      - The location to create the load balancer in, for example V(fsn1).
      - A load balancer cannot move; a different location for an existing one gives a warning.
    type: str
  network_zone:
    description:
      - The network zone to create the load balancer in, instead of O(location).
    type: str
  algorithm:
    description:
      - How connections are spread over targets. New load balancers use V(round_robin).
    type: str
    choices: [round_robin, least_connections]
  labels:
    description:
      - User-defined labels. When given, the load balancer has exactly these labels.
    type: dict
  services:
    description:
      - The services, one per listen port. When given, exactly these (V([]) removes all).
      - Unset values take Hetzner's defaults, so a task that leaves them out stays unchanged.
    type: list
    elements: dict
    suboptions:
      protocol:
        description:
          - The protocol the load balancer speaks to clients.
        type: str
        required: true
        choices: [tcp, http, https]
      listen_port:
        description:
          - The port to listen on.
          - Default V(80) for V(http), V(443) for V(https); required for V(tcp).
        type: int
      destination_port:
        description:
          - The port of the targets.
          - Default V(80) for V(http) and V(https), else O(services[].listen_port).
        type: int
      proxyprotocol:
        description:
          - Use the PROXY protocol towards the targets.
        type: bool
        default: false
      health_check:
        description:
          - How targets are checked; by default over the service's protocol (V(http) for web
            services) on O(services[].destination_port) every 15 s, timeout 10 s, 3 retries.
        type: dict
        suboptions:
          protocol:
            description:
              - V(tcp) (connect only) or V(http).
            type: str
            choices: [tcp, http]
          port:
            description:
              - The port to check.
            type: int
          interval:
            description:
              - Seconds between checks.
            type: int
          timeout:
            description:
              - Seconds a check may take.
            type: int
          retries:
            description:
              - Failed checks before a target counts as unhealthy.
            type: int
          http:
            description:
              - For HTTP checks.
            type: dict
            suboptions:
              domain:
                description:
                  - The C(Host) header to send.
                type: str
              path:
                description:
                  - The path to request, default V(/).
                type: str
              response:
                description:
                  - Text the answer must contain.
                type: str
              status_codes:
                description:
                  - Accepted status codes (wildcards such as V(2??)); default V(2??) and V(3??).
                type: list
                elements: str
              tls:
                description:
                  - Check over HTTPS.
                type: bool
      http:
        description:
          - HTTP settings of V(http) and V(https) services.
        type: dict
        suboptions:
          sticky_sessions:
            description:
              - Keep a client on one target with a cookie.
            type: bool
          cookie_name:
            description:
              - The name of that cookie, default V(HCLBSTICKY).
            type: str
          cookie_lifetime:
            description:
              - Its lifetime in seconds, default V(300).
            type: int
          redirect_http:
            description:
              - Redirect plain HTTP to HTTPS (V(https) services).
            type: bool
          certificates:
            description:
              - Ids of the certificates of an V(https) service.
            type: list
            elements: int
  targets:
    description:
      - Targets, each one of O(targets[].server), O(targets[].label_selector) or O(targets[].ip).
      - What happens to them depends on O(targets_state).
    type: list
    elements: dict
    suboptions:
      server:
        description:
          - A server, by name or id.
        type: str
      label_selector:
        description:
          - A label selector; every server it matches is a target.
        type: str
      ip:
        description:
          - An IP address outside Hetzner Cloud.
        type: str
      use_private_ip:
        description:
          - Reach a server or label selector target over the private network.
        type: bool
        default: false
  targets_state:
    description:
      - V(exact) makes O(targets) the complete list of targets (others are removed).
      - V(present) adds the O(targets) that are missing and leaves the others alone.
      - V(absent) removes the O(targets) and leaves the others alone (drain a server).
    type: str
    choices: [exact, present, absent]
    default: exact
  state:
    description:
      - V(present) ensures the load balancer exists as described; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until the actions the module started (create, services, targets) have finished.
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
    details: The diff shows name, type, location, algorithm, labels, services and targets.
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.hetzner
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.hetzner_load_balancer_info
  - module: sigma.deploy.hetzner_server
"""

EXAMPLES = r"""
- name: A load balancer for the web servers of the shop
  sigma.deploy.hetzner_load_balancer:
    name: shop
    load_balancer_type: lb11
    location: fsn1
    services:
      - protocol: http
        listen_port: 80
        destination_port: 8080
        health_check:
          protocol: http
          http: {path: /healthz}
    targets:
      - label_selector: app=shop,role=web
  delegate_to: localhost

- name: Drain web-1 before deploying to it
  sigma.deploy.hetzner_load_balancer:
    name: shop
    targets: [{server: web-1}]
    targets_state: absent
  delegate_to: localhost

- name: Put it back
  sigma.deploy.hetzner_load_balancer:
    name: shop
    targets: [{server: web-1}]
    targets_state: present
  delegate_to: localhost
"""

RETURN = r"""
hetzner_load_balancer:
  description: The load balancer (empty after O(state=absent)). In check mode, what it would be.
  returned: always
  type: dict
  contains:
    id:
      description: The id (null for a load balancer that check mode would create).
      type: int
      sample: 4711
    name:
      description: The name.
      type: str
      sample: shop
    load_balancer_type:
      description: The name of its type.
      type: str
      sample: lb11
    location:
      description: The name of its location.
      type: str
      sample: fsn1
    algorithm:
      description: V(round_robin) or V(least_connections).
      type: str
      sample: round_robin
    labels:
      description: The labels.
      type: dict
      sample: {"app": "shop"}
    ipv4_address:
      description: The public IPv4 address.
      type: str
      sample: 203.0.113.20
    ipv6_address:
      description: The public IPv6 address.
      type: str
      sample: "2001:db8::1"
    services:
      description: The services with every default filled in, sorted by listen port.
      type: list
      elements: dict
      sample:
        - protocol: tcp
          listen_port: 5432
          destination_port: 5432
          proxyprotocol: false
          health_check: {protocol: tcp, port: 5432, interval: 15, timeout: 10, retries: 3}
    targets:
      description:
        - The targets; C(server) holds a server id, C(label_selector) a selector, C(ip) an address.
        - C(health_status) lists the health per listen port.
      type: list
      elements: dict
      sample:
        - type: server
          server: 42
          label_selector: null
          ip: null
          use_private_ip: false
          health_status: [{listen_port: 80, status: healthy}]
    created:
      description: When it was created (ISO 8601).
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
    message: "invalid input in field 'load_balancer_type'"
    field: load_balancer_type
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
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.load_balancer import (
    LOAD_BALANCER_MANAGED,
    apply_target_plan,
    load_balancer_create_payload,
    load_balancer_result,
    make_target,
    normalize_services,
    plan_services,
    plan_targets,
    planned_load_balancer,
    target_payload,
)
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.shapes import normalize_labels


class HetznerLoadBalancer(Resource):
    client_class = HetznerClient
    collection = "load_balancers"
    represent = "hetzner_load_balancer"
    managed = LOAD_BALANCER_MANAGED

    def shape(self, resource):
        return load_balancer_result(resource)

    def diff_view(self, resource):
        view = super().diff_view(resource)
        for target in view.get("targets") or []:
            target.pop("health_status", None)
        return view

    def desired_targets(self):
        targets = []
        for spec in self.params["targets"] or []:
            given = [kind for kind in ("server", "label_selector", "ip") if spec.get(kind)]
            if len(given) != 1:
                raise ApiError.refusal(
                    "each target needs exactly one of server, label_selector or ip"
                )
            kind = given[0]
            value = spec[kind]
            if kind == "server":
                value = self.client.resolve("servers", value, "targets")
            targets.append(make_target(kind, value, spec.get("use_private_ip")))
        return targets

    def action(self, command, body=None):
        self.mark_changed()
        if not self.check_mode:
            answer = self.client.post(self.path(f"/actions/{command}"), body)
            self.wait([answer.get("action")])

    def create(self):
        self.check_create("name", "load_balancer_type")
        params = dict(self.params, labels=normalize_labels(self.params["labels"]))
        services = normalize_services(self.params["services"])
        targets = [] if self.params["targets_state"] == "absent" else self.desired_targets()
        self.mark_changed()
        if self.check_mode:
            self.resource = planned_load_balancer(params, services, targets)
            return
        answer = self.client.post(
            "/load_balancers", load_balancer_create_payload(params, services, targets)
        )
        self.resource = answer["load_balancer"]
        self.wait([answer.get("action")])

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
                self.resource = self.client.put(self.path(), changes)["load_balancer"]
        wanted_type = self.params["load_balancer_type"]
        if wanted_type and wanted_type != (self.resource.get("load_balancer_type") or {}).get(
            "name"
        ):
            self.action("change_type", {"load_balancer_type": wanted_type})
            self.resource["load_balancer_type"] = {"name": wanted_type}
        algorithm = self.params["algorithm"]
        if algorithm and algorithm != (self.resource.get("algorithm") or {}).get("type"):
            self.action("change_algorithm", {"type": algorithm})
            self.resource["algorithm"] = {"type": algorithm}
        location = (self.resource.get("location") or {}).get("name")
        if self.params["location"] and location and self.params["location"] != location:
            self.module.warn(
                f"load balancer '{self.resource['name']}' is in {location}; it cannot move"
            )

    def update_services(self):
        if self.params["services"] is None:
            return
        add, update, delete = plan_services(self.resource.get("services"), self.params["services"])
        for port in delete:
            self.action("delete_service", {"listen_port": port})
        for service in update:
            self.action("update_service", service)
        for service in add:
            self.action("add_service", service)
        if add or update or delete:
            self.resource["services"] = normalize_services(self.params["services"])

    def update_targets(self):
        if self.params["targets"] is None:
            return
        current = self.resource.get("targets") or []
        remove, add = plan_targets(current, self.desired_targets(), self.params["targets_state"])
        for target in remove:
            self.action("remove_target", target_payload(target, remove=True))
        for target in add:
            self.action("add_target", target_payload(target))
        self.resource["targets"] = apply_target_plan(current, remove, add)

    def present(self):
        if self.resource is None:
            self.create()
        else:
            self.update()
            self.update_services()
            self.update_targets()
        self.reread()

    def absent(self):
        if self.resource is None:
            return
        self.mark_changed()
        if not self.check_mode:
            self.client.delete(self.path())
        self.resource = None


HTTP_CHECK_OPTIONS = dict(
    domain=dict(type="str"),
    path=dict(type="str"),
    response=dict(type="str"),
    status_codes=dict(type="list", elements="str"),
    tls=dict(type="bool"),
)
HEALTH_CHECK_OPTIONS = dict(
    protocol=dict(type="str", choices=["tcp", "http"]),
    port=dict(type="int"),
    interval=dict(type="int"),
    timeout=dict(type="int"),
    retries=dict(type="int"),
    http=dict(type="dict", options=HTTP_CHECK_OPTIONS),
)
HTTP_OPTIONS = dict(
    sticky_sessions=dict(type="bool"),
    cookie_name=dict(type="str"),
    cookie_lifetime=dict(type="int"),
    redirect_http=dict(type="bool"),
    certificates=dict(type="list", elements="int"),
)
SERVICE_OPTIONS = dict(
    protocol=dict(type="str", required=True, choices=["tcp", "http", "https"]),
    listen_port=dict(type="int"),
    destination_port=dict(type="int"),
    proxyprotocol=dict(type="bool", default=False),
    health_check=dict(type="dict", options=HEALTH_CHECK_OPTIONS),
    http=dict(type="dict", options=HTTP_OPTIONS),
)
TARGET_OPTIONS = dict(
    server=dict(type="str"),
    label_selector=dict(type="str"),
    ip=dict(type="str"),
    use_private_ip=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(
        argument_spec=hetzner_argument_spec(
            id=dict(type="int"),
            name=dict(type="str"),
            load_balancer_type=dict(type="str"),
            location=dict(type="str"),
            network_zone=dict(type="str"),
            algorithm=dict(type="str", choices=["round_robin", "least_connections"]),
            labels=dict(type="dict"),
            services=dict(type="list", elements="dict", options=SERVICE_OPTIONS),
            targets=dict(type="list", elements="dict", options=TARGET_OPTIONS),
            targets_state=dict(type="str", choices=["exact", "present", "absent"], default="exact"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=300),
        ),
        required_one_of=[["id", "name"]],
        mutually_exclusive=[["location", "network_zone"]],
        supports_check_mode=True,
    )
    run_resource(module, HetznerLoadBalancer)


if __name__ == "__main__":
    main()
