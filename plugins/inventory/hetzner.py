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
  validate_certs:
    description: Verify the API's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle to verify the API's certificate with. C(REQUESTS_CA_BUNDLE) is honoured
        when this is not set.
    type: path
  request_timeout:
    description: Seconds to wait for one API answer.
    type: float
    default: 30
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
  connect_with:
    description:
      - Which address becomes C(ansible_host).
      - C(name) connects by the server's name (for DNS or an SSH config).
    type: str
    default: public_ipv4
    choices: [public_ipv4, public_ipv6, private_ipv4, name]
  missing_address:
    description:
      - What to do with a server that has no address of the C(connect_with) kind (a server
        without public IPv4, say).
      - C(skip) leaves it out with a warning, C(error) fails, C(name) connects by name.
    type: str
    default: skip
    choices: [skip, error, name]
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

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.sigma.deploy.plugins.module_utils._api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils._hetzner import HetznerClient

ADDRESS_VARS = {
    "public_ipv4": "hetzner_public_ipv4",
    "public_ipv6": "hetzner_public_ipv6",
    "private_ipv4": "hetzner_private_ipv4",
}


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


def connection_address(hvars, connect_with, missing_address):
    """``(address, problem)``: the address to connect to, or why there is none."""
    if connect_with == "name":
        return hvars["hetzner_name"], None
    address = hvars[ADDRESS_VARS[connect_with]]
    if address:
        return address, None
    problem = f"server {hvars['hetzner_name']} (id {hvars['hetzner_id']}) has no {connect_with}"
    if missing_address == "name":
        return hvars["hetzner_name"], None
    return None, problem


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "sigma.deploy.hetzner"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("hetzner.yml", "hetzner.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        servers = None
        if use_cache:
            try:
                servers = self._cache[cache_key]
            except KeyError:
                servers = None
        if servers is None:
            servers = self._fetch()
            if self.get_option("cache"):
                self._cache[cache_key] = servers
        self._populate(servers)

    def _fetch(self):
        token = self.get_option("api_token")
        if self.templar.is_template(token):
            token = self.templar.template(token)
        client = HetznerClient(
            self.get_option("api_endpoint"),
            token,
            validate_certs=self.get_option("validate_certs"),
            ca_path=self.get_option("ca_path"),
            timeout=self.get_option("request_timeout"),
        )
        params = {"label_selector": self.get_option("label_selector")}
        try:
            return client.list("servers", **params)
        except ApiError as err:
            raise AnsibleError(f"sigma.deploy.hetzner inventory: {err}") from None

    def _populate(self, servers):
        strict = self.get_option("strict")
        for server in servers:
            hvars = host_vars(server)
            if not wanted(
                hvars,
                self.get_option("locations"),
                self.get_option("status"),
                self.get_option("server_types"),
            ):
                continue
            address, problem = connection_address(
                hvars, self.get_option("connect_with"), self.get_option("missing_address")
            )
            if problem:
                if self.get_option("missing_address") == "error":
                    raise AnsibleError(
                        f"sigma.deploy.hetzner inventory: {problem}; set connect_with or "
                        "missing_address (skip, name)"
                    )
                self.display.warning(f"sigma.deploy.hetzner inventory: skipping {problem}")
                continue
            hostname = self._hostname(hvars)
            self.inventory.add_host(hostname)
            for key, value in hvars.items():
                self.inventory.set_variable(hostname, key, value)
            self.inventory.set_variable(hostname, "ansible_host", address)
            self._set_composite_vars(self.get_option("compose"), hvars, hostname, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hvars, hostname, strict)
            self._add_host_to_keyed_groups(
                self.get_option("keyed_groups"), hvars, hostname, strict=strict
            )

    def _hostname(self, hvars):
        expression = self.get_option("hostname")
        try:
            name = self._compose(expression, hvars)
        except Exception as exc:  # any template error, reported with the option
            raise AnsibleError(
                f"sigma.deploy.hetzner inventory: hostname expression {expression!r}: {exc}"
            ) from None
        if not name:
            raise AnsibleError(
                f"sigma.deploy.hetzner inventory: hostname expression {expression!r} gave an "
                f"empty name for server {hvars['hetzner_name']}"
            )
        return str(name)
