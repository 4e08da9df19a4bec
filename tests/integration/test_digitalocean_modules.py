"""The DigitalOcean modules, run by real ansible-playbook against the simulator (HTTPS, own CA).

Each case runs as hetzner.hcloud's integration targets do: check mode (changed), for real
(changed), again (not changed), with cleanup that always runs; the playbooks assert on what a
user sees. The failure cases check one clear message naming the vendor, the field and the
vendor's error id, and that the token appears nowhere in the output, even at -vvvv.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.integration.support import (
    DIGITALOCEAN,
    FINGERPRINT,
    OTHER_KEY,
    PUBLIC_KEY,
    Run,
    assert_ok,
    closed_port,
    local_play,
)


def play(tmp_path: Path, sim, tasks: str, env: dict | None = None, *args: str) -> Run:
    """Run ``tasks`` in a local play against the simulator's DigitalOcean API."""
    return local_play(DIGITALOCEAN, tmp_path, sim, tasks, env, *args)


def api(sim) -> tuple[requests.Session, str]:
    """A plain HTTP session on the simulator, to set things up and look behind the modules."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sim.token}"
    session.verify = sim.ca_path
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins over verify
    return session, sim.endpoint("digitalocean") + "/v2"


def droplets(sim, **params) -> list[dict]:
    """The droplets the simulator holds, as GET /v2/droplets with ``params`` returns them."""
    session, base = api(sim)
    return session.get(f"{base}/droplets", params=params).json()["droplets"]


def droplet(**extra) -> str:
    """The arguments of the test droplet it-1 as a YAML flow mapping, with ``extra`` added
    (each value as YAML text)."""
    args = {"name": "it-1", "size": "s-1vcpu-1gb", "image": "debian-12-x64", "region": "fra1"}
    return "{" + ", ".join(f"{key}: {value}" for key, value in {**args, **extra}.items()) + "}"


DROPLET = droplet()


# --- lifecycles ----------------------------------------------------------------------------------
def test_ssh_key(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        f"""
        - block:
            - name: Upload (check mode)
              sigma.deploy.digitalocean_ssh_key: &key
                name: it-key
                public_key: "{PUBLIC_KEY}"
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_ssh_key.id is none
                  - r.digitalocean_ssh_key.fingerprint == '{FINGERPRINT}'
            - name: Nothing was uploaded in check mode
              sigma.deploy.digitalocean_ssh_key_info:
              register: info
            - ansible.builtin.assert:
                that:
                  - "info.digitalocean_ssh_key_info == []"
            - name: Upload
              sigma.deploy.digitalocean_ssh_key: *key
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_ssh_key.name == 'it-key'
                  - r.digitalocean_ssh_key.fingerprint == '{FINGERPRINT}'
                  - r.diff.before == {{}}
                  - r.diff.after.name == 'it-key'
            - name: Again
              sigma.deploy.digitalocean_ssh_key: *key
              register: r
            - ansible.builtin.assert:
                that: [r is not changed, r.diff.before == r.diff.after]
            - name: Rename by id
              sigma.deploy.digitalocean_ssh_key:
                id: "{{{{ r.digitalocean_ssh_key.id }}}}"
                name: it-key-2
              register: renamed
            - ansible.builtin.assert:
                that:
                  - renamed is changed
                  - renamed.diff.before.name == 'it-key'
                  - renamed.diff.after.name == 'it-key-2'
            - name: The same key under another name fails and names the one it has
              sigma.deploy.digitalocean_ssh_key: *key
              register: r
              ignore_errors: true
            - ansible.builtin.assert:
                that:
                  - r is failed
                  - "'already uploaded as ' in r.msg"
                  - "'it-key-2' in r.msg"
            - name: Other key material without force fails and changes nothing
              sigma.deploy.digitalocean_ssh_key:
                name: it-key-2
                public_key: "{OTHER_KEY}"
              register: r
              ignore_errors: true
            - ansible.builtin.assert:
                that:
                  - r is failed
                  - "'force=true' in r.msg"
            - name: With force it is replaced
              sigma.deploy.digitalocean_ssh_key:
                name: it-key-2
                public_key: "{OTHER_KEY}"
                force: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_ssh_key.fingerprint != '{FINGERPRINT}'
            - sigma.deploy.digitalocean_ssh_key_info:
                name: it-key-2
              register: info
            - ansible.builtin.assert:
                that: [info.digitalocean_ssh_key_info | length == 1]
          always:
            - name: Delete (check mode)
              sigma.deploy.digitalocean_ssh_key:
                name: it-key-2
                state: absent
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that: [r is changed]
            - name: Delete
              sigma.deploy.digitalocean_ssh_key:
                name: it-key-2
                state: absent
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - "r.digitalocean_ssh_key == {{}}"
            - name: Delete again
              sigma.deploy.digitalocean_ssh_key:
                name: it-key-2
                state: absent
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
        """,
    )
    assert_ok(run)


def test_droplet_lifecycle(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        f"""
        - block:
            - name: Key and firewall the droplet needs
              sigma.deploy.digitalocean_ssh_key:
                name: it-key
                public_key: "{PUBLIC_KEY}"
            - sigma.deploy.digitalocean_firewall:
                name: it-fw
                inbound_rules:
                  - {{protocol: tcp, ports: "22", sources: {{addresses: [0.0.0.0/0, "::/0"]}}}}
              register: fw
            - name: Create (check mode)
              sigma.deploy.digitalocean_droplet: &droplet
                name: it-1
                size: s-1vcpu-1gb
                image: debian-12-x64
                region: fra1
                ssh_keys: [it-key]
                firewalls: [it-fw]
                tags: [it, web]
                ipv6: true
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_droplet.id is none
                  - r.diff.before == {{}}
                  - r.diff.after.status == 'active'
                  - r.diff.after.firewalls == ['it-fw']
            - name: Nothing was created in check mode
              sigma.deploy.digitalocean_droplet_info:
                name: it-1
              register: info
            - ansible.builtin.assert:
                that:
                  - "info.digitalocean_droplet_info == []"
            - name: Create
              sigma.deploy.digitalocean_droplet: *droplet
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_droplet.status == 'active'
                  - r.digitalocean_droplet.size == 's-1vcpu-1gb'
                  - r.digitalocean_droplet.region == 'fra1'
                  - r.digitalocean_droplet.image == 'debian-12-x64'
                  - r.digitalocean_droplet.tags == ['it', 'web']
                  - r.digitalocean_droplet.ipv6
                  - r.digitalocean_droplet.ipv4_address is truthy
                  - r.digitalocean_droplet.ipv6_address is truthy
                  - r.digitalocean_droplet.firewalls == ['it-fw']
            - name: The firewall applies to the new droplet
              sigma.deploy.digitalocean_firewall_info:
                name: it-fw
              register: fw_info
            - ansible.builtin.assert:
                that:
                  - fw_info.digitalocean_firewall_info[0].droplet_ids == [r.digitalocean_droplet.id]
            - name: Again
              sigma.deploy.digitalocean_droplet: *droplet
              register: r
            - ansible.builtin.assert:
                that: [r is not changed, r.diff.before == r.diff.after]
            - name: Tags are an exact set (check mode)
              sigma.deploy.digitalocean_droplet: &retag
                name: it-1
                tags: [it, db]
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.diff.before.tags == ['it', 'web']
                  - r.diff.after.tags == ['db', 'it']
            - name: Tags are an exact set
              sigma.deploy.digitalocean_droplet: *retag
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - "r.digitalocean_droplet.tags == ['db', 'it']"
            - name: Tags again, in another order and case
              sigma.deploy.digitalocean_droplet:
                name: it-1
                tags: [DB, it]
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: A running droplet is not resized by surprise
              sigma.deploy.digitalocean_droplet:
                name: it-1
                size: s-2vcpu-2gb
              register: r
              ignore_errors: true
            - ansible.builtin.assert:
                that:
                  - r is failed
                  - "'allow_resize_stop' in r.msg"
            - name: Stop (check mode)
              sigma.deploy.digitalocean_droplet: &stop
                name: it-1
                state: stopped
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - "r.digitalocean_droplet.status == 'off'"
            - name: Stop
              sigma.deploy.digitalocean_droplet: *stop
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - "r.digitalocean_droplet.status == 'off'"
            - name: Stop again
              sigma.deploy.digitalocean_droplet: *stop
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Resize while off; it stays off
              sigma.deploy.digitalocean_droplet:
                name: it-1
                size: s-2vcpu-2gb
                state: stopped
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_droplet.size == 's-2vcpu-2gb'
                  - r.digitalocean_droplet.status == 'off'
            - name: Start
              sigma.deploy.digitalocean_droplet: &start
                name: it-1
                state: started
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - "r.digitalocean_droplet.status == 'active'"
            - name: Start again
              sigma.deploy.digitalocean_droplet: *start
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Resize a running droplet, allowed to power it off (check mode)
              sigma.deploy.digitalocean_droplet: &resize
                name: it-1
                size: s-2vcpu-4gb
                allow_resize_stop: true
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.diff.after.size == 's-2vcpu-4gb'
                  - r.diff.after.status == 'active'
            - name: Resize a running droplet, allowed to power it off
              sigma.deploy.digitalocean_droplet: *resize
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_droplet.size == 's-2vcpu-4gb'
                  - r.digitalocean_droplet.status == 'active'
            - name: Resize again
              sigma.deploy.digitalocean_droplet: *resize
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Restart
              sigma.deploy.digitalocean_droplet:
                name: it-1
                state: restarted
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - "r.digitalocean_droplet.status == 'active'"
            - name: Rebuild an existing droplet
              sigma.deploy.digitalocean_droplet:
                name: it-1
                image: ubuntu-24-04-x64
                state: rebuilt
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.diff.before.image == 'debian-12-x64'
                  - r.digitalocean_droplet.image == 'ubuntu-24-04-x64'
          always:
            - name: Delete (check mode)
              sigma.deploy.digitalocean_droplet:
                name: it-1
                state: absent
              check_mode: true
              register: r
            - name: Delete
              sigma.deploy.digitalocean_droplet:
                name: it-1
                state: absent
            - name: Delete again
              sigma.deploy.digitalocean_droplet:
                name: it-1
                state: absent
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - sigma.deploy.digitalocean_firewall:
                name: it-fw
                state: absent
            - sigma.deploy.digitalocean_ssh_key:
                name: it-key
                state: absent
        """,
    )
    assert_ok(run)
    assert droplets(sim) == []


def test_networks_are_there_after_a_slow_create(sim, tmp_path):
    """community.digitalocean #220: with actions that take a while, the result of the create
    still has the droplet active with its addresses (read again after the action)."""
    sim.faults(action_delay=2)
    run = play(
        tmp_path,
        sim,
        f"""
        - sigma.deploy.digitalocean_droplet: {DROPLET}
          register: r
        - ansible.builtin.assert:
            that:
              - r is changed
              - r.digitalocean_droplet.status == 'active'
              - r.digitalocean_droplet.ipv4_address is truthy
              - r.digitalocean_droplet.private_ipv4_address is truthy
        """,
    )
    assert_ok(run)


def test_wait_timeout_is_a_real_deadline(sim, tmp_path):
    """community.digitalocean #199: wait_timeout is honoured, and a later run goes on."""
    sim.faults(action_delay=30)
    started = time.monotonic()
    run = play(
        tmp_path,
        sim,
        f"""
        - sigma.deploy.digitalocean_droplet: {droplet(wait_timeout=3)}
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - r is failed
              - r.failure.code == 'timeout'
              - r.failure.field == 'wait_timeout'
              - "'after 3s (wait_timeout)' in r.msg"
        - name: Without waiting the droplet is returned as it is
          sigma.deploy.digitalocean_droplet: {droplet(wait="false")}
          register: r
        - ansible.builtin.assert:
            that:
              - r is not changed
              - "r.digitalocean_droplet.status == 'new'"
        """,
    )
    assert_ok(run)
    assert time.monotonic() - started < 25
    assert len(droplets(sim)) == 1


def test_rebuilt_does_not_rebuild_a_droplet_it_created(sim, tmp_path):
    """hetzner.hcloud #580, here for DigitalOcean: ``state: rebuilt`` on a missing droplet
    creates it, and only that."""
    run = play(
        tmp_path,
        sim,
        f"""
        - name: Rebuilt, on a droplet that does not exist yet
          sigma.deploy.digitalocean_droplet: {droplet(state="rebuilt")}
          register: r
        - ansible.builtin.assert:
            that:
              - r is changed
              - "r.digitalocean_droplet.status == 'active'"
        """,
    )
    assert_ok(run)
    created = droplets(sim, name="it-1")[0]
    session, base = api(sim)
    actions = session.get(f"{base}/droplets/{created['id']}/actions").json()["actions"]
    assert [a["type"] for a in actions] == ["create"]


def test_stopped_on_a_new_droplet_creates_it_and_powers_it_off(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        f"""
        - sigma.deploy.digitalocean_droplet: {droplet(state="stopped")}
          register: r
        - ansible.builtin.assert:
            that:
              - r is changed
              - "r.digitalocean_droplet.status == 'off'"
        """,
    )
    assert_ok(run)


def test_droplet_info_reads_every_page(sim, tmp_path):
    session, base = api(sim)
    for n in range(205):  # more than one page of 200 (the API's most)
        body = {
            "name": f"it-{n}",
            "size": "s-1vcpu-1gb",
            "image": "debian-12-x64",
            "region": "fra1",
            "tags": ["fleet"],
        }
        assert session.post(f"{base}/droplets", json=body).status_code == 202
    run = play(
        tmp_path,
        sim,
        """
        - sigma.deploy.digitalocean_droplet_info:
            tag_name: fleet
          register: info
        - ansible.builtin.assert:
            that:
              - info.digitalocean_droplet_info | length == 205
              - info.digitalocean_droplet_info | map(attribute='name') | unique | length == 205
        - name: The last droplet is found by name and not created again
          sigma.deploy.digitalocean_droplet:
            name: it-204
            size: s-1vcpu-1gb
            image: debian-12-x64
            region: fra1
          register: r
        - ansible.builtin.assert:
            that: [r is not changed]
        """,
    )
    assert_ok(run)
    assert len(droplets(sim, per_page=200)) == 200
    assert session.get(f"{base}/droplets").json()["meta"]["total"] == 205


def test_firewall(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        """
        - block:
            - sigma.deploy.digitalocean_droplet:
                name: it-1
                size: s-1vcpu-1gb
                image: debian-12-x64
                region: fra1
                tags: [web]
            - name: Create (check mode)
              sigma.deploy.digitalocean_firewall: &fw
                name: it-fw
                inbound_rules:
                  - {protocol: tcp, ports: "22", sources: {addresses: [198.51.100.0/24]}}
                  - {protocol: tcp, ports: "443", sources: {addresses: [0.0.0.0/0, "::/0"]}}
                  - {protocol: icmp, sources: {addresses: [0.0.0.0/0]}}
                outbound_rules:
                  - {protocol: tcp, ports: all, destinations: {addresses: [0.0.0.0/0]}}
                droplets: [it-1]
                tags: [web]
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_firewall.id is none
                  - r.diff.after.inbound_rules | length == 3
            - name: Create
              sigma.deploy.digitalocean_firewall: *fw
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_firewall.status == 'succeeded'
                  - r.digitalocean_firewall.tags == ['web']
                  - r.digitalocean_firewall.droplet_ids | length == 1
                  - r.digitalocean_firewall.outbound_rules[0].ports == '0'
            - name: Again, rules in another order and written differently
              sigma.deploy.digitalocean_firewall:
                name: it-fw
                inbound_rules:
                  - {protocol: icmp, ports: "0", sources: {addresses: [0.0.0.0/0]}}
                  - {protocol: tcp, ports: "443", sources: {addresses: ["::/0", 0.0.0.0/0]}}
                  - {protocol: tcp, ports: "22-22", sources: {addresses: [198.51.100.0/24]}}
                outbound_rules:
                  - {protocol: tcp, ports: "0", destinations: {addresses: [0.0.0.0/0]}}
                droplets: ["{{ r.digitalocean_firewall.droplet_ids[0] }}"]
                tags: [web]
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Change the rules and stop applying to the droplet directly (check mode)
              sigma.deploy.digitalocean_firewall: &change
                name: it-fw
                inbound_rules:
                  - {protocol: tcp, ports: "22", sources: {addresses: [198.51.100.7]}}
                droplets: []
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.diff.before.droplet_ids | length == 1
                  - r.diff.after.droplet_ids == []
            - name: Change the rules and stop applying to the droplet directly
              sigma.deploy.digitalocean_firewall: *change
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_firewall.inbound_rules[0].sources.addresses
                    == ['198.51.100.7/32']
                  - r.digitalocean_firewall.droplet_ids == []
                  - r.digitalocean_firewall.tags == ['web']
                  - r.digitalocean_firewall.outbound_rules | length == 1
            - name: Change again
              sigma.deploy.digitalocean_firewall: *change
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: It still reaches the droplet through its tag
              sigma.deploy.digitalocean_droplet_info:
                name: it-1
              register: info
            - ansible.builtin.assert:
                that:
                  - "info.digitalocean_droplet_info[0].firewalls == ['it-fw']"
          always:
            - name: Delete
              sigma.deploy.digitalocean_firewall:
                name: it-fw
                state: absent
              register: r
            - ansible.builtin.assert:
                that: [r is changed]
            - sigma.deploy.digitalocean_firewall:
                name: it-fw
                state: absent
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - sigma.deploy.digitalocean_droplet:
                name: it-1
                state: absent
        """,
    )
    assert_ok(run)


def test_load_balancer_and_draining_a_droplet(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        """
        - block:
            - sigma.deploy.digitalocean_droplet:
                name: "{{ item }}"
                size: s-1vcpu-1gb
                image: debian-12-x64
                region: fra1
                tags: [it-web]
              loop: [it-1, it-2]
            - name: Create (check mode)
              sigma.deploy.digitalocean_load_balancer: &lb
                name: it-lb
                region: fra1
                forwarding_rules:
                  - {entry_protocol: http, entry_port: 80, target_protocol: http, target_port: 8080}
                health_check: {port: 8080, path: /healthz}
                droplets: [it-1, it-2]
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_load_balancer.id is none
                  - r.diff.after.droplet_ids | length == 2
            - name: Create
              sigma.deploy.digitalocean_load_balancer: *lb
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_load_balancer.status == 'active'
                  - r.digitalocean_load_balancer.ip is truthy
                  - r.digitalocean_load_balancer.droplet_ids | length == 2
                  - r.digitalocean_load_balancer.health_check.port == 8080
                  - r.digitalocean_load_balancer.health_check.check_interval_seconds == 10
            - name: Again
              sigma.deploy.digitalocean_load_balancer: *lb
              register: r
            - ansible.builtin.assert:
                that: [r is not changed, r.diff.before == r.diff.after]
            - name: Drain it-1 (check mode)
              sigma.deploy.digitalocean_load_balancer: &drain
                name: it-lb
                droplets: [it-1]
                droplets_state: absent
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.diff.after.droplet_ids | length == 1]
            - name: Drain it-1
              sigma.deploy.digitalocean_load_balancer: *drain
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.digitalocean_load_balancer.droplet_ids | length == 1]
            - name: Drain it-1 again
              sigma.deploy.digitalocean_load_balancer: *drain
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Put it back
              sigma.deploy.digitalocean_load_balancer: &back
                name: it-lb
                droplets: [it-1]
                droplets_state: present
              register: r
            - ansible.builtin.assert:
                that: [r is changed, r.digitalocean_load_balancer.droplet_ids | length == 2]
            - name: Put it back again
              sigma.deploy.digitalocean_load_balancer: *back
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Change the rules and the health check; the droplets stay (check mode)
              sigma.deploy.digitalocean_load_balancer: &change
                name: it-lb
                forwarding_rules:
                  - {entry_protocol: tcp, entry_port: 5432, target_protocol: tcp, target_port: 5432}
                health_check: {protocol: tcp, port: 5432}
                enable_proxy_protocol: true
              check_mode: true
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.diff.after.forwarding_rules[0].entry_port == 5432
                  - r.diff.after.health_check.path is none
            - name: Change the rules and the health check; the droplets stay
              sigma.deploy.digitalocean_load_balancer: *change
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_load_balancer.forwarding_rules
                    | map(attribute='entry_port') | list == [5432]
                  - r.digitalocean_load_balancer.health_check.protocol == 'tcp'
                  - r.digitalocean_load_balancer.enable_proxy_protocol
                  - r.digitalocean_load_balancer.droplet_ids | length == 2
            - name: Change again
              sigma.deploy.digitalocean_load_balancer: *change
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - name: Select the droplets by tag instead
              sigma.deploy.digitalocean_load_balancer:
                name: it-lb
                tag: it-web
              register: r
            - ansible.builtin.assert:
                that:
                  - r is changed
                  - r.digitalocean_load_balancer.tag == 'it-web'
                  - r.digitalocean_load_balancer.droplet_ids | length == 2
                  - r.digitalocean_load_balancer.forwarding_rules[0].entry_port == 5432
            - name: A droplet of a tag-selected load balancer is not drained by id
              sigma.deploy.digitalocean_load_balancer: *drain
              register: r
              ignore_errors: true
            - ansible.builtin.assert:
                that:
                  - r is failed
                  - "'by tag' in r.msg"
            - sigma.deploy.digitalocean_load_balancer_info:
                name: it-lb
              register: info
            - ansible.builtin.assert:
                that:
                  - info.digitalocean_load_balancer_info | length == 1
                  - info.digitalocean_load_balancer_info[0].enable_proxy_protocol
          always:
            - name: Delete
              sigma.deploy.digitalocean_load_balancer:
                name: it-lb
                state: absent
            - name: Delete again
              sigma.deploy.digitalocean_load_balancer:
                name: it-lb
                state: absent
              register: r
            - ansible.builtin.assert:
                that: [r is not changed]
            - sigma.deploy.digitalocean_droplet:
                name: "{{ item }}"
                state: absent
              loop: [it-1, it-2]
        """,
    )
    assert_ok(run)


# --- failures ------------------------------------------------------------------------------------
CREATE_DROPLET = """
- sigma.deploy.digitalocean_droplet:
    name: it-1
    size: {size}
    image: {image}
    region: {region}
  register: r
  ignore_errors: true
- ansible.builtin.assert:
    that:
      - r is failed
      - r.failure.vendor == 'DigitalOcean'
      - r.failure.status == 422
      - r.failure.code == 'unprocessable_entity'
      - r.failure.field == '{field}'
      - r.failure.request_id is truthy
      - "'DigitalOcean API error' in r.msg"
      - "'unprocessable_entity' in r.msg"
      - "\\"field '{field}'\\" in r.msg"
"""


@pytest.mark.parametrize(
    ("size", "image", "region", "field"),
    [
        ("s-99vcpu-1tb", "debian-12-x64", "fra1", "size"),
        ("s-1vcpu-1gb", "beos-5", "fra1", "image"),
        ("s-1vcpu-1gb", "debian-12-x64", "mars1", "region"),
    ],
)
def test_unknown_input_names_the_field(sim, tmp_path, size, image, region, field):
    tasks = CREATE_DROPLET.format(size=size, image=image, region=region, field=field)
    run = play(tmp_path, sim, tasks, None, "-vvvv")
    assert_ok(run)
    assert "Traceback" not in run.output
    assert sim.token not in run.output


def test_an_unknown_ssh_key_fails_before_anything_is_created(sim, tmp_path):
    run = play(
        tmp_path,
        sim,
        f"""
        - sigma.deploy.digitalocean_droplet: {droplet(ssh_keys="[nobody]")}
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - r is failed
              - r.failure.code == 'not_found'
              - r.failure.field == 'ssh_keys'
              - "\\"SSH key 'nobody' not found\\" in r.msg"
        - sigma.deploy.digitalocean_droplet_info:
          register: info
        - ansible.builtin.assert:
            that:
              - "info.digitalocean_droplet_info == []"
        """,
    )
    assert_ok(run)


@pytest.mark.parametrize("via", ["DIGITALOCEAN_TOKEN", "DO_API_TOKEN", "option"])
def test_bad_token(sim, tmp_path, via):
    token = "wrong-token-8f3a1c"
    args = f"api_token: {token}" if via == "option" else "tag_name: it"
    env = {"DIGITALOCEAN_TOKEN": token}
    if via == "DO_API_TOKEN":
        env = {"DIGITALOCEAN_TOKEN": "", "DO_API_TOKEN": token}
    run = play(
        tmp_path,
        sim,
        f"""
        - sigma.deploy.digitalocean_droplet_info:
            {args}
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - r is failed
              - r.failure.vendor == 'DigitalOcean'
              - r.failure.code == 'Unauthorized'
              - r.failure.status == 401
              - r.msg is match("DigitalOcean API error 'Unauthorized' \\(HTTP 401\\)")
              - "'DIGITALOCEAN_TOKEN' in r.msg"
        """,
        env,
        "-vvvv",
    )
    assert_ok(run)
    assert token not in run.output
    assert "Traceback" not in run.output


def test_duplicate_names_fail_clearly(sim, tmp_path):
    """DigitalOcean allows twins; when they exist already, the module names them and stops."""
    session, base = api(sim)
    ids = []
    for _unused in range(2):
        body = {"name": "it-dup", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}
        ids.append(session.post(f"{base}/droplets", json=body).json()["droplet"]["id"])
    run = play(
        tmp_path,
        sim,
        f"""
        - sigma.deploy.digitalocean_droplet:
            name: it-dup
            size: s-1vcpu-1gb
            image: debian-12-x64
            state: "{{{{ item }}}}"
          loop: [present, absent]
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - item is failed
              - item.failure.code == 'duplicate_name'
              - item.failure.field == 'name'
              - "'2 droplets are named \\\\'it-dup\\\\' (ids {ids[0]}, {ids[1]})' in item.msg"
          loop: "{{{{ r.results }}}}"
        """,
    )
    assert_ok(run)
    assert len(droplets(sim, name="it-dup")) == 2


def test_a_second_run_never_creates_a_twin(sim, tmp_path):
    tasks = f"""
        - sigma.deploy.digitalocean_droplet: {DROPLET}
        """
    assert_ok(play(tmp_path, sim, tasks))
    assert_ok(play(tmp_path, sim, tasks))
    assert len(droplets(sim)) == 1


def test_rate_limit_exhausted_after_retries(sim, tmp_path):
    sim.faults(rate_limit_next=100)
    run = play(
        tmp_path,
        sim,
        """
        - sigma.deploy.digitalocean_droplet_info:
            api_retries: 2
            api_retry_timeout: 20
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - r is failed
              - r.failure.vendor == 'DigitalOcean'
              - r.failure.code == 'too_many_requests'
              - r.failure.status == 429
              - "'gave up after 3 attempts' in r.msg"
        """,
    )
    assert_ok(run)


def test_an_action_that_ends_in_error_then_a_rerun_completes(sim, tmp_path):
    sim.faults(action_error_next=1)
    tasks = f"""
        - sigma.deploy.digitalocean_droplet: {DROPLET}
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - r is failed
              - r.failure.vendor == 'DigitalOcean'
              - r.failure.status is none
              - r.failure.code == 'action_errored'
              - "'errored' in r.msg"
        """
    assert_ok(play(tmp_path, sim, tasks))
    rerun = play(
        tmp_path,
        sim,
        f"""
        - sigma.deploy.digitalocean_droplet: {droplet(state="started")}
          register: r
        - ansible.builtin.assert:
            that:
              - r is changed
              - "r.digitalocean_droplet.status == 'active'"
        - sigma.deploy.digitalocean_droplet_info:
            name: it-1
          register: info
        - ansible.builtin.assert:
            that:
              - info.digitalocean_droplet_info | length == 1
              - info.digitalocean_droplet_info[0].status == 'active'
        """,
    )
    assert_ok(rerun)
    assert "never finished being created" in rerun.output


def test_api_unreachable(sim, tmp_path):
    port = closed_port()
    run = play(
        tmp_path,
        sim,
        f"""
        - sigma.deploy.digitalocean_ssh_key_info:
            api_endpoint: https://127.0.0.1:{port}/digitalocean
            api_retries: 1
          register: r
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - r is failed
              - r.failure.vendor == 'DigitalOcean'
              - r.failure.code == 'unreachable'
              - r.failure.status is none
              - "'cannot reach https://127.0.0.1:{port}/digitalocean/v2' in r.msg"
        """,
        None,
        "-vvvv",
    )
    assert_ok(run)
    assert sim.token not in run.output
    assert "Traceback" not in run.output
