# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of sigma.deploy.app_build: paths from where the run started; answers on the
controller when nothing is to build.

When the task's connection is local, the module runs on the controller, but in the playbook's
directory (Ansible runs local modules there). A relative ``src`` or ``dest`` is meant from the
directory ``ansible-playbook`` was started in, which is this process's working directory: they
are made absolute here, before the module sees them.

Then, when ``src`` is a release directory whose files match its manifest, or a source tree
whose release (same fingerprint) exists intact, the answer is the module's own (changed false,
that release) without starting a module process: the usual case of a run after the first.
Otherwise the module runs (it builds, or says what is wrong).
"""

from __future__ import annotations

import os

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import release

LOCAL = ("local", "ansible.builtin.local")


def resolve(path: str, cwd: str) -> str:
    """A path option as the module's ``path`` type expands it, a relative one taken from cwd."""
    return os.path.join(cwd, os.path.expanduser(os.path.expandvars(path)))


def controller_args(args: dict, cwd: str) -> dict:
    """The task's arguments with ``src`` and ``dest`` absolute, relative ones taken from cwd."""
    resolved = dict(args)
    for key in ("src", "dest"):
        if isinstance(args.get(key), str):
            resolved[key] = resolve(args[key], cwd)
    return resolved


def answer(manifest: dict, release_dir: str) -> dict:
    """The module's result for a release that is used as it is."""
    return {
        "changed": False,
        "built": False,
        "release_id": manifest["release_id"],
        "release_dir": release_dir,
        "manifest": manifest,
    }


def built_already(src: str, dest: str) -> dict | None:
    """The module's result for an existing, intact release of this source, else None."""
    existing = release.find_release_by_source(dest, release.source_hash(src))
    if not existing or release.verify_release(existing):
        return None
    return answer(release.read_manifest(existing), existing)


def quick_answer(args: dict) -> dict | None:
    """The module's result when it can be found on the controller without it, else None.

    ``args`` are the controller's (absolute paths). Anything wrong is left to the module,
    which says what it is.
    """
    src, dest = args.get("src"), args.get("dest")
    if not isinstance(src, str) or not isinstance(dest, str):
        return None
    try:
        kind = release.kind_of(src)
        if kind == "release":
            return answer(release.given_release(src), src)
        if boolean(args.get("force", False), strict=False):
            return None
        return built_already(src, dest)
    except (OSError, ValueError, KeyError, TypeError):
        return None


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        outcome = None
        if self._connection.transport in LOCAL:
            # The module runs on the controller: its paths are the controller's.
            args = controller_args(args, os.getcwd())
            outcome = quick_answer(args)
        if outcome is None:
            outcome = self._execute_module(module_args=args, task_vars=task_vars)
        result.update(outcome)
        return result
