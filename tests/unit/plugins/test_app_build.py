"""The app_build module, run as Ansible runs it, with stand-ins for pip and npm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.deploy import release

ROOT = Path(__file__).resolve().parents[3]
MODULE = ROOT / "plugins" / "modules" / "app_build.py"
FAKES = Path(__file__).parent / "app_build_fakes"


@pytest.fixture
def src(tmp_path):
    app = tmp_path / "app"
    (app / "api" / "src" / "notes_api" / "migrations" / "versions").mkdir(parents=True)
    (app / "api" / "requirements.lock").write_text("fastapi==1.0\n")
    (app / "api" / "src" / "notes_api" / "migrations" / "versions" / "0001_init.py").write_text(
        'revision = "0001"\ndown_revision = None\n'
    )
    (app / "web" / "public").mkdir(parents=True)
    (app / "web" / "public" / "robots.txt").write_text("User-agent: *\n")
    (app / "web" / "package.json").write_text("{}")
    (app / "web" / "package-lock.json").write_text('{"lockfileVersion": 3}')
    return app


def run(tmp_path, src, check: bool = False, env: dict | None = None, cwd=None, **extra) -> dict:
    args = {
        "src": str(src),
        "dest": str(tmp_path / "artifacts"),
        "python": str(FAKES / "python"),
        "npm": str(FAKES / "npm"),
        "git_sha": "0123456789abcdef",
        "_ansible_check_mode": check,
        **extra,
    }
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run(
        [sys.executable, str(MODULE), str(args_file)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})},
        check=False,
        timeout=60,
        cwd=cwd,
    )
    return json.loads(proc.stdout)


def test_builds_a_release_with_manifest_and_checksums(tmp_path, src):
    result = run(tmp_path, src)
    assert result["changed"], result
    assert result["built"]
    rid = result["release_id"]
    assert release.RELEASE_ID_RE.match(rid)
    assert rid.endswith("-0123456789ab")
    path = Path(result["release_dir"])
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["alembic_head"] == "0001"
    assert manifest["api_wheel"] == "notes_api-1.0.0-py3-none-any.whl"
    assert manifest["source_hash"] == release.source_hash(str(src))
    assert release.verify_release(str(path)) == []
    with tarfile.open(path / "api.tar.gz") as api:
        assert set(api.getnames()) >= {
            "notes_api-1.0.0-py3-none-any.whl",
            "requirements.lock",
            "wheelhouse/fastapi-1.0-py3-none-any.whl",
        }
    with tarfile.open(path / "web.tar.gz") as web:
        names = set(web.getnames())
        assert {"server.js", ".next/static/chunks/main.js", "public/robots.txt"} <= names
        assert {m.uid for m in web.getmembers()} == {0}
    assert sorted(p.name for p in (tmp_path / "artifacts").iterdir()) == [".lock", rid]


def test_unchanged_source_is_not_rebuilt(tmp_path, src):
    first = run(tmp_path, src)
    log = tmp_path / "npm.log"
    again = run(tmp_path, src, env={"FAKE_NPM_LOG": str(log)})
    assert (again["changed"], again["built"]) == (False, False)
    assert again["release_id"] == first["release_id"]
    assert not log.exists()


def test_changed_source_or_tampered_artifact_is_rebuilt(tmp_path, src):
    first = run(tmp_path, src)
    with open(Path(first["release_dir"]) / "web.tar.gz", "ab") as artifact:
        artifact.write(b"tampered")
    second = run(tmp_path, src)
    assert second["built"]
    assert second["release_id"] != first["release_id"]
    (src / "web" / "page.jsx").write_text("export default 1")
    third = run(tmp_path, src)
    assert third["built"]
    assert third["release_id"] not in (first["release_id"], second["release_id"])


def test_check_mode_builds_nothing(tmp_path, src):
    result = run(tmp_path, src, check=True)
    assert result["changed"]
    assert not result["built"]
    assert not (tmp_path / "artifacts").exists()


def test_npm_ci_runs_again_only_when_the_lockfile_changes(tmp_path, src):
    log = tmp_path / "npm.log"
    run(tmp_path, src, env={"FAKE_NPM_LOG": str(log)})
    (src / "web" / "page.jsx").write_text("a")
    run(tmp_path, src, env={"FAKE_NPM_LOG": str(log)})
    (src / "web" / "package-lock.json").write_text('{"lockfileVersion": 3, "x": 1}')
    run(tmp_path, src, env={"FAKE_NPM_LOG": str(log)})
    steps = [line.split()[0] for line in log.read_text().splitlines()]
    assert steps == ["ci", "run", "run", "ci", "run"]


@pytest.mark.parametrize(
    ("fail", "step"),
    [("pip", "building the API wheel"), ("npm", "building the web app")],
)
def test_a_failed_step_is_named_and_leaves_nothing(tmp_path, src, fail, step):
    result = run(tmp_path, src, env={"FAKE_FAIL": fail})
    assert result["failed"]
    assert step in result["msg"]
    assert [p.name for p in (tmp_path / "artifacts").iterdir()] == [".lock"]


def test_neither_a_release_nor_an_app_tree_is_refused_naming_both(tmp_path, src):
    (src / "api" / "requirements.lock").unlink()
    result = run(tmp_path, src)
    assert (result["failed"], result["msg"]) == (
        True,
        f"src: {src} is neither a built release (no manifest.json) "
        "nor an application source tree (api/requirements.lock is missing)",
    )
    assert not (tmp_path / "artifacts").exists()


def test_a_missing_directory_is_named(tmp_path):
    result = run(tmp_path, tmp_path / "nowhere")
    expected = (True, f"src: {tmp_path}/nowhere is not a directory")
    assert (result["failed"], result["msg"]) == expected


def test_a_release_given_as_src_is_used_as_it_is(tmp_path, src):
    built = run(tmp_path, src)
    log = tmp_path / "npm.log"
    again = run(tmp_path, built["release_dir"], env={"FAKE_NPM_LOG": str(log)}, dest="/nonexistent")
    again.pop("invocation")
    assert again == {
        "changed": False,
        "built": False,
        "release_id": built["release_id"],
        "release_dir": built["release_dir"],
        "manifest": built["manifest"],
    }
    assert not log.exists()


def test_a_release_that_does_not_match_its_manifest_is_refused(tmp_path, src):
    built = run(tmp_path, src)
    with open(Path(built["release_dir"]) / "web.tar.gz", "ab") as artifact:
        artifact.write(b"tampered")
    result = run(tmp_path, built["release_dir"])
    assert (result["failed"], result["msg"]) == (
        True,
        f"src: {built['release_dir']} does not match its manifest.json: "
        "web.tar.gz: checksum does not match the manifest",
    )


def test_a_relative_src_is_taken_from_the_module_working_directory(tmp_path, src):
    """Where the action plugin has not made it absolute (a remote module): the module's cwd."""
    built = run(tmp_path, src)
    relative = os.path.relpath(built["release_dir"], tmp_path)
    again = run(tmp_path, relative, cwd=tmp_path)
    assert (again["changed"], again["release_dir"]) == (False, built["release_dir"])
