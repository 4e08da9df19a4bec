"""The contract checker itself: it accepts what the vendor spec allows and rejects what it
does not. (Every exchange of a test session is checked by the ``cloudsim`` fixture.)"""

from __future__ import annotations

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
