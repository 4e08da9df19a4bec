"""`make bench`: performance of the collection, measured here and printed as a table.

Each measurement runs against the local simulator (memory backend) started in this process.
Times are wall-clock seconds; where a target is a ratio (cost grows linearly), the ratio is
computed against a baseline measured in the same run, so a slow or busy machine does not
change the verdict much.

    python tools/bench.py [--sizes 500 5000] [--vendors hetzner] [--no-deploy] [--local-only]

The deploy benchmarks (tools/bench_deploy.py) run on seven local test hosts, the Fly.io rung's
(tools/bench_fly.py) on the local Fly with machines that really run. The in-process
ones (tools/bench_local.py: the simulator without HTTP, loadgen and http_check on loopback)
need nothing but this checkout and take seconds; ``--local-only`` runs just them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cloudsim.app import Settings, start  # noqa: E402

BIN = Path(sys.executable).parent

# vendor: (endpoint suffix, env of the inventory plugin, config, how to create one server)
VENDORS = {
    "hetzner": {
        "prefix": "/hetzner/v1",
        "env": ("HCLOUD_ENDPOINT", "HCLOUD_TOKEN"),
        "config": "plugin: sigma.deploy.hetzner\nlabel_selector: bench=yes\n",
        "file": "bench.hetzner.yml",
        "create": lambda i: (
            "/servers",
            {
                "name": f"bench-{i}",
                "server_type": "cx22",
                "image": "debian-12",
                "location": "fsn1",
                "labels": {"bench": "yes", "role": "web"},
            },
        ),
    },
    "digitalocean": {
        "prefix": "/digitalocean",
        "env": ("DIGITALOCEAN_ENDPOINT", "DIGITALOCEAN_TOKEN"),
        "config": "plugin: sigma.deploy.digitalocean\ntags: [bench]\n",
        "file": "bench.digitalocean.yml",
        "create": lambda i: (
            "/v2/droplets",
            {
                "name": f"bench-{i}",
                "region": "fra1",
                "size": "s-1vcpu-1gb",
                "image": "debian-12-x64",
                "tags": ["bench"],
            },
        ),
    },
}


def populate(base: str, token: str, ca: str, vendor: str, first: int, count: int) -> None:
    spec = VENDORS[vendor]
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for i in range(first, first + count):
            path, body = spec["create"](i)
            # verify per request: a session-wide verify loses to REQUESTS_CA_BUNDLE in requests.
            resp = session.post(base + spec["prefix"] + path, json=body, verify=ca, timeout=30)
            resp.raise_for_status()


def run_inventory(workdir: Path, vendor: str, env: dict[str, str], cache: bool) -> float:
    spec = VENDORS[vendor]
    config = spec["config"]
    if cache:
        config += (
            "cache: true\ncache_plugin: ansible.builtin.jsonfile\n"
            f"cache_connection: {workdir / 'cache'}\ncache_timeout: 3600\n"
        )
    path = workdir / spec["file"]
    path.write_text(config)
    started = time.monotonic()
    proc = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(path), "--list"],
        capture_output=True, text=True, env=env, check=False, cwd=workdir,
    )  # fmt: skip
    took = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"ansible-inventory failed:\n{proc.stderr[-2000:]}")
    hosts = len(json.loads(proc.stdout)["_meta"]["hostvars"])
    return took, hosts


def bench_inventory(vendor: str, sizes: list[int]) -> list[tuple[str, str, str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="sigma-bench-") as tmp:
        workdir = Path(tmp)
        settings = Settings(port=0, tls=True, ca_path=str(workdir / "ca.pem"))
        server, _sim, url = start(settings)
        spec = VENDORS[vendor]
        cfg = workdir / "ansible.cfg"
        cfg.write_text(f"[inventory]\nenable_plugins = sigma.deploy.{vendor}\n")
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(cfg),
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
            spec["env"][0]: url + spec["prefix"],
            spec["env"][1]: settings.token,
            "REQUESTS_CA_BUNDLE": settings.ca_path,
        }
        try:
            created = 0
            cold_times = {}
            for size in sorted(sizes):
                populate(url, settings.token, settings.ca_path, vendor, created, size - created)
                created = size
                cold, hosts = run_inventory(workdir, vendor, env, cache=False)
                if hosts != size:
                    raise SystemExit(f"{vendor}: expected {size} hosts, inventory has {hosts}")
                run_inventory(workdir, vendor, env, cache=True)  # fills the cache
                cached, _hosts = run_inventory(workdir, vendor, env, cache=True)
                cold_times[size] = cold
                rows.append((f"{vendor} inventory, {size} servers, cold", f"{cold:.2f} s", ""))
                rows.append((f"{vendor} inventory, {size} servers, cached", f"{cached:.2f} s", ""))
            if len(cold_times) >= 2:
                small, large = min(cold_times), max(cold_times)
                ratio = cold_times[large] / cold_times[small]
                rows.append(
                    (
                        f"{vendor} inventory cost {large} / {small} servers",
                        f"{ratio:.1f}x",
                        f"linear or better: <= {large / small:.0f}x",
                    )
                )
        finally:
            server.shutdown()
    return rows


def bench_provision(counts: tuple[int, int] = (1, 10), delay: float = 2.0) -> list:
    """provision.yml at the simulated Hetzner API: wall time for 1 and 10 servers."""
    rows, took = [], {}
    with tempfile.TemporaryDirectory(prefix="sigma-bench-") as tmp:
        workdir = Path(tmp)
        settings = Settings(port=0, tls=True, ca_path=str(workdir / "ca.pem"), action_delay=delay)
        server, _sim, url = start(settings)
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
            "HCLOUD_ENDPOINT": url + "/hetzner/v1",
            "HCLOUD_TOKEN": settings.token,
            "REQUESTS_CA_BUNDLE": settings.ca_path,
        }
        try:
            for count in counts:
                key = workdir / f"k{count}"  # a project of its own, with a key of its own
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                               check=True)  # fmt: skip
                servers = workdir / f"servers-{count}.yml"
                servers.write_text(
                    f"sigma_project: bench{count}\nsigma_wait_for_ssh: false\nsigma_servers:\n"
                    + "".join(
                        f"  - {{name: b{count}-{i}, type: cx22, image: debian-12}}\n"
                        for i in range(count)
                    )
                )
                started = time.monotonic()
                proc = subprocess.run(
                    [str(BIN / "ansible-playbook"), "playbooks/provision.yml",
                     "-e", "provider=hetzner", "-e", f"@{servers}",
                     "-e", f"sigma_ssh_public_key_file={key}.pub"],
                    capture_output=True, text=True, env=env, cwd=ROOT, check=False,
                )  # fmt: skip
                took[count] = time.monotonic() - started
                if proc.returncode != 0:
                    raise SystemExit(f"provision.yml failed:\n{proc.stdout[-2000:]}")
                rows.append(
                    (
                        f"provision {count} server(s), {delay:.0f} s actions",
                        f"{took[count]:.1f} s",
                        "",
                    )
                )
        finally:
            server.shutdown()
    small, large = counts
    rows.append(
        (f"provision {large} / {small} servers", f"{took[large] / took[small]:.1f}x", "<= about 2x")
    )
    return rows


def print_table(rows: list[tuple[str, str, str]]) -> None:
    widths = [
        max(len(r[i]) for r in [("measurement", "result", "target"), *rows]) for i in range(3)
    ]
    line = "  ".join("-" * w for w in widths)
    print(line)
    for row in [("measurement", "result", "target"), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--vendors", nargs="+", default=["hetzner"], choices=sorted(VENDORS))
    parser.add_argument(
        "--no-deploy", action="store_true", help="skip the deploy benchmarks (7 local hosts)"
    )
    parser.add_argument(
        "--local-only", action="store_true", help="only the in-process benchmarks (no hosts)"
    )
    parser.add_argument(
        "--no-fly", action="store_true", help="skip the Fly.io rung's benchmarks (local Fly)"
    )
    args = parser.parse_args()
    from tools.bench_local import bench_local

    rows = bench_local()
    if args.local_only:
        print_table(rows)
        return 0
    for vendor in args.vendors:
        rows += bench_inventory(vendor, args.sizes)
    rows += bench_provision()
    if not args.no_deploy:
        from tools.bench_deploy import bench_deploy

        rows += bench_deploy()
    if not args.no_fly:
        from tools.bench_fly import bench_fly

        rows += bench_fly()
    print_table(rows)
    return 1 if any(row[1] == "FAILED" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
