# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-host bookkeeping of a deploy: which hosts failed, whether the deploy stops, and
what the ledger records of each host. Pure functions of plain data, used by the filter
``deploy_outcome``; nothing here assumes a kind of host.

A host's view is what the deploy noted about it, read from its target (state.py; every field
optional, as a host has no target before the state phase): ``result`` (``pending``,
``unchanged``, ``started``, ``succeeded``, ``failed``, ``rolled_back``), ``error``,
``old_release``, ``old_slot`` and ``new_slot``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The fact of sigma.deploy.app_deploy that holds a host's target (module_utils/deploy/state.py),
# and where each field of a host's view lies in it.
TARGET_FACT = "__app_deploy_target"
VIEW_FIELDS = {
    "result": ("result",),
    "error": ("error",),
    "old_release": ("before", "release"),
    "old_slot": ("before", "slot"),
    "new_slot": ("after", "slot"),
}
GONE = "failed or unreachable"  # the ledger's result of a host that left the play
NOT_STARTED = "not started"
UNREACHABLE = "unreachable"  # the error of a failed host that noted none


def host_view(host_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of VIEW_FIELDS that one host's target holds (none before it has one)."""
    view = {}
    for field, path in VIEW_FIELDS.items():
        value: Any = host_vars.get(TARGET_FACT, {})
        for key in path:
            if not isinstance(value, Mapping) or key not in value:
                break
            value = value[key]
        else:
            view[field] = value
    return view


def failed_hosts(
    hosts: Sequence[str], alive: Sequence[str], views: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """The hosts gone from the play (sorted), then the live ones marked failed (in play order)."""
    gone = sorted(set(hosts) - set(alive))
    marked = [h for h in alive if views.get(h, {}).get("result") == "failed"]
    return gone + marked


def stops(
    failed: Sequence[str], hosts: Sequence[str], aborted: bool, max_fail_percent: int
) -> bool:
    """Whether the deploy stops: it was stopped already, or more hosts failed than tolerated."""
    return aborted or (len(failed) > 0 and len(failed) * 100 / len(hosts) > max_fail_percent)


def failure_message(failed: Sequence[str], views: Mapping[str, Mapping[str, Any]]) -> str:
    """``failed on <hosts>: <their errors>``; a host with no error noted is ``unreachable``, one
    that noted an empty error says nothing."""
    errors = [str(views.get(h, {}).get("error", UNREACHABLE)) for h in failed]
    return f"failed on {', '.join(failed)}: " + "; ".join(e for e in errors if e != "")


def host_results(
    hosts: Sequence[str], alive: Sequence[str], views: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The ledger's ``host_results``: per host its result, the release it came from, the slot
    that serves (the new one after a success, else the old one) and its error."""
    results = {}
    for host in hosts:
        view = views.get(host, {})
        result = view.get("result", NOT_STARTED) if host in alive else GONE
        succeeded = view.get("result", "") == "succeeded"
        results[host] = {
            "result": result,
            "from": view.get("old_release", ""),
            "slot": view.get("new_slot", "") if succeeded else view.get("old_slot", ""),
            "error": view.get("error", ""),
        }
    return results


def outcome(
    hosts: Sequence[str],
    alive: Sequence[str],
    views: Mapping[str, Mapping[str, Any]],
    aborted: bool = False,
    error: str = "",
    max_fail_percent: int = 0,
) -> dict[str, Any]:
    """Everything the deploy derives from its hosts' views at a point in the run.

    ``abort`` and ``error`` are the deploy's after this check: an error given already stays,
    and a deploy that does not stop keeps an empty error."""
    failed = failed_hosts(hosts, alive, views)
    abort = stops(failed, hosts, aborted, max_fail_percent)
    message = error if error or not abort else failure_message(failed, views)
    return {
        "failed_hosts": failed,
        "abort": abort,
        "error": message,
        "host_results": host_results(hosts, alive, views),
    }
