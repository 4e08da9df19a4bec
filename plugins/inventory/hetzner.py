# Copyright: sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: hetzner
short_description: Hetzner Cloud servers as an Ansible inventory
version_added: 0.1.0
description:
  - Reads the servers of a Hetzner Cloud project (every page) and adds them as hosts.
  - Filters by label selector, location, status and server type; builds groups with
    C(keyed_groups), C(groups) and C(compose); caches the answer when caching is on.
  - The configuration file name must end in C(hetzner.yml) or C(hetzner.yaml).
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
  - sigma.deploy.inventory
options:
  plugin:
    description: Marks the file as this plugin's configuration.
    type: str
    required: true
    choices: [sigma.deploy.hetzner]
  api_token:
    description:
      - Hetzner Cloud API token (read access is enough).
      - Never shown in output.
    type: str
    required: true
    env:
      - name: HCLOUD_TOKEN
  api_endpoint:
    description: Base URL of the API.
    type: str
    default: https://api.hetzner.cloud/v1
    env:
      - name: HCLOUD_ENDPOINT
  label_selector:
    description: Only servers matching this label selector, e.g. C(app=shop,env!=dev).
    type: str
  locations:
    description: Only servers in these locations (C(fsn1), C(nbg1), ...).
    type: list
    elements: str
    default: []
  status:
    description: Only servers in these states (C(running), C(off), ...).
    type: list
    elements: str
    default: []
  server_types:
    description: Only servers of these types (C(cx22), ...).
    type: list
    elements: str
    default: []
  hostname:
    description:
      - A Jinja2 expression (like the values of C(compose), without braces) that gives the
        inventory hostname, with the server's host variables available, e.g.
        C(hetzner_name ~ '.' ~ hetzner_location).
    type: str
    default: hetzner_name
"""

EXAMPLES = r"""
# servers.hetzner.yml: every running server of the app, grouped by its labels
plugin: sigma.deploy.hetzner
label_selector: app=shop
status: [running]
keyed_groups:
  - key: hetzner_labels.role
    prefix: role
  - key: hetzner_location
    prefix: location
compose:
  ansible_user: "'sigma'"

---
# Servers without public IPv4 connect over IPv6; cache the answer for five minutes.
plugin: sigma.deploy.hetzner
connect_with: public_ipv6
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/sigma-inventory
cache_timeout: 300
"""

from typing import ClassVar

from ansible_collections.sigma.deploy.plugins.plugin_utils._inventory import ProviderInventory


def host_vars(server):
    """The ``hetzner_*`` host variables of one server, from its API representation."""
    public = server.get("public_net") or {}
    ipv4 = (public.get("ipv4") or {}).get("ip")
    ipv6_net = (public.get("ipv6") or {}).get("ip")  # a /64 network, e.g. 2001:db8:1::/64
    ipv6 = None
    if ipv6_net:
        prefix = ipv6_net.split("/")[0]
        ipv6 = prefix + "1" if prefix.endswith("::") else prefix
    private = [n.get("ip") for n in server.get("private_net") or [] if n.get("ip")]
    datacenter = server.get("datacenter") or {}
    return {
        "hetzner_id": server["id"],
        "hetzner_name": server["name"],
        "hetzner_status": server.get("status"),
        "hetzner_server_type": (server.get("server_type") or {}).get("name"),
        "hetzner_location": (datacenter.get("location") or {}).get("name"),
        "hetzner_datacenter": datacenter.get("name"),
        "hetzner_image": (server.get("image") or {}).get("name"),
        "hetzner_labels": dict(server.get("labels") or {}),
        "hetzner_public_ipv4": ipv4,
        "hetzner_public_ipv6": ipv6,
        "hetzner_private_ipv4": private[0] if private else None,
    }


def wanted(hvars, locations, status, server_types):
    """Whether a server passes the location, status and type filters (empty = any)."""
    return (
        (not locations or hvars["hetzner_location"] in locations)
        and (not status or hvars["hetzner_status"] in status)
        and (not server_types or hvars["hetzner_server_type"] in server_types)
    )


class InventoryModule(ProviderInventory):
    NAME = "sigma.deploy.hetzner"
    ADDRESS_VARS: ClassVar[dict[str, str]] = {
        "public_ipv4": "hetzner_public_ipv4",
        "public_ipv6": "hetzner_public_ipv6",
        "private_ipv4": "hetzner_private_ipv4",
    }
    NAME_VAR = "hetzner_name"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("hetzner.yml", "hetzner.yaml"))

    def fetch(self):
        # Imported here, not when Ansible loads the plugin: every playbook run loads the
        # enabled inventory plugins, and the API client brings in requests (a tenth of a
        # second) that only a run with a hetzner inventory source needs.
        from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
        from ansible_collections.sigma.deploy.plugins.module_utils.hetzner.client import (
            HetznerClient,
        )

        client = HetznerClient(
            self.get_option("api_endpoint"),
            self.token(),
            validate_certs=self.get_option("validate_certs"),
            ca_path=self.get_option("ca_path"),
            timeout=self.get_option("request_timeout"),
        )
        try:
            return client.list("servers", label_selector=self.get_option("label_selector"))
        except ApiError as err:
            self.fail(str(err))

    def host_vars(self, server):
        return host_vars(server)

    def wanted(self, hvars):
        return wanted(
            hvars,
            self.get_option("locations"),
            self.get_option("status"),
            self.get_option("server_types"),
        )
