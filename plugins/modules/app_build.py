#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: app_build
short_description: Build the release artifacts of a FastAPI + Next.js application once
version_added: 0.2.0
description:
  - Turns an application source tree (an C(api/) Python project and a C(web/) Next.js project)
    into a release directory under O(dest) on the controller, named by a release id
    (C(<UTC time>-<git sha>)).
  - "The release holds C(api.tar.gz) (the application's wheel, the wheels of its pinned
    requirements for the target Python and platform, and C(requirements.lock)), C(web.tar.gz)
    (the Next.js standalone server with its static files), C(SHA256SUMS) and C(manifest.json)
    (release id, git sha, build time, source fingerprint, Alembic head, file checksums)."
  - The source is fingerprinted (names, modes and contents, build output left out). When a release
    built from the same fingerprint exists and its files match their checksums, nothing is built
    and that release is returned. With a local connection the action plugin finds it on the
    controller, without starting the module.
  - O(src) may also be a release directory this module made (it holds C(manifest.json)). It is
    checked against its manifest and returned as it is, so one task takes either a source tree or
    a release (as C(-e release=) of the deploy playbook does).
  - "Run it on the controller (C(delegate_to: localhost) or a play on localhost). It needs C(pip)
    for O(python), and C(npm) with a Node.js that can build the web app."
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  src:
    description:
      - The application source tree, holding C(api/) (with C(requirements.lock)) and C(web/)
        (with C(package.json) and C(package-lock.json)); or a release directory made by this
        module, holding C(manifest.json), which is used as it is (nothing is built).
      - A directory that is neither fails the task, naming what it lacks to be either.
      - "A relative path is taken from the directory C(ansible-playbook) was started in when the
        module runs on the controller (a local connection, as with C(delegate_to: localhost)),
        not from the playbook's directory, where Ansible runs local modules."
    type: path
    required: true
  dest:
    description:
      - The artifacts root; each release is a directory in it. Not used when O(src) is a release.
      - A relative path is taken from the directory C(ansible-playbook) was started in, as for
        O(src).
    type: path
    required: true
  app:
    description:
      - The application name recorded in the manifest.
    type: str
    default: notes
  python:
    description:
      - The Python interpreter whose C(pip) builds the wheel and downloads the requirements.
      - Defaults to the interpreter running the module.
    type: path
  npm:
    description:
      - The npm executable used to install and build the web app.
    type: str
    default: npm
  target_python:
    description:
      - The Python version of the servers (C(X.Y)); the requirements' wheels are fetched for it.
    type: str
    default: "3.11"
  target_platforms:
    description:
      - pip platform tags of the servers; binary wheels are fetched for these.
    type: list
    elements: str
    default:
      - manylinux2014_x86_64
      - manylinux_2_17_x86_64
      - manylinux_2_28_x86_64
      - manylinux_2_34_x86_64
      - manylinux_2_36_x86_64
  git_sha:
    description:
      - The commit the release is built from. Defaults to C(git rev-parse HEAD) in O(src),
        or C(nogit) outside a repository.
    type: str
  force:
    description:
      - Build a new release even when one from the same source exists.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: In check mode nothing is built; the result says whether a build would run.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Build the release artifacts (once per source change)
  sigma.deploy.app_build:
    src: "{{ playbook_dir }}/../examples/app"
    dest: "{{ playbook_dir }}/../.build/artifacts"
  delegate_to: localhost
  run_once: true
  register: build

- name: Show the release id
  ansible.builtin.debug:
    msg: "{{ build.release_id }} in {{ build.release_dir }}"

- name: Take a release built before (relative to where ansible-playbook runs), or fail
  sigma.deploy.app_build:
    src: .build/artifacts/20261126T153400Z-abc1234def56
    dest: .build/artifacts
  delegate_to: localhost
  run_once: true
  register: given
"""

RETURN = r"""
release_id:
  description: The release id (the name of the release directory).
  returned: always
  type: str
  sample: 20261126T153400Z-abc1234def56
release_dir:
  description: The release directory (absolute). In check mode, where it would be.
  returned: always
  type: str
built:
  description: Whether this run built the artifacts (false when an existing release was reused,
    or O(src) was a release).
  returned: always
  type: bool
manifest:
  description: The release manifest. Empty in check mode when a build would run.
  returned: always
  type: dict
  sample:
    app: notes
    release_id: 20261126T153400Z-abc1234def56
    git_sha: abc1234def5678901234567890abcdef12345678
    built_at: "2026-11-26T15:34:00Z"
    source_hash: 9f2c...
    alembic_head: 0001_create_notes
    api_wheel: notes_api-0.1.0-py3-none-any.whl
    files:
      api.tar.gz: 3b1d...
      web.tar.gz: 77ae...
"""

import datetime
import fcntl
import glob
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import release

NPM_STAMP = ".sigma-npm-ci.sha256"


class BuildError(Exception):
    """A build step failed; the message names the step."""


def absolute(path: str) -> str:
    """path, a relative one taken from the module's working directory. (On the controller the
    action plugin has made both paths absolute from where ansible-playbook runs.)"""
    return path if os.path.isabs(path) else os.path.join(os.getcwd(), path)


class Builder:
    def __init__(self, module: AnsibleModule):
        self.module = module
        self.params = module.params
        self.src = self.params["src"]
        self.python = self.params["python"] or sys.executable

    def run(self, step: str, argv: list[str], cwd: str | None = None, env: dict | None = None):
        rc, out, err = self.module.run_command(argv, cwd=cwd, environ_update=env or {})
        if rc != 0:
            tail = "\n".join((err or out).strip().splitlines()[-15:])
            raise BuildError(f"{step} failed (rc={rc}): {' '.join(argv)}\n{tail}")
        return out

    def git_sha(self) -> str:
        if self.params["git_sha"]:
            return self.params["git_sha"]
        git = self.module.get_bin_path("git")
        if not git:
            return "nogit"
        rc, out, _err = self.module.run_command([git, "-C", self.src, "rev-parse", "HEAD"])
        return out.strip() if rc == 0 and out.strip() else "nogit"

    def build_api(self, work: str) -> str:
        api_src = os.path.join(self.src, "api")
        stage = os.path.join(work, "api")
        wheelhouse = os.path.join(stage, "wheelhouse")
        os.makedirs(wheelhouse)
        pip = [self.python, "-m", "pip", "--disable-pip-version-check"]
        self.run("building the API wheel", [*pip, "wheel", "--no-deps", "-w", stage, api_src])
        wheels = glob.glob(os.path.join(stage, "*.whl"))
        if len(wheels) != 1:
            raise BuildError(f"building the API wheel gave {len(wheels)} wheels, expected 1")
        lock = os.path.join(api_src, "requirements.lock")
        platforms = []
        for tag in self.params["target_platforms"]:
            platforms += ["--platform", tag]
        self.run(
            "downloading the API's pinned requirements",
            [
                *pip,
                "download",
                "--only-binary=:all:",
                *platforms,
                "--python-version",
                self.params["target_python"],
                "--implementation",
                "cp",
                "-d",
                wheelhouse,
                "-r",
                lock,
            ],
        )
        shutil.copy2(lock, os.path.join(stage, "requirements.lock"))
        self.tar(stage, os.path.join(work, "api.tar.gz"))
        return os.path.basename(wheels[0])

    def build_web(self, work: str) -> None:
        web = os.path.join(self.src, "web")
        npm = self.module.get_bin_path(self.params["npm"], required=True)
        env = {"NEXT_TELEMETRY_DISABLED": "1", "CI": "1"}
        lock_hash = release.sha256_file(os.path.join(web, "package-lock.json"))
        stamp = os.path.join(web, "node_modules", NPM_STAMP)
        current = ""
        if os.path.isfile(stamp):
            with open(stamp, encoding="utf-8") as handle:
                current = handle.read().strip()
        if current != lock_hash:
            self.run(
                "installing the web app's packages",
                [npm, "ci", "--no-audit", "--no-fund"],
                web,
                env,
            )
            os.makedirs(os.path.dirname(stamp), exist_ok=True)
            with open(stamp, "w", encoding="utf-8") as handle:
                handle.write(lock_hash + "\n")
        self.run("building the web app", [npm, "run", "build"], web, env)
        standalone = os.path.join(web, ".next", "standalone")
        if not os.path.isfile(os.path.join(standalone, "server.js")):
            raise BuildError(
                "building the web app gave no .next/standalone/server.js: "
                "next.config must set output: 'standalone' "
                "(and outputFileTracingRoot to the web directory)"
            )
        stage = os.path.join(work, "web")
        shutil.copytree(standalone, stage, symlinks=True)
        shutil.copytree(
            os.path.join(web, ".next", "static"), os.path.join(stage, ".next", "static")
        )
        if os.path.isdir(os.path.join(web, "public")):
            shutil.copytree(
                os.path.join(web, "public"), os.path.join(stage, "public"), dirs_exist_ok=True
            )
        self.tar(stage, os.path.join(work, "web.tar.gz"))

    @staticmethod
    def tar(stage: str, target: str) -> None:
        def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            return info

        with tarfile.open(target, "w:gz") as archive:
            for name in sorted(os.listdir(stage)):
                archive.add(os.path.join(stage, name), arcname=name, filter=clean)
        shutil.rmtree(stage)

    def build(self, release_id: str, git_sha: str, fingerprint: str) -> tuple[str, dict]:
        dest = self.params["dest"]
        os.makedirs(dest, exist_ok=True)
        work = tempfile.mkdtemp(prefix=".building-", dir=dest)
        try:
            wheel = self.build_api(work)
            self.build_web(work)
            files = {
                name: release.sha256_file(os.path.join(work, name))
                for name in ("api.tar.gz", "web.tar.gz")
            }
            manifest = {
                "app": self.params["app"],
                "release_id": release_id,
                "git_sha": git_sha,
                "built_at": datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "source_hash": fingerprint,
                "alembic_head": self.alembic_head(),
                "api_wheel": wheel,
                "files": files,
            }
            release.write_sums(work, files)
            with open(os.path.join(work, release.MANIFEST), "w", encoding="utf-8") as handle:
                json.dump(manifest, handle, indent=2, sort_keys=True)
                handle.write("\n")
            os.chmod(work, 0o755)
            target = os.path.join(dest, release_id)
            os.rename(work, target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return target, manifest

    def alembic_head(self) -> str | None:
        candidates = glob.glob(os.path.join(self.src, "api", "**", "versions"), recursive=True)
        candidates = [
            c for c in candidates if os.sep + "migrations" + os.sep in c + os.sep or "alembic" in c
        ]
        heads = {release.alembic_head(path) for path in candidates} - {None}
        if len(heads) > 1:
            raise BuildError(f"more than one Alembic head in the API source: {sorted(heads)}")
        return heads.pop() if heads else None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "src": {"type": "path", "required": True},
            "dest": {"type": "path", "required": True},
            "app": {"type": "str", "default": "notes"},
            "python": {"type": "path"},
            "npm": {"type": "str", "default": "npm"},
            "target_python": {"type": "str", "default": "3.11"},
            "target_platforms": {
                "type": "list",
                "elements": "str",
                "default": [
                    "manylinux2014_x86_64",
                    "manylinux_2_17_x86_64",
                    "manylinux_2_28_x86_64",
                    "manylinux_2_34_x86_64",
                    "manylinux_2_36_x86_64",
                ],
            },
            "git_sha": {"type": "str"},
            "force": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    for key in ("src", "dest"):
        module.params[key] = absolute(module.params[key])
    src = module.params["src"]
    try:
        if release.kind_of(src) == "release":
            manifest = release.given_release(src)
            module.exit_json(
                changed=False,
                built=False,
                release_id=manifest["release_id"],
                release_dir=src,
                manifest=manifest,
            )
    except ValueError as err:
        module.fail_json(msg=f"src: {err}")

    builder = Builder(module)
    fingerprint = release.source_hash(src)
    if not module.check_mode:
        # One build at a time per artifacts root: a second run waits, then reuses the first's.
        os.makedirs(module.params["dest"], exist_ok=True)
        lock = open(os.path.join(module.params["dest"], ".lock"), "w", encoding="utf-8")  # noqa: SIM115
        fcntl.flock(lock, fcntl.LOCK_EX)
    if not module.params["force"]:
        existing = release.find_release_by_source(module.params["dest"], fingerprint)
        if existing and not release.verify_release(existing):
            manifest = release.read_manifest(existing)
            module.exit_json(
                changed=False,
                built=False,
                release_id=manifest["release_id"],
                release_dir=existing,
                manifest=manifest,
            )

    git_sha = builder.git_sha()
    release_id = release.make_release_id(git_sha)
    while os.path.exists(os.path.join(module.params["dest"], release_id)):
        # A release of the same second and commit (a rebuild): wait for the next id.
        time.sleep(0.2)
        release_id = release.make_release_id(git_sha)
    if module.check_mode:
        module.exit_json(
            changed=True,
            built=False,
            release_id=release_id,
            release_dir=os.path.join(module.params["dest"], release_id),
            manifest={},
        )
    try:
        release_dir, manifest = builder.build(release_id, git_sha, fingerprint)
    except (BuildError, OSError, ValueError) as err:
        module.fail_json(msg=f"building the release from {src} failed: {err}")
    module.exit_json(
        changed=True, built=True, release_id=release_id, release_dir=release_dir, manifest=manifest
    )


if __name__ == "__main__":
    main()
