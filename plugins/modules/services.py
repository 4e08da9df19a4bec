#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: services
short_description: Enable and start (or stop) several systemd units in one call
version_added: 0.2.0
description:
  - One module call for what would be a row or a loop of M(ansible.builtin.systemd_service)
    tasks that enable, start or stop units. On a host where every unit is already as wanted,
    it runs C(systemctl is-enabled) and C(systemctl is-active) once per unit and changes
    nothing.
  - The units are handled in order. A unit that cannot be brought to its state (missing,
    masked, failing to start) fails the task, naming the unit and what C(systemctl) said; the
    units before it keep their new state.
  - Restarts and reloads are left to M(ansible.builtin.systemd_service) (handlers, usually).
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  units:
    description:
      - The units and their wanted state, in the order they are handled.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The unit's name, such as V(nginx.service) or V(backup.timer); without a suffix it
            is a service.
        type: str
        required: true
      enabled:
        description:
          - Whether the unit starts at boot. Not changed when not given. A unit that
            C(systemctl is-enabled) reports as V(static), V(indirect), V(generated),
            V(alias) or V(transient) counts as enabled (it has no install section to enable).
        type: bool
      state:
        description:
          - V(started) (running now) or V(stopped). Not changed when not given.
        type: str
        choices: [started, stopped]
  daemon_reload:
    description:
      - Run C(systemctl daemon-reload) first, for units whose files just changed.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Nothing is changed; the result says which units would change.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: ansible.builtin.systemd_service
"""

EXAMPLES = r"""
- name: Enable and start the firewall and time synchronisation
  sigma.deploy.services:
    units:
      - {name: nftables, enabled: true, state: started}
      - {name: systemd-timesyncd, enabled: true}

- name: Install the backup timer's units, then enable and start the timer
  sigma.deploy.services:
    daemon_reload: true
    units:
      - {name: notes-backup.timer, enabled: true, state: started}
"""

RETURN = r"""
changed_units:
  description: The units that changed (or would, in check mode), in the order of O(units).
  returned: always
  type: list
  elements: str
  sample: [nftables.service]
units:
  description: Each unit's state after the task (in check mode, the state it would have).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: nftables.service, enabled: enabled, active: active}
"""

from ansible.module_utils.basic import AnsibleModule

# `systemctl is-enabled` answers that need no `systemctl enable` (nothing to enable, or
# enabled another way).
ENABLED_ALREADY = {"enabled", "enabled-runtime", "static", "indirect", "generated", "alias",
                   "transient"}  # fmt: skip


class SystemctlError(Exception):
    """A systemctl command failed; the message names the command and what it said."""


def unit_name(name: str) -> str:
    return name if "." in name.rsplit("@", 1)[-1] else f"{name}.service"


class Units:
    def __init__(self, module: AnsibleModule, systemctl: str) -> None:
        self.module = module
        self.systemctl = systemctl
        self.changed: list[str] = []
        self.states: list[dict[str, str]] = []

    def query(self, verb: str, unit: str) -> str:
        _rc, out, err = self.module.run_command([self.systemctl, verb, unit])
        return out.strip() or err.strip()

    def act(self, *args: str) -> None:
        if self.module.check_mode:
            return
        rc, out, err = self.module.run_command([self.systemctl, *args])
        if rc != 0:
            said = (err or out).strip() or f"exit status {rc}"
            raise SystemctlError(f"systemctl {' '.join(args)} failed: {said}")

    def bring(self, item: dict) -> None:
        unit = unit_name(item["name"])
        enabled = self.query("is-enabled", unit)
        active = self.query("is-active", unit)
        if item["enabled"] and enabled not in ENABLED_ALREADY:
            self.act("enable", unit)
            enabled = "enabled"
            self.note(unit)
        elif item["enabled"] is False and enabled in ("enabled", "enabled-runtime"):
            self.act("disable", unit)
            enabled = "disabled"
            self.note(unit)
        if item["state"] == "started" and active != "active":
            self.act("start", unit)
            active = "active"
            self.note(unit)
        elif item["state"] == "stopped" and active in ("active", "activating", "reloading"):
            self.act("stop", unit)
            active = "inactive"
            self.note(unit)
        self.states.append({"name": unit, "enabled": enabled, "active": active})

    def note(self, unit: str) -> None:
        if unit not in self.changed:
            self.changed.append(unit)


def main():
    module = AnsibleModule(
        argument_spec={
            "units": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "name": {"type": "str", "required": True},
                    "enabled": {"type": "bool"},
                    "state": {"type": "str", "choices": ["started", "stopped"]},
                },
            },
            "daemon_reload": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    systemctl = module.get_bin_path("systemctl", required=True)
    units = Units(module, systemctl)
    try:
        if module.params["daemon_reload"] and not module.check_mode:
            units.act("daemon-reload")
        for item in module.params["units"]:
            units.bring(item)
    except SystemctlError as err:
        module.fail_json(
            msg=str(err),
            changed=bool(units.changed),
            changed_units=units.changed,
            units=units.states,
        )
    module.exit_json(changed=bool(units.changed), changed_units=units.changed, units=units.states)


if __name__ == "__main__":
    main()
