"""The last act of `make demo`: deploy release 2 by blue-green under a steady load.

Release 2 is release 1's code under a new release id (tools/release_variant.py), standing in
for your next commit. While playbooks/deploy.yml runs, tools/loadgen.py sends a steady,
bounded stream of requests through the load balancer and counts every failed one. Prints the
requests sent and failed, the cut-over time (how long both releases answered) and the URL,
appends them to the demo summary, and exits 1 if a request failed or the deploy failed.

Run from the repository root with the simulator's environment (the Makefile does).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.loadgen import LoadGen  # noqa: E402
from tools.release_variant import derive  # noqa: E402

ARTIFACTS = ROOT / ".build" / "artifacts"
SUMMARY = ROOT / ".build" / "demo-summary.txt"


def lb_address() -> str:
    """The load balancer's address, from the demo inventory."""
    out = subprocess.run(
        ["ansible-inventory", "--list"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    inventory = json.loads(out)
    hosts = inventory.get("lb", {}).get("hosts") or inventory.get("app", {}).get("hosts")
    if not hosts:
        raise SystemExit("demo_deploy: the inventory has no lb or app host; run make demo first")
    address = inventory["_meta"]["hostvars"][sorted(hosts)[0]]["ansible_host"]
    if isinstance(address, dict):  # a value from the inventory plugin: {"__ansible_unsafe": ...}
        address = next(iter(address.values()))
    return str(address)


def serving(url: str) -> str:
    """The release the app answers with; our demo hosts' certificates are self-signed."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url + "version", context=context, timeout=10) as r:
        return json.loads(r.read())["release_id"]


def main() -> int:
    url = f"https://{lb_address()}/"
    release_1 = serving(url)
    release_2_dir = derive(ARTIFACTS / release_1, ARTIFACTS, "same")
    release_2 = release_2_dir.name
    print(f"demo: deploying release 2 ({release_2}) by blue-green under load, from {release_1}")
    load = LoadGen(url, paths=["/", "/version"], rate=20.0, max_seconds=600, max_requests=12000)
    load.start()
    try:
        deploy = subprocess.run(
            ["ansible-playbook", "playbooks/deploy.yml", "-e", "strategy=blue_green",
             "-e", f"release={release_2_dir}"],
            cwd=ROOT, env=os.environ, check=False,
        )  # fmt: skip
    finally:
        report = load.stop()
    cutover = report.cutover_seconds(release_1, release_2)
    now = serving(url)
    lines = [
        "",
        f"Release 2 ({release_2}, release 1's code under a new id) deployed by blue-green",
        f"under a steady load through the load balancer: {report.summary()}",
        f"  requests sent {report.sent}, failed {report.failed}",
        "  cut-over (both releases answering): "
        + ("n/a" if cutover is None else f"{cutover:.2f} s"),
        f"  deploy: {'succeeded' if deploy.returncode == 0 else 'FAILED'}; {url} serves {now}",
        '  Roll back:  eval "$(tools/cloudsim.sh env)" && .venv/bin/ansible-playbook '
        "playbooks/rollback.yml",
    ]
    with SUMMARY.open("a") as summary:
        summary.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    for failure in report.failures[:10]:
        print(f"  failed: {failure}")
    return 0 if deploy.returncode == 0 and report.failed == 0 and now == release_2 else 1


if __name__ == "__main__":
    sys.exit(main())
