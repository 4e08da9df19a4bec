"""The Fly simulator's data plane side: checks, the proxy's routing hook, the Prometheus
endpoint, injected faults, runtime choice and delays."""

from __future__ import annotations

import threading

import pytest

from tests.cloudsim.backends import MemoryBackend
from tests.cloudsim.core import Faults
from tests.cloudsim.fly import runtime as fly_runtime
from tests.unit.cloudsim.fly_helpers import CONFIG, Fly

CHECKS = ["alive", "servicecheck-00-http-8080"]


@pytest.fixture
def fly(sim) -> Fly:
    api = Fly(sim)
    api.app()
    return api


def statuses(fly: Fly, mid: str) -> dict:
    checks = fly.ok("GET", f"/apps/web/machines/{mid}")["checks"]
    return {c["name"]: c["status"] for c in checks}


def test_checks_are_probed_and_reported(fly):
    m = fly.machine()
    fly.vendor.probe_now()
    assert statuses(fly, m["id"]) == dict.fromkeys(CHECKS, "passing")
    failing = fly.machine(config=dict(CONFIG, image="registry.fly.io/web:failing"))
    by_env = fly.machine(config=dict(CONFIG, env={"SIM_CHECKS_FAIL": "1"}))
    fly.vendor.probe_now()
    assert statuses(fly, failing["id"]) == dict.fromkeys(CHECKS, "critical")
    assert statuses(fly, by_env["id"]) == dict.fromkeys(CHECKS, "critical")
    check = fly.ok("GET", f"/apps/web/machines/{failing['id']}")["checks"][0]
    assert check["output"] == "tcp check on port 8080 failed"


def test_routable_machines_are_started_uncordoned_and_passing(fly):
    good = fly.machine()
    fly.machine(config=dict(CONFIG, image="registry.fly.io/web:failing"))
    green = fly.machine(skip_service_registration=True)
    stopped = fly.machine()
    fly.ok("POST", f"/apps/web/machines/{stopped['id']}/stop")
    fly.wait("web", stopped["id"], "stopped")
    fly.vendor.probe_now()
    assert fly.vendor.routable("web") == [(good["id"], None, 8080)]
    fly.ok("POST", f"/apps/web/machines/{green['id']}/uncordon")
    assert sorted(fly.vendor.routable("web")) == sorted(
        [(good["id"], None, 8080), (green["id"], None, 8080)]
    )
    assert fly.vendor.routable("other") == []


def test_routing_listeners_hear_of_changes_outside_the_lock(fly):
    heard = []
    called = threading.Event()

    def listener(app: str) -> None:
        # Not under the simulator's lock, and free to call back into the vendor.
        heard.append((app, fly.vendor.lock._is_owned()))
        fly.vendor.routable(app)
        called.set()

    fly.vendor.on_routing_change.append(listener)
    try:
        m = fly.machine()
        assert called.wait(5)
        assert heard[0] == ("web", False)
        called.clear()
        fly.ok("POST", f"/apps/web/machines/{m['id']}/cordon")
        assert called.wait(5)
    finally:
        fly.vendor.on_routing_change.remove(listener)


def test_prometheus_counts_and_p95_from_the_stats(fly, sim):
    records = [
        {"app": "web", "machine_id": "m1", "status": 200, "seconds": s / 100} for s in range(1, 21)
    ]
    records.append({"app": "web", "machine_id": "m1", "status": 500, "seconds": 0.5})
    records.append({"app": "other", "machine_id": "m9", "status": 200, "seconds": 0.1})
    assert sim.admin("fly/stats", {"records": records}) == {"recorded": 22}
    base = sim.endpoint("fly-prometheus") + "/personal/api/v1/query"
    query = 'sum by (instance, status) (increase(fly_app_http_responses_count{app="web"}[60s]))'
    counts = fly.session.get(base, verify=sim.ca_path, params={"query": query})
    assert counts.status_code == 200
    body = counts.json()
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "vector"
    assert [(r["metric"], r["value"][1]) for r in body["data"]["result"]] == [
        ({"instance": "m1", "status": "200"}, "20"),
        ({"instance": "m1", "status": "500"}, "1"),
    ]
    p95 = fly.session.get(base, verify=sim.ca_path, params={
        "query": "histogram_quantile(0.95, sum by (le, instance) (rate("
        'fly_app_http_response_time_seconds_bucket{app="web"}[60s])))'
    }).json()  # fmt: skip
    assert [(r["metric"], r["value"][1]) for r in p95["data"]["result"]] == [
        ({"instance": "m1"}, "0.2")
    ]
    bad = fly.session.get(base, verify=sim.ca_path, params={"query": "up"})
    assert bad.status_code == 400
    assert bad.json()["errorType"] == "bad_data"


@pytest.mark.parametrize(
    ("fault", "status"), [("rate_limit_next", 429), ("server_error_next", 503)]
)
def test_injected_faults_answer_fly_errors(fly, sim, fault, status):
    sim.faults(**{fault: 1})
    response = fly.call("GET", "/apps/web")
    assert response.status_code == status
    assert isinstance(response.json()["error"], str)
    if status == 429:
        assert response.headers["Retry-After"] == "1"
    assert fly.ok("GET", "/apps/web")["name"] == "web"


def test_state_changes_come_after_the_action_delay(fly, sim):
    sim.faults(action_delay=0.3)
    m = fly.machine(skip_launch=True)
    fly.ok("POST", f"/apps/web/machines/{m['id']}/start")
    assert fly.ok("GET", f"/apps/web/machines/{m['id']}")["state"] == "starting"
    assert fly.wait("web", m["id"], "started") == {"ok": True, "state": "started"}


def test_runtime_follows_the_backend(monkeypatch):
    memory = fly_runtime.make_runtime(MemoryBackend(), Faults())
    assert isinstance(memory, fly_runtime.MemoryRuntime)
    memory.close()

    class PodmanBackend:  # stands for tests.cloudsim.podman_backend.PodmanBackend
        pass

    real_import = fly_runtime.importlib.import_module

    def without_podman_runtime(name, *args):
        if name.endswith(".podman_runtime"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args)

    monkeypatch.setattr(fly_runtime.importlib, "import_module", without_podman_runtime)
    with pytest.raises(RuntimeError, match=r"podman runtime \(tests/cloudsim/fly/podman_runtime"):
        fly_runtime.make_runtime(PodmanBackend(), Faults())
