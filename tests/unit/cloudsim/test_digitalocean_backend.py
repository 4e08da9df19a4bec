"""The DigitalOcean simulator in-process: what it asks of its backend, and its cost at scale.

These drive the vendor object directly (no HTTP), so they need no simulator process; the
HTTP behaviour is covered by test_digitalocean_api.py.
"""

from __future__ import annotations

import pytest

from tests.cloudsim.backends import MemoryBackend
from tests.cloudsim.core import ApiError, Faults, Request
from tests.cloudsim.digitalocean import make

DROPLET = {"region": "fra1", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}


class RecordingBackend(MemoryBackend):
    """A memory backend that also runs "load balancers" and notes every call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []
        self.lbs: dict[str, tuple] = {}

    def create(self, key, name, ssh_keys, user_data):
        self.calls.append(("create", key, name, tuple(ssh_keys), user_data))
        return super().create(key, name, ssh_keys, user_data)

    def power(self, machine, on):
        self.calls.append(("power", machine.key, on))
        super().power(machine, on)

    def rebuild(self, machine, ssh_keys):
        self.calls.append(("rebuild", machine.key, tuple(ssh_keys)))
        super().rebuild(machine, ssh_keys)

    def delete(self, machine):
        self.calls.append(("delete", machine.key))
        super().delete(machine)

    def lb_create(self, key):
        self.lbs[key] = ((), ())
        return "127.99.0.1"

    def lb_set(self, key, services, targets):
        self.lbs[key] = (tuple(services), tuple(targets))

    def lb_delete(self, key):
        del self.lbs[key]


class Direct:
    """Requests straight to the vendor's router, as the HTTP layer would pass them."""

    def __init__(self, backend=None) -> None:
        self.faults = Faults()
        self.backend = backend or MemoryBackend()
        self.vendor = make(self.faults, self.backend)

    def __call__(self, method: str, path: str, body=None, **query):
        handler, params = self.vendor.router.match(method, path)
        self.vendor.tick()
        request = Request(
            method, path, {k: [str(v)] for k, v in query.items()}, {"host": "sim"}, body, params
        )
        return handler(request).body


def test_droplets_drive_the_backend():
    backend = RecordingBackend()
    api = Direct(backend)
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEi0Wq4vPZZJUPdCsVeFQVJpFD8fbyYrVpkN2ecBHmJO x"
    api("POST", "/account/keys", {"name": "k", "public_key": key})
    droplet = api(
        "POST", "/droplets", {"name": "d-1", **DROPLET, "ssh_keys": [1000], "user_data": "#!"}
    )["droplet"]
    machine_key = f"digitalocean-{droplet['id']}"
    assert backend.calls[0] == ("create", machine_key, "d-1", (key,), "#!")

    api("POST", f"/droplets/{droplet['id']}/actions", {"type": "power_off"})
    assert backend.calls[-1] == ("power", machine_key, False)
    assert api("GET", f"/droplets/{droplet['id']}")["droplet"]["status"] == "off"
    api("POST", f"/droplets/{droplet['id']}/actions", {"type": "rebuild", "image": "fedora-40-x64"})
    assert backend.calls[-1] == ("rebuild", machine_key, (key,))

    api("POST", "/droplets", {"name": "d-2", **DROPLET})
    api.vendor.reset()
    assert [c for c in backend.calls if c[0] == "delete"] == [
        ("delete", machine_key),
        ("delete", f"digitalocean-{droplet['id'] + 1}"),
    ]


def test_backend_failure_is_a_server_error():
    class Broken(MemoryBackend):
        def create(self, key, name, ssh_keys, user_data):
            raise RuntimeError("podman said no")

    api = Direct(Broken())
    with pytest.raises(ApiError) as failed:
        api("POST", "/droplets", {"name": "d-1", **DROPLET})
    assert failed.value.status == 500
    assert "podman said no" in api.vendor.error_body(failed.value)["message"]


def test_backend_failure_during_an_action_errs_the_action():
    class Stuck(MemoryBackend):
        def power(self, machine, on):
            raise RuntimeError("container will not stop")

    api = Direct(Stuck())
    droplet = api("POST", "/droplets", {"name": "d-1", **DROPLET})["droplet"]
    action = api("POST", f"/droplets/{droplet['id']}/actions", {"type": "power_off"})["action"]
    assert action["status"] == "errored"
    assert api("GET", f"/actions/{action['id']}")["action"]["status"] == "errored"
    assert api("GET", f"/droplets/{droplet['id']}")["droplet"]["status"] == "active"


def test_load_balancer_targets_follow_droplets_and_tags():
    backend = RecordingBackend()
    api = Direct(backend)
    web = [
        api("POST", "/droplets", {"name": f"w-{i}", **DROPLET, "tags": ["web"]})["droplet"]
        for i in range(2)
    ]
    addresses = {
        d["id"]: api("GET", f"/droplets/{d['id']}")["droplet"]["networks"]["v4"][0]["ip_address"]
        for d in web
    }
    rules = [
        {"entry_protocol": "http", "entry_port": 80, "target_protocol": "http", "target_port": 8000}
    ]
    lb = api(
        "POST", "/load_balancers", {"region": "fra1", "forwarding_rules": rules, "tag": "web"}
    )["load_balancer"]
    key = "digitalocean-lb-1"
    assert backend.lbs[key] == (((80, 8000),), tuple(sorted(addresses.values())))
    assert api("GET", f"/load_balancers/{lb['id']}")["load_balancer"]["ip"] == "127.99.0.1"

    # untagging a droplet drains it from the proxy by the next request
    first = web[0]["id"]
    api(
        "DELETE",
        "/tags/web/resources",
        {"resources": [{"resource_id": str(first), "resource_type": "droplet"}]},
    )
    api("GET", "/droplets")
    assert backend.lbs[key][1] == (addresses[web[1]["id"]],)

    api("DELETE", f"/load_balancers/{lb['id']}")
    assert key not in backend.lbs


def test_listing_5000_droplets_by_tag_renders_each_tagged_droplet_once():
    """The inventory benchmark's load: 5,000 droplets, half of them tagged, read by tag.

    What keeps it fast, counted rather than timed (the time is in ``make bench``): every
    droplet is rendered once when created and once on the page that lists it, never for the
    pages around it, and finished actions are not looked at again on each request.
    """
    api = Direct()
    rendered: list[int] = []
    render = api.vendor.droplets.render

    def counting_render(droplet):
        rendered.append(droplet.id)
        return render(droplet)

    api.vendor.droplets.render = counting_render
    for batch in range(500):
        names = [f"b-{batch}-{i}" for i in range(10)]
        tags = ["bench"] if batch % 2 == 0 else ["other"]
        api("POST", "/droplets", {"names": names, **DROPLET, "tags": tags})
    assert len(rendered) == len(set(rendered)) == 5000
    assert api.vendor.actions.pending == {}  # 5,000 finished create actions, none to tick

    rendered.clear()
    seen, page = [], 1
    while True:
        body = api("GET", "/droplets", tag_name="bench", per_page=200, page=page)
        seen += [droplet["id"] for droplet in body["droplets"]]
        if "next" not in body["links"].get("pages", {}):
            break
        page += 1
    assert (page, len(seen), body["meta"]["total"]) == (13, 2500, 2500)
    assert rendered == seen  # each listed droplet rendered once, in page order
    assert len(set(seen)) == 2500
