# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which package specifications dpkg lists as plainly installed: the work of the
``deb_packages_info`` module, and of the ``deb_packages_split`` filter, which answers the same
question on the controller from what the module listed earlier in the run."""

from __future__ import annotations

import re

# Debian policy 5.6.1: a package name, optionally with the architecture qualifier dpkg accepts.
PLAIN_SPEC = re.compile(r"^(?P<name>[a-z0-9][a-z0-9+.-]+)(?::(?P<arch>[a-z0-9-]+))?$")
# ${db:Status-Abbrev}: wanted state, current state, error flag. Installed, wanted installed
# (or held there), no reinstallation required.
INSTALLED = ("ii ", "hi ")
QUERY_FORMAT = "${Package}\t${Architecture}\t${db:Status-Abbrev}\n"


def plain_spec(spec):
    """(name, arch or None) of a bare package name, else None (a pin, a pattern, a file)."""
    match = PLAIN_SPEC.match(spec)
    return (match["name"], match["arch"]) if match else None


def query_names(specs):
    """The package names dpkg-query is asked about, once each, in the given order."""
    plain = (plain_spec(spec) for spec in specs)
    return list(dict.fromkeys(found[0] for found in plain if found))


def parse_status(text):
    """dpkg-query's lines (QUERY_FORMAT) as {(name, arch): status abbreviation}."""
    status = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) == 3:
            status[(fields[0], fields[1])] = fields[2]
    return status


def is_installed(spec, status, native_arch):
    found = plain_spec(spec)
    if not found:
        return False
    name, arch = found
    arches = (arch,) if arch else (native_arch, "all")
    return any(status.get((name, each)) in INSTALLED for each in arches)


def split_specs(specs, status, native_arch):
    """The deb_packages result: the specs that are plainly installed, and the pending ones."""
    unique = list(dict.fromkeys(specs))
    installed = [spec for spec in unique if is_installed(spec, status, native_arch)]
    pending = [spec for spec in unique if spec not in installed]
    return {"installed": installed, "pending": pending, "architecture": native_arch}


def installed_packages(status):
    """Every plainly installed package of a status map, as sorted ``name:arch`` strings."""
    return sorted(
        f"{name}:{arch}" for (name, arch), abbrev in status.items() if abbrev in INSTALLED
    )


def status_of_installed(packages):
    """The status map that installed_packages() was made from, as far as it matters here."""
    status = {}
    for package in packages:
        name, _sep, arch = str(package).rpartition(":")
        status[(name, arch)] = INSTALLED[0]
    return status
