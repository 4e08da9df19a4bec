"""Naming and choosing releases (module_utils/deploy/release.py image_release_id,
module_utils/deploy/rollback.py; filters image_release_id, previous_release and
rollback_release), by exact equality."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sigma.deploy.plugins.filter.image_release_id import image_release_id
from ansible_collections.sigma.deploy.plugins.filter.rollback import (
    previous_release,
    rollback_release,
)

DIGEST = "0123456789ab" + "c" * 52


@pytest.mark.parametrize(
    ("image", "given", "expected"),
    [
        ("registry.fly.io/notes:2026-08-01.2", "", "2026-08-01.2"),
        ("registry.fly.io/notes:r1", "r7", "r7"),
        (f"registry.fly.io/notes@sha256:{DIGEST}", "", "sha256-0123456789ab"),
        (f"registry.fly.io/notes:v2@sha256:{DIGEST}", "", "sha256-0123456789ab"),
        (f"registry.fly.io/notes@sha256:{DIGEST}", "r7", "r7"),
        ("localhost:5000/notes:_build.1-x", "", "_build.1-x"),
        ("localhost:5000/notes", "", ""),
        ("registry.fly.io/notes", "", ""),
        ("registry.fly.io/notes:", "", ""),
        ("registry.fly.io/notes:-bad", "", ""),
        ("registry.fly.io/notes:" + "t" * 128, "", "t" * 128),
        ("registry.fly.io/notes:" + "t" * 129, "", ""),
        # A digest too short is no digest; what follows its colon reads as a tag.
        ("registry.fly.io/notes@sha256:0123", "", "0123"),
        ("", "", ""),
        ("", "r7", "r7"),
    ],
)
def test_the_release_id_of_an_image(image, given, expected):
    assert image_release_id(image, given) == expected


def test_the_release_id_of_an_image_given_none_is_taken_from_the_image():
    assert image_release_id("registry.fly.io/notes:r1", None) == "r1"


def test_an_image_that_is_no_string_is_refused():
    with pytest.raises(AnsibleFilterError, match=r"^image_release_id: _input must be an image"):
        image_release_id(["registry.fly.io/notes:r1"])


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        (["r1", "r1"], "r1"),
        (["", None, "r1"], "r1"),
        (["r2", "r1", "r0"], "r1"),
        (["r2", "r2"], ""),
        (["", None], ""),
        ([], ""),
    ],
)
def test_the_release_served_before_a_deploy_of_r2(served, expected):
    assert previous_release(served, "r2") == expected


@pytest.mark.parametrize("served", ["r1", {"h1": "r1"}, None])
def test_what_was_served_must_be_a_list(served):
    with pytest.raises(AnsibleFilterError, match=r"^previous_release: _input must be a list"):
        previous_release(served, "r2")


def read(current=None, previous=None, ledger=(), found=True):
    return {
        "current": current,
        "previous": previous,
        "ledger": list(ledger),
        "ledger_found": found,
    }


R2 = {"release_id": "r2", "previous_release_id": "r1", "result": "succeeded", "image": "i:r2"}
R1 = {"release_id": "r1", "previous_release_id": "", "result": "succeeded", "image": "i:r1"}


def test_a_rollback_goes_back_to_what_the_current_entry_names():
    chosen = rollback_release(read(R2, R1, [R2, R1]))
    assert chosen == {"release_id": "r1", "image": "i:r1", "why_none": ""}


def test_without_a_previous_release_id_the_previous_entry_is_taken():
    current = dict(R2, previous_release_id="")
    chosen = rollback_release(read(current, dict(R1, release_id="r0"), [current]))
    assert chosen == {"release_id": "r0", "image": "", "why_none": ""}


def test_a_given_release_wins_and_its_newest_recorded_image_is_taken():
    ledger = [
        {"release_id": "r0", "result": "failed"},
        {"release_id": "r0", "result": "succeeded", "image": ""},
        {"release_id": "r0", "result": "succeeded", "image": "i:r0-new"},
        {"release_id": "r0", "result": "succeeded", "image": "i:r0-old"},
        R2,
    ]
    chosen = rollback_release(read(R2, R1, ledger), "r0")
    assert chosen == {"release_id": "r0", "image": "i:r0-new", "why_none": ""}


def test_an_empty_ledger_has_no_entries():
    assert rollback_release(read(found=False)) == {
        "release_id": "",
        "image": "",
        "why_none": "has no entries",
    }


def test_a_ledger_without_a_release_before_the_current_one_says_so():
    only = dict(R1, release_id="r5")
    assert rollback_release(read(only, None, [only]), None) == {
        "release_id": "",
        "image": "",
        "why_none": "has no successful release before r5",
    }


def test_a_ledger_without_a_successful_entry_says_before_the_current_one():
    failed = {"release_id": "r5", "result": "failed"}
    assert rollback_release(read(None, None, [failed]))["why_none"] == (
        "has no successful release before the current one"
    )


def test_what_was_read_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match=r"^rollback_release: _input must be what"):
        rollback_release([R2])
