#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: deploy_lock
short_description: Take or release the deploy lock of an application on its ledger host
version_added: 0.2.0
description:
  - One deploy of an application at a time. The lock is the file C(<path>/<app>/lock.json)
    (mode 0600, in a directory of mode 0700) on the ledger host, holding the lock's O(owner),
    O(token), when it was taken (C(since)), when it expires (C(expires), O(ttl) seconds later;
    both UTC ISO 8601) and O(details).
  - With O(state=present) a free lock is taken (the file is created with C(O_EXCL)); a lock held
    with the same O(token) is kept as it is, so taking it again is not a change; a lock held
    with another token fails the task at once, naming its holder, unless it has expired or
    O(break_lock=true), in which case it is taken over with a warning naming the previous
    holder.
  - With O(state=absent) the lock is removed only when it is held with O(token). A lock held
    with another token is left in place, with a warning.
  - Every read-check-write holds an exclusive C(flock) on C(<path>/<app>/lock.guard), so of two
    deploys taking the lock at the same time exactly one gets it.
  - A C(lock.json) that cannot be read as a lock counts as held by C(unknown) since the file was
    last written, until O(ttl) seconds after that; O(break_lock=true) replaces it.
  - The lock assumes no kind of host. A deploy to servers keeps it on one of them, the ledger
    host (run it there with C(become=true)); a deploy with no such host keeps it on the
    controller (C(delegate_to=localhost), O(path) a directory of the project, for example
    C(<playbook_dir>/.state)). Only O(schema_revision) needs more, PostgreSQL on the host.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  app:
    description:
      - The application whose deploys the lock serialises, for example V(notes).
    type: str
    required: true
  state:
    description:
      - V(present) takes the lock (or keeps it, when held with O(token)); V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  owner:
    description:
      - Who deploys, for example V(alice@laptop) or V(ci job 4711); shown to anyone who finds
        the lock held.
      - Required with O(state=present).
    type: str
  token:
    description:
      - The identity of this deploy (a deploy id); the lock's holder. Taking a lock held with
        the same token does nothing; only this token releases the lock.
    type: str
    required: true
  ttl:
    description:
      - Seconds after it is taken that the lock expires; an expired lock may be taken over by
        any deploy.
    type: int
    default: 3600
  break_lock:
    description:
      - Take the lock even when another deploy holds it and it has not expired (a stale lock
        left by a deploy that died). Only with O(state=present).
    type: bool
    default: false
  path:
    description:
      - The directory of the applications' deploy state; the lock is C(<path>/<app>/lock.json).
    type: path
    default: /var/lib/sigma-deploy
  details:
    description:
      - Anything worth telling about this deploy, stored with the lock and shown to whoever
        finds it held, for example the release id and the strategy.
    type: dict
  ledger:
    description:
      - Fields of this deploy's entry in the release ledger (C(<path>/<app>/ledger.jsonl), the
        entry whose C(deploy_id) is O(token)), set in the same call as
        M(sigma.deploy.release_ledger) sets them; saves the deploy a call to the ledger host.
      - With O(state=present) they are set once the lock is held. When the ledger cannot be
        written, a lock this task took is put back as it was and the task fails.
      - With O(state=absent) they are set before the lock is released, whether or not this
        deploy still holds it. When the ledger cannot be written, the lock is released all the
        same and the task fails naming the ledger's error.
    type: dict
  ledger_keep:
    description:
      - With O(ledger), keep at most this many ledger entries, the oldest dropped first (as
        O(sigma.deploy.release_ledger#module:keep)).
    type: int
    default: 500
  schema_revision:
    description:
      - Read the Alembic revision of a PostgreSQL database on this host in the same call, once
        the lock is held (taken or kept), so that no other deploy can migrate the database
        between the read and the end of this one. Only with O(state=present); not when the lock
        is refused. It is read in check mode too (a read-only query).
      - The query runs with C(psql) as the C(postgres) superuser (C(runuser -u postgres), peer
        authentication), from the table C(alembic_version) in whichever schema holds it
        (C(public) first).
      - Reading it never fails the task and never changes what happens to the lock;
        RV(schema_revision) says what was read, or why it could not be.
    type: dict
    suboptions:
      database:
        description:
          - The database, for example V(notes).
        type: str
        required: true
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written; the result says what would happen, and the task
      still fails when another deploy holds the lock.
  diff_mode:
    support: full
    details: The lock before and after; with O(ledger), the ledger entry before and after too.
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: sigma.deploy.release_ledger
  - module: sigma.deploy.release_info
"""

EXAMPLES = r"""
- name: Take the deploy lock of notes
  sigma.deploy.deploy_lock:
    app: notes
    owner: "{{ deploy_owner }}"
    token: "{{ deploy_id }}"
    ttl: 1800
    break_lock: "{{ deploy_lock_break | default(false) }}"
    details:
      release_id: "{{ release_id }}"
      strategy: blue_green
  become: true
  delegate_to: "{{ deploy_ledger_host }}"
  run_once: true

- name: Take the deploy lock and read the schema revision (the ledger host is the database host)
  sigma.deploy.deploy_lock:
    app: notes
    owner: "{{ deploy_owner }}"
    token: "{{ deploy_id }}"
    schema_revision:
      database: notes
  become: true
  delegate_to: "{{ deploy_ledger_host }}"
  run_once: true
  register: deploy_lock_taken

- name: Take the lock on the controller (a deploy with no server to keep it)
  sigma.deploy.deploy_lock:
    app: notes
    path: "{{ playbook_dir }}/.state"
    owner: "{{ deploy_owner }}"
    token: "{{ deploy_id }}"
    ledger:
      release_id: "{{ release_id }}"
      strategy: rolling
      result: running
  delegate_to: localhost
  run_once: true

- name: Record how the deploy ended and release the lock (in the deploy's always section)
  sigma.deploy.deploy_lock:
    app: notes
    token: "{{ deploy_id }}"
    state: absent
    ledger:
      finished: "{{ now(utc=true, fmt='%Y-%m-%dT%H:%M:%SZ') }}"
      result: "{{ deploy_result }}"
  become: true
  delegate_to: "{{ deploy_ledger_host }}"
  run_once: true
"""

RETURN = r"""
lock:
  description: The lock as it now is (in check mode, as it would be); empty when there is none.
  returned: always
  type: dict
  contains:
    app:
      description: The application.
      type: str
      sample: notes
    owner:
      description: Who holds the lock (V(unknown) for an unreadable lock file).
      type: str
      sample: alice@laptop
    token:
      description: The deploy that holds the lock (null for an unreadable lock file).
      type: str
      sample: 20261126T193002Z-abc1234
    since:
      description: When the lock was taken (UTC, ISO 8601).
      type: str
      sample: "2026-11-26T19:30:02Z"
    expires:
      description: When the lock expires (UTC, ISO 8601).
      type: str
      sample: "2026-11-26T20:30:02Z"
    details:
      description: The O(details) given by the holder.
      type: dict
      sample: {"release_id": "20261126T193000Z-abc1234def56", "strategy": "blue_green"}
    unreadable:
      description: Why the lock file could not be read; only for an unreadable lock file.
      type: str
      returned: when the lock file cannot be read
previous:
  description: The lock this task took over (expired, broken or unreadable); empty otherwise.
    Same fields as RV(lock).
  returned: always
  type: dict
entry:
  description: With O(ledger), this deploy's ledger entry after the change (in check mode, as
    it would be); fields as in M(sigma.deploy.release_ledger).
  returned: when O(ledger) is given and the ledger was written
  type: dict
  sample: {"deploy_id": "20261126T193002Z-abc1234", "app": "notes", "result": "running"}
schema_revision:
  description:
    - With O(schema_revision), the database's Alembic revision, read while the lock is held; or
      why it could not be read.
  returned: when O(schema_revision) is given with O(state=present) and the lock is held
  type: dict
  contains:
    revision:
      description:
        - The revision. Empty when the database has no table C(alembic_version) or the table is
          empty; several revisions (a database with more than one head) are separated by spaces.
      type: str
      returned: when the query succeeded
      sample: 3f1c2a9b7d10
    error:
      description:
        - Why the revision could not be read (the message of C(psql) or C(runuser), at most 600
          characters), for example because the database does not exist or PostgreSQL is not
          installed on this host.
      type: str
      returned: when the query failed
      sample: "runuser: failed to execute psql: No such file or directory"
failure:
  description: Why the lock could not be taken, when another deploy holds it.
  returned: failure
  type: dict
  contains:
    reason:
      description: V(held).
      type: str
    lock:
      description: The lock of the other deploy, fields as in RV(lock).
      type: dict
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.ledger import (
    BREAK,
    KEEP,
    LEDGER_FILE,
    LOCK_FILE,
    LOCK_GUARD,
    REFUSE,
    TAKE,
    DeployStateError,
    app_dir,
    create_exclusive,
    describe_holder,
    dump_lock,
    ensure_dir,
    guarded,
    lock_decision,
    new_lock,
    read_lock,
    refusal_message,
    write_atomic,
)
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.ledger_entry import record_entry
from ansible_collections.sigma.deploy.plugins.module_utils.deploy.schema import (
    ALEMBIC_REVISION_SQL,
    brief,
    psql_argv,
    revision_result,
)


class DeployLock:
    """The lock file of one app: read it under the guard, decide, write."""

    def __init__(self, module, clock=time.time):
        self.module = module
        self.params = module.params
        self.app = self.params["app"]
        self.dir = app_dir(self.params["path"], self.app)
        self.file = os.path.join(self.dir, LOCK_FILE)
        self.clock = clock
        self.changed = False
        self.before = {}
        self.lock = {}
        self.previous = {}
        self.entry_diff = None
        self.entry = None
        self.schema_revision = None

    def run(self):
        if self.params["ttl"] < 1:
            raise DeployStateError(f"ttl must be at least 1 second, not {self.params['ttl']}")
        if self.params["state"] == "present" and not self.params["owner"]:
            raise DeployStateError("owner is required to take the deploy lock")
        if self.params["ledger"] is not None and self.params["ledger_keep"] < 1:
            raise DeployStateError(
                f"ledger_keep must be at least 1, not {self.params['ledger_keep']}"
            )
        try:
            if self.params["state"] == "absent":
                self.absent()
            else:
                self.present()
                self.read_schema_revision()
        except OSError as err:
            raise DeployStateError(f"cannot use the deploy lock in {self.dir}: {err}") from err
        return self.result()

    def guard(self, create=False):
        """The exclusive guard when writing; a shared one (created by nobody) otherwise."""
        if self.module.check_mode or not (create or os.path.isdir(self.dir)):
            return guarded(self.dir, LOCK_GUARD, exclusive=False)
        ensure_dir(self.dir)
        return guarded(self.dir, LOCK_GUARD)

    def read(self):
        return read_lock(self.dir, self.app, self.params["ttl"])

    def present(self):
        with self.guard(create=True):
            current = self.read()
            self.before = dict(current or {})
            if not self.take(current):
                # lock.json appeared without the guard being held (a writer that does not use
                # it): decide again on what is there now.
                current = self.read()
                self.before = dict(current or {})
                self.take(current)
            try:
                self.record()
            except DeployStateError:
                if self.changed and not self.module.check_mode:
                    self.put_back(current)
                raise

    def read_schema_revision(self):
        """With O(schema_revision): the database's revision, read now that the lock is held.

        Whatever goes wrong ends up in the result, never in the task's failure: the lock stays
        as taken."""
        if self.params["schema_revision"] is None:
            return
        runuser = self.module.get_bin_path("runuser")
        if runuser is None:
            self.schema_revision = {"error": "runuser not found on this host"}
            return
        argv = psql_argv(self.params["schema_revision"]["database"], runuser)
        try:
            rc, out, err = self.module.run_command(
                argv, data=ALEMBIC_REVISION_SQL, cwd="/", handle_exceptions=False
            )
        except Exception as exc:  # anything: the lock is held and must stay so
            self.schema_revision = {"error": brief(f"cannot run psql: {exc}")}
            return
        self.schema_revision = revision_result(rc, out, err)

    def put_back(self, current):
        """Undo the take: the lock as it was before this task (none, or the one taken over)."""
        if current and not current.get("unreadable"):
            write_atomic(self.file, dump_lock(current))
        else:
            os.unlink(self.file)

    def record(self):
        """Set the fields of O(ledger) in this deploy's ledger entry, when given."""
        if self.params["ledger"] is None:
            return
        changed, before, self.entry = record_entry(
            self.dir,
            self.app,
            self.params["token"],
            self.params["ledger"],
            self.params["ledger_keep"],
            self.module.check_mode,
            self.module.warn,
        )
        self.changed = self.changed or changed
        self.entry_diff = {"before": before, "after": self.entry}

    def take(self, current):
        """Bring the lock to this deploy; False when a lock appeared while creating it."""
        params = self.params
        now = self.clock()
        action = lock_decision(current, params["token"], now, params["break_lock"])
        if action == REFUSE:
            raise DeployStateError(
                refusal_message(self.app, current), {"reason": "held", "lock": current}
            )
        if action == KEEP:
            self.lock = current
            return True
        mine = new_lock(
            self.app,
            params["owner"],
            params["token"],
            now,
            params["ttl"],
            params["details"],
        )
        if not self.module.check_mode:
            if action == TAKE:
                if not create_exclusive(self.file, dump_lock(mine)):
                    return False
            else:
                write_atomic(self.file, dump_lock(mine))
        if action != TAKE:
            self.previous = current
            self.warn_taken_over(current, action)
        self.changed = True
        self.lock = mine
        return True

    def warn_taken_over(self, current, action):
        would = "Would take" if self.module.check_mode else "Took"
        why = "broke it" if action == BREAK else "it had expired"
        if current.get("unreadable"):
            why = "its file was unreadable" + (" (break_lock)" if action == BREAK else "")
        self.module.warn(
            f"{would} over the deploy lock of {self.app} from {describe_holder(current)} ({why})."
        )

    def absent(self):
        try:
            self.record()
        except DeployStateError as err:
            self.release()
            state = "released" if self.changed else "not held by this deploy"
            raise DeployStateError(f"{err} (the deploy lock is {state})") from err
        self.release()

    def release(self):
        with self.guard():
            current = self.read()
            self.before = dict(current or {})
            if not current:
                return
            if current.get("token") != self.params["token"]:
                self.lock = current
                self.module.warn(
                    f"The deploy lock of {self.app} is now held by {describe_holder(current)}; "
                    "left in place."
                )
                return
            self.changed = True
            if not self.module.check_mode:
                os.unlink(self.file)

    def result(self):
        diff = {"before": self.before, "after": self.lock or {}}
        result = {"changed": self.changed, "lock": self.lock or {}, "previous": self.previous or {}}
        if self.schema_revision is not None:
            result["schema_revision"] = self.schema_revision
        if self.entry_diff is None:
            return {**result, "diff": diff}
        ledger_file = os.path.join(self.dir, LEDGER_FILE)
        entry_diff = {
            **self.entry_diff,
            "before_header": f"{ledger_file} ({self.params['token']})",
            "after_header": f"{ledger_file} ({self.params['token']})",
        }
        diff.update(before_header=self.file, after_header=self.file)
        return {**result, "entry": self.entry, "diff": [diff, entry_diff]}


def main():
    module = AnsibleModule(
        argument_spec={
            "app": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "owner": {"type": "str"},
            "token": {"type": "str", "required": True, "no_log": False},
            "ttl": {"type": "int", "default": 3600},
            "break_lock": {"type": "bool", "default": False},
            "path": {"type": "path", "default": "/var/lib/sigma-deploy"},
            "details": {"type": "dict"},
            "ledger": {"type": "dict"},
            "ledger_keep": {"type": "int", "default": 500},
            "schema_revision": {
                "type": "dict",
                "options": {"database": {"type": "str", "required": True}},
            },
        },
        required_if=[("state", "present", ("owner",))],
        supports_check_mode=True,
    )
    try:
        result = DeployLock(module).run()
    except DeployStateError as err:
        module.fail_json(msg=str(err), **({"failure": err.failure} if err.failure else {}))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
