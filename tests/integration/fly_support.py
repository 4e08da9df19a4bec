"""The local Fly of the integration tests: the simulator with real machines (podman runtime),
the local registry with the app's and PostgreSQL's images, and a database app.

``fly_world`` (a session fixture in ``conftest.py``) gives a :class:`FlyWorld`. Images are built
by ``tools/app_image.py`` (once per source; pushing to this session's registry takes seconds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.integration.sim_support import module_play, start_podman_simulator

NONCE = "fly-machine-lease-nonce"
DB_PASSWORD_ENV = "POSTGRES_PASSWORD"


def app_config(image: str, release_id: str, **extra) -> dict:
    """The notes API as a Fly machine: port 80 → 8000, checked by GET /healthz."""
    config = {
        "image": image,
        "env": {"RELEASE_ID": release_id, "WEB_CONCURRENCY": "1"},
        "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 512},
        "services": [
            {
                "protocol": "tcp",
                "internal_port": 8000,
                "ports": [{"port": 80, "handlers": ["http"]}],
                "checks": [{"type": "http", "path": "/healthz", "interval": "1s", "timeout": "2s"}],
            }
        ],
        "metadata": {"fly_process_group": "app", "sigma_release": release_id},
        "restart": {"policy": "on-failure"},
    }
    config.update(extra)
    return config


@dataclass
class FlyWorld:
    url: str  # the simulator's base URL (…/fly/v1 is the Machines API)
    token: str
    ca_path: str
    sim: object
    image: str
    postgres_image: str
    env: dict[str, str] = field(default_factory=dict)  # what a play needs (token, endpoint, CA)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def call(self, method: str, path: str, body=None, nonce=None, timeout=70) -> requests.Response:
        headers = {NONCE: nonce} if nonce else {}
        return self.session.request(
            method, f"{self.url}/fly/v1{path}", json=body, headers=headers,
            verify=self.ca_path, timeout=timeout,
        )  # fmt: skip

    def ok(self, method: str, path: str, body=None, **kwargs):
        response = self.call(method, path, body, **kwargs)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def proxy_url(self, app: str) -> str:
        answer = self.session.get(f"{self.url}/_admin/fly/proxies", verify=self.ca_path, timeout=10)
        url = answer.json().get(app)
        assert url, f"no proxy for {app}"
        assert url.startswith("http://127."), f"the proxy of {app} is not on loopback: {url}"
        return url

    def wait_passing(self, app: str, machine_id: str, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            machine = self.ok("GET", f"/apps/{app}/machines/{machine_id}")
            checks = machine.get("checks") or []
            if (
                machine["state"] == "started"
                and checks
                and all(c["status"] == "passing" for c in checks)
            ):
                return machine
            assert time.monotonic() < deadline, f"{machine_id} not passing: {machine}"
            time.sleep(0.5)

    def database(self, app: str, password: str) -> str:
        """A Postgres app with one machine; returns the DATABASE_URL its clients use."""
        self.ok("POST", "/apps", {"app_name": app, "org_slug": "personal"})
        self.ok("POST", f"/apps/{app}/secrets", {"values": {DB_PASSWORD_ENV: password}})
        machine = self.ok(
            "POST",
            f"/apps/{app}/machines",
            {
                "region": "ams",
                "config": {
                    "image": self.postgres_image,
                    "env": {"POSTGRES_USER": "notes", "POSTGRES_DB": "notes"},
                    "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 512},
                    "checks": {"pg": {"type": "tcp", "port": 5432, "interval": "1s"}},
                    "metadata": {"fly_process_group": "db"},
                },
            },
        )
        self.wait_passing(app, machine["id"])
        return f"postgresql+psycopg://notes:{password}@{app}.internal:5432/notes"


def start_world(tmp: Path):
    server, sim, url, settings, images = start_podman_simulator(tmp)
    world = FlyWorld(
        url=url, token=settings.token, ca_path=settings.ca_path, sim=sim,
        image=images["image"], postgres_image=images["postgres_image"],
    )  # fmt: skip
    world.env = {
        "FLY_API_TOKEN": settings.token,
        "FLY_FLAPS_BASE_URL": f"{url}/fly",
        "REQUESTS_CA_BUNDLE": settings.ca_path,
    }
    return server, world


def deploy_play(world: FlyWorld, tmp_path: Path, name: str, args: dict) -> tuple[int, dict, str]:
    """Run ``sigma.deploy.fly_deploy`` with ``args`` in a local play against the local Fly;
    returns (rc, the module's result, the play's output)."""
    return module_play("sigma.deploy.fly_deploy", args, world.env, tmp_path, name)


def machines_of(world: FlyWorld, app: str) -> list[dict]:
    return [m for m in world.ok("GET", f"/apps/{app}/machines") if m["state"] != "destroyed"]
