"""The Hetzner modules, run by real ansible-playbook against the simulator (HTTPS, own CA).

Each case runs as hetzner.hcloud's integration targets do: check mode (changed), for real
(changed), again (not changed), with cleanup that always runs; the playbooks assert on what a
user sees. The failure cases check one clear message naming the vendor, the field and the
vendor's code, and that the token appears nowhere in the output, even at -vvvv.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.integration.support import (
    FINGERPRINT,
    HETZNER,
    OTHER_KEY,
    PUBLIC_KEY,
    Run,
    assert_ok,
    closed_port,
    local_play,
)


def play(tmp_path: Path, sim, tasks: str, env: dict | None = None, *args: str) -> Run:
    """Run ``tasks`` in a local play against the simulator's Hetzner API."""
    return local_play(HETZNER, tmp_path, sim, tasks, env, *args)


# --- lifecycles ----------------------------------------------------------------------------------
def test_ssh_key(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        f"""
        - block:
            - name: Create (check mode)
              sigma.deploy.hetzner_ssh_key: &key
                name: it-key
                public_key: "{PUBLIC_KEY}"
                labels: {{app: it}}
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.hetzner_ssh_key.id is none]
            - name: Create
              sigma.deploy.hetzner_ssh_key: *key
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_ssh_key.name == 'it-key'
                  - r.hetzner_ssh_key.labels == dict(app='it')
                  - r.hetzner_ssh_key.fingerprint == '{FINGERPRINT}'
                  - r.diff.before == {{}}
            - name: Again
              sigma.deploy.hetzner_ssh_key: *key
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Change the labels
              sigma.deploy.hetzner_ssh_key:
                name: it-key
                labels: {{app: it, tier: "2"}}
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.diff.before.labels == dict(app='it')
                  - r.diff.after.labels == dict(app='it', tier='2')
            - name: Other key material without force fails and changes nothing
              sigma.deploy.hetzner_ssh_key:
                name: it-key
                public_key: "{OTHER_KEY}"
              register: r
              ignore_errors: true
            - ansible.builtin.assert:
                that: [r is failed, "'force=true' in r.msg"]
            - name: Read it
              sigma.deploy.hetzner_ssh_key_info:
                label_selector: app=it
              register: info
            - ansible.builtin.assert:
                that:
                  - info.hetzner_ssh_key_info | map(attribute='name') | list == ['it-key']
          always:
            - name: Remove
              sigma.deploy.hetzner_ssh_key:
                name: it-key
                state: absent
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_ssh_key == {{}}
            - name: Remove again
              sigma.deploy.hetzner_ssh_key:
                name: it-key
                state: absent
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
        """,
    )
    assert_ok(run)


def test_server_lifecycle(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        f"""
        - block:
            - name: Key and firewall the server needs
              sigma.deploy.hetzner_ssh_key:
                name: it-key
                public_key: "{PUBLIC_KEY}"
            - sigma.deploy.hetzner_firewall:
                name: it-fw
                rules:
                  - {{direction: in, protocol: tcp, port: "22", source_ips: [0.0.0.0/0, "::/0"]}}
              register: fw
            - name: Create (check mode)
              sigma.deploy.hetzner_server: &server
                name: it-1
                server_type: cx22
                image: debian-12
                location: fsn1
                ssh_keys: [it-key]
                firewalls: [it-fw]
                labels: {{app: it, role: web}}
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_server.id is none
                  - r.diff.after.status == 'running'
            - name: Nothing was created in check mode
              sigma.deploy.hetzner_server_info:
                name: it-1
              register: info
            - ansible.builtin.assert:
                that:
                  - info.hetzner_server_info == []
            - name: Create
              sigma.deploy.hetzner_server: *server
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_server.status == 'running'
                  - r.hetzner_server.server_type == 'cx22'
                  - r.hetzner_server.location == 'fsn1'
                  - r.hetzner_server.labels == dict(app='it', role='web')
                  - r.hetzner_server.ipv4_address is truthy
                  - fw.hetzner_firewall.id in r.hetzner_server.firewalls
            - name: Again
              sigma.deploy.hetzner_server: *server
              register: r
            - ansible.builtin.assert:
                that: [r is not changed, r.diff.before == r.diff.after]
            - name: Labels are an exact set
              sigma.deploy.hetzner_server:
                name: it-1
                labels: {{app: it}}
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_server.labels == dict(app='it')
            - name: A running server is not resized by surprise
              sigma.deploy.hetzner_server:
                name: it-1
                server_type: cx32
              register: r
              ignore_errors: true
            - ansible.builtin.assert:
                that: [r is failed, "'allow_resize_stop' in r.msg"]
            - name: Stop (check mode)
              sigma.deploy.hetzner_server: &stop
                name: it-1
                state: stopped
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.hetzner_server.status == 'off']
            - name: Stop
              sigma.deploy.hetzner_server: *stop
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.hetzner_server.status == 'off']
            - name: Stop again
              sigma.deploy.hetzner_server: *stop
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Resize while stopped; it stays off
              sigma.deploy.hetzner_server:
                name: it-1
                server_type: cx32
                state: stopped
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_server.server_type == 'cx32'
                  - r.hetzner_server.status == 'off'
            - name: Start
              sigma.deploy.hetzner_server: &start
                name: it-1
                state: started
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.hetzner_server.status == 'running']
            - name: Start again
              sigma.deploy.hetzner_server: *start
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Resize a running server, allowed to stop it
              sigma.deploy.hetzner_server:
                name: it-1
                server_type: cx22
                allow_resize_stop: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_server.server_type == 'cx22'
                  - r.hetzner_server.status == 'running'
            - name: Restart
              sigma.deploy.hetzner_server:
                name: it-1
                state: restarted
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.hetzner_server.status == 'running']
            - name: Rebuild an existing server
              sigma.deploy.hetzner_server:
                name: it-1
                image: debian-13
                state: rebuilt
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.hetzner_server.image == 'debian-13']
          always:
            - name: Delete
              sigma.deploy.hetzner_server:
                name: it-1
                state: absent
            - name: Delete again
              sigma.deploy.hetzner_server:
                name: it-1
                state: absent
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - sigma.deploy.hetzner_firewall:
                name: it-fw
                state: absent
            - sigma.deploy.hetzner_ssh_key:
                name: it-key
                state: absent
        """,
    )
    assert_ok(run)


def test_rebuilt_does_not_rebuild_a_server_it_created(sim, tmp_path):
    """hetzner.hcloud #580: ``state: rebuilt`` on a missing server creates it, and only that."""
    run = play(
        tmp_path,
        sim,
        """
        - name: Rebuilt, on a server that does not exist yet
          sigma.deploy.hetzner_server:
            name: it-2
            server_type: cx22
            image: debian-12
            state: rebuilt
          register: r
        - ansible.builtin.assert:
            that: [r is changed, r.hetzner_server.status == 'running']
        """,
    )
    assert_ok(run)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {sim.token}"
    base = sim.endpoint("hetzner")
    servers = api.get(f"{base}/servers", params={"name": "it-2"}, verify=sim.ca_path).json()
    server_id = servers["servers"][0]["id"]
    actions = api.get(f"{base}/servers/{server_id}/actions", verify=sim.ca_path).json()
    commands = [a["command"] for a in actions["actions"]]
    assert "create_server" in commands
    assert "rebuild_server" not in commands
    api.delete(f"{base}/servers/{server_id}", verify=sim.ca_path)


def test_server_info_reads_every_page(sim, tmp_path):
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {sim.token}"
    base = sim.endpoint("hetzner")
    for n in range(60):  # more than one page of 50
        body = {"name": f"it-{n}", "server_type": "cx22", "image": "debian-12",
                "labels": {"fleet": "it"}}  # fmt: skip
        assert api.post(f"{base}/servers", json=body, verify=sim.ca_path).status_code == 201
    run = play(
        tmp_path,
        sim,
        """
        - sigma.deploy.hetzner_server_info:
            label_selector: fleet=it
          register: info
        - ansible.builtin.assert:
            that:
              - info.hetzner_server_info | length == 60
              - info.hetzner_server_info | map(attribute='name') | unique | length == 60
        """,
    )
    assert_ok(run)


def test_firewall(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        """
        - block:
            - sigma.deploy.hetzner_server:
                name: it-1
                server_type: cx22
                image: debian-12
                labels: {role: web}
            - name: Create (check mode)
              sigma.deploy.hetzner_firewall: &fw
                name: it-fw
                labels: {app: it}
                rules:
                  - {direction: in, protocol: tcp, port: "22", source_ips: [198.51.100.0/24]}
                  - {direction: in, protocol: tcp, port: "443", source_ips: [0.0.0.0/0, "::/0"]}
                  - {direction: in, protocol: icmp, source_ips: [0.0.0.0/0]}
                servers: [it-1]
                label_selectors: [role=web]
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.hetzner_firewall.rules | length == 3]
            - name: Create
              sigma.deploy.hetzner_firewall: *fw
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_firewall.label_selectors == ['role=web']
                  - r.hetzner_firewall.servers | length == 1
            - name: Again, rules in another order and an address without a prefix
              sigma.deploy.hetzner_firewall:
                name: it-fw
                labels: {app: it}
                rules:
                  - {direction: in, protocol: icmp, source_ips: [0.0.0.0/0]}
                  - {direction: in, protocol: tcp, port: "443", source_ips: ["::/0", 0.0.0.0/0]}
                  - {direction: in, protocol: tcp, port: "22", source_ips: [198.51.100.0/24]}
                servers: [it-1]
                label_selectors: [role=web]
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Change the rules and stop applying to the server directly
              sigma.deploy.hetzner_firewall:
                name: it-fw
                rules:
                  - {direction: in, protocol: tcp, port: "22", source_ips: [198.51.100.7]}
                servers: []
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_firewall.rules[0].source_ips == ['198.51.100.7/32']
                  - r.hetzner_firewall.servers == []
                  - r.hetzner_firewall.label_selectors == ['role=web']
            - sigma.deploy.hetzner_firewall_info:
                name: it-fw
              register: info
            - ansible.builtin.assert:
                that:
                  - info.hetzner_firewall_info[0].rules | length == 1
          always:
            - name: Delete, though it is still applied
              sigma.deploy.hetzner_firewall:
                name: it-fw
                state: absent
              register: r
            - ansible.builtin.assert:
                that: [r is changed]
            - sigma.deploy.hetzner_server:
                name: it-1
                state: absent
        """,
    )
    assert_ok(run)


def test_load_balancer_and_draining_a_target(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        """
        - block:
            - sigma.deploy.hetzner_server:
                name: "{{ item }}"
                server_type: cx22
                image: debian-12
                location: fsn1
              loop: [it-1, it-2]
            - name: Create (check mode)
              sigma.deploy.hetzner_load_balancer: &lb
                name: it-lb
                load_balancer_type: lb11
                location: fsn1
                services:
                  - protocol: http
                    listen_port: 80
                    destination_port: 8080
                    health_check: {protocol: http, http: {path: /healthz}}
                targets: [{server: it-1}, {server: it-2}]
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.hetzner_load_balancer.id is none]
            - name: Create
              sigma.deploy.hetzner_load_balancer: *lb
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_load_balancer.targets | length == 2
                  - r.hetzner_load_balancer.services[0].destination_port == 8080
            - name: Again
              sigma.deploy.hetzner_load_balancer: *lb
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Drain it-1 (check mode)
              sigma.deploy.hetzner_load_balancer: &drain
                name: it-lb
                targets: [{server: it-1}]
                targets_state: absent
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.diff.after.targets | length == 1]
            - name: Drain it-1
              sigma.deploy.hetzner_load_balancer: *drain
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.hetzner_load_balancer.targets | length == 1]
            - name: Drain it-1 again
              sigma.deploy.hetzner_load_balancer: *drain
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Put it back
              sigma.deploy.hetzner_load_balancer:
                name: it-lb
                targets: [{server: it-1}]
                targets_state: present
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.hetzner_load_balancer.targets | length == 2]
            - name: Change the service
              sigma.deploy.hetzner_load_balancer:
                name: it-lb
                algorithm: least_connections
                services:
                  - {protocol: tcp, listen_port: 5432}
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.hetzner_load_balancer.algorithm == 'least_connections'
                  - r.hetzner_load_balancer.services | map(attribute='listen_port') | list == [5432]
            - sigma.deploy.hetzner_load_balancer_info:
                name: it-lb
              register: info
            - ansible.builtin.assert:
                that:
                  - info.hetzner_load_balancer_info[0].targets | length == 2
          always:
            - sigma.deploy.hetzner_load_balancer:
                name: it-lb
                state: absent
            - sigma.deploy.hetzner_server:
                name: "{{ item }}"
                state: absent
              loop: [it-1, it-2]
        """,
    )
    assert_ok(run)


# --- failures ------------------------------------------------------------------------------------
CREATE_SERVER = """
- sigma.deploy.hetzner_server:
    name: it-1
    server_type: {server_type}
    image: {image}
    location: {location}
  register: r
  ignore_errors: true
- ansible.builtin.assert:
    that:
      - r is failed
      - r.failure.vendor == 'Hetzner'
      - r.failure.code == '{code}'
      - r.failure.field == '{field}'
      - "'Hetzner API error' in r.msg"
      - "'{code}' in r.msg"
      - "'{field}' in r.msg"
"""


@pytest.mark.parametrize(
    ("server_type", "image", "location", "field"),
    [
        ("cx999", "debian-12", "fsn1", "server_type"),
        ("cx22", "beos-5", "fsn1", "image"),
        ("cx22", "debian-12", "mars1", "location"),
    ],
)
def test_unknown_input_names_the_field(sim, tmp_path, server_type, image, location, field):
    tasks = CREATE_SERVER.format(
        server_type=server_type, image=image, location=location, code="invalid_input", field=field
    )
    run = play(tmp_path, sim, tasks, None, "-vvvv")
    assert_ok(run)
    assert "Traceback" not in run.output
    assert sim.token not in run.output


@pytest.mark.parametrize("via", ["environment", "option"])
def test_bad_token(sim, tmp_path, via):
    token = "wrong-token-8f3a1c"
    args = f"api_token: {token}" if via == "option" else "label_selector: app=it"
    run = play(
        tmp_path,
        sim,
        f"""
        - sigma.deploy.hetzner_server_info:
            {args}
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - r is failed
              - r.failure.code == 'unauthorized'
              - r.failure.status == 401
              - r.msg is match("Hetzner API error 'unauthorized' \\(HTTP 401\\)")
        """,
        {"HCLOUD_TOKEN": token},
        "-vvvv",
    )
    assert_ok(run)
    assert token not in run.output
    assert "Traceback" not in run.output


def test_name_taken(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        """
        - block:
            - sigma.deploy.hetzner_server:
                name: "{{ item }}"
                server_type: cx22
                image: debian-12
              loop: [it-1, it-2]
              register: made
            - name: Rename it-2 to the name of it-1
              sigma.deploy.hetzner_server:
                id: "{{ made.results[1].hetzner_server.id }}"
                name: it-1
              register: r
              ignore_errors: true
            - ansible.builtin.assert:
                that:
                  - r is failed
                  - r.failure.code == 'uniqueness_error'
                  - r.failure.field == 'name'
                  - r.failure.status == 409
          always:
            - sigma.deploy.hetzner_server:
                name: "{{ item }}"
                state: absent
              loop: [it-1, it-2]
        """,
    )
    assert_ok(run)


def test_rate_limit_exhausted_after_retries(sim, tmp_path):
    sim.faults(rate_limit_next=100)
    run = play(
        tmp_path,
        sim,
        """
        - sigma.deploy.hetzner_server_info:
            api_retries: 2
            api_retry_timeout: 20
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - r is failed
              - r.failure.code == 'rate_limit_exceeded'
              - r.failure.status == 429
              - "'gave up after 3 attempts' in r.msg"
        """,
    )
    assert_ok(run)


def test_an_action_that_ends_in_error_then_a_rerun_completes(sim, tmp_path):
    sim.faults(action_error_next=1)
    tasks = """
        - sigma.deploy.hetzner_server:
            name: it-1
            server_type: cx22
            image: debian-12
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - r is failed
              - r.failure.vendor == 'Hetzner'
              - r.failure.status is none
              - r.failure.code is truthy
              - "'failed' in r.msg"
        """
    assert_ok(play(tmp_path, sim, tasks))
    rerun = play(
        tmp_path,
        sim,
        """
        - block:
            - sigma.deploy.hetzner_server:
                name: it-1
                server_type: cx22
                image: debian-12
                state: started
            - sigma.deploy.hetzner_server_info:
                name: it-1
              register: info
            - ansible.builtin.assert:
                that:
                  - info.hetzner_server_info | length == 1
                  - info.hetzner_server_info[0].status == 'running'
          always:
            - sigma.deploy.hetzner_server:
                name: it-1
                state: absent
        """,
    )
    assert_ok(rerun)


def test_api_unreachable(sim, tmp_path):
    port = closed_port()
    run = play(
        tmp_path,
        sim,
        f"""
        - sigma.deploy.hetzner_ssh_key_info:
            api_endpoint: https://127.0.0.1:{port}/hetzner/v1
            api_retries: 1
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - r is failed
              - r.failure.code == 'unreachable'
              - r.failure.status is none
              - "'cannot reach https://127.0.0.1:{port}/hetzner/v1' in r.msg"
        """,
        None,
        "-vvvv",
    )
    assert_ok(run)
    assert sim.token not in run.output
