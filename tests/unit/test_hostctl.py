"""Pure parts of the test-host harness: names, validation, the inventory it writes."""

import json

import hostctl
import pytest


def test_container_names_carry_group_and_index():
    assert hostctl.container_name("demo", 2) == "sigma-demo-2"


@pytest.mark.parametrize("group", ["demo", "it-1", "A9"])
def test_valid_groups_pass(group):
    assert hostctl.validate_group(group) == group


@pytest.mark.parametrize("group", ["", "a b", "x/y", "a" * 31, "demo;rm"])
def test_bad_groups_are_refused_naming_the_group(group):
    with pytest.raises(hostctl.HostError, match="expected 1-30 letters"):
        hostctl.validate_group(group)


def test_inventory_lists_each_host_with_its_address_and_the_group_key():
    hosts = [hostctl.Host("demo-1", "10.89.213.2"), hostctl.Host("demo-2", "10.89.213.3")]
    text = hostctl.render_inventory("demo", hosts, "/tmp/k/id_ed25519", "/tmp/k/known_hosts")
    assert text.startswith("# Written by tests/hosts/hostctl.py")
    data = json.loads(text.split("\n", 1)[1])
    group = data["all"]["children"]["demo"]
    assert group["hosts"] == {
        "demo-1": {"ansible_host": "10.89.213.2"},
        "demo-2": {"ansible_host": "10.89.213.3"},
    }
    assert group["vars"] == {
        "ansible_python_interpreter": "/usr/bin/python3",
        "sigma_bootstrap_user": "root",
        "ansible_ssh_private_key_file": "/tmp/k/id_ed25519",
        "ansible_ssh_common_args": (
            "-o UserKnownHostsFile=/tmp/k/known_hosts -o StrictHostKeyChecking=yes"
        ),
    }


def test_inventory_is_valid_yaml_for_ansible():
    yaml = pytest.importorskip("yaml")
    text = hostctl.render_inventory("g", [hostctl.Host("g-1", "10.0.0.1")], "k", "kh")
    assert yaml.safe_load(text)["all"]["children"]["g"]["hosts"]["g-1"]["ansible_host"] == (
        "10.0.0.1"
    )


def test_up_refuses_a_count_out_of_range_before_touching_podman(monkeypatch):
    def no_podman(*args, **kwargs):
        raise AssertionError("podman must not be called")

    monkeypatch.setattr(hostctl, "run", no_podman)
    with pytest.raises(hostctl.HostError, match="count 0: expected 1 to 20"):
        hostctl.up("demo", 0, None)
