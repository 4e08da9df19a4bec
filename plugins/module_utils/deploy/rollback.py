# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which release a rollback goes back to: noted by each deploy in its ledger entry
(``previous_release``), chosen by a rollback from the ledger (``rollback_release``).

Used by the filters ``previous_release`` and ``rollback_release`` (both rungs of the role
``app_deploy``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def previous_release(served: Iterable[Any], release_id: str) -> str:
    """What served before a deploy of ``release_id``: the first of ``served`` (the release
    each target served when it started; none or empty where it served nothing) that is another
    release; empty when there is none."""
    for release in served:
        if release and release != release_id:
            return str(release)
    return ""


def rollback_release(read: Mapping[str, Any], given: str = "") -> dict[str, str]:
    """The release a rollback goes back to, from what ``release_info`` read of the ledger (its
    ``current``, ``previous``, ``ledger`` and ``ledger_found``).

    ``release_id``: ``given`` when not empty, else the release the current entry names as
    served before it, else the release of the previous entry; empty when none. ``image``: the
    image the newest ledger entry of that release with one recorded (the fly rung), empty when
    none. ``why_none``: when there is no release, what the ledger lacks ("has no entries" or
    "has no successful release before <current>"), else empty.
    """
    current = read.get("current") or {}
    previous = read.get("previous") or {}
    release_id = given or current.get("previous_release_id") or previous.get("release_id") or ""
    image = next(
        (
            entry["image"]
            for entry in read.get("ledger") or []
            if entry.get("release_id") == release_id and entry.get("image")
        ),
        "",
    )
    if release_id:
        why_none = ""
    elif not read.get("ledger_found"):
        why_none = "has no entries"
    else:
        before = current.get("release_id", "the current one")
        why_none = f"has no successful release before {before}"
    return {"release_id": str(release_id), "image": str(image), "why_none": why_none}
