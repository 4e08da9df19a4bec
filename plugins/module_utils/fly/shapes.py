# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure functions of the Fly modules: the flat results, the diff's managed keys, and whether a
machine's config already is what a task asks for."""

from __future__ import annotations

import copy

APP_MANAGED = ("name", "org", "network")
MACHINE_MANAGED = ("name", "region", "state", "config")
VOLUME_MANAGED = ("name", "region", "size_gb", "encrypted")

# Volumes in these states are on their way out: lookups skip them (as fly-go's GetVolumes).
DESTROYED_VOLUME_STATES = frozenset(
    ["scheduling_destroy", "fork_cleanup", "waiting_for_detach", "pending_destroy", "destroying"]
)
# Machines in these states are gone or going: a name is free again.
GONE_MACHINE_STATES = frozenset(["destroying", "destroyed"])

# Config keys that hold the user's own data: compared exactly (a key removed is a change).
# Every other key is compared as a subset, since Fly fills in defaults (guest.cpu_kind,
# services[].concurrency, ...).
EXACT_CONFIG_KEYS = frozenset(["env", "metadata", "image", "cmd", "entrypoint"])


def app_result(app):
    org = app.get("organization") or {}
    return {
        "id": app.get("id"),
        "name": app.get("name"),
        "org": org.get("slug") if isinstance(org, dict) else org,
        "status": app.get("status"),
        "network": app.get("network") or None,
        "machine_count": app.get("machine_count"),
        "volume_count": app.get("volume_count"),
    }


def machine_result(machine, app=None):
    config = machine.get("config") or {}
    return {
        "id": machine.get("id"),
        "name": machine.get("name"),
        "app": app,
        "region": machine.get("region"),
        "state": machine.get("state"),
        "image": config.get("image"),
        "instance_id": machine.get("instance_id"),
        "private_ip": machine.get("private_ip"),
        "metadata": dict(config.get("metadata") or {}),
        "cordoned": bool(machine.get("cordoned")),
        "checks": list(machine.get("checks") or []),
        "config": config,
        "created_at": machine.get("created_at"),
        "updated_at": machine.get("updated_at"),
    }


def volume_result(volume):
    return {
        "id": volume.get("id"),
        "name": volume.get("name"),
        "region": volume.get("region"),
        "state": volume.get("state"),
        "size_gb": volume.get("size_gb"),
        "encrypted": volume.get("encrypted"),
        "zone": volume.get("zone"),
        "attached_machine_id": volume.get("attached_machine_id"),
        "created_at": volume.get("created_at"),
    }


def secret_result(secret):
    """A secret without its value (Fly sends none unless asked, and none is ever shown)."""
    return {
        "name": secret.get("name"),
        "digest": secret.get("digest"),
        "created_at": secret.get("created_at"),
        "updated_at": secret.get("updated_at"),
    }


def covers(current, wanted):
    """Whether ``current`` has everything ``wanted`` says: dicts key by key (extra keys in
    ``current`` are Fly's defaults), lists item by item and of the same length, other values
    equal (numbers compared as numbers)."""
    if isinstance(wanted, dict):
        if not isinstance(current, dict):
            return False
        return all(covers(current.get(key), value) for key, value in wanted.items())
    if isinstance(wanted, list):
        if not isinstance(current, list) or len(current) != len(wanted):
            return False
        return all(covers(current[i], item) for i, item in enumerate(wanted))
    if isinstance(wanted, bool) or isinstance(current, bool):
        return current is wanted or (current is None and wanted is False)
    return current == wanted


def config_matches(current, wanted):
    """Whether a machine's ``current`` config already is the ``wanted`` one: the keys in
    :data:`EXACT_CONFIG_KEYS` equal, every other key given covered (:func:`covers`)."""
    current = current or {}
    for key, value in (wanted or {}).items():
        if key in EXACT_CONFIG_KEYS:
            if (current.get(key) or None) != (value or None):
                return False
        elif not covers(current.get(key), value):
            return False
    return True


def desired_config(current, config, metadata):
    """The config to send: the ``current`` one with each top-level key of ``config`` replaced
    and the ``metadata`` keys set (other metadata keys are kept)."""
    merged = copy.deepcopy(current or {})
    merged.update(copy.deepcopy(config or {}))
    if metadata:
        merged["metadata"] = dict(merged.get("metadata") or {}, **metadata)
    return merged


def metadata_matches(current, metadata):
    """Whether every key of ``metadata`` already has its value in ``current``."""
    have = (current or {}).get("metadata") or {}
    return all(have.get(key) == value for key, value in (metadata or {}).items())


def planned_machine(name, region, config, state):
    """What check mode shows for a machine it would create."""
    return {"id": None, "name": name, "region": region, "state": state, "config": config}
