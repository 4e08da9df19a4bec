# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a VPS serves of an application deployed in blue and green slots, as ``release_info``
reads it: the state line of its nginx upstreams file and the targets of its slot links. Pure
functions; the lock and the ledger, which any deploy uses, are in ``ledger``."""

from __future__ import annotations

import json
import os
from typing import Any

STATE_MARK = "# sigma-state:"


def parse_state_line(text: str) -> dict[str, Any] | None:
    """The JSON object of the ``# sigma-state: {...}`` line of an nginx upstreams file."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(STATE_MARK):
            try:
                state = json.loads(stripped[len(STATE_MARK) :])
            except ValueError:
                return None
            return state if isinstance(state, dict) else None
    return None


def traffic(state: dict[str, Any] | None) -> tuple[str | None, int | None]:
    """``(active_slot, canary_weight)`` of a host-mode state; ``(None, None)`` otherwise."""
    if not state or state.get("mode") != "host":
        return None, None
    slot = state.get("active_slot")
    weight = state.get("canary_weight")
    return (
        slot if isinstance(slot, str) else None,
        weight if isinstance(weight, int) and not isinstance(weight, bool) else None,
    )


def release_of_target(target: str | None) -> str | None:
    """``/srv/notes/releases/<release_id>`` (a slot symlink's target) -> ``<release_id>``."""
    if not target:
        return None
    return os.path.basename(target.rstrip("/")) or None
