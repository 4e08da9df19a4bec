#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: digitalocean_droplet_info
short_description: List DigitalOcean droplets
version_added: 0.1.0
description:
  - Read droplets by id, by name, by tag, or all of them, optionally only those in some
    regions or with some statuses. Every page is read, however many droplets there are.
author:
  - sigma.deploy contributors (@sigma-deploy)
options:
  id:
    description:
      - The id of one droplet.
    type: int
  name:
    description:
      - Only droplets with this name (DigitalOcean allows several).
    type: str
  tag_name:
    description:
      - Only droplets with this tag.
    type: str
  region:
    description:
      - Only droplets in one of these regions (slugs).
    type: list
    elements: str
  status:
    description:
      - Only droplets with one of these statuses.
    type: list
    elements: str
    choices: [new, active, "off", archive]
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
  - module: sigma.deploy.digitalocean_droplet
"""

EXAMPLES = r"""
- name: The active web droplets
  sigma.deploy.digitalocean_droplet_info:
    tag_name: web
    status: [active]
  delegate_to: localhost
  register: web

- name: Their addresses
  ansible.builtin.debug:
    msg: "{{ web.digitalocean_droplet_info | map(attribute='ipv4_address') }}"
"""

RETURN = r"""
digitalocean_droplet_info:
  description: The droplets found (an empty list when none match), sorted by id.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The id of the droplet.
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
      description: The public IPv4 address, or null.
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
    status: 401
    code: Unauthorized
    message: "Unable to authenticate you. (check api_token, DIGITALOCEAN_TOKEN or DO_API_TOKEN)"
    field: null
    request_id: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.client.resource import run_info
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.client import (
    DigitalOceanClient,
    digitalocean_argument_spec,
)
from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.shapes import (
    droplet_firewalls,
    droplet_result,
)


def select(droplets, regions, statuses):
    """The droplets in one of ``regions`` with one of ``statuses`` (empty: any), by id."""
    regions, statuses = set(regions or []), set(statuses or [])
    return sorted(
        (
            d
            for d in droplets
            if (not regions or (d.get("region") or {}).get("slug") in regions)
            and (not statuses or d.get("status") in statuses)
        ),
        key=lambda d: d["id"],
    )


def read(client, params):
    """The droplets asked for, with the names of the firewalls that apply to each."""
    found = client.select("droplets", params["id"], params["name"], tag_name=params["tag_name"])
    droplets = select(found, params["region"], params["status"])
    firewalls = client.list("firewalls") if droplets else []
    return [droplet_result(dict(d, firewalls=droplet_firewalls(d, firewalls))) for d in droplets]


def main():
    module = AnsibleModule(
        argument_spec=digitalocean_argument_spec(
            id=dict(type="int"),
            name=dict(type="str"),
            tag_name=dict(type="str"),
            region=dict(type="list", elements="str"),
            status=dict(type="list", elements="str", choices=["new", "active", "off", "archive"]),
        ),
        mutually_exclusive=[["id", "name", "tag_name"]],
        supports_check_mode=True,
    )
    run_info(module, DigitalOceanClient, "digitalocean_droplet_info", read)


if __name__ == "__main__":
    main()
