"""A stateful simulator of the Hetzner Cloud API v1, served under ``/hetzner/v1``.

``make(faults, backend)`` builds it; ``tests.cloudsim.app`` serves it next to the other
vendors. Shapes follow Hetzner's published OpenAPI description (``../shared/specs``).
"""

from .vendor import HetznerVendor


def make(faults, backend) -> HetznerVendor:
    return HetznerVendor(faults, backend)


__all__ = ["HetznerVendor", "make"]
