#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: digitalocean_load_balancer_info
short_description: List DigitalOcean load balancers
version_added: 0.1.0
description:
  - Read load balancers by id, by name, or all of them (every page is read).
author:
  - sigma.deploy contributors (@sigma-deploy)
options:
  id:
    description:
      - The id (a UUID) of one load balancer.
    type: str
  name:
    description:
      - Only load balancers with this name (DigitalOcean allows several).
    type: str
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - sigma.deploy.digitalocean
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.digitalocean_load_balancer
"""

EXAMPLES = r"""
- name: The shop's load balancer
  sigma.deploy.digitalocean_load_balancer_info:
    name: shop
  delegate_to: localhost
  register: lb

- name: Its address and the droplets behind it
  ansible.builtin.debug:
    msg: "{{ found.ip }} -> {{ found.droplet_ids }}"
  vars:
    found: "{{ lb.digitalocean_load_balancer_info[0] }}"
"""

RETURN = r"""
digitalocean_load_balancer_info:
  description: The load balancers found (an empty list when none match).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id.
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
    status: 401
    code: Unauthorized
    message: "Unable to authenticate you. (check api_token, DIGITALOCEAN_TOKEN or DO_API_TOKEN)"
    field: null
    request_id: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import reader, run_info
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.client import (
    DigitalOceanClient,
    digitalocean_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.load_balancer import (
    load_balancer_result,
)


def main():
    module = AnsibleModule(
        argument_spec=digitalocean_argument_spec(
            id=dict(type="str"),
            name=dict(type="str"),
        ),
        mutually_exclusive=[["id", "name"]],
        supports_check_mode=True,
    )
    read = reader("load_balancers", load_balancer_result)
    run_info(module, DigitalOceanClient, "digitalocean_load_balancer_info", read)


if __name__ == "__main__":
    main()
