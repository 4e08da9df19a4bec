"""The contract checker itself: it accepts what the vendor spec allows and rejects what it
does not. (Every exchange of a test session is checked by the ``cloudsim`` fixture.)"""

from __future__ import annotations

import json

import pytest

from tests.cloudsim import contract


@pytest.fixture(autouse=True)
def specs() -> None:
    """The vendor specs are part of this project's setup: without them, fail and say where."""
    missing = contract.missing_reason()
    if missing is not None:
        pytest.fail(missing, pytrace=False)


SSH_KEY = {
    "id": 1,
    "name": "k",
    "fingerprint": "b7:2f:30:a0:2f:6c:58:6c:21:04:58:61:ba:06:3b:2f",
    "public_key": "ssh-ed25519 AAAA k",
    "labels": {},
    "created": "2026-01-01T00:00:00+00:00",
}


def exchange(**overrides):
    line = {
        "vendor": "hetzner",
        "method": "GET",
        "path": "/ssh_keys/1",
        "query": "",
        "content_type": "",
        "request_body": "",
        "status": 200,
        "response_body": {"ssh_key": SSH_KEY},
    }
    line.update(overrides)
    return line


def test_a_faithful_answer_passes():
    assert contract.check_exchange(exchange()) == []


def test_a_missing_required_field_is_found():
    broken = {k: v for k, v in SSH_KEY.items() if k != "fingerprint"}
    problems = contract.check_exchange(exchange(response_body={"ssh_key": broken}))
    assert len(problems) == 1
    assert problems[0].startswith("hetzner GET /ssh_keys/1 -> 200: response:")


def test_a_wrong_type_in_an_accepted_request_is_found():
    problems = contract.check_exchange(
        exchange(
            method="POST",
            path="/ssh_keys",
            content_type="application/json",
            request_body='{"name": 5, "public_key": "ssh-ed25519 AAAA k"}',
            status=201,
        )
    )
    assert any(": request:" in p for p in problems)


def test_digitalocean_error_envelope_passes():
    line = exchange(
        vendor="digitalocean",
        path="/droplets/999",
        status=404,
        response_body={"id": "not_found", "message": "The resource you were accessing could "
                       "not be found.", "request_id": "4d2b5a2a-0000-4000-8000-000000000000"},
    )  # fmt: skip
    assert contract.check_exchange(line) == []


def test_missing_specs_are_reported_with_the_path(monkeypatch, tmp_path):
    monkeypatch.setenv("SIGMA_SPECS_DIR", str(tmp_path / "nowhere"))
    assert contract.missing_reason() == (
        f"vendor specs not found at {tmp_path / 'nowhere'} (set SIGMA_SPECS_DIR)"
    )
    (tmp_path / "hetzner-cloud.openapi.json").write_text("{}")
    monkeypatch.setenv("SIGMA_SPECS_DIR", str(tmp_path))
    assert contract.missing_reason() == (
        f"vendor spec not found: {tmp_path / 'digitalocean.openapi.json'} (set SIGMA_SPECS_DIR)"
    )


# A firewall create as community.digitalocean's module sends it (droplet ids as strings), which
# the simulator accepts as DigitalOcean does, recording what it tolerated.
FIREWALL = {
    "id": "bb4b2611-3d72-467b-8602-280330ecd65c",
    "name": "web",
    "status": "waiting",
    "inbound_rules": [{"protocol": "tcp", "ports": "22", "sources": {"droplet_ids": [8043964]}}],
    "outbound_rules": [],
    "created_at": "2026-01-01T00:00:00Z",
    "droplet_ids": [8043964],
    "tags": [],
    "pending_changes": [{"droplet_id": 8043964, "removing": False, "status": "waiting"}],
}


def firewall_create(droplet_ids, user_agent: str, tolerated=None) -> dict:
    body = {
        "name": "web",
        "inbound_rules": [
            {"protocol": "tcp", "ports": "22", "sources": {"droplet_ids": droplet_ids}}
        ],
        "droplet_ids": droplet_ids,
    }
    line = exchange(
        vendor="digitalocean",
        method="POST",
        path="/firewalls",
        content_type="application/json",
        user_agent=user_agent,
        request_body=json.dumps(body),
        status=202,
        response_body={"firewall": FIREWALL},
    )
    if tolerated:
        line["tolerated"] = tolerated
    return line


TOLERATED = [
    "droplet_ids: numeric strings taken as integers",
    "inbound_rules[0].sources.droplet_ids: numeric strings taken as integers",
]


def test_what_the_vendor_tolerates_passes_from_other_clients():
    line = firewall_create(["8043964"], "ansible-community.digitalocean", TOLERATED)
    assert contract.check_exchange(line) == []


def test_our_clients_are_held_to_the_spec_where_the_vendor_tolerates_more():
    line = firewall_create(["8043964"], "sigma.deploy", TOLERATED)
    problems = contract.check_exchange(line)
    assert len(problems) == 1
    assert problems[0].startswith("digitalocean POST /firewalls -> 202: request:")
    assert problems[0].endswith(
        " (accepted only as the vendor tolerates: droplet_ids: numeric strings taken as "
        "integers; inbound_rules[0].sources.droplet_ids: numeric strings taken as integers)"
    )


def test_integers_from_our_clients_pass():
    assert contract.check_exchange(firewall_create([8043964], "sigma.deploy")) == []


def test_strings_the_simulator_did_not_say_it_tolerated_are_found_from_any_client():
    problems = contract.check_exchange(firewall_create(["8043964"], "python-requests/2.32"))
    assert len(problems) == 1
    assert problems[0].startswith("digitalocean POST /firewalls -> 202: request:")


@pytest.mark.parametrize(
    ("user_agent", "tolerated", "held"),
    [
        ("sigma.deploy", [], True),
        ("sigma.deploy", TOLERATED, True),
        ("python-requests/2.32", [], True),
        ("python-requests/2.32", TOLERATED, False),
        ("", TOLERATED, False),
    ],
)
def test_held_to_the_spec(user_agent, tolerated, held):
    line = {"user_agent": user_agent, "tolerated": tolerated}
    assert contract.held_to_the_spec(line) is held


# Fly: the 2024 file, mended where fly-go shows what the API sends (fly/spec_fixes.py).
def fly_exchange(**overrides):
    line = exchange(vendor="fly", path="/apps/web/machines/abc/start", method="POST",
                    status=200, response_body={"previous_state": "stopped"})  # fmt: skip
    line.update(overrides)
    return line


def test_fly_answers_fly_go_decodes_pass():
    assert contract.check_exchange(fly_exchange()) == []
    error = fly_exchange(status=409, response_body={"error": "lease currently held"})
    assert contract.check_exchange(error) == []


def test_fly_wrong_types_are_found():
    problems = contract.check_exchange(fly_exchange(response_body={"error": 5}, status=404))
    assert len(problems) == 1
    assert problems[0].startswith("fly POST /apps/web/machines/abc/start -> 404: response:")


def test_fly_exchanges_the_2024_file_cannot_judge_are_skipped_with_a_reason():
    from tests.cloudsim.fly.spec_fixes import not_in_spec

    assert not_in_spec("GET", "/apps/web/secrets") == "app secrets are newer than the 2024 file"
    assert not_in_spec("PUT", "/apps/web/volumes/vol_1").startswith("fly-go updates a volume")
    assert not_in_spec("POST", "/apps/web/volumes/vol_1") is None
    secret = fly_exchange(method="GET", path="/apps/web/secrets", response_body={"x": 5})
    assert contract.check_exchange(secret) == []
