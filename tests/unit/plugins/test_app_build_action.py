"""The app_build action plugin: an intact release of the same source answers on the controller;
anything else (another source, a changed artifact, force, a remote connection) runs the module."""

from __future__ import annotations

import json
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
    """The action's result, and whether it ran the module."""
    ran = []
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    action = object.__new__(app_build.ActionModule)
    action._task = SimpleNamespace(args=args)
    action._connection = SimpleNamespace(transport=transport)
    action._execute_module = lambda task_vars=None: ran.append(True) or {"changed": True}
    return action.run(task_vars={}), bool(ran)


def test_an_intact_release_of_the_same_source_answers_without_the_module(monkeypatch, tree):
    result, ran = run_action(monkeypatch, {"src": str(tree.src), "dest": str(tree.dest)})
    assert not ran
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
    assert ran
    assert result == {"changed": True}
