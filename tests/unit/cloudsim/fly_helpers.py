"""A small client of the Fly simulator for the unit tests (plain ``requests``)."""

from __future__ import annotations

import requests

NONCE = "fly-machine-lease-nonce"
CONFIG = {
    "image": "registry.fly.io/web:v1",
    "env": {"GREETING": "hello"},
    "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256},
    "services": [
        {
            "protocol": "tcp",
            "internal_port": 8080,
            "ports": [
                {"port": 80, "handlers": ["http"]},
                {"port": 443, "handlers": ["tls", "http"]},
            ],
            "checks": [{"type": "http", "path": "/healthz", "interval": "1s", "timeout": "1s"}],
        }
    ],
    "checks": {"alive": {"type": "tcp", "port": 8080}},
    "metadata": {"fly_process_group": "app", "sigma_release": "r1"},
    "restart": {"policy": "on-failure"},
    "init": {"cmd": ["serve", "--port", "8080"]},
}


class Fly:
    def __init__(self, sim, scheme: str = "Bearer") -> None:
        self.sim = sim
        self.base = sim.endpoint("fly")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"{scheme} {sim.token}"
        self.vendor = next(v for v in sim.sim.vendors if v.name == "fly")

    def call(self, method: str, path: str, nonce: str | None = None, **kwargs):
        headers = {NONCE: nonce} if nonce else {}
        return self.session.request(
            method, self.base + path, verify=self.sim.ca_path, timeout=70, headers=headers,
            **kwargs,
        )  # fmt: skip

    def ok(self, method: str, path: str, status: int = 200, **kwargs):
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def error(self, method: str, path: str, status: int, **kwargs) -> str:
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        body = response.json()
        assert isinstance(body["error"], str)
        return body["error"]

    def app(self, name: str = "web", org: str = "personal") -> dict:
        return self.ok("POST", "/apps", 201, json={"name": name, "org_slug": org})

    def machine(self, app: str = "web", config: dict | None = None, **extra) -> dict:
        body = {"config": config or CONFIG, "region": "ams", **extra}
        return self.ok("POST", f"/apps/{app}/machines", json=body)

    def wait(self, app: str, mid: str, state: str, **params) -> dict:
        params = {"state": state, "timeout": 5, **params}
        return self.ok("GET", f"/apps/{app}/machines/{mid}/wait", params=params)
