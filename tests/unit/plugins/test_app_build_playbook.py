"""playbooks/build.yml run by ansible-playbook on localhost, from a directory that is not the
playbook's: relative paths are taken from where the run started (Ansible runs local modules in
the playbook's directory, which once made a relative release look like a broken source tree)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import release

ROOT = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
RID = "20261128T060000Z-abc"


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """The directory the run starts in, holding .build/artifacts/<RID> (a release) and notes/
    (neither a release nor a source tree)."""
    where = tmp_path / "run"
    release_dir = where / ".build" / "artifacts" / RID
    release_dir.mkdir(parents=True)
    (release_dir / "api.tar.gz").write_text("api")
    files = {"api.tar.gz": release.sha256_file(str(release_dir / "api.tar.gz"))}
    manifest = {"app": "notes", "release_id": RID, "files": files}
    (release_dir / release.MANIFEST).write_text(json.dumps(manifest))
    (where / "notes" / "api").mkdir(parents=True)
    return where


def build(run_dir: Path, src: str) -> subprocess.CompletedProcess[str]:
    collections = run_dir.parent / "collections" / "ansible_collections" / "sigma"
    collections.mkdir(parents=True, exist_ok=True)
    if not (collections / "deploy").exists():
        (collections / "deploy").symlink_to(ROOT)
    (run_dir.parent / "ansible.cfg").write_text("[defaults]\n")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(run_dir.parent / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(run_dir.parent / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_LOCALHOST_WARNING": "false",
    }
    return subprocess.run(
        [
            ANSIBLE_PLAYBOOK, "-i", "localhost,", str(ROOT / "playbooks" / "build.yml"),
            "-e", f"sigma_app_src={src}", "-e", "sigma_artifacts_dir=.build/artifacts",
        ],
        capture_output=True, text=True, env=env, cwd=run_dir, check=False, timeout=120,
    )  # fmt: skip


def build_result(proc: subprocess.CompletedProcess[str]) -> dict:
    """The result of the play's first task (the app_build call) on localhost."""
    report = json.loads(proc.stdout)
    return report["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_a_relative_release_dir_is_that_release(run_dir):
    proc = build(run_dir, f".build/artifacts/{RID}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = build_result(proc)
    assert (result["changed"], result["built"], result["release_id"], result["release_dir"]) == (
        False, False, RID, f"{run_dir}/.build/artifacts/{RID}",
    )  # fmt: skip


def test_a_relative_dir_that_is_neither_fails_naming_both(run_dir):
    proc = build(run_dir, "notes")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    result = build_result(proc)
    assert (result["failed"], result["msg"]) == (
        True,
        f"src: {run_dir}/notes is neither a built release (no manifest.json) "
        "nor an application source tree (api/requirements.lock is missing)",
    )
