"""Deploy benchmarks for `make bench` (tools/bench.py calls bench_deploy()).

Seven local hosts (bn-1: load balancer and database; bn-2..7: the app), configured once by
site.yml, then: a no-change site.yml on three hosts; a blue-green deploy of one host with
prebuilt artifacts, with the cut-over time seen by a steady load on that host (how long both
releases answered); a rollback with the old slot warm; rolling deploys of 1, 3 and 6 hosts
(deploy_serial [1, "50%", "100%"]: 1, 3 and 3 batches; with the number of tasks run in turn,
which does not depend on the shared CPUs of the test hosts). The no-change site.yml, the
blue-green deploy and the warm rollback are measured again with the mitogen strategy (the
optional accelerator; rows marked "mitogen") when it is installed. Releases after the first are
derived in seconds (tools/release_variant.py), so no deploy waits for a build.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from tests.integration.support import ROOT, hostctl, mitogen_env, run_playbook, start_group
from tools.loadgen import LoadGen
from tools.release_variant import derive

GROUPS = """\
all:
  children:
    lb: {hosts: {bn-1: null}}
    db: {hosts: {bn-1: null}}
    app: {hosts: {bn-2: null, bn-3: null, bn-4: null, bn-5: null, bn-6: null, bn-7: null}}
"""
ARTIFACTS = ROOT / ".build" / "artifacts"
VARS = [
    "-e", "sigma_db_password=bn-Secret-0451",
    "-e", f"sigma_artifacts_dir={ARTIFACTS}",
    "-e", "fastapi_app_workers=2",
]  # fmt: skip


class Bench:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.task_rounds = 0
        self.group = start_group("bn", 7, tmp / "hosts.yml")
        self.groups = tmp / "groups.yml"
        self.groups.write_text(GROUPS)
        self.releases = tmp / "releases"
        self.releases.mkdir()

    def play(self, playbook: str, *extra: str, env: dict[str, str] | None = None) -> float:
        began = time.monotonic()
        run = run_playbook(
            self.group.inventory, playbook, "-i", str(self.groups), *VARS, *extra, env=env
        )
        took = time.monotonic() - began
        if run.returncode != 0:
            raise RuntimeError(f"{playbook} {extra} failed:\n{run.stdout[-4000:]}")
        # Tasks run one after the other (each on every host of its batch at once): how the
        # cost grows, apart from how fast the shared CPUs of the test hosts run them.
        self.task_rounds = run.stdout.count("\nTASK [")
        return took

    def served(self, host: str) -> str:
        out = subprocess.run(
            ["podman", "exec", f"sigma-{host}", "cat", "/etc/notes/slots/"
             + self.active(host) + "-api.env"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        lines = [line for line in out.splitlines() if line.startswith("RELEASE_ID=")]
        return lines[0].split("=", 1)[1]

    def active(self, host: str) -> str:
        out = subprocess.run(
            ["podman", "exec", f"sigma-{host}", "cat", "/etc/ansible/facts.d/sigma_notes.fact"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return json.loads(out)["active_slot"]

    def release(self) -> Path:
        """A new release (same code, new id) derived from the one bn-2 serves, which is the
        built release or one derived before."""
        time.sleep(1)  # release ids carry the second they were made in
        served = self.served("bn-2")
        base = ARTIFACTS / served
        if not base.is_dir():
            base = self.releases / served
        return derive(base, self.releases, "same")

    def rollback(self, old: str, env=None) -> float:
        """rollback.yml on bn-2, checked to have brought back ``old``."""
        took = self.play("playbooks/rollback.yml", "--limit", "bn-2", env=env)
        if self.served("bn-2") != old:
            raise RuntimeError(f"the rollback left bn-2 on {self.served('bn-2')}, not {old}")
        return took

    def deploy(self, hosts: list[str], strategy: str = "blue_green", env=None) -> float:
        release = self.release()
        return self.play(
            "playbooks/deploy.yml", "--limit", ",".join(hosts),
            "-e", f"strategy={strategy}", "-e", f"release={release}", env=env,
        )  # fmt: skip

    def blue_green_under_load(self, env=None) -> tuple[float, float | None, int, str]:
        """A blue-green deploy of bn-2 under a steady load on it: wall time, cut-over, failed
        requests, and the release it served before."""
        old = self.served("bn-2")
        load = LoadGen(f"https://{self.group.hosts['bn-2']}", rate=20.0, max_seconds=300)
        load.start()
        try:
            took = self.deploy(["bn-2"], env=env)
        finally:
            report = load.stop()
        return took, report.cutover_seconds(old, self.served("bn-2")), report.failed, old


def seconds(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} s"


def bench_deploy() -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="sigma-bench-deploy-") as tmp:
        bench = None
        try:
            bench = Bench(Path(tmp))
            first = bench.play("playbooks/site.yml")
            rows.append(("site.yml, 7 new hosts", f"{first:.1f} s", ""))
            fast = mitogen_env()
            three = ("--limit", "bn-1,bn-2,bn-3")
            again = bench.play("playbooks/site.yml", *three)
            rows.append(("site.yml no change, 3 hosts", f"{again:.1f} s", "< 30 s"))
            if fast:
                again = bench.play("playbooks/site.yml", *three, env=fast)
                rows.append(("site.yml no change, 3 hosts, mitogen", f"{again:.1f} s", "< 30 s"))

            took, cutover, failed, old = bench.blue_green_under_load()
            rows.append(("blue-green deploy, 1 host, prebuilt", f"{took:.1f} s", "< 60 s"))
            rows.append(("cut-over (both releases answering)", seconds(cutover, 2), "< 1 s"))
            rows.append(("requests failed during the deploy", f"{failed}", "0"))
            back = bench.rollback(old)
            rows.append(("rollback, old slot warm, 1 host", f"{back:.1f} s", "< 10 s"))
            if fast:
                took, cutover, failed, old = bench.blue_green_under_load(env=fast)
                rows.append(("blue-green deploy, 1 host, mitogen", f"{took:.1f} s", "< 60 s"))
                rows.append(("cut-over, mitogen", seconds(cutover, 2), "< 1 s"))
                rows.append(("requests failed during the deploy, mitogen", f"{failed}", "0"))
                back = bench.rollback(old, env=fast)
                rows.append(("rollback, old slot warm, 1 host, mitogen", f"{back:.1f} s", "< 10 s"))

            app = [f"bn-{i}" for i in range(2, 8)]
            rolling, rounds = {}, {}
            for n in (1, 3, 6):
                rolling[n] = bench.deploy(app[:n], "rolling")
                rounds[n] = bench.task_rounds
                rows.append(
                    (f"rolling deploy, {n} host(s)", f"{rolling[n]:.1f} s, {rounds[n]} tasks", "")
                )
            rows.append(
                (
                    "rolling 6 / 3 hosts (both 3 batches)",
                    f"{rolling[6] / rolling[3]:.2f}x",
                    "about 1x (batches, not hosts)",
                )
            )
            rows.append(
                (
                    "rolling 6 / 3 hosts, tasks run in turn",
                    f"{rounds[6] / rounds[3]:.2f}x",
                    "the same work per batch",
                )
            )
        except Exception as err:  # a play failed: the rows so far, and why
            traceback.print_exception(err, file=sys.stderr)
            rows.append(("deploy benchmarks stopped: a play failed", "FAILED", ""))
        finally:
            if bench is not None:
                hostctl("down", "--group", "bn")
    return rows
