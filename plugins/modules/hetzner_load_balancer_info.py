#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hetzner_load_balancer_info
short_description: List Hetzner Cloud load balancers
version_added: 0.1.0
description:
  - Read load balancers by id, by name, by label selector, or all of them (every page is read),
    with their services, targets and the targets' health.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  id:
    description:
      - The id of one load balancer.
    type: int
  name:
    description:
      - The name of one load balancer.
    type: str
  label_selector:
    description:
      - A Hetzner label selector, for example V(app=shop).
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
  - sigma.deploy.hetzner
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.hetzner_load_balancer
"""

EXAMPLES = r"""
- name: Wait until web-1 (id 42) is healthy behind the load balancer again
  sigma.deploy.hetzner_load_balancer_info:
    name: shop
  delegate_to: localhost
  register: lb
  until: >-
    lb.hetzner_load_balancer_info[0].targets
    | selectattr('server', 'equalto', 42)
    | map(attribute='health_status') | flatten
    | rejectattr('status', 'equalto', 'healthy') | list | length == 0
  retries: 30
  delay: 2
"""

RETURN = r"""
hetzner_load_balancer_info:
  description: The load balancers found (an empty list when none match).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id.
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
    status: 401
    code: unauthorized
    message: "unable to authenticate"
    field: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import reader, run_info
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.client import (
    HetznerClient,
    hetzner_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.load_balancer import (
    load_balancer_result,
)


def main():
    module = AnsibleModule(
        argument_spec=hetzner_argument_spec(
            id=dict(type="int"),
            name=dict(type="str"),
            label_selector=dict(type="str"),
        ),
        mutually_exclusive=[["id", "name", "label_selector"]],
        supports_check_mode=True,
    )
    read = reader("load_balancers", load_balancer_result, "label_selector")
    run_info(module, HetznerClient, "hetzner_load_balancer_info", read)


if __name__ == "__main__":
    main()
