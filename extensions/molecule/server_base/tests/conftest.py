"""Test-host access for the server_base scenario (shared by every scenario)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

from podman_host import host

__all__ = ["host"]
