# Copyright: sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: digitalocean
short_description: DigitalOcean droplets as an Ansible inventory
version_added: 0.1.0
description:
  - Reads the droplets of a DigitalOcean account (every page) and adds them as hosts.
  - Filters by tags, region, status and size; builds groups with C(keyed_groups), C(groups)
    and C(compose); caches the answer when caching is on.
  - The configuration file name must end in C(digitalocean.yml) or C(digitalocean.yaml).
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
  - sigma.deploy.inventory
options:
  plugin:
    description: Marks the file as this plugin's configuration.
    type: str
    required: true
    choices: [sigma.deploy.digitalocean]
  api_token:
    description:
      - DigitalOcean API token (read access is enough).
      - Never shown in output.
    type: str
    required: true
    env:
      - name: DIGITALOCEAN_TOKEN
      - name: DO_API_TOKEN
  api_endpoint:
    description: Base URL of the API (without C(/v2)).
    type: str
    default: https://api.digitalocean.com
    env:
      - name: DIGITALOCEAN_ENDPOINT
  tags:
    description:
      - Only droplets that carry every one of these tags. The first is filtered by the API
        (C(tag_name)), the others here.
    type: list
    elements: str
    default: []
  regions:
    description: Only droplets in these regions (C(fra1), C(ams3), ...).
    type: list
    elements: str
    default: []
  status:
    description: Only droplets in these states (C(active), C(off), C(new), C(archive)).
    type: list
    elements: str
    default: []
  sizes:
    description: Only droplets of these size slugs (C(s-1vcpu-1gb), ...).
    type: list
    elements: str
    default: []
  hostname:
    description:
      - A Jinja2 expression (like the values of C(compose), without braces) that gives the
        inventory hostname, with the droplet's host variables available, e.g.
        C(do_name ~ '.' ~ do_region).
    type: str
    default: do_name
"""

EXAMPLES = r"""
# shop.digitalocean.yml: every active droplet tagged shop, grouped by its other tags
plugin: sigma.deploy.digitalocean
tags: [shop]
status: [active]
keyed_groups:
  - key: do_tags
    prefix: tag
  - key: do_region
    prefix: region

---
# Connect over the private network, and cache the answer for five minutes.
plugin: sigma.deploy.digitalocean
connect_with: private_ipv4
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/sigma-inventory
cache_timeout: 300
"""

from typing import ClassVar

from ansible_collections.sigma.deploy.plugins.plugin_utils._inventory import ProviderInventory


def _address(networks, family, kind):
    for net in (networks or {}).get(family) or []:
        if net.get("type") == kind and net.get("ip_address"):
            return net["ip_address"]
    return None


def host_vars(droplet):
    """The ``do_*`` host variables of one droplet, from its API representation."""
    networks = droplet.get("networks") or {}
    return {
        "do_id": droplet["id"],
        "do_name": droplet["name"],
        "do_status": droplet.get("status"),
        "do_size": droplet.get("size_slug") or (droplet.get("size") or {}).get("slug"),
        "do_region": (droplet.get("region") or {}).get("slug"),
        "do_image": (droplet.get("image") or {}).get("slug"),
        "do_tags": list(droplet.get("tags") or []),
        "do_vpc_uuid": droplet.get("vpc_uuid"),
        "do_public_ipv4": _address(networks, "v4", "public"),
        "do_private_ipv4": _address(networks, "v4", "private"),
        "do_public_ipv6": _address(networks, "v6", "public"),
    }


def wanted(hvars, tags, regions, status, sizes):
    """Whether a droplet passes the tag, region, status and size filters (empty = any)."""
    return (
        all(tag in hvars["do_tags"] for tag in tags)
        and (not regions or hvars["do_region"] in regions)
        and (not status or hvars["do_status"] in status)
        and (not sizes or hvars["do_size"] in sizes)
    )


class InventoryModule(ProviderInventory):
    NAME = "sigma.deploy.digitalocean"
    ADDRESS_VARS: ClassVar[dict[str, str]] = {
        "public_ipv4": "do_public_ipv4",
        "public_ipv6": "do_public_ipv6",
        "private_ipv4": "do_private_ipv4",
    }
    NAME_VAR = "do_name"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(
            ("digitalocean.yml", "digitalocean.yaml")
        )

    def fetch(self):
        # Imported here, not when Ansible loads the plugin: every playbook run loads the
        # enabled inventory plugins, and the API client brings in requests (a tenth of a
        # second) that only a run with a digitalocean inventory source needs.
        from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
        from ansible_collections.sigma.deploy.plugins.module_utils.digitalocean.client import (
            DigitalOceanClient,
        )

        client = DigitalOceanClient(
            self.get_option("api_endpoint"),
            self.token(),
            validate_certs=self.get_option("validate_certs"),
            ca_path=self.get_option("ca_path"),
            timeout=self.get_option("request_timeout"),
        )
        tags = self.get_option("tags")
        try:
            return client.list("droplets", tag_name=tags[0] if tags else None)
        except ApiError as err:
            self.fail(str(err))

    def host_vars(self, server):
        return host_vars(server)

    def wanted(self, hvars):
        return wanted(
            hvars,
            self.get_option("tags"),
            self.get_option("regions"),
            self.get_option("status"),
            self.get_option("sizes"),
        )
