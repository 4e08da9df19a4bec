"""Make this checkout importable as ``ansible_collections.sigma.deploy`` for the plugin tests,
and give them fakes of what the plugins talk to (an HTTP session, a clock, a module)."""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _collection_root() -> str:
    base = Path(tempfile.mkdtemp(prefix="sigma-collections-"))
    atexit.register(shutil.rmtree, base, True)  # removes the link, never what it points to
    (base / "ansible_collections" / "sigma").mkdir(parents=True)
    (base / "ansible_collections" / "sigma" / "deploy").symlink_to(ROOT)
    return str(base)


if "ansible_collections.sigma.deploy" not in sys.modules:
    sys.path.insert(0, _collection_root())

from tests.unit.plugins.fakes import FakeClock, FakeModule, FakeSession  # noqa: E402


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def session() -> FakeSession:
    return FakeSession()


@pytest.fixture
def make_module():
    return FakeModule
