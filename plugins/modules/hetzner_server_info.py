#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hetzner_server_info
short_description: List Hetzner Cloud servers
version_added: 0.1.0
description:
  - Read servers by id, by name, by label selector and status, or all of them. Every page is
    read, however many servers there are.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  id:
    description:
      - The id of one server.
    type: int
  name:
    description:
      - The name of one server.
    type: str
  label_selector:
    description:
      - A Hetzner label selector, for example V(app=shop,role=web).
    type: str
  status:
    description:
      - Only servers with one of these statuses.
    type: list
    elements: str
    choices:
      - initializing
      - starting
      - running
      - stopping
      - "off"
      - deleting
      - migrating
      - rebuilding
      - unknown
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
  - module: sigma.deploy.hetzner_server
"""

EXAMPLES = r"""
- name: The running web servers of the shop
  sigma.deploy.hetzner_server_info:
    label_selector: app=shop,role=web
    status: [running]
  delegate_to: localhost
  register: web

- name: Their addresses
  ansible.builtin.debug:
    msg: "{{ web.hetzner_server_info | map(attribute='ipv4_address') }}"
"""

RETURN = r"""
hetzner_server_info:
  description: The servers found (an empty list when none match).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id of the server.
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
    status: 401
    code: unauthorized
    message: "unable to authenticate"
    field: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import run_info
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.client import (
    HetznerClient,
    hetzner_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.shapes import server_result


def read(client, params):
    """The servers asked for, with one of the statuses asked for (none: any)."""
    found = client.select(
        "servers", params["id"], params["name"], label_selector=params["label_selector"]
    )
    wanted = set(params["status"] or [])
    return [server_result(s) for s in found if not wanted or s.get("status") in wanted]


def main():
    module = AnsibleModule(
        argument_spec=hetzner_argument_spec(
            id=dict(type="int"),
            name=dict(type="str"),
            label_selector=dict(type="str"),
            status=dict(
                type="list",
                elements="str",
                choices=[
                    "initializing",
                    "starting",
                    "running",
                    "stopping",
                    "off",
                    "deleting",
                    "migrating",
                    "rebuilding",
                    "unknown",
                ],
            ),
        ),
        mutually_exclusive=[["id", "name", "label_selector"]],
        supports_check_mode=True,
    )
    run_info(module, HetznerClient, "hetzner_server_info", read)


if __name__ == "__main__":
    main()
