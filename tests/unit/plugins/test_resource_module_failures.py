"""How a resource module's main() fails, end to end (AnsibleModule, the real client): a refusal
of the options and an API error each end in one fail_json, with the message alone for a
refusal and the structured ``failure`` for an API error."""

from __future__ import annotations

from ansible_collections.sigma.deploy.plugins.modules import (
    digitalocean_droplet,
    digitalocean_droplet_info,
    digitalocean_ssh_key,
    hetzner_server,
)

CLOSED = "http://127.0.0.1:9"  # nothing listens: any request would fail as unreachable


def on_sim(sim, vendor):
    return {"api_token": sim.token, "api_endpoint": sim.endpoint(vendor), "ca_path": sim.ca_path}


def test_check_create_refuses_through_main_with_the_message_alone(run, sim):
    result = run(hetzner_server, name="web-9", **on_sim(sim, "hetzner"))
    assert result == {
        "msg": "server_type and image required to create a server",
        "failed": True,
        "warnings": [],
    }


def test_an_id_that_is_not_there_is_refused_the_same_way(run, sim):
    result = run(hetzner_server, id=424242, **on_sim(sim, "hetzner"))
    assert result == {
        "msg": "server with id 424242 not found (give a name to create one)",
        "failed": True,
        "warnings": [],
    }


def test_a_module_helper_refuses_through_main_the_same_way(run, sim):
    result = run(
        digitalocean_ssh_key,
        name="deploy",
        public_key="not a key",
        **on_sim(sim, "digitalocean"),
    )
    assert result == {
        "msg": "public_key is not an OpenSSH public key (type key comment)",
        "failed": True,
        "warnings": [],
    }


def test_a_droplet_without_unique_names_needs_an_id_before_any_request(run):
    result = run(
        digitalocean_droplet,
        name="web-1",
        unique_name=False,
        state="absent",
        api_token="x",
        api_endpoint=CLOSED,
        api_retries=0,
    )
    assert result == {
        "msg": "state=absent needs id when unique_name=false",
        "failed": True,
        "warnings": [],
    }


def test_an_api_error_through_main_keeps_its_structured_failure(run):
    result = run(digitalocean_droplet_info, api_token="x", api_endpoint=CLOSED, api_retries=0)
    assert (result["failed"], sorted(result)) == (True, ["failed", "failure", "msg", "warnings"])
    assert result["msg"].startswith("DigitalOcean API error 'unreachable': cannot reach ")
    assert {k: v for k, v in result["failure"].items() if k != "message"} == {
        "vendor": "DigitalOcean",
        "status": None,
        "code": "unreachable",
        "field": None,
    }
