"""The services module's main() against a fake systemctl (run_command patched)."""

from __future__ import annotations

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sigma.deploy.plugins.modules import services


class FakeSystemctl:
    """Units as {name: [is-enabled answer, is-active answer]}; records the changing calls."""

    def __init__(self, units, fail=None):
        self.units = units
        self.fail = fail or {}  # "start x.service" -> stderr
        self.calls: list[str] = []

    def __call__(self, unused_module, args, **unused_kw):
        verb, *rest = args[1:]
        unit = rest[0] if rest else ""
        if verb in ("is-enabled", "is-active"):
            if unit not in self.units:
                return 1, "", f"Failed to get unit file state for {unit}: No such file or directory"
            answer = self.units[unit][0 if verb == "is-enabled" else 1]
            return (0 if answer in ("enabled", "static", "active") else 1), answer + "\n", ""
        call = " ".join([verb, *rest])
        self.calls.append(call)
        if call in self.fail:
            return 1, "", self.fail[call]
        if unit in self.units:
            state = self.units[unit]
            state[0] = {"enable": "enabled", "disable": "disabled"}.get(verb, state[0])
            state[1] = {"start": "active", "stop": "inactive"}.get(verb, state[1])
        return 0, "", ""


@pytest.fixture
def systemctl(monkeypatch):
    def install(units, fail=None):
        fake = FakeSystemctl(units, fail)
        monkeypatch.setattr(AnsibleModule, "run_command", lambda self, args, **kw: fake(self, args))
        monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda *a, **kw: "/bin/systemctl")
        return fake

    return install


def test_enables_and_starts_what_is_not_then_nothing_to_do(run, systemctl):
    fake = systemctl(
        {
            "nftables.service": ["disabled", "inactive"],
            "systemd-timesyncd.service": ["enabled", "active"],
            "notes-backup.timer": ["static", "inactive"],
        }
    )
    units = [
        {"name": "nftables", "enabled": True, "state": "started"},
        {"name": "systemd-timesyncd", "enabled": True, "state": "started"},
        {"name": "notes-backup.timer", "enabled": True, "state": "started"},
    ]
    first = run(services, units=units)
    assert (first["failed"], first["changed"]) == (False, True)
    assert first["changed_units"] == ["nftables.service", "notes-backup.timer"]
    assert fake.calls == ["enable nftables.service", "start nftables.service",
                          "start notes-backup.timer"]  # fmt: skip
    assert first["units"][2] == {"name": "notes-backup.timer", "enabled": "static",
                                 "active": "active"}  # fmt: skip
    fake.calls.clear()
    again = run(services, units=units)
    assert (again["changed"], again["changed_units"], fake.calls) == (False, [], [])


def test_stops_and_disables_and_leaves_what_is_not_asked(run, systemctl):
    fake = systemctl({"a.service": ["enabled", "active"], "b@blue.service": ["enabled", "failed"]})
    result = run(
        services,
        units=[{"name": "a", "enabled": False, "state": "stopped"}, {"name": "b@blue"}],
    )
    assert result["changed_units"] == ["a.service"]
    assert fake.calls == ["disable a.service", "stop a.service"]
    assert result["units"][1] == {
        "name": "b@blue.service",
        "enabled": "enabled",
        "active": "failed",
    }


def test_check_mode_changes_nothing_and_says_what_would_change(run, systemctl):
    fake = systemctl({"nginx.service": ["disabled", "inactive"]})
    result = run(services, check=True, daemon_reload=True,
                 units=[{"name": "nginx", "enabled": True, "state": "started"}])  # fmt: skip
    assert (result["changed"], result["changed_units"]) == (True, ["nginx.service"])
    assert fake.calls == []


def test_a_unit_that_fails_to_start_fails_the_task_naming_it(run, systemctl):
    fake = systemctl(
        {"one.service": ["disabled", "inactive"], "two.service": ["enabled", "inactive"]},
        fail={"start two.service": "Job for two.service failed because the control process exited"},
    )
    result = run(services, daemon_reload=True, units=[
        {"name": "one", "enabled": True}, {"name": "two", "state": "started"},
    ])  # fmt: skip
    assert result["failed"]
    assert result["msg"] == (
        "systemctl start two.service failed: Job for two.service failed because the control"
        " process exited"
    )
    assert result["changed_units"] == ["one.service"]
    assert fake.calls == ["daemon-reload", "enable one.service", "start two.service"]


def test_a_missing_unit_fails_when_it_must_be_enabled(run, systemctl):
    systemctl(
        {},
        fail={
            "enable nope.service": "Failed to enable unit: Unit file nope.service does not exist."
        },
    )
    result = run(services, units=[{"name": "nope", "enabled": True}])
    assert result["failed"]
    assert "systemctl enable nope.service failed: Failed to enable unit" in result["msg"]


def test_a_failed_call_fails_once_with_what_was_done_before_it(run, systemctl):
    systemctl(
        {"one.service": ["disabled", "inactive"], "two.service": ["enabled", "inactive"]},
        fail={"start two.service": "Job for two.service failed"},
    )
    result = run(services, units=[
        {"name": "one", "enabled": True}, {"name": "two", "state": "started"},
    ])  # fmt: skip
    assert result == {
        "msg": "systemctl start two.service failed: Job for two.service failed",
        "changed": True,
        "changed_units": ["one.service"],
        "units": [{"name": "one.service", "enabled": "enabled", "active": "inactive"}],
        "failed": True,
        "warnings": [],
    }
