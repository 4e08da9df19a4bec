"""The last act of `make demo RUNG=fly`: deploy release 2 by blue-green under a steady load.

Release 2 is release 1's image under a new release id, standing in for your next commit. While
playbooks/deploy.yml runs on the fly rung, tools/loadgen.py sends a steady, bounded stream of
requests through the app's proxy stand-in (where Fly's edge would be) and counts every failed
one. Prints the requests sent and failed and the app's URL, appends them to the demo's
summary, and exits 1 if a request failed or the deploy failed.

    python tools/demo_fly.py --image registry.fly.io/notes:<tag> [--app notes]

Run from the repository root with the simulator's environment (the Makefile does).
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.loadgen import LoadGen  # noqa: E402

INVENTORY = "inventories/local/demo.fly.yml"
SUMMARY = ROOT / ".build" / "demo-fly-summary.txt"


def proxy_url(app: str) -> str:
    """Where the simulator's proxy stand-in serves the app (Fly: https://<app>.fly.dev)."""
    parts = urllib.parse.urlsplit(os.environ["FLY_FLAPS_BASE_URL"])
    admin = f"{parts.scheme}://{parts.netloc}/_admin/fly/proxies"
    context = ssl.create_default_context(cafile=os.environ.get("REQUESTS_CA_BUNDLE"))
    with urllib.request.urlopen(admin, context=context, timeout=10) as answer:
        urls = json.loads(answer.read())
    if app not in urls:
        raise SystemExit(f"demo_fly: no proxy serves the app {app}; did release 1 deploy?")
    return urls[app]


def serving(url: str) -> str:
    with urllib.request.urlopen(url + "/version", timeout=10) as answer:
        return json.loads(answer.read())["release_id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--app", default="notes")
    args = parser.parse_args(argv)
    url = proxy_url(args.app)
    release_1 = serving(url)
    release_2 = f"{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-demo2"
    print(f"demo: deploying release 2 ({release_2}) by blue-green under load, from {release_1}")
    load = LoadGen(
        url, paths=["/version", "/healthz"], rate=20.0, max_seconds=600, max_requests=12000
    )
    load.start()
    try:
        deploy = subprocess.run(
            ["ansible-playbook", "-i", INVENTORY, "playbooks/deploy.yml",
             "-e", "strategy=blue_green", "-e", f"image={args.image}",
             "-e", f"app_deploy_image_release_id={release_2}"],
            cwd=ROOT, env=os.environ, check=False,
        )  # fmt: skip
    finally:
        report = load.stop()
    now = serving(url)
    lines = [
        "",
        f"Release 2 ({release_2}, release 1's image under a new id) deployed by blue-green on",
        f"the Fly rung under a steady load through the app's proxy: {report.summary()}",
        f"  requests sent {report.sent}, failed {report.failed}",
        f"  deploy: {'succeeded' if deploy.returncode == 0 else 'FAILED'}; {url} serves {now}",
        f"  (on Fly.io: https://{args.app}.fly.dev)",
        '  Roll back:  eval "$(tools/cloudsim.sh env)" && .venv/bin/ansible-playbook '
        f"-i {INVENTORY} playbooks/rollback.yml",
    ]
    with SUMMARY.open("a") as summary:
        summary.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    for failure in report.failure_lines()[:10]:
        print(f"  failed: {failure}")
    return 0 if deploy.returncode == 0 and report.failed == 0 and now == release_2 else 1


if __name__ == "__main__":
    sys.exit(main())
