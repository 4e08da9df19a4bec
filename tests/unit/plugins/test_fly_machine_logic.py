"""fly_machine's steps on a small in-memory Machines API: which calls it makes in which order,
the lease around every change (released whatever happens), check mode and the diff."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.fly.shapes import config_matches, covers
from ansible_collections.sigma.deploy.plugins.modules.fly_machine import FlyMachine
from tests.unit.plugins.fakes import FakeClock, FakeModule

DEFAULTS = {"guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256}, "restart": {}}


class FakeFly:
    """Just enough of FlyClient: machines of app ``shop``, every call recorded; Fly's defaults
    filled into configs; ``fail`` makes the named method raise once."""

    def __init__(self, *machines):
        self.clock = FakeClock()
        self.machines = {m["id"]: copy.deepcopy(m) for m in machines}
        self.calls = []
        self.fail = {}
        self.leased = None

    def _record(self, name, *args):
        self.calls.append((name, *args))
        if name in self.fail:
            raise self.fail.pop(name)

    def list_machines(self, app):
        self._record("list", app)
        if app != "shop":
            raise ApiError("Fly", 404, "not_found", "app not found", "app")
        return copy.deepcopy(list(self.machines.values()))

    def get_machine(self, app, mid):
        return copy.deepcopy(self.machines[mid])

    def create_machine(self, app, body, nonce=None):
        self._record("create", body.get("skip_launch", False))
        config = dict(copy.deepcopy(DEFAULTS), **body["config"])
        state = "stopped" if body.get("skip_launch") else "started"
        machine = {"id": "m-new", "name": body["name"], "region": body.get("region", "iad")}
        self.machines["m-new"] = dict(machine, state=state, config=config, instance_id="i-1")
        return copy.deepcopy(self.machines["m-new"])

    def update_machine(self, app, mid, body, nonce):
        self._record("update", mid, nonce)
        self.machines[mid]["config"] = body["config"]
        self.machines[mid]["instance_id"] = "i-2"
        return copy.deepcopy(self.machines[mid])

    def start_machine(self, app, mid, nonce=None):
        self._record("start", mid, nonce)
        self.machines[mid]["state"] = "started"

    def stop_machine(self, app, mid, signal=None, timeout=None, nonce=None):
        self._record("stop", mid, nonce)
        self.machines[mid]["state"] = "stopped"

    def delete_machine(self, app, mid, force=False, nonce=None):
        self._record("delete", mid, force, nonce)
        del self.machines[mid]

    def wait_machine(self, app, mid, state, instance_id=None, timeout_s=60):
        self._record("wait", mid, state, instance_id)

    def set_metadata(self, app, mid, key, value):
        self._record("metadata", key, value)
        self.machines[mid]["config"].setdefault("metadata", {})[key] = value

    def acquire_lease(self, app, mid, ttl_s=30, description=""):
        self._record("lease", mid, ttl_s)
        self.leased = mid
        return "nonce-1"

    def release_lease(self, app, mid, nonce):
        self._record("release", mid, nonce)
        self.leased = None


WEB = {
    "id": "m1",
    "name": "web",
    "region": "ams",
    "state": "started",
    "instance_id": "i-1",
    "config": dict(copy.deepcopy(DEFAULTS), image="shop:r1", env={"A": "1"}),
}


def params(**given):
    base = {
        "app": "shop",
        "id": None,
        "name": "web",
        "region": None,
        "config": None,
        "metadata": None,
        "skip_service_registration": False,
        "state": "present",
        "force": False,
        "lease_ttl": 60,
        "wait": True,
        "wait_timeout": 120,
    }
    return dict(base, **given)


def run(api, check=False, **given):
    return FlyMachine(FakeModule(params(**given), check_mode=check), client=api).run()


def test_config_match_ignores_fly_defaults_but_not_a_removed_env_key():
    current = WEB["config"]
    assert config_matches(current, {"image": "shop:r1", "guest": {"cpus": 1}})
    assert not config_matches(current, {"env": {}})
    assert not config_matches(current, {"guest": {"cpus": 2}})
    assert covers([{"port": 80, "handlers": ["http"]}], [{"port": 80}])
    assert not covers([{"port": 80}, {"port": 443}], [{"port": 80}])


def test_create_starts_and_waits_for_the_new_instance():
    api = FakeFly()
    result = run(api, config={"image": "shop:r2"}, region="ams")
    assert api.calls == [("list", "shop"), ("create", False), ("wait", "m-new", "started", "i-1")]
    assert result["changed"] is True
    assert result["fly_machine"]["image"] == "shop:r2"
    assert result["diff"]["before"] == {}


def test_create_in_check_mode_calls_nothing_that_changes():
    api = FakeFly()
    result = run(api, check=True, config={"image": "shop:r2"}, state="stopped")
    assert api.calls == [("list", "shop")]
    assert result["changed"] is True
    assert result["diff"]["after"]["state"] == "stopped"
    assert result["fly_machine"]["id"] is None


def test_a_create_without_an_image_is_refused_before_any_change():
    api = FakeFly()
    with pytest.raises(ApiError) as caught:
        run(api, config={"env": {"A": "1"}})
    assert str(caught.value) == "config.image is required to create a machine"
    assert api.calls == [("list", "shop")]


def test_the_same_config_again_changes_nothing():
    api = FakeFly(WEB)
    result = run(api, config={"image": "shop:r1", "env": {"A": "1"}, "guest": {"cpus": 1}})
    assert result["changed"] is False
    assert api.calls == [("list", "shop")]


def test_an_update_holds_the_lease_and_waits_for_the_new_version():
    api = FakeFly(WEB)
    result = run(api, config={"image": "shop:r2"})
    assert api.calls == [
        ("list", "shop"),
        ("lease", "m1", 60),
        ("update", "m1", "nonce-1"),
        ("wait", "m1", "started", "i-2"),
        ("release", "m1", "nonce-1"),
    ]
    assert result["diff"]["before"]["config"]["image"] == "shop:r1"
    assert result["diff"]["after"]["config"]["image"] == "shop:r2"
    assert result["diff"]["after"]["config"]["env"] == {"A": "1"}  # keys not given are kept


def test_the_lease_is_released_when_the_update_fails():
    api = FakeFly(WEB)
    api.fail["update"] = ApiError("Fly", 400, "invalid", "invalid config.guest.cpus: 3", "x")
    with pytest.raises(ApiError):
        run(api, config={"guest": {"cpus": 3}})
    assert api.calls[-1] == ("release", "m1", "nonce-1")
    assert api.leased is None
    assert api.machines["m1"]["config"]["guest"]["cpus"] == 1


def test_metadata_alone_is_set_without_a_lease_or_restart():
    api = FakeFly(WEB)
    result = run(api, metadata={"role": "web", "n": 1})
    assert api.calls == [("list", "shop"), ("metadata", "role", "web"), ("metadata", "n", "1")]
    assert result["fly_machine"]["metadata"] == {"role": "web", "n": "1"}
    again = run(api, metadata={"role": "web"})
    assert again["changed"] is False


def test_stop_then_start_each_under_a_lease():
    api = FakeFly(WEB)
    stopped = run(api, state="stopped")
    assert api.calls[1:] == [
        ("lease", "m1", 60),
        ("stop", "m1", "nonce-1"),
        ("wait", "m1", "stopped", None),
        ("release", "m1", "nonce-1"),
    ]
    assert stopped["fly_machine"]["state"] == "stopped"
    assert run(api, state="stopped")["changed"] is False


def test_absent_stops_first_unless_forced():
    api = FakeFly(WEB)
    result = run(api, state="absent")
    assert [c[0] for c in api.calls] == ["list", "lease", "stop", "wait", "delete", "release"]
    assert result["fly_machine"] == {}
    api = FakeFly(WEB)
    run(api, state="absent", force=True)
    assert [c[0] for c in api.calls] == ["list", "lease", "delete", "release"]
    assert api.calls[2] == ("delete", "m1", True, "nonce-1")


def test_a_new_machine_that_never_starts_is_destroyed():
    api = FakeFly()
    api.fail["wait"] = ApiError("Fly", 408, "timeout", "machine m-new not started", "wait_timeout")
    with pytest.raises(ApiError) as caught:
        run(api, config={"image": "shop:missing"})
    assert api.calls[-1] == ("delete", "m-new", True, None)
    assert api.machines == {}
    assert caught.value.message.endswith("the new machine was destroyed again")


def test_an_unknown_app_is_an_error_naming_app():
    api = FakeFly()
    with pytest.raises(ApiError) as caught:
        run(api, app="ghost", config={"image": "x"})
    assert (caught.value.status, caught.value.field) == (404, "app")
    assert caught.value.message == "app 'ghost' not found"


def test_two_machines_with_the_name_need_an_id():
    twin = dict(copy.deepcopy(WEB), id="m2")
    with pytest.raises(ApiError) as caught:
        run(FakeFly(WEB, twin))
    assert "(ids m1, m2)" in str(caught.value)
