# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Hetzner Cloud API v1: how its errors, pages and actions look, and the options every Hetzner
module shares. Retries are the shared client's (``client/api.py``), lookups and waits the
shared resource client's (``client/resource_client.py``); the modules' base class is
``client/resource.py``.
"""

from __future__ import annotations

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource_client import (
    ResourceClient,
)

VENDOR = "Hetzner"
DEFAULT_ENDPOINT = "https://api.hetzner.cloud/v1"


def hetzner_error(status, body):
    """The :class:`ApiError` for a Hetzner error envelope ``{"error": {code, message, details}}``;
    the field is the first one named in ``details.fields``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ApiError(
            VENDOR, status, f"http_{status}", f"unexpected answer with HTTP status {status}"
        )
    details = error.get("details") or {}
    fields = (details.get("fields") or []) if isinstance(details, dict) else []
    field = fields[0].get("name") if fields and isinstance(fields[0], dict) else None
    message = error.get("message") or "no message"
    if status == 401:
        message += " (check api_token or HCLOUD_TOKEN)"
    return ApiError(VENDOR, status, error.get("code") or f"http_{status}", message, field)


def hetzner_next_page(body, params):
    """The next page from ``meta.pagination.next_page``, or None on the last page."""
    meta = body.get("meta") or {}
    following = (meta.get("pagination") or {}).get("next_page")
    return dict(params, page=following) if following else None


def action_done(action):
    """Readiness of an action: no longer ``running`` (``success`` or ``error``)."""
    return action.get("status") != "running"


def action_error(action):
    """The :class:`ApiError` for an action that ended in ``error``."""
    error = action.get("error") or {}
    what = f"action '{action.get('command')}' ({action.get('id')})"
    message = error.get("message") or "no message"
    return ApiError(VENDOR, None, error.get("code") or "action_failed", f"{what} failed: {message}")


class HetznerClient(ResourceClient):
    vendor = VENDOR
    default_endpoint = DEFAULT_ENDPOINT
    token_env = ("HCLOUD_TOKEN",)
    endpoint_env = ("HCLOUD_ENDPOINT",)
    page_size = 50
    # conflict: changed meanwhile, retry; locked: another action runs on it (refusals, so a
    # POST is sent again too); and the vendor's transient codes (5xx: never for a POST).
    retry_codes = frozenset(
        ["conflict", "locked", "rate_limit_exceeded", "timeout", "unavailable", "maintenance"]
    )
    poll_interval = 0.5

    def error_from_response(self, status, body):
        return hetzner_error(status, body)

    def next_page(self, body, params):
        return hetzner_next_page(body, params)

    def item_path(self, collection, ident):
        return f"/{collection}/{int(ident)}"

    def get_by_name(self, collection, name):
        """The resource with this name, or None (names are unique within a project)."""
        for item in self.get(f"/{collection}", {"name": name}).get(collection) or []:
            if item.get("name") == name:
                return item
        return None

    def by_name(self, collection, name, field="name"):
        return self.get_by_name(collection, name)

    action_done = staticmethod(action_done)

    def action_failure(self, action):
        return action_error(action) if action.get("status") == "error" else None

    def action_label(self, action):
        return f"action '{action.get('command')}' ({action['id']})"

    def timeout_error(self, what, deadline):
        message = f"{what} still running after {deadline.seconds:g}s (wait_timeout)"
        return ApiError(VENDOR, None, "timeout", message)


def hetzner_argument_spec(**options):
    """The auth and transport options (doc fragment ``sigma.deploy.hetzner``) plus ``options``."""
    return HetznerClient.argument_spec(**options)
