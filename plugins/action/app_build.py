# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of sigma.deploy.app_build: answers on the controller when nothing is to build.

The module runs on the controller anyway (delegate_to: localhost). When the task's connection
is local and a release built from the same source fingerprint exists with files that match
their checksums, the answer is the module's own (changed false, that release) without
starting a module process: the usual case of a run after the first. Otherwise the module runs.
"""

from __future__ import annotations

import os

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import release


def expand(path: str) -> str:
    """A path option as the module's `path` type expands it."""
    return os.path.expanduser(os.path.expandvars(path))


def built_already(src: str, dest: str) -> dict | None:
    """The module's result for an existing, intact release of this source, else None."""
    existing = release.find_release_by_source(dest, release.source_hash(src))
    if not existing or release.verify_release(existing):
        return None
    manifest = release.read_manifest(existing)
    return {
        "changed": False,
        "built": False,
        "release_id": manifest["release_id"],
        "release_dir": existing,
        "manifest": manifest,
    }


def quick_answer(args: dict, transport: str) -> dict | None:
    """The module's result when it can be found on the controller without it, else None."""
    src, dest = args.get("src"), args.get("dest")
    if transport not in ("local", "ansible.builtin.local"):
        return None  # the module runs elsewhere: the paths are not the controller's
    if not isinstance(src, str) or not isinstance(dest, str):
        return None
    if boolean(args.get("force", False), strict=False):
        return None
    src = expand(src)
    if not (os.path.isdir(os.path.join(src, "api")) and os.path.isdir(os.path.join(src, "web"))):
        return None  # the module says what is wrong with the source
    try:
        return built_already(src, expand(dest))
    except (OSError, ValueError, KeyError):
        return None


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        quick = quick_answer(self._task.args, self._connection.transport)
        result.update(quick if quick is not None else self._execute_module(task_vars=task_vars))
        return result
