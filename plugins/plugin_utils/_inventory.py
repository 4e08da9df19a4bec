# Copyright: sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the provider inventory plugins share: caching, the connection address, the hostname
expression, and adding hosts with compose / groups / keyed_groups.

A provider plugin sets ``NAME``, ``ADDRESS_VARS`` (connect_with choice -> host variable) and
``NAME_VAR``, and implements ``fetch()`` (every server, all pages), ``host_vars(server)`` and
``wanted(hvars)`` (its filters).
"""

from __future__ import annotations

from typing import ClassVar

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable


def connection_address(hvars, address_vars, name_var, connect_with, missing_address):
    """``(address, problem)``: the address to connect to, or why there is none."""
    if connect_with == "name":
        return hvars[name_var], None
    address = hvars[address_vars[connect_with]]
    if address:
        return address, None
    if missing_address == "name":
        return hvars[name_var], None
    return None, f"server {hvars[name_var]} has no {connect_with}"


class ProviderInventory(BaseInventoryPlugin, Constructable, Cacheable):
    """Base of the provider inventory plugins."""

    NAME = ""
    ADDRESS_VARS: ClassVar[dict[str, str]] = {}
    NAME_VAR = ""

    def fetch(self):
        raise NotImplementedError

    def host_vars(self, server):
        raise NotImplementedError

    def wanted(self, hvars):
        raise NotImplementedError

    def fail(self, message):
        raise AnsibleError(f"{self.NAME} inventory: {message}")

    def token(self):
        token = self.get_option("api_token")
        if self.templar.is_template(token):
            token = self.templar.template(token)
        return token

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        servers = None
        if self.get_option("cache") and cache:
            servers = self._cache.get(cache_key)
        if servers is None:
            servers = self.fetch()
            if self.get_option("cache"):
                self._cache[cache_key] = servers
        self.populate(servers)

    def populate(self, servers):
        strict = self.get_option("strict")
        missing = self.get_option("missing_address")
        for server in servers:
            hvars = self.host_vars(server)
            if not self.wanted(hvars):
                continue
            address, problem = connection_address(
                hvars, self.ADDRESS_VARS, self.NAME_VAR, self.get_option("connect_with"), missing
            )
            if problem:
                if missing == "error":
                    self.fail(f"{problem}; set connect_with or missing_address (skip, name)")
                self.display.warning(f"{self.NAME} inventory: skipping {problem}")
                continue
            hostname = self.hostname(hvars)
            self.inventory.add_host(hostname)
            for key, value in hvars.items():
                self.inventory.set_variable(hostname, key, value)
            self.inventory.set_variable(hostname, "ansible_host", address)
            self._set_composite_vars(self.get_option("compose"), hvars, hostname, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hvars, hostname, strict)
            self._add_host_to_keyed_groups(
                self.get_option("keyed_groups"), hvars, hostname, strict=strict
            )

    def hostname(self, hvars):
        expression = self.get_option("hostname")
        try:
            name = self._compose(expression, hvars)
        except Exception as exc:  # any template error, reported with the option
            self.fail(f"hostname expression {expression!r}: {exc}")
        if not name:
            self.fail(
                f"hostname expression {expression!r} gave an empty name for server "
                f"{hvars[self.NAME_VAR]}"
            )
        return str(name)
