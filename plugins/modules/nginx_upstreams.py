#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nginx_upstreams
short_description: Install an nginx upstreams file and reload nginx, or put the old file back
version_added: 0.2.0
description:
  - The switch of M(sigma.deploy.nginx_proxy) (a slot, a canary weight, a drained backend) in
    one module call. When O(content) differs from O(path), the file is replaced atomically (a
    rename; the previous file is kept as a backup) and O(reload_command) runs with
    C(--installed <path>) and, when there was a previous file, C(--backup <copy>). The role's
    C(sigma-nginx-reload) checks the whole configuration (C(nginx -t)), reloads nginx gracefully
    and returns once the new workers serve.
  - When nginx rejects the configuration (exit status 1), the previous file is put back (or a
    new one removed), so nginx serves, and would restart, as before; the task fails saying what
    nginx said. Any other failure of the reload fails the task with the reload's output.
  - Then, or when O(content) was already in place, O(fact) is written to O(fact_path) as JSON
    when it differs (the local fact C(ansible_local) reads).
  - Nothing is written or reloaded when both files hold what they should.
  - With O(checks_before), those HTTP checks run first (once each), and a failed one fails the
    task before anything is written. With O(checks_after), those run once O(path) holds
    O(content) (after the reload, or at once when it held it already), again every 0.25 s until
    they pass or O(checks_after_wait) seconds have gone by; one that still fails fails the task
    with RV(installed=true), so the caller knows nginx serves the new file. A switch with its
    smoke checks and its confirmation is then one module call.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  path:
    description:
      - The upstreams file; its directory must exist.
    type: path
    required: true
  content:
    description:
      - What O(path) should hold (the rendered template).
    type: str
    required: true
  reload_command:
    description:
      - The program that checks and reloads nginx, and its first arguments, for example
        V([/usr/local/sbin/sigma-nginx-reload, --wait-old, "5"]). Run only when O(path)
        changed; C(--installed) and C(--backup) are appended.
      - Exit status 0 means reloaded, 1 that nginx rejected the configuration (nothing reloaded).
    type: list
    elements: str
    required: true
  fact_path:
    description:
      - Where to write O(fact), for example C(/etc/ansible/facts.d/sigma_notes.fact).
    type: path
  fact:
    description:
      - The state to record in O(fact_path) (JSON, keys sorted, indented by 4).
    type: dict
  checks_before:
    description:
      - HTTP checks that must pass before anything is written, for example the smoke checks of
        the slot about to be served. The same fields as the O(sigma.deploy.http_check#module:checks)
        of M(sigma.deploy.http_check).
    type: list
    elements: dict
    default: []
    suboptions: &checks
      url:
        description: The URL to request (GET, redirects not followed).
        type: str
        required: true
      name:
        description: A name for messages; the URL by default.
        type: str
      status:
        description: The status the answer must have.
        type: int
        default: 200
      contains:
        description: A text the body must contain.
        type: str
      json:
        description: Keys and values the body, a JSON object, must have.
        type: dict
  checks_after:
    description:
      - HTTP checks that must pass once nginx serves O(content), for example that C(/version)
        through nginx answers the new release. Not run in check mode when O(path) would change.
    type: list
    elements: dict
    default: []
    suboptions: *checks
  checks_after_wait:
    description:
      - Seconds to keep trying O(checks_after) until they pass; V(0) tries once.
    type: float
    default: 0
  checks_timeout:
    description:
      - Seconds each check request may take.
    type: float
    default: 10
  validate_certs:
    description:
      - Whether the checks verify HTTPS certificates (V(false) for a self-signed one on
        C(127.0.0.1)).
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details: Reports what would change, with the diff; writes and reloads nothing.
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - O(mode), O(owner) and the other file attributes apply to both files.
seealso:
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Serve slot green
  sigma.deploy.nginx_upstreams:
    path: /etc/nginx/sigma/notes-upstreams.conf
    content: "{{ lookup('ansible.builtin.template', 'upstreams.conf.j2') }}"
    reload_command: [/usr/local/sbin/sigma-nginx-reload]
    fact_path: /etc/ansible/facts.d/sigma_notes.fact
    fact: {mode: host, active_slot: green, canary_weight: 0}
    owner: root
    group: root
    mode: "0644"
  become: true

- name: Serve slot blue once its smoke check passes, then confirm that nginx serves it
  sigma.deploy.nginx_upstreams:
    path: /etc/nginx/sigma/notes-upstreams.conf
    content: "{{ lookup('ansible.builtin.template', 'upstreams.conf.j2') }}"
    reload_command: [/usr/local/sbin/sigma-nginx-reload]
    checks_before:
      - url: http://127.0.0.1:8101/healthz
    checks_after:
      - url: https://127.0.0.1/version
        json: {release_id: 20261128T020339Z-7c987901ef1c}
    checks_after_wait: 10
    validate_certs: false
  become: true
"""

RETURN = r"""
reloaded:
  description: Whether O(path) changed and nginx was reloaded with it.
  returned: always
  type: bool
reload_output:
  description: What O(reload_command) printed (standard output, then standard error).
  returned: when it ran
  type: str
  sample: "sigma-nginx-reload: reloaded in 84 ms"
fact_written:
  description: Whether O(fact_path) was (or, in check mode, would be) written.
  returned: always
  type: bool
installed:
  description:
    - Whether O(path) holds O(content) now (written by this task or before it). True on a
      failure of O(checks_after), since nginx serves the new file then.
  returned: always
  type: bool
checks_before:
  description: The result of each of O(checks_before), as M(sigma.deploy.http_check) returns it.
  returned: when O(checks_before) is given
  type: list
  elements: dict
checks_after:
  description: The result of each of O(checks_after), as M(sigma.deploy.http_check) returns it.
  returned: when O(checks_after) ran
  type: list
  elements: dict
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.http_check import (
    CHECK_OPTIONS,
    HttpCheckError,
    failure_message,
    run_checks,
    validate,
)

HELPER_PREFIX = "sigma-nginx-reload:"


class UpstreamsError(Exception):
    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result or {}


def read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def fact_text(fact):
    return json.dumps(fact, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"


def nginx_says(stderr):
    """The reload's error output without the helper's own lines."""
    lines = [line for line in stderr.splitlines() if not line.startswith(HELPER_PREFIX)]
    return " ".join(" ".join(lines).split())


class Upstreams:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.path = self.params["path"]

    def run(self):
        content = self.params["content"]
        before = read_text(self.path)
        fact = None if self.params["fact"] is None else fact_text(self.params["fact"])
        fact_path = self.params["fact_path"]
        if fact is not None and not fact_path:
            raise UpstreamsError("fact_path is required with fact")
        fact_before = read_text(fact_path) if fact is not None else None
        rewrite = before != content
        write_fact = fact is not None and fact_before != fact
        checks_before, checks_after = self.checks("checks_before"), self.checks("checks_after")
        result = {
            "changed": rewrite or write_fact,
            "reloaded": False,
            "fact_written": write_fact,
            "installed": not rewrite,
            "diff": self.diff(before, content, fact_before, fact, rewrite, write_fact),
        }
        if checks_before:
            result["checks_before"] = self.run_checks(checks_before, 0)
            failed = failure_message(result["checks_before"])
            if failed:
                result.update(changed=False, fact_written=False, diff=[])
                raise UpstreamsError(f"Before the switch, {failed}; nothing was changed.", result)
        if self.module.check_mode:
            if checks_after and not rewrite:
                self.confirm(checks_after, result)
            return result
        if rewrite:
            result["reload_output"] = self.install(content, before is not None)
            result["reloaded"] = result["installed"] = True
        if write_fact:
            self.write(fact_path, fact)
        for path in [self.path] + ([fact_path] if fact is not None else []):
            args = self.module.load_file_common_arguments(self.params, path=path)
            result["changed"] = self.module.set_fs_attributes_if_different(args, result["changed"])
        if checks_after:
            self.confirm(checks_after, result)
        return result

    def checks(self, option):
        """The checks of ``option`` (names filled in), or [] when none are given."""
        given = self.params[option]
        if not given:
            return []
        try:
            wait = self.params["checks_after_wait"] if option == "checks_after" else 0
            return validate(given, self.params["checks_timeout"], wait, field=option)
        except HttpCheckError as err:
            raise UpstreamsError(str(err)) from None

    def run_checks(self, checks, wait):
        timeout, verify = self.params["checks_timeout"], self.params["validate_certs"]
        return run_checks(checks, timeout, verify, wait=wait)

    def confirm(self, checks, result):
        """checks_after into ``result``; UpstreamsError when one still fails."""
        result["checks_after"] = self.run_checks(checks, self.params["checks_after_wait"])
        failed = failure_message(result["checks_after"])
        if failed:
            done = "nginx serves the new file" if result["reloaded"] else "the file was in place"
            raise UpstreamsError(f"After the switch ({done}), {failed}.", result)

    def diff(self, before, content, fact_before, fact, rewrite, write_fact):
        out = []
        if rewrite:
            out.append(
                {
                    "before_header": self.path,
                    "after_header": self.path,
                    "before": before or "",
                    "after": content,
                }
            )
        if write_fact:
            path = self.params["fact_path"]
            out.append(
                {
                    "before_header": path,
                    "after_header": path,
                    "before": fact_before or "",
                    "after": fact,
                }
            )
        return out

    def write(self, path, text):
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            raise UpstreamsError(
                f"{path} could not be written: {directory} does not exist. Has the main entry"
                " point of sigma.deploy.nginx_proxy run on this host?"
            )
        handle, tmp = tempfile.mkstemp(dir=directory, prefix=".sigma-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            self.module.atomic_move(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def install(self, content, existed):
        """Write the upstreams file, run the reload; put the previous file back when nginx
        rejects it. The reload's output."""
        backup = self.module.backup_local(self.path) if existed else None
        try:
            self.write(self.path, content)
        except (OSError, UpstreamsError):
            self.discard(backup)
            raise
        argv = [*self.params["reload_command"], "--installed", self.path]
        argv += ["--backup", backup] if backup else []
        rc, out, err = self.module.run_command(argv)
        output = "\n".join(part.strip() for part in (out, err) if part.strip())
        if rc == 0:
            self.discard(backup)
            return output
        if rc == 1:
            what = self.put_back(backup, content)
            raise UpstreamsError(
                f"{self.path} was not changed: nginx rejected it ({nginx_says(err)}). {what};"
                " nginx was not reloaded and serves as before."
            )
        self.discard(backup)
        raise UpstreamsError(
            f"{self.path} was written, but nginx did not take it (exit status {rc}): {output}"
        )

    def put_back(self, backup, content):
        """After a rejected file: the previous one in place (the helper does it; one that
        predates --installed does not)."""
        if backup:
            if os.path.exists(backup):
                os.replace(backup, self.path)
            return "The previous file is back in place"
        if read_text(self.path) == content:
            os.unlink(self.path)
        return "The new file is removed"

    @staticmethod
    def discard(backup):
        if backup and os.path.exists(backup):
            os.unlink(backup)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "content": {"type": "str", "required": True},
            "reload_command": {"type": "list", "elements": "str", "required": True},
            "fact_path": {"type": "path"},
            "fact": {"type": "dict"},
            "checks_before": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": CHECK_OPTIONS,
            },
            "checks_after": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": CHECK_OPTIONS,
            },
            "checks_after_wait": {"type": "float", "default": 0},
            "checks_timeout": {"type": "float", "default": 10},
            "validate_certs": {"type": "bool", "default": True},
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    if not module.params["reload_command"]:
        module.fail_json(msg="reload_command: expected the reload program, got an empty list")
    try:
        result = Upstreams(module).run()
    except UpstreamsError as err:
        module.fail_json(msg=str(err), **err.result)
    except OSError as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
