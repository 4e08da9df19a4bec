"""The Fly.io rung's rows of `make bench`: fly_deploy on the local Fly, machines that really run.

The local Fly (the simulator with the podman runtime, the app's images in the local registry,
a Postgres app) is started in this process, as the integration tests start it. Each row is one
``ansible-playbook`` run of ``sigma.deploy.fly_deploy`` with a prebuilt image, timed on the
wall clock as a user waits for it, with the module's count of Machines API calls. The settings
are the module's defaults (``settle_s`` 10: bluegreen waits twice for Fly's proxy, as flyctl),
apart from the release command, which every deploy runs (the migrations).
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.fly_support import deploy_play, machines_of, start_world  # noqa: E402

CONFIG = {
    "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 512},
    "services": [
        {
            "protocol": "tcp",
            "internal_port": 8000,
            "ports": [{"port": 80, "handlers": ["http"]}],
            "checks": [{"type": "http", "path": "/healthz", "interval": "1s", "timeout": "2s"}],
        }
    ],
    "restart": {"policy": "on-failure"},
}


def bench_fly() -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="sigma-bench-fly-") as tmp_dir:
        tmp = Path(tmp_dir)
        started = time.monotonic()
        server, world = start_world(tmp)
        rows.append(
            ("local Fly up (images in the registry)", f"{time.monotonic() - started:.1f} s", "")
        )
        try:
            url = world.database("bench-db", secrets.token_urlsafe(12))
            for count in (1, 3):
                app = f"bench-{count}"
                world.ok("POST", "/apps", {"app_name": app, "org_slug": "personal"})
                world.ok("POST", f"/apps/{app}/secrets", {"values": {"DATABASE_URL": url}})
                steps = [
                    ("first deploy (immediate)", "immediate", "b0", ""),
                    ("bluegreen", "bluegreen", "b1", "< 60 s" if count == 3 else ""),
                    ("rolling", "rolling", "b2", ""),
                    ("rollback (bluegreen to the release before)", "bluegreen", "b1", ""),
                ]
                for label, strategy, release, target in steps:
                    args = {
                        "app": app,
                        "image": world.image,
                        "release_id": release,
                        "strategy": strategy,
                        "count": count,
                        "region": "ams",
                        "config": {**CONFIG, "env": {"RELEASE_ID": release}},
                        "release_command": ["notes-api-migrate"],
                    }
                    began = time.monotonic()
                    rc, result, output = deploy_play(
                        world, tmp, f"{app}-{release}-{strategy}", args
                    )
                    took = time.monotonic() - began
                    if rc != 0:
                        rows.append((f"fly {label}, {count} machine(s)", "FAILED", target))
                        print(output[-3000:], file=sys.stderr)
                        return rows
                    name = f"fly {label}, {count} machine(s), prebuilt image"
                    rows.append((name, f"{took:.1f} s", target))
                    rows.append(("  Machines API calls of it", str(result.get("api_calls")), ""))
                machines = len(machines_of(world, app))
                if machines != count:
                    rows.append(
                        (f"fly {app}: {machines} machines left, {count} expected", "FAILED", "")
                    )
        finally:
            server.shutdown()
            world.sim.close()
    return rows


if __name__ == "__main__":
    from tools.bench import print_table

    print_table(bench_fly())
