"""Slow backend work (podman removing a container) runs outside the simulator's lock: other
requests are answered meanwhile, and the lock is the simulator's again afterwards."""

from __future__ import annotations

import threading

import pytest

from tests.cloudsim.backends import MemoryBackend
from tests.cloudsim.core import Faults, outside
from tests.cloudsim.server import Simulator


def test_outside_releases_every_level_of_the_lock_and_takes_it_back():
    lock = threading.RLock()
    taken_elsewhere = threading.Event()

    def other() -> None:
        with lock:
            taken_elsewhere.set()

    with lock, lock:  # held twice, as a handler inside a vendor's tick may hold it
        with outside(lock):
            thread = threading.Thread(target=other)
            thread.start()
            thread.join(timeout=5)
            assert taken_elsewhere.is_set()
        assert lock._is_owned()
    assert not lock._is_owned()


def test_outside_a_lock_not_held_is_a_plain_block():
    lock = threading.RLock()
    with outside(lock):
        assert not lock._is_owned()
    with outside(None):
        pass


class SlowDelete(MemoryBackend):
    """A backend whose delete waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.deleting = threading.Event()
        self.go_on = threading.Event()

    def delete(self, machine) -> None:
        self.deleting.set()
        assert self.go_on.wait(timeout=10), "the test never let the delete finish"
        super().delete(machine)


@pytest.mark.parametrize("vendor_name", ["hetzner", "digitalocean"])
def test_a_slow_delete_does_not_stop_other_requests(vendor_name):
    import importlib

    backend = SlowDelete()
    made = importlib.import_module(f"tests.cloudsim.{vendor_name}").make(Faults(), backend)
    sim = Simulator([made], Faults(), "t")
    auth = {"authorization": "Bearer t"}
    if vendor_name == "hetzner":
        body = b'{"name": "s1", "server_type": "cx22", "image": "debian-12"}'
        created = sim.handle("POST", "/hetzner/v1/servers", auth, body)
        path, listing = f"/hetzner/v1/servers/{created.body['server']['id']}", "/hetzner/v1/servers"
    else:
        body = b'{"name": "s1", "size": "s-1vcpu-1gb", "image": "debian-12-x64", "region": "fra1"}'
        created = sim.handle("POST", "/digitalocean/v2/droplets", auth, body)
        path = f"/digitalocean/v2/droplets/{created.body['droplet']['id']}"
        listing = "/digitalocean/v2/droplets"
    assert created.status in (201, 202), created.body
    deleter = threading.Thread(target=lambda: sim.handle("DELETE", path, auth, b""))
    deleter.start()
    if vendor_name == "hetzner":  # the action finishes on the next request's tick
        threading.Thread(target=lambda: sim.handle("GET", listing, auth, b"")).start()
    assert backend.deleting.wait(timeout=10)
    answers = []
    reader = threading.Thread(target=lambda: answers.append(sim.handle("GET", listing, auth, b"")))
    reader.start()
    reader.join(timeout=5)  # while the delete is still at work
    in_time = list(answers)
    backend.go_on.set()
    deleter.join(timeout=10)
    reader.join(timeout=10)
    assert len(in_time) == 1, "the listing waited for the backend's delete"
    assert in_time[0].status == 200
    key = "servers" if vendor_name == "hetzner" else "droplets"
    assert in_time[0].body[key] == []
