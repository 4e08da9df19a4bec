# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Setting the fields of one deploy's entry in the release ledger, under the ledger's guard:
``release_ledger`` does only this; ``deploy_lock`` does it with the lock in the same call."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ansible_collections.sigma.deploy.plugins.module_utils.deploy.ledger import (
    LEDGER_FILE,
    LEDGER_GUARD,
    DeployStateError,
    ensure_dir,
    guarded,
    merge_entry,
    parse_ledger,
    read_text,
    render_ledger,
    trim_ledger,
    unparsed_lines,
    write_atomic,
)


def record_entry(
    directory: str,
    app: str,
    deploy_id: str,
    fields: dict[str, Any],
    keep: int,
    check_mode: bool,
    warn: Callable[[str], None],
) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    """Set ``fields`` in the entry of ``deploy_id`` (appended when the ledger has none).

    Returns whether the entry changed, the entry before (``{}`` when new) and after. In check
    mode nothing is written. Lines that are not entries are kept, with a warning.
    """
    if keep < 1:
        raise DeployStateError(f"keep must be at least 1, not {keep}")
    path = os.path.join(directory, LEDGER_FILE)
    try:
        if not check_mode:
            ensure_dir(directory)
        with guarded(directory, LEDGER_GUARD, exclusive=not check_mode):
            text = read_text(path) or ""
            bad = unparsed_lines(text)
            if bad:
                warn(
                    f"{path}: line(s) {', '.join(map(str, bad))} are not ledger entries; "
                    "kept as they are."
                )
            records, before, after = merge_entry(parse_ledger(text), app, deploy_id, fields)
            if after == before:
                return False, before, after
            if not check_mode:
                write_atomic(path, render_ledger(trim_ledger(records, keep, deploy_id)))
            return True, before, after
    except OSError as err:
        raise DeployStateError(f"cannot use the release ledger {path}: {err}") from err
