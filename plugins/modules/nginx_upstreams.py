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
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

HELPER_PREFIX = "sigma-nginx-reload:"


class UpstreamsError(Exception):
    pass


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
        result = {
            "changed": rewrite or write_fact,
            "reloaded": False,
            "fact_written": write_fact,
            "diff": self.diff(before, content, fact_before, fact, rewrite, write_fact),
        }
        if self.module.check_mode:
            return result
        if rewrite:
            result["reload_output"] = self.install(content, before is not None)
            result["reloaded"] = True
        if write_fact:
            self.write(fact_path, fact)
        for path in [self.path] + ([fact_path] if fact is not None else []):
            args = self.module.load_file_common_arguments(self.params, path=path)
            result["changed"] = self.module.set_fs_attributes_if_different(args, result["changed"])
        return result

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
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    if not module.params["reload_command"]:
        module.fail_json(msg="reload_command: expected the reload program, got an empty list")
    try:
        result = Upstreams(module).run()
    except (OSError, UpstreamsError) as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
