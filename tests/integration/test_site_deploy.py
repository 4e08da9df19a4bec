"""Zero-downtime deploys (playbooks/deploy.yml, rollback.yml) on the stack of conftest.py, after
test_site.py: it-1 is the load balancer and the database, it-2..4 run the app. Every deploy
runs under a steady,
bounded load through the load balancer (tools/loadgen.py) that counts every non-2xx answer
and connection error.

The releases after the first are derived from it in seconds (tools/release_variant.py): the
same code under a new release id, or with a fault (a failing health check, a failing
migration, 5xx on every third request). The tests run in order and each starts from what the
previous one left: the release named in its docstring serving everywhere.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.cloudsim import record
from tests.integration.support import (
    HETZNER,
    ROOT,
    Api,
    hetzner_load_balancer,
    mitogen_env,
    play_env,
    stack_play,
    wait_for,
)
from tools.loadgen import LoadGen
from tools.release_variant import derive

pytestmark = pytest.mark.hosts

APP_HOSTS = ("it-2", "it-3", "it-4")
ARTIFACTS = ROOT / ".build" / "artifacts"
# Short canary steps for tests: the load sends about 4 requests a second to each host.
# Short steps; the latency limit is loose because `make test` runs molecule beside these tests
# on two cores, where a server-rendered page can take over the default 500 ms: these tests
# judge the traffic split and the error rate (the latency verdict has its unit tests).
CANARY_VARS = [
    "-e", '{"app_deploy_canary_steps": [25, 50, 100]}',
    "-e", "app_deploy_canary_pause=8",
    "-e", "app_deploy_canary_min_requests=5",
    "-e", "app_deploy_canary_max_p95_ms=5000",
]  # fmt: skip


# Asks the host's own nginx (the hosts have no curl); its certificate is self-signed.
VERSION_PROBE = (
    "import ssl, urllib.request; c = ssl._create_unverified_context(); "
    'a = urllib.request.urlopen("https://127.0.0.1/version", context=c, timeout=10); '
    "print(a.read().decode())"
)


class Stack:
    def __init__(self, group, tmp: Path):
        self.group = group
        self.lb = group.hosts["it-1"]
        self.releases = tmp / "releases"
        self.releases.mkdir()

    def play(self, playbook: str, *extra: str, env=None) -> subprocess.CompletedProcess[str]:
        # With the mitogen strategy (SIGMA_MITOGEN=0: without): about twice as fast, and
        # test_site.py runs site.yml without it.
        return stack_play(self.group, playbook, *extra, env=env or mitogen_env())

    def deploy(self, release: Path, strategy: str = "blue_green", *extra: str, env=None):
        return self.play(
            "playbooks/deploy.yml", "-e", f"strategy={strategy}", "-e", f"release={release}",
            *extra, env=env,
        )  # fmt: skip

    def variant(self, name: str) -> Path:
        time.sleep(1)  # release ids carry the second they were made in
        return derive(self.base, self.releases, name)

    def exec(self, host: str, command: str, check: bool = True) -> str:
        return subprocess.run(
            ["podman", "exec", f"sigma-{host}", "sh", "-c", command],
            capture_output=True, text=True, check=check, timeout=60,
        ).stdout  # fmt: skip

    def served(self, host: str) -> str:
        """The release nginx on an app host serves (its /version)."""
        out = self.exec(host, f"python3 -c '{VERSION_PROBE}'")
        return json.loads(out)["release_id"]

    def ledger(self) -> list[dict]:
        text = self.exec("it-1", "cat /var/lib/sigma-deploy/notes/ledger.jsonl")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def load(self, **kwargs) -> LoadGen:
        # A failed request is an error answer or a broken connection. CI runs these tests on
        # 2 CPUs beside molecule, sanity and the other integration tests, where a page can
        # take several seconds: a slow answer is not a dropped one (max_ms in the summary
        # shows it), so the timeout only bounds a request that would never end.
        settings = {"paths": ["/", "/version"], "rate": 12.0, "max_seconds": 420, "timeout": 30.0}
        return LoadGen(f"https://{self.lb}", **(settings | kwargs))

    def assert_everywhere(self, release_id: str) -> None:
        served = {host: self.served(host) for host in APP_HOSTS}
        assert set(served.values()) == {release_id}, served


def output(run) -> str:
    return run.stdout[-8000:] + run.stderr[-2000:]


@pytest.fixture(scope="module")
def stack(converged, tmp_path_factory):
    s = Stack(converged[0], tmp_path_factory.mktemp("deploy"))
    s.current = s.served("it-2")
    s.base = ARTIFACTS / s.current
    assert (s.base / "manifest.json").is_file()
    return s


def deploy_under_load(stack: Stack, release: Path, strategy: str, *extra: str):
    load = stack.load()
    load.start()
    try:
        run = stack.deploy(release, strategy, *extra)
    finally:
        report = load.stop()
    return run, report


@contextmanager
def deploy_in_background(stack: Stack, release: Path, strategy: str, *extra: str, env=None):
    """A deploy in a thread while the load runs; the body acts on the stack meanwhile. On the
    way out the deploy is waited for (whatever the body did), then the load stops; the deploy's
    run and the load's report are in the yielded namespace."""
    outcome = SimpleNamespace(run=None, report=None)
    load = stack.load()
    load.start()
    deploy = threading.Thread(
        target=lambda: setattr(outcome, "run", stack.deploy(release, strategy, *extra, env=env))
    )
    deploy.start()
    try:
        yield outcome
    finally:
        deploy.join(timeout=600)
        outcome.report = load.stop()


def start_keeping_address(container: str, address: str) -> None:
    """Start a stopped host with the address it had, as a VPS keeps its IP over a restart
    (podman would hand out the next free one)."""
    network = os.environ.get("SIGMA_NETWORK", "sigma-deploy")
    subprocess.run(["podman", "start", container], check=True, timeout=60)
    subprocess.run(["podman", "network", "disconnect", network, container], check=True)
    subprocess.run(
        ["podman", "network", "connect", "--ip", address, network, container], check=True
    )


def wait_for_ssh(address: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, 22), timeout=2) as conn:
                if conn.recv(4).startswith(b"SSH"):
                    return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"sshd on {address} did not come back within {seconds:.0f} s")


def release_id(release: Path) -> str:
    return json.loads((release / "manifest.json").read_text())["release_id"]


def test_blue_green_moves_every_host_without_a_failed_request(stack):
    """From release 1 to a new release; afterwards every response carries it."""
    new = stack.variant("same")
    run, report = deploy_under_load(stack, new, "blue_green")
    assert run.returncode == 0, output(run)
    # The next tests start from the release deployed, whatever is found wrong below.
    stack.previous, stack.current = stack.current, release_id(new)
    assert report.sent > 50, report.summary()
    assert report.failure_lines() == [], report.summary()
    stack.assert_everywhere(release_id(new))
    after = stack.load(max_requests=30, rate=30.0)
    after.start()
    time.sleep(1.5)
    final = after.stop()
    assert set(final.releases) == {release_id(new)}, final.summary()
    entry = stack.ledger()[-1]
    assert (entry["result"], entry["release_id"], entry["previous_release_id"]) == (
        "succeeded", release_id(new), stack.previous,
    )  # fmt: skip
    assert entry["artifacts"] == json.loads((new / "manifest.json").read_text())["files"]
    assert "it-3: succeeded, serves" in run.stdout, output(run)


def test_a_release_that_fails_its_health_check_never_takes_traffic(stack):
    bad = stack.variant("unhealthy")
    run, report = deploy_under_load(stack, bad, "blue_green", "-e", "fastapi_app_health_timeout=20")
    assert run.returncode != 0
    assert "did not become healthy" in run.stdout, output(run)
    assert report.failure_lines() == [], report.summary()
    assert set(report.releases) == {stack.current}, report.summary()
    stack.assert_everywhere(stack.current)
    for host in APP_HOSTS:
        slots = stack.exec(host, "systemctl is-active notes-api@blue notes-api@green", check=False)
        assert sorted(slots.split()) == ["active", "inactive"], (host, slots)
    assert stack.ledger()[-1]["result"] == "failed"


def schema(stack: Stack) -> tuple[str, str]:
    sql = (
        "SELECT version_num FROM alembic_version;"
        " SELECT count(*) FROM pg_tables WHERE tablename = 'note_tags'"
    )
    out = stack.exec("it-1", f'runuser -u postgres -- psql -d notes -tAc "{sql}"')
    version, tables = out.split()
    return version, tables


def test_a_failed_migration_switches_nothing_and_leaves_the_schema(stack):
    assert schema(stack) == ("0002", "0")
    bad = stack.variant("bad_migration")
    run, report = deploy_under_load(stack, bad, "blue_green")
    assert run.returncode != 0
    assert "migration to 0003 failed" in run.stdout, output(run)
    assert schema(stack) == ("0002", "0")
    assert report.failure_lines() == [], report.summary()
    stack.assert_everywhere(stack.current)


def test_rolling_deploy_through_a_provider_load_balancer_and_a_second_deploy_refused(stack, sim):
    """Each batch is drained on a Hetzner load balancer (the API simulator) and put back, while
    a second deploy is refused by the lock; the load still goes through nginx on it-1. The
    load balancer's targets over time come from the simulator's record of every exchange (a
    poll misses the moments between batches on a busy machine)."""
    new = stack.variant("same")
    start = record.mark(sim.record)
    targets = hetzner_load_balancer(
        Api(sim.endpoint("hetzner"), sim.token, sim.ca_path), APP_HOSTS, "notes-lb"
    )
    provider = [
        "-e", '{"deploy_serial": [1]}', "-e", "app_deploy_lb_provider=hetzner",
        "-e", "app_deploy_lb_name=notes-lb", "-e", "app_deploy_lb_drain_seconds=1",
        # The old slots stop in 15 minutes: the rollback below cancels that. On a busy CI
        # machine the roll of 3 batches took 7 minutes, and a 5-minute timer of the first
        # host had fired before the last host was done.
        "-e", "app_deploy_keep_warm_seconds=900",
    ]  # fmt: skip
    env = play_env(HETZNER, sim, mitogen_env())
    with deploy_in_background(stack, new, "rolling", *provider, env=env) as first:
        lock = "cat /var/lib/sigma-deploy/notes/lock.json"
        wait_for("taking the lock", lambda: stack.exec("it-1", lock, check=False), 240)
        started = time.monotonic()
        second = stack.deploy(new, "blue_green")
        refused_after = time.monotonic() - started
    seen = targets.history(record.exchanges(sim.record, start))
    assert second.returncode != 0
    assert "is held by" in second.stdout, output(second)
    assert "since" in second.stdout, output(second)
    assert first.run.returncode == 0, output(first.run)
    stack.previous, stack.current = stack.current, release_id(new)
    assert refused_after < 60
    assert first.report.failure_lines() == [], first.report.summary()
    stack.assert_everywhere(release_id(new))
    # Every change of the targets, in order: one host out at a time (in inventory order), back
    # before the next goes out, and all of them in at the end.
    everyone = frozenset(APP_HOSTS)
    expected = [everyone]
    for host in APP_HOSTS:
        expected += [everyone - {host}, everyone]
    assert seen == expected, seen
    assert retire_timers(stack) == {host: ["active", "inactive"] for host in APP_HOSTS}


def retire_timers(stack: Stack) -> dict[str, list[str]]:
    """Per app host, whether a timer to stop a slot waits, sorted (active before inactive)."""
    command = "systemctl is-active notes-retire-blue.timer notes-retire-green.timer"
    return {host: sorted(stack.exec(host, command, check=False).split()) for host in APP_HOSTS}


def test_rollback_returns_to_the_previous_release_without_a_failed_request(stack):
    load = stack.load()
    load.start()
    try:
        # --limit leaves out it-1, the ledger's host: the rollback reaches it all the same.
        run = stack.play("playbooks/rollback.yml", "--limit", "app")
    finally:
        report = load.stop()
    assert run.returncode == 0, output(run)
    stack.previous, stack.current = stack.current, stack.previous
    assert report.failure_lines() == [], report.summary()
    stack.assert_everywhere(stack.current)
    entry = stack.ledger()[-1]
    assert (entry["kind"], entry["result"], entry["release_id"]) == (
        "rollback", "succeeded", stack.current,
    )  # fmt: skip
    # The timers the rolling deploy left to stop these slots are gone.
    assert retire_timers(stack) == {host: ["inactive", "inactive"] for host in APP_HOSTS}


def test_canary_moves_traffic_step_by_step(stack):
    new = stack.variant("same")
    run, report = deploy_under_load(stack, new, "canary", *CANARY_VARS)
    assert run.returncode == 0, output(run)
    stack.previous, stack.current = stack.current, release_id(new)
    assert report.failure_lines() == [], report.summary()
    assert "Canary step 1 (25 %)" in run.stdout, output(run)
    assert "Canary step 2 (50 %)" in run.stdout, output(run)
    stack.assert_everywhere(stack.current)


def test_canary_of_a_release_answering_5xx_fails_its_first_step(stack):
    flaky = stack.variant("flaky")
    run, report = deploy_under_load(stack, flaky, "canary", *CANARY_VARS)
    assert run.returncode != 0
    assert "canary step 1 (25 %) failed" in run.stdout, output(run)
    assert "Canary step 2" not in run.stdout
    stack.assert_everywhere(stack.current)
    after = stack.load(max_requests=40, rate=40.0)
    after.start()
    time.sleep(1.5)
    final = after.stop()
    assert final.failure_lines() == [], final.summary()
    assert set(final.releases) == {stack.current}, final.summary()
    # Some requests did fail during the step: that is what the canary measured.
    assert report.failed > 0, report.summary()


def test_a_host_that_dies_mid_roll_stops_it_and_a_rerun_converges(stack):
    new = stack.variant("same")
    with deploy_in_background(stack, new, "rolling", "-e", '{"deploy_serial": [1]}') as roll:
        wait_for("it-2 moving", lambda: stack.served("it-2") == release_id(new), 300)
        subprocess.run(["podman", "stop", "-t", "0", "sigma-it-3"], check=True, timeout=60)
    run, report = roll.run, roll.report
    assert run.returncode != 0, output(run)
    # The roll stopped: it-2 went back, it-4 never moved.
    assert stack.served("it-2") == stack.current
    assert stack.served("it-4") == stack.current
    # The load balancer kept answering from the other hosts.
    assert report.ok > 0.95 * report.sent, report.summary()
    start_keeping_address("sigma-it-3", stack.group.hosts["it-3"])
    wait_for_ssh(stack.group.hosts["it-3"])
    # The re-run also stops the old slots 3 s after each switch (not at the next deploy).
    rerun = stack.deploy(new, "rolling", "-e", "app_deploy_keep_warm_seconds=3")
    assert rerun.returncode == 0, output(rerun)
    stack.previous, stack.current = stack.current, release_id(new)
    stack.assert_everywhere(stack.current)
    time.sleep(10)
    for host in APP_HOSTS:
        slots = stack.exec(host, "systemctl is-active notes-api@blue notes-api@green", check=False)
        assert sorted(slots.split()) == ["active", "inactive"], (host, slots)


# Last: the database stays at revision 0003, which the releases above do not know.
def test_rollback_is_refused_when_a_later_release_migrated_the_schema(stack):
    before = stack.served("it-2")
    migrated = stack.variant("schema2")
    run = stack.deploy(migrated)
    assert run.returncode == 0, output(run)
    assert schema(stack) == ("0003", "1")
    stack.previous, stack.current = before, release_id(migrated)

    refused = stack.play("playbooks/rollback.yml")
    assert refused.returncode != 0, output(refused)
    assert (
        f"release {stack.previous} expects the schema at revision 0002, but the database is at"
        " 0003 (migrated by a later release)"
    ) in " ".join(refused.stdout.split()), output(refused)
    stack.assert_everywhere(stack.current)
    assert schema(stack) == ("0003", "1")
    entry = stack.ledger()[-1]
    assert (entry["kind"], entry["result"]) == ("rollback", "failed"), entry

    # Said deliberately: the old code runs on the newer schema (0003 only added a table).
    load = stack.load()
    load.start()
    try:
        run = stack.play(
            "playbooks/rollback.yml", "-e", "app_deploy_rollback_allow_schema_mismatch=true"
        )
    finally:
        report = load.stop()
    assert run.returncode == 0, output(run)
    assert report.failure_lines() == [], report.summary()
    stack.assert_everywhere(stack.previous)
    assert schema(stack) == ("0003", "1")
