"""A stateful simulator of the DigitalOcean API v2, served under ``/digitalocean/v2``.

``make(faults, backend)`` builds it (``tests.cloudsim.app`` calls it). Shapes follow the
vendor's OpenAPI file (``../shared/specs/digitalocean.openapi.json``); every exchange in the
test suite is validated against it.
"""

from __future__ import annotations

from typing import Any

from ..core import Faults
from .vendor import DigitalOcean

__all__ = ["DigitalOcean", "make"]


def make(faults: Faults, backend: Any) -> DigitalOcean:
    return DigitalOcean(faults, backend)
