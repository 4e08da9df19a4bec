"""podman_ipam.allocator_kept puts host-local's position back after a static start."""

from __future__ import annotations

import pytest

from tests.cloudsim.podman_ipam import allocator_kept

NET = "sigma-deploy"


def _state(tmp_path, last: str | None):
    directory = tmp_path / NET
    directory.mkdir()
    (directory / "lock").touch()
    if last is not None:
        (directory / "last_reserved_ip.0").write_text(last)
    return directory / "last_reserved_ip.0"


def test_position_is_put_back_after_a_static_start(tmp_path):
    last = _state(tmp_path, "10.89.213.11")
    with allocator_kept(NET, "10.89.213.254", state=tmp_path):
        last.write_text("10.89.213.254")  # what host-local does on the static reservation
    assert last.read_text() == "10.89.213.11"


def test_a_later_allocation_is_left_alone(tmp_path):
    last = _state(tmp_path, "10.89.213.11")
    with allocator_kept(NET, "10.89.213.254", state=tmp_path):
        last.write_text("10.89.213.254")
        last.write_text("10.89.213.12")  # another container got an address meanwhile
    assert last.read_text() == "10.89.213.12"


def test_no_position_before_means_none_after(tmp_path):
    last = _state(tmp_path, None)
    with allocator_kept(NET, "10.89.213.254", state=tmp_path):
        last.write_text("10.89.213.254")
    assert not last.exists()


def test_a_failed_start_changes_nothing(tmp_path):
    last = _state(tmp_path, "10.89.213.11")
    with pytest.raises(RuntimeError), allocator_kept(NET, "10.89.213.254", state=tmp_path):
        raise RuntimeError("podman start failed")
    assert last.read_text() == "10.89.213.11"


def test_without_cni_state_nothing_is_done(tmp_path):
    with allocator_kept(NET, "10.89.213.254", state=tmp_path):
        pass
    assert list(tmp_path.iterdir()) == []
