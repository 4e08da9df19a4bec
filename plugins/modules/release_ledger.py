#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_ledger
short_description: Record a deploy in the release ledger of an application on its ledger host
version_added: 0.2.0
description:
  - The release ledger is the file C(<path>/<app>/ledger.jsonl) (mode 0600, in a directory of
    mode 0700) on the ledger host; one JSON object per line, one line per deploy, keyed by
    C(deploy_id), the oldest first.
  - 'When the ledger has no entry for O(deploy_id), one is appended
    (C({"deploy_id": <deploy_id>, "app": <app>, **entry})); otherwise the fields of O(entry)
    are set in it (a shallow update: a field given replaces the stored one, fields not given
    stay). The task changes something only when the stored entry changes.'
  - The ledger is rewritten atomically (a temporary file in the same directory, synced, then
    renamed over the ledger) while holding an exclusive C(flock) on C(<path>/<app>/ledger.guard).
  - Lines that are not ledger entries (not a JSON object with a C(deploy_id)) are kept as they
    are, where they are, and reported in a warning.
  - "The fields are free. The deploy playbooks use these:
    C(kind) (V(deploy) or V(rollback)), C(release_id), C(previous_release_id), C(strategy),
    C(hosts) (a list), C(artifacts) (a dict of file name to SHA-256), C(alembic_head),
    C(git_sha), C(started) and C(finished) (UTC, ISO 8601), C(duration_s),
    C(result) (V(running), V(succeeded), V(failed) or V(rolled_back)), C(who), C(job_id) and
    C(error). M(sigma.deploy.release_info) reads C(result) and C(release_id)."
  - The ledger assumes no kind of host. It is on a ledger host of a deploy to servers (run it there
    with C(become=true)), or on the controller for a deploy with no such host
    (C(delegate_to=localhost), O(path) a directory of the project).
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  app:
    description:
      - The application, for example V(notes).
    type: str
    required: true
  deploy_id:
    description:
      - The deploy the entry records; its key in the ledger.
    type: str
    required: true
  entry:
    description:
      - The fields to set in the entry of O(deploy_id). See the description for the fields the
        deploy playbooks use.
      - When given, C(deploy_id) must equal O(deploy_id).
    type: dict
    default: {}
  path:
    description:
      - The directory of the applications' deploy state; the ledger is
        C(<path>/<app>/ledger.jsonl).
    type: path
    default: /var/lib/sigma-deploy
  keep:
    description:
      - Keep at most this many entries; the oldest are dropped when the ledger is written.
        The entry of O(deploy_id) and lines that are not entries are never dropped.
    type: int
    default: 500
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written; the result shows the entry as it would be.
  diff_mode:
    support: full
    details: The entry of O(deploy_id) before and after.
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.release_info
  - module: sigma.deploy.deploy_lock
"""

EXAMPLES = r"""
- name: Record that the deploy started
  sigma.deploy.release_ledger:
    app: notes
    deploy_id: "{{ deploy_id }}"
    entry:
      kind: deploy
      release_id: "{{ release_id }}"
      previous_release_id: "{{ serving_release }}"
      strategy: blue_green
      hosts: "{{ ansible_play_hosts }}"
      git_sha: "{{ build.manifest.git_sha }}"
      alembic_head: "{{ build.manifest.alembic_head }}"
      artifacts: "{{ build.manifest.files }}"
      started: "{{ now(utc=true, fmt='%Y-%m-%dT%H:%M:%SZ') }}"
      result: running
      who: "{{ deploy_owner }}"
  become: true
  delegate_to: "{{ deploy_ledger_host }}"
  run_once: true

- name: Record how it ended
  sigma.deploy.release_ledger:
    app: notes
    deploy_id: "{{ deploy_id }}"
    entry:
      finished: "{{ now(utc=true, fmt='%Y-%m-%dT%H:%M:%SZ') }}"
      result: succeeded
  become: true
  delegate_to: "{{ deploy_ledger_host }}"
  run_once: true

- name: Record it in a ledger kept on the controller (a deploy with no server to keep it)
  sigma.deploy.release_ledger:
    app: notes
    path: "{{ playbook_dir }}/.state"
    deploy_id: "{{ deploy_id }}"
    entry:
      result: succeeded
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
entry:
  description: The entry of O(deploy_id) after the change (in check mode, as it would be).
  returned: always
  type: dict
  sample:
    deploy_id: 20261126T193002Z-abc1234
    app: notes
    kind: deploy
    release_id: 20261126T193000Z-abc1234def56
    previous_release_id: 20261120T101500Z-0f9e8d7c6b5a
    strategy: blue_green
    hosts: [app-1, app-2]
    started: "2026-11-26T19:30:02Z"
    finished: "2026-11-26T19:32:40Z"
    duration_s: 158
    result: succeeded
    who: alice@laptop
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.ledger import (
    DeployStateError,
    app_dir,
)
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.ledger_entry import record_entry


class ReleaseLedger:
    """The ledger file of one app: read it under the guard, merge the entry, write it back."""

    def __init__(self, module):
        self.module = module
        self.params = module.params

    def run(self):
        params = self.params
        changed, before, entry = record_entry(
            app_dir(params["path"], params["app"]),
            params["app"],
            params["deploy_id"],
            params["entry"] or {},
            params["keep"],
            self.module.check_mode,
            self.module.warn,
        )
        return {"changed": changed, "entry": entry, "diff": {"before": before, "after": entry}}


def main():
    module = AnsibleModule(
        argument_spec={
            "app": {"type": "str", "required": True},
            "deploy_id": {"type": "str", "required": True},
            "entry": {"type": "dict", "default": {}},
            "path": {"type": "path", "default": "/var/lib/sigma-deploy"},
            "keep": {"type": "int", "default": 500},
        },
        supports_check_mode=True,
    )
    try:
        result = ReleaseLedger(module).run()
    except DeployStateError as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
