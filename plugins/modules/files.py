#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: files
short_description: Bring a set of files, directories and links to their state in one call
version_added: 0.2.0
description:
  - One module call for what would be a M(ansible.builtin.file) loop and a row of
    M(ansible.builtin.template) and M(ansible.builtin.copy) tasks. Each item of O(files) is a
    directory, a file with given content, a symbolic link or an absent path, with its owner,
    group and mode. On a run where everything is in place this is one call instead of one or
    two per path.
  - The items are handled in order, so a directory can come before the files in it.
  - A file whose content differs is replaced atomically (a temporary file in the same
    directory, with its owner, group and mode set, then renamed over it). A link is replaced
    atomically too. Missing parent directories are created (mode 0755).
  - When anything changed and O(check_command) is given, it runs; when it fails, every change
    of the task is undone (previous contents, links, owners and modes back; new paths
    removed) and the task fails with the command's output.
  - Template the contents on the controller, for example with
    C(lookup('ansible.builtin.template', 'site.conf.j2')).
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  files:
    description:
      - The paths and their state, in the order they are brought to it.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - The absolute path.
        type: path
        required: true
      state:
        description:
          - V(file), V(directory), V(link) (O(files[].src) required) or V(absent) (a file or
            link is removed; a directory is refused).
          - A V(file) without O(files[].content) must exist already; only its owner, group and
            mode are set (for a file another program writes, such as a key).
        type: str
        choices: [file, directory, link, absent]
        default: file
      content:
        description:
          - What the file holds (text, written as UTF-8).
        type: str
      src:
        description:
          - The target of the link, as stored in it.
        type: str
      src_must_exist:
        description:
          - For a link, fail (and undo the task's changes) when O(files[].src) does not exist on
            the host, for example a time zone that is not in C(/usr/share/zoneinfo). Without
            it a link to a missing target is made, as C(ln -s) would.
        type: bool
        default: false
      owner:
        description:
          - The owner (name or number); unchanged when not given (a new path is root's).
        type: str
      group:
        description:
          - The group (name or number); unchanged when not given.
        type: str
      mode:
        description:
          - The permissions, as an octal string such as V("0644"); not for links. When not
            given, an existing path keeps its mode and a new one gets V(0644) (file) or
            V(0755) (directory).
        type: str
      validate:
        description:
          - A command that checks a new content before it replaces the file, with V(%s)
            where the path of the new content goes, for example V(/usr/sbin/sshd -t -f %s).
            When it fails, the file is left as it is and the task fails (earlier changes of
            the task are undone).
          - Only with V(state=file); not run in check mode.
        type: str
      secret_content:
        description:
          - What the file holds when that is a secret, instead of O(files[].content) - it is
            never logged nor returned (Ansible masks it wherever it appears in the result), and
            the diff says that the file changed, not how. No C(no_log) needed on the task, so
            the other items keep their diff.
        type: str
      create_command:
        description:
          - For a V(file) without O(files[].content) - a program and its arguments that make
            the file when it does not exist, for example a key that has to be generated on the
            host. It runs as given (no shell) and must exit with status 0 and leave a file
            at O(files[].path); then the owner, group and mode are set. It does not run when
            the file exists, nor in check mode (the file is reported as created).
          - When a later item or the check fails, the file it made is removed; anything else
            the command made is left.
        type: list
        elements: str
  check_command:
    description:
      - A program and its arguments run when anything changed (or on every run, with
        O(check_always)), for example V([nginx, -t]). When it exits with a status other than 0,
        all changes are undone and the task fails with the command's output.
    type: list
    elements: str
  check_always:
    description:
      - Run O(check_command) on every run, also when nothing changed, to check a state of the
        host that other files or programs can change, for example the settings sshd really
        uses. Not in check mode.
    type: bool
    default: false
  report_existing:
    description:
      - Paths to look for once the items are in place (links followed); the ones that exist
        are returned in RV(existing). Saves a separate M(ansible.builtin.stat) or
        M(ansible.builtin.find) call.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    details: Nothing is written and the check command does not run; the result and the diff
      say what would change.
  diff_mode:
    support: full
    details: The content of each changed file before and after (not for O(files[].secret_content)),
      and each path's state, owner, group and mode where they change.
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: ansible.builtin.file
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Create the app's directories and write its unit
  sigma.deploy.files:
    files:
      - {path: /srv/notes, state: directory, owner: root, group: root, mode: "0755"}
      - {path: /srv/notes/releases, state: directory, mode: "0755"}
      - path: /etc/systemd/system/notes-api@.service
        content: "{{ lookup('ansible.builtin.template', 'api@.service.j2') }}"
        mode: "0644"
  notify: Restart the API

- name: Write nginx's site, enable it, and keep the files only when nginx accepts them
  sigma.deploy.files:
    files:
      - path: /etc/nginx/sites-available/notes.conf
        content: "{{ lookup('ansible.builtin.template', 'site.conf.j2') }}"
        mode: "0644"
      - path: /etc/nginx/sites-enabled/notes.conf
        state: link
        src: /etc/nginx/sites-available/notes.conf
      - {path: /etc/nginx/sites-enabled/default, state: absent}
    check_command: [nginx, -t]
  notify: Reload nginx
"""

RETURN = r"""
changed_paths:
  description: The paths that changed (or would, in check mode), in the order of O(files).
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/sites-available/notes.conf]
check_output:
  description: What O(check_command) printed (standard output and error), when it ran.
  returned: when the check command ran
  type: str
existing:
  description: The paths of O(report_existing) that exist, in their order (in check mode, as
    they are now).
  returned: always
  type: list
  elements: str
  sample: [/srv/notes/slots/blue/api/.installed]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.host.path_set import (
    PathSet,
    PathSetError,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "state": {
                        "type": "str",
                        "choices": ["file", "directory", "link", "absent"],
                        "default": "file",
                    },
                    "content": {"type": "str"},
                    "src": {"type": "str"},
                    "src_must_exist": {"type": "bool", "default": False},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                    "mode": {"type": "str"},
                    "validate": {"type": "str"},
                    "secret_content": {"type": "str", "no_log": True},
                    "create_command": {"type": "list", "elements": "str"},
                },
            },
            "check_command": {"type": "list", "elements": "str"},
            "check_always": {"type": "bool", "default": False},
            "report_existing": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )
    paths = PathSet(
        module.params["files"],
        module.check_mode,
        lambda argv: module.run_command(argv, cwd=os.sep),
    )
    try:
        paths.validate()
        paths.apply()
    except PathSetError as err:
        paths.undo()
        module.fail_json(msg=str(err), changed_paths=[], diff=[])
    result = {"changed": bool(paths.changed), "changed_paths": paths.changed, "diff": paths.diff}
    command = module.params["check_command"]
    wanted = paths.changed or module.params["check_always"]
    if command and wanted and not module.check_mode:
        rc, out, err = module.run_command(command, cwd=os.sep)
        output = "\n".join(part.strip() for part in (out, err) if part.strip())
        result["check_output"] = output
        if rc != 0:
            changed = list(paths.changed)
            paths.undo()
            named = " ".join(command) if len(" ".join(command)) <= 100 else command[0]
            said = f"{named} failed (exit status {rc})"
            module.fail_json(
                msg=(
                    f"{said} with the new files: {' '.join(output.split())[:2000]}. Every change"
                    f" is undone: {', '.join(changed)} are as before."
                    if changed
                    else f"{said}, nothing changed: {' '.join(output.split())[:2000]}"
                ),
                changed_paths=[],
                check_output=output,
            )
    result["existing"] = [p for p in module.params["report_existing"] if os.path.exists(p)]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
