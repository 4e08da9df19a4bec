"""Make this checkout importable as ``ansible_collections.sigma.deploy`` for the plugin tests,
and give them fakes of what the plugins talk to (an HTTP session, a clock, a module)."""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

ROOT = Path(__file__).resolve().parents[3]


def _collection_root() -> str:
    base = Path(tempfile.mkdtemp(prefix="sigma-collections-"))
    atexit.register(shutil.rmtree, base, True)  # removes the link, never what it points to
    (base / "ansible_collections" / "sigma").mkdir(parents=True)
    (base / "ansible_collections" / "sigma" / "deploy").symlink_to(ROOT)
    return str(base)


if "ansible_collections.sigma.deploy" not in sys.modules:
    sys.path.insert(0, _collection_root())

from tests.unit.plugins.fakes import (  # noqa: E402
    Exited,
    Failed,
    FakeClock,
    FakeModule,
    FakeSession,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def session() -> FakeSession:
    return FakeSession()


@pytest.fixture
def make_module():
    return FakeModule


@pytest.fixture
def run(monkeypatch):
    """Run a module's main() with these params; its result, with ``warnings`` and ``failed``."""
    warnings: list[str] = []

    def exit_json(unused_self, **result):
        raise Exited(result)

    def fail_json(unused_self, msg, **result):
        raise Failed(dict(result, msg=msg))

    monkeypatch.setattr(AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(AnsibleModule, "warn", lambda unused_self, msg, **kw: warnings.append(msg))

    def run(module, check=False, **params):
        warnings.clear()
        with patch_module_args({**params, "_ansible_check_mode": check}):
            try:
                module.main()
            except Exited as done:
                return dict(done.result, failed=False, warnings=list(warnings))
            except Failed as failed:
                return dict(failed.result, failed=True, warnings=list(warnings))
        raise AssertionError("the module returned without exit_json or fail_json")

    return run
