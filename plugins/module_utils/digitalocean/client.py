# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DigitalOcean API v2: how its errors, pages, collections and actions look, names that need
not be unique, and the options every DigitalOcean module shares. Retries are the shared
client's (``client/api.py``), lookups and waits the shared resource client's
(``client/resource_client.py``); the modules' base class is ``client/resource.py``.
"""

from __future__ import annotations

import re

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import (
    ApiError,
    link_next_page,
)
from ansible_collections.sigma.deploy.plugins.module_utils.client.resource_client import (
    ResourceClient,
)

VENDOR = "DigitalOcean"
DEFAULT_ENDPOINT = "https://api.digitalocean.com"

# collection -> (list path, key of one resource in answers)
COLLECTIONS = {
    "droplets": ("/droplets", "droplet"),
    "ssh_keys": ("/account/keys", "ssh_key"),
    "firewalls": ("/firewalls", "firewall"),
    "load_balancers": ("/load_balancers", "load_balancer"),
}

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
FINGERPRINT_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){15}$")

# "tags: invalid ...", "name is required", "forwarding_rules.entry_port must be ..."
_LEADING_FIELD = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)(?::|\s+(?:must|is|may)\b)")
# "You specified an invalid size for Droplet creation."
_INVALID_FIELD = re.compile(r"\binvalid ([a-z_]+) for\b")


class DigitalOceanError(ApiError):
    """An :class:`ApiError` that also keeps DigitalOcean's ``request_id`` (for support)."""

    def __init__(self, status, code, message, field=None, request_id=None):
        super().__init__(VENDOR, status, code, message, field)
        self.request_id = request_id

    def failure(self):
        return dict(super().failure(), request_id=self.request_id)


def sent_fields(body, prefix=""):
    """The fields of a request body as (path, name): ``region``, then nested ones such as
    ``forwarding_rules.certificate_id`` (each once, in the order sent)."""
    fields = []
    for key, value in (body or {}).items():
        path = f"{prefix}{key}"
        fields.append((path, key))
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                fields.extend(f for f in sent_fields(item, path + ".") if f not in fields)
    return fields


def _names(text, word):
    return re.search(rf"(?<![\w.]){word}(?![\w])", text) is not None


def error_field(message, body=None):
    """The request field an error message names, or None.

    DigitalOcean's envelope has no field, but its messages name one: at the start
    (``tags: ...``, ``name is required``), as ``invalid <field> for``, or as a field of the
    request ``body``: a nested one by its name (``certificate_id``), else a top-level one by
    its name or in words (``forwarding rule`` for ``forwarding_rules``).
    """
    text = message or ""
    for pattern in (_LEADING_FIELD, _INVALID_FIELD):
        match = pattern.search(text)
        if match:
            return match.group(1)
    fields = sent_fields(body)
    nested = [(path, name) for path, name in fields if "." in path]
    top = [(path, name) for path, name in fields if "." not in path]
    for path, name in nested + top:
        if _names(text, re.escape(name)):
            return path
    for path, name in top:
        words = re.escape(name.replace("_", " ")).rstrip("s")
        if _names(text, words + "s?"):
            return path
    return None


def digitalocean_error(status, body):
    """The :class:`ApiError` for a DigitalOcean error envelope ``{id, message, request_id}``."""
    if not isinstance(body, dict) or not body.get("id"):
        return DigitalOceanError(
            status, f"http_{status}", f"unexpected answer with HTTP status {status}"
        )
    message = body.get("message") or "no message"
    field = error_field(message) if status in (400, 409, 422) else None
    if status == 401:
        message += " (check api_token, DIGITALOCEAN_TOKEN or DO_API_TOKEN)"
    return DigitalOceanError(status, body["id"], message, field, body.get("request_id"))


def digitalocean_next_page(body, params):
    """The next page from ``links.pages.next``, or None on the last page."""
    pages = ((body.get("links") or {}).get("pages")) or {}
    return link_next_page(pages.get("next"), params)


def action_done(action):
    """Readiness of an action: no longer ``in-progress`` (``completed`` or ``errored``)."""
    return action.get("status") != "in-progress"


def action_error(action):
    """The :class:`ApiError` for an action that ended ``errored`` (actions carry no reason)."""
    what = f"action '{action.get('type')}' ({action.get('id')})"
    target = action.get("resource_type") or "resource"
    if action.get("resource_id") is not None:
        target = f"{target} {action['resource_id']}"
    return DigitalOceanError(None, "action_errored", f"{what} on {target} errored")


def api_base(endpoint):
    """The API root for an endpoint given with or without ``/v2`` (as pydo takes it)."""
    base = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
    if base.endswith("/v2"):
        base = base[: -len("/v2")]
    return base + "/v2"


def looks_like_id(collection, text):
    """Whether ``text`` can be an id of the collection (numbers for droplets, numbers or
    fingerprints for SSH keys, UUIDs for firewalls and load balancers)."""
    if collection == "droplets":
        return text.isdigit()
    if collection == "ssh_keys":
        return text.isdigit() or bool(FINGERPRINT_RE.match(text))
    return bool(UUID_RE.match(text))


def duplicate_name_error(kind, name, found, field="name"):
    ids = ", ".join(str(item.get("id")) for item in found)
    return DigitalOceanError(
        None,
        "duplicate_name",
        f"{len(found)} {kind}s are named '{name}' (ids {ids}); this task needs the name to "
        "be unique: delete the extra ones or give the id",
        field,
    )


class DigitalOceanClient(ResourceClient):
    vendor = VENDOR
    default_endpoint = DEFAULT_ENDPOINT
    token_env = ("DIGITALOCEAN_TOKEN", "DO_API_TOKEN")
    endpoint_env = ("DIGITALOCEAN_ENDPOINT",)
    page_size = 200  # the most the API allows

    def __init__(self, endpoint, token, **kwargs):
        super().__init__(api_base(endpoint), token, **kwargs)

    def error_from_response(self, status, body):
        return digitalocean_error(status, body)

    def error(self, status, code, message, field=None):
        return DigitalOceanError(status, code, message, field)

    def next_page(self, body, params):
        return digitalocean_next_page(body, params)

    def request(self, method, path, params=None, body=None, idempotent=False):
        try:
            return super().request(method, path, params=params, body=body, idempotent=idempotent)
        except ApiError as err:
            if err.field is None and isinstance(body, dict) and err.status in (400, 409, 422):
                err.field = error_field(err.message, body)
            raise

    # --- lookups ------------------------------------------------------------------------------
    def collection_path(self, collection):
        return COLLECTIONS[collection][0]

    def item_key(self, collection):
        return COLLECTIONS[collection][1]

    def looks_like_id(self, collection, text):
        return looks_like_id(collection, text)

    def named(self, collection, name):
        """Every resource called ``name`` (DigitalOcean allows several)."""
        query = {"name": name} if collection == "droplets" else {}
        return [item for item in self.list(collection, **query) if item.get("name") == name]

    def find_unique(self, collection, name, field="name"):
        """The one resource called ``name``, None when there is none; an error naming the ids
        when there are several."""
        found = self.named(collection, name)
        if len(found) > 1:
            kind = self.item_key(collection).replace("_", " ")
            raise duplicate_name_error(kind, name, found, field)
        return found[0] if found else None

    by_name = find_unique

    # --- actions ------------------------------------------------------------------------------
    action_done = staticmethod(action_done)

    def action_failure(self, action):
        return action_error(action) if action.get("status") == "errored" else None

    def action_label(self, action):
        return f"action '{action.get('type', 'create')}' ({action['id']})"


def digitalocean_argument_spec(**options):
    """The auth and transport options (doc fragment ``sigma.deploy.digitalocean``) plus
    ``options``."""
    return DigitalOceanClient.argument_spec(**options)
