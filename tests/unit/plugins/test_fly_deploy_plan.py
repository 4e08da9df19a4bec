"""fly_deploy's pure half: machine configs, what machines say about themselves, the plan."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.fly import deploy_plan as dp

OLD, NEW = "registry.fly.io/notes:1", "registry.fly.io/notes:2"
CHECKS = {"http": {"type": "http", "port": 8080, "path": "/healthz"}}


def machine(mid, image=OLD, release="r1", state="started", checks="passing", region="ams"):
    reported = [] if checks is None else [{"name": "http", "status": checks}]
    return {
        "id": mid,
        "region": region,
        "state": state,
        "config": {
            "image": image,
            "checks": CHECKS,
            "metadata": {"fly_process_group": "app", "sigma_release": release},
        },
        "checks": reported,
    }


# --- configs ----------------------------------------------------------------------------------


def test_machine_config_sets_image_and_release_over_the_template():
    template = {
        "env": {"PORT": "8080"},
        "guest": {"cpus": 1, "memory_mb": 256, "cpu_kind": "shared"},
        "checks": CHECKS,
        "metadata": {"team": "notes", "sigma_release": "ignored"},
    }
    assert dp.machine_config(template, NEW, "r2") == {
        "env": {"PORT": "8080"},
        "guest": {"cpus": 1, "memory_mb": 256, "cpu_kind": "shared"},
        "checks": CHECKS,
        "image": NEW,
        "metadata": {"team": "notes", "fly_process_group": "app", "sigma_release": "r2"},
    }


def test_an_update_keeps_what_the_template_does_not_name():
    base = {
        "image": OLD,
        "mounts": [{"volume": "vol_1", "path": "/data"}],
        "env": {"OLD": "1"},
        "metadata": {"fly_process_group": "app", "sigma_release": "r1", "owner": "ops"},
    }
    assert dp.machine_config({"env": {"NEW": "1"}}, NEW, "r2", base=base) == {
        "image": NEW,
        "mounts": [{"volume": "vol_1", "path": "/data"}],
        "env": {"NEW": "1"},
        "metadata": {"fly_process_group": "app", "sigma_release": "r2", "owner": "ops"},
    }
    assert base["image"] == OLD  # the machine's own copy is not touched


def test_release_command_config():
    template = {"env": {"DATABASE_URL": "x"}, "guest": {"cpus": 1}, "services": [{"x": 1}]}
    assert dp.release_command_config(template, NEW, "r2", ["notes-api-migrate"]) == {
        "image": NEW,
        "init": {"cmd": ["notes-api-migrate"]},
        "restart": {"policy": "no"},
        "auto_destroy": True,
        "metadata": {"fly_process_group": "fly_app_release_command", "sigma_release": "r2"},
        "env": {"DATABASE_URL": "x"},
        "guest": {"cpus": 1},
    }


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, False),
        ({"checks": CHECKS}, True),
        ({"services": [{"internal_port": 8080}]}, False),
        ({"services": [{"internal_port": 8080, "checks": [{"type": "tcp"}]}]}, True),
    ],
)
def test_has_checks(config, expected):
    assert dp.has_checks(config) is expected


# --- reading machines -------------------------------------------------------------------------


def test_health():
    assert dp.is_healthy(machine("a"))
    assert not dp.is_healthy(machine("a", checks="critical"))
    assert not dp.is_healthy(machine("a", checks=None))  # checks configured, none reported yet
    assert not dp.is_healthy(machine("a", state="stopped"))
    no_checks = {"id": "a", "state": "started", "config": {"image": OLD}}
    assert dp.is_healthy(no_checks)


def test_app_machines_leave_out_other_groups_and_the_dead():
    release_cmd = machine("b")
    release_cmd["config"]["metadata"]["fly_process_group"] = "fly_app_release_command"
    no_group = {"id": "c", "state": "stopped", "config": {"image": OLD}}
    found = dp.app_machines([machine("d"), release_cmd, no_group, machine("a", state="destroyed")])
    assert [m["id"] for m in found] == ["c", "d"]


def test_shape_machine():
    assert dp.shape_machine(machine("a", image=NEW, release="r2")) == {
        "id": "a",
        "region": "ams",
        "state": "started",
        "image": NEW,
        "release_id": "r2",
    }


def test_serving_release_is_what_most_started_machines_run():
    machines = [
        machine("a", image=NEW, release="r2", state="stopped"),
        machine("b"),
        machine("c"),
        machine("d", image=NEW, release="r2"),
    ]
    assert dp.serving_release(machines) == {"release_id": "r1", "image": OLD}
    assert dp.serving_release([machine("a", state="stopped")]) == {
        "release_id": "r1",
        "image": OLD,
    }
    assert dp.serving_release([]) is None


# --- batches ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "max_unavailable", "size"),
    [(3, 1, 1), (3, 2, 2), (3, 0.33, 1), (3, 0.5, 2), (10, 0.25, 3), (1, 0.1, 1), (4, 5, 5)],
)
def test_batch_size(total, max_unavailable, size):
    assert dp.batch_size(total, max_unavailable) == size


def test_batches():
    assert dp.batches(["a", "b", "c", "d", "e"], 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert dp.batches([], 2) == []


# --- the plan ---------------------------------------------------------------------------------


def test_bluegreen_replaces_every_machine():
    machines = [machine("c"), machine("a"), machine("b", state="stopped")]
    got = dp.plan(machines, NEW, "r2", "bluegreen")
    assert got == dp.Plan("bluegreen", 3, create=3, destroy=("a", "b", "c"), region="ams")
    assert got.changed


def test_current_machines_change_nothing():
    machines = [machine("a", image=NEW, release="r2"), machine("b", image=NEW, release="r2")]
    for strategy in dp.STRATEGIES:
        got = dp.plan(machines, NEW, "r2", strategy)
        assert got == dp.Plan(strategy, 2, keep=("a", "b"), region="ams")
        assert not got.changed


def test_the_same_image_under_another_release_is_a_change():
    got = dp.plan([machine("a", image=NEW, release="r1")], NEW, "r2", "rolling")
    assert got == dp.Plan("rolling", 1, update=("a",), region="ams")


def test_an_unhealthy_machine_of_the_release_is_replaced():
    machines = [machine("a", image=NEW, release="r2"), machine("b", NEW, "r2", checks="critical")]
    assert dp.plan(machines, NEW, "r2", "bluegreen") == dp.Plan(
        "bluegreen", 2, keep=("a",), create=1, destroy=("b",), region="ams"
    )
    assert dp.plan(machines, NEW, "r2", "rolling") == dp.Plan(
        "rolling", 2, keep=("a",), update=("b",), region="ams"
    )


def test_a_cordoned_machine_of_the_release_is_not_current():
    green = dict(machine("a", image=NEW, release="r2"), cordoned=True)
    assert dp.plan([green], NEW, "r2", "bluegreen") == dp.Plan(
        "bluegreen", 1, create=1, destroy=("a",), region="ams"
    )


def test_in_place_updates_serving_machines_first():
    machines = [machine("a", state="stopped"), machine("b"), machine("c")]
    got = dp.plan(machines, NEW, "r2", "canary")
    assert got == dp.Plan("canary", 3, update=("b", "c", "a"), region="ams")


def test_rolling_grows_and_shrinks_to_count():
    machines = [machine("a"), machine("b", image=NEW, release="r2")]
    assert dp.plan(machines, NEW, "r2", "rolling", count=4) == dp.Plan(
        "rolling", 4, keep=("b",), update=("a",), create=2, region="ams"
    )
    three = [machine("a"), machine("b", image=NEW, release="r2"), machine("c")]
    assert dp.plan(three, NEW, "r2", "rolling", count=1) == dp.Plan(
        "rolling", 1, keep=("b",), destroy=("a", "c"), region="ams"
    )
    assert dp.plan(three, NEW, "r2", "rolling", count=2) == dp.Plan(
        "rolling", 2, keep=("b",), update=("a",), destroy=("c",), region="ams"
    )


def test_bluegreen_shrinks_current_machines_over_count():
    machines = [machine("a", image=NEW, release="r2"), machine("b", image=NEW, release="r2")]
    assert dp.plan(machines, NEW, "r2", "bluegreen", count=1) == dp.Plan(
        "bluegreen", 1, keep=("a",), destroy=("b",), region="ams"
    )


def test_a_first_deploy_creates_one_machine_in_the_region_given():
    assert dp.plan([], NEW, "r1", "rolling", region="fra") == dp.Plan(
        "rolling", 1, create=1, region="fra"
    )
    assert dp.plan([], NEW, "r1", "bluegreen") == dp.Plan("bluegreen", 1, create=1)


def test_plan_refuses_bad_input():
    with pytest.raises(ValueError, match="strategy must be one of"):
        dp.plan([], NEW, "r1", "blue")
    with pytest.raises(ValueError, match="count must be at least 1, got 0"):
        dp.plan([], NEW, "r1", "rolling", count=0)


def test_plan_as_dict_and_diff():
    got = dp.plan([machine("a")], NEW, "r2", "rolling")
    assert got.as_dict() == {
        "strategy": "rolling",
        "count": 1,
        "keep": [],
        "update": ["a"],
        "create": 0,
        "destroy": [],
        "region": "ams",
    }
    assert dp.diff(got, {"release_id": "r1", "image": OLD}, NEW, "r2", now=1) == {
        "before": {"release_id": "r1", "image": OLD, "count": 1},
        "after": {"release_id": "r2", "image": NEW, "count": 1},
    }
