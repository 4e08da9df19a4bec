"""A stateful simulator of Fly.io's Machines API, served under ``/fly/v1``, and of the slice of
its Prometheus API the canary gate reads, under ``/fly/prometheus``.

``make(faults, backend)`` builds both; ``tests.cloudsim.app`` serves them next to the other
vendors. Paths, shapes and status codes follow Fly's own Go client (fly-go, package flaps, in
``../shared/specs/fly-go``), which wins over the 2024 OpenAPI file where they differ
(``spec_fixes.py``). Machines run in a :mod:`runtime` (memory by default, podman with the
podman backend).
"""

from .metrics import PrometheusVendor
from .vendor import FlyVendor


def make(faults, backend) -> list:
    fly = FlyVendor(faults, backend)
    return [fly, PrometheusVendor(faults, backend, fly)]


__all__ = ["FlyVendor", "PrometheusVendor", "make"]
