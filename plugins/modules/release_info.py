#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_info
short_description: Show which release a host serves, and the release ledger of an application
version_added: 0.2.0
description:
  - Reads, and never changes, what a host serves of an application deployed in blue and green
    slots. A slot is the symlink C(<srv_root>/<app>/slots/<slot>) to a release directory
    C(<srv_root>/<app>/releases/<release_id>); its services are the systemd units
    C(<app>-api@<slot>.service) and C(<app>-web@<slot>.service).
  - 'Which slot takes the traffic comes from the line C(# sigma-state: {...}) of the nginx
    upstreams file O(nginx_upstreams). In host mode it is
    C({"mode": "host", "active_slot": "blue", "canary_weight": 0}); in load balancer mode
    C({"mode": "lb", "backends": [...], "drained": [...]}).'
  - When the host is the ledger host (it has C(<path>/<app>/ledger.jsonl), see
    M(sigma.deploy.release_ledger)), it also returns the newest ledger entries, the current
    release and the one before it, and the deploy lock (see M(sigma.deploy.deploy_lock)).
  - With O(served=false) it reads only the ledger and the lock, on any host; for a deploy
    whose state directory is on the controller (C(delegate_to=localhost)), with no slots,
    systemd or nginx to read.
  - The ledger and the lock are readable by their owner only (root on a ledger host; use
    C(become=true) there).
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  app:
    description:
      - The application, for example V(notes).
    type: str
    required: true
  path:
    description:
      - The directory of the applications' deploy state (the ledger and the lock).
    type: path
    default: /var/lib/sigma-deploy
  srv_root:
    description:
      - The directory the applications are installed in; the slots and releases of O(app) are
        in C(<srv_root>/<app>/).
    type: path
    default: /srv
  nginx_upstreams:
    description:
      - The nginx upstreams file of O(app), with its C(# sigma-state:) line.
      - Defaults to C(/etc/nginx/sigma/<app>-upstreams.conf).
    type: path
  limit:
    description:
      - How many ledger entries to return, the newest first.
    type: int
    default: 20
  release_id:
    description:
      - A release to look for on the host; RV(release_manifest) is its manifest
        (C(<srv_root>/<app>/releases/<release_id>/manifest.json)) when the host has it.
    type: str
    version_added: 0.2.0
  served:
    description:
      - Read what the host serves (its slots, their systemd units, nginx's state and its
        releases). V(false) reads only the ledger and the lock (O(path)); O(srv_root),
        O(nginx_upstreams) and O(release_id) are then not used.
    type: bool
    default: true
    version_added: 0.3.0
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.release_ledger
  - module: sigma.deploy.deploy_lock
"""

EXAMPLES = r"""
- name: What each app host serves
  sigma.deploy.release_info:
    app: notes
  become: true
  register: served

- name: The release a rollback would return to
  sigma.deploy.release_info:
    app: notes
    limit: 5
  become: true
  delegate_to: "{{ deploy_ledger_host }}"
  run_once: true
  register: ledger

- name: The ledger and lock of a deploy whose state is kept on the controller
  sigma.deploy.release_info:
    app: notes
    path: "{{ playbook_dir }}/.state"
    served: false
  delegate_to: localhost
  run_once: true
  register: controller_ledger

- name: Show it
  ansible.builtin.debug:
    msg: >-
      serving {{ served.serving_release }} from {{ served.active_slot }};
      rollback target {{ ledger.previous.release_id | default('none') }}
"""

RETURN = r"""
slots:
  description: The blue and green slots of the host.
  returned: when O(served=true)
  type: dict
  contains:
    blue:
      description: The blue slot.
      type: dict
      contains:
        release_id:
          description: The release the slot links to (null when there is no slot link).
          type: str
          sample: 20261126T193000Z-abc1234def56
        installed:
          description: Whether the slot's API is installed (C(api/.installed) exists).
          type: bool
        api_active:
          description: Whether C(<app>-api@<slot>.service) is active (null without systemctl).
          type: bool
        web_active:
          description: Whether C(<app>-web@<slot>.service) is active (null without systemctl).
          type: bool
        retire_pending:
          description:
            - Whether the timer C(<app>-retire-<slot>.timer), which stops the slot later, is
              waiting (sigma.deploy.app_deploy's C(app_deploy_keep_warm_seconds)); null without
              systemctl.
          type: bool
    green:
      description: The green slot, fields as for C(blue).
      type: dict
  sample:
    blue:
      release_id: 20261126T193000Z-abc1234def56
      installed: true
      api_active: true
      web_active: true
      retire_pending: false
    green:
      release_id: 20261120T101500Z-0f9e8d7c6b5a
      installed: true
      api_active: false
      web_active: false
      retire_pending: false
active_slot:
  description: The slot nginx sends the traffic to (host mode); null when unknown.
  returned: when O(served=true)
  type: str
  sample: blue
canary_weight:
  description: The percentage of requests sent to the other slot (host mode); null when unknown.
  returned: when O(served=true)
  type: int
  sample: 0
nginx_state:
  description: The C(# sigma-state:) line of the upstreams file as parsed; null without it.
  returned: when O(served=true)
  type: dict
  sample: {"mode": "lb", "backends": ["10.0.0.3:80", "10.0.0.4:80"], "drained": []}
serving_release:
  description: The release of the active slot; null when unknown.
  returned: when O(served=true)
  type: str
  sample: 20261126T193000Z-abc1234def56
releases:
  description: The release directories installed on the host, sorted (the oldest first).
  returned: when O(served=true)
  type: list
  elements: str
  sample: [20261120T101500Z-0f9e8d7c6b5a, 20261126T193000Z-abc1234def56]
release_manifest:
  description: The manifest of O(release_id) as installed on the host; null when the host does
    not have it or O(release_id) is not given.
  returned: when O(served=true)
  type: dict
  sample:
    app: notes
    release_id: 20261126T193000Z-abc1234def56
    alembic_head: "0001"
ledger_found:
  description: Whether the host has the application's release ledger.
  returned: always
  type: bool
ledger:
  description: The newest O(limit) ledger entries, the newest first
    (see M(sigma.deploy.release_ledger)).
  returned: always
  type: list
  elements: dict
current:
  description: The newest ledger entry whose C(result) is V(succeeded); null when none.
  returned: always
  type: dict
  sample:
    deploy_id: 20261126T193002Z-abc1234
    app: notes
    kind: deploy
    release_id: 20261126T193000Z-abc1234def56
    result: succeeded
previous:
  description: The release that was serving before RV(current) (the newest succeeded entry
    older than it with another C(release_id)), as its whole entry; null when none.
  returned: always
  type: dict
lock:
  description: The deploy lock of the application (see M(sigma.deploy.deploy_lock)); null when
    nobody holds it.
  returned: always
  type: dict
  sample:
    app: notes
    owner: alice@laptop
    token: 20261126T193002Z-abc1234
    since: "2026-11-26T19:30:02Z"
    expires: "2026-11-26T20:30:02Z"
    details: {"release_id": "20261126T193000Z-abc1234def56"}
lock_expired:
  description: Whether RV(lock) has expired; null when there is no lock.
  returned: always
  type: bool
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.host_state import (
    parse_state_line,
    release_of_target,
    traffic,
)
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.ledger import (
    LEDGER_FILE,
    LEDGER_GUARD,
    LOCK_GUARD,
    DeployStateError,
    app_dir,
    current_and_previous,
    guarded,
    lock_expired,
    newest_first,
    parse_ledger,
    read_lock,
    read_text,
    unparsed_lines,
)

SLOTS = ("blue", "green")
# An unreadable lock file counts as held for this long after it was written.
UNREADABLE_LOCK_TTL = 3600


class ReleaseInfo:
    """What one host serves of an app, and the ledger when the host keeps it."""

    def __init__(self, module, clock=time.time):
        self.module = module
        self.params = module.params
        self.app = self.params["app"]
        self.app_root = os.path.join(self.params["srv_root"], self.app)
        self.state_dir = app_dir(self.params["path"], self.app)
        self.clock = clock

    def run(self):
        if self.params["limit"] < 0:
            raise DeployStateError(f"limit must not be negative, not {self.params['limit']}")
        try:
            served = self.served() if self.params["served"] else {}
            result = {"changed": False, **served, **self.ledger()}
        except OSError as err:
            raise DeployStateError(f"cannot read the release state of {self.app}: {err}") from err
        return result

    # --- what the host serves ------------------------------------------------------------------
    def served(self):
        units = [unit for slot in SLOTS for unit in self.slot_units(slot).values()]
        active_units = self.units_active(units)
        slots = {slot: self.slot(slot, active_units) for slot in SLOTS}
        upstreams = self.params["nginx_upstreams"] or (
            f"/etc/nginx/sigma/{self.app}-upstreams.conf"
        )
        text = read_text(upstreams)
        state = parse_state_line(text) if text is not None else None
        active, weight = traffic(state)
        return {
            "slots": slots,
            "active_slot": active,
            "canary_weight": weight,
            "nginx_state": state,
            "serving_release": slots[active]["release_id"] if active in slots else None,
            "releases": self.releases(),
            "release_manifest": self.manifest(self.params["release_id"]),
        }

    def slot_units(self, slot):
        """The slot's result fields that say whether a systemd unit is active, and the units."""
        return {
            "api_active": f"{self.app}-api@{slot}.service",
            "web_active": f"{self.app}-web@{slot}.service",
            "retire_pending": f"{self.app}-retire-{slot}.timer",
        }

    def slot(self, slot, active_units):
        link = os.path.join(self.app_root, "slots", slot)
        target = os.readlink(link) if os.path.islink(link) else None
        return {
            "release_id": release_of_target(target),
            "installed": os.path.exists(os.path.join(link, "api", ".installed")),
            **{field: active_units[unit] for field, unit in self.slot_units(slot).items()},
        }

    def units_active(self, units):
        """{unit: whether it is active}, in one systemctl call; None each without systemctl."""
        systemctl = self.module.get_bin_path("systemctl")
        if not systemctl:
            return dict.fromkeys(units)
        _rc, out, _err = self.module.run_command([systemctl, "is-active", *units])
        states = out.splitlines()
        if len(states) != len(units):  # not one answer a unit: ask one unit at a time
            states = [self.module.run_command([systemctl, "is-active", unit])[1] for unit in units]
        return {unit: states[i].strip() == "active" for i, unit in enumerate(units)}

    def releases(self):
        root = os.path.join(self.app_root, "releases")
        if not os.path.isdir(root):
            return []
        with os.scandir(root) as entries:
            return sorted(entry.name for entry in entries if entry.is_dir())

    def manifest(self, release_id):
        if not release_id:
            return None
        if "/" in release_id or release_id in (".", ".."):
            raise DeployStateError(f"release_id must be a release's name, not {release_id!r}")
        path = os.path.join(self.app_root, "releases", release_id, "manifest.json")
        text = read_text(path)
        if text is None:
            return None
        try:
            manifest = json.loads(text)
        except ValueError as err:
            raise DeployStateError(f"{path} is not JSON: {err}") from err
        if not isinstance(manifest, dict):
            raise DeployStateError(f"{path} holds no manifest (a JSON object)")
        return manifest

    # --- the ledger ----------------------------------------------------------------------------
    def ledger(self):
        path = os.path.join(self.state_dir, LEDGER_FILE)
        with guarded(self.state_dir, LEDGER_GUARD, exclusive=False):
            text = read_text(path)
        if text and unparsed_lines(text):
            lines = ", ".join(map(str, unparsed_lines(text)))
            self.module.warn(f"{path}: line(s) {lines} are not ledger entries; left out.")
        entries = newest_first(parse_ledger(text or ""))
        current, previous = current_and_previous(entries)
        with guarded(self.state_dir, LOCK_GUARD, exclusive=False):
            lock = read_lock(self.state_dir, self.app, UNREADABLE_LOCK_TTL)
        return {
            "ledger_found": text is not None,
            "ledger": entries[: self.params["limit"]],
            "current": current,
            "previous": previous,
            "lock": lock,
            "lock_expired": lock_expired(lock, self.clock()) if lock else None,
        }


def main():
    module = AnsibleModule(
        argument_spec={
            "app": {"type": "str", "required": True},
            "path": {"type": "path", "default": "/var/lib/sigma-deploy"},
            "srv_root": {"type": "path", "default": "/srv"},
            "nginx_upstreams": {"type": "path"},
            "limit": {"type": "int", "default": 20},
            "release_id": {"type": "str"},
            "served": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    try:
        result = ReleaseInfo(module).run()
    except DeployStateError as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
