"""The app_build action plugin: relative paths are taken from where ansible-playbook runs (its
working directory), not from the playbook's directory where Ansible runs local modules; a
release directory, or an intact release of the same source, answers on the controller; anything
else (another source, a changed artifact, force, a remote connection) runs the module."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest
from ansible.plugins.action import ActionBase

from ansible_collections.sigma.deploy.plugins.action import app_build
from ansible_collections.sigma.deploy.plugins.module_utils.deploy import release


def write(path, text: str = "x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def tree(tmp_path):
    src, dest = tmp_path / "app", tmp_path / "artifacts"
    write(src / "api" / "requirements.lock", "fastapi==0.115.0\n")
    write(src / "web" / "package.json", "{}")
    write(src / "web" / "package-lock.json", "{}")
    rid = "20261128T060000Z-abc"
    write(dest / rid / "api.tar.gz", "api")
    manifest = {
        "release_id": rid,
        "source_hash": release.source_hash(str(src)),
        "files": {"api.tar.gz": release.sha256_file(str(dest / rid / "api.tar.gz"))},
    }
    write(dest / rid / release.MANIFEST, json.dumps(manifest))
    return SimpleNamespace(src=src, dest=dest, release_dir=str(dest / rid), rid=rid)


def run_action(monkeypatch, args, transport="local"):
    """The action's result, and the arguments it ran the module with (None: it did not)."""
    ran = []
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    action = object.__new__(app_build.ActionModule)
    action._task = SimpleNamespace(args=args)
    action._connection = SimpleNamespace(transport=transport)

    def execute_module(module_args=None, task_vars=None):
        ran.append(module_args)
        return {"changed": True}

    action._execute_module = execute_module
    return action.run(task_vars={}), (ran[0] if ran else None)


def test_an_intact_release_of_the_same_source_answers_without_the_module(monkeypatch, tree):
    result, ran = run_action(monkeypatch, {"src": str(tree.src), "dest": str(tree.dest)})
    assert ran is None
    assert (result["changed"], result["built"]) == (False, False)
    assert (result["release_id"], result["release_dir"]) == (tree.rid, tree.release_dir)
    assert result["manifest"]["release_id"] == tree.rid


@pytest.mark.parametrize("case", ["changed source", "changed artifact", "force", "remote"])
def test_anything_else_runs_the_module(monkeypatch, tree, case):
    args = {"src": str(tree.src), "dest": str(tree.dest)}
    transport = "local"
    if case == "changed source":
        write(tree.src / "api" / "main.py", "app = 1\n")
    elif case == "changed artifact":
        write(tree.dest / tree.rid / "api.tar.gz", "tampered")
    elif case == "force":
        args["force"] = "yes"
    else:
        transport = "ssh"
    result, ran = run_action(monkeypatch, args, transport)
    assert ran == args
    assert result == {"changed": True}


def test_a_relative_release_dir_is_the_release_from_where_the_run_started(monkeypatch, tree):
    """-e release=artifacts/<id>, run from tmp_path: that release, as it is, without the module."""
    monkeypatch.chdir(tree.src.parent)
    args = {"src": f"artifacts/{tree.rid}", "dest": "elsewhere"}
    result, ran = run_action(monkeypatch, args)
    assert ran is None
    assert result == {
        "changed": False,
        "built": False,
        "release_id": tree.rid,
        "release_dir": tree.release_dir,
        "manifest": json.loads((tree.dest / tree.rid / release.MANIFEST).read_text()),
    }


def test_a_relative_source_dir_is_built_from_where_the_run_started(monkeypatch, tree):
    monkeypatch.chdir(tree.src.parent)
    write(tree.src / "api" / "main.py", "app = 1\n")  # no release of this source yet
    args = {"src": "app", "dest": "~/artifacts", "app": "notes"}
    result, ran = run_action(monkeypatch, args)
    assert ran == {
        "src": str(tree.src),
        "dest": os.path.expanduser("~/artifacts"),
        "app": "notes",
    }
    assert result == {"changed": True}


def test_neither_a_release_nor_a_source_tree_is_left_to_the_module_with_its_path(
    monkeypatch, tmp_path
):
    (tmp_path / "notes").mkdir()
    monkeypatch.chdir(tmp_path)
    result, ran = run_action(monkeypatch, {"src": "notes", "dest": "artifacts"})
    assert ran == {"src": str(tmp_path / "notes"), "dest": str(tmp_path / "artifacts")}
    assert result == {"changed": True}


def test_a_remote_module_gets_the_paths_as_written(monkeypatch, tree):
    monkeypatch.chdir(tree.src.parent)
    args = {"src": "app", "dest": "artifacts"}
    _result, ran = run_action(monkeypatch, args, transport="ssh")
    assert ran == {"src": "app", "dest": "artifacts"}


@pytest.mark.parametrize(
    ("path", "cwd", "expected"),
    [
        ("rel/x", "/run", "/run/rel/x"),
        ("/abs/x", "/run", "/abs/x"),
        ("../x", "/run/here", "/run/here/../x"),
    ],
)
def test_resolve(path, cwd, expected):
    assert app_build.resolve(path, cwd) == expected
