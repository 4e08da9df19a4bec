# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DigitalOcean API v2: the client (errors, pages, actions, lookups by name or id) and the
options every DigitalOcean module shares. The base class of the modules that change resources
is in ``_digitalocean_resource.py``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ansible.module_utils.basic import env_fallback

from ansible_collections.sigma.deploy.plugins.module_utils._api import (
    ApiClient,
    ApiError,
    RetryPolicy,
    link_next_page,
    require_requests,
)
from ansible_collections.sigma.deploy.plugins.module_utils._waiter import wait_until

VENDOR = "DigitalOcean"
DEFAULT_ENDPOINT = "https://api.digitalocean.com"
TOKEN_ENV = ["DIGITALOCEAN_TOKEN", "DO_API_TOKEN"]

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


def digitalocean_argument_spec(**options):
    """The auth and transport options (doc fragment ``sigma.deploy.digitalocean``) plus
    ``options``."""
    spec = dict(
        api_token=dict(type="str", required=True, no_log=True, fallback=(env_fallback, TOKEN_ENV)),
        api_endpoint=dict(
            type="str",
            default=DEFAULT_ENDPOINT,
            fallback=(env_fallback, ["DIGITALOCEAN_ENDPOINT"]),
        ),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        request_timeout=dict(type="float", default=30.0),
        api_retries=dict(type="int", default=5),
        api_retry_timeout=dict(type="float", default=120.0),
    )
    spec.update(options)
    return spec


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


class DigitalOceanClient(ApiClient):
    vendor = VENDOR
    page_size = 200  # the most the API allows
    poll_interval = 1.0
    poll_max_interval = 5.0

    def __init__(self, endpoint, token, **kwargs):
        super().__init__(api_base(endpoint), token, **kwargs)
        self._single_shot = False

    def error_from_response(self, status, body):
        return digitalocean_error(status, body)

    def next_page(self, body, params):
        return digitalocean_next_page(body, params)

    def retryable(self, err):
        if self._single_shot and err.status is not None and err.status != 429:
            return False  # a 5xx may have created it already: never send a create twice
        return super().retryable(err)

    def request(self, method, path, params=None, body=None):
        try:
            return super().request(method, path, params=params, body=body)
        except ApiError as err:
            if err.field is None and isinstance(body, dict) and err.status in (400, 409, 422):
                err.field = error_field(err.message, body)
            raise

    def create(self, path, body):
        """``POST`` that is retried when throttled (429) or never sent, but not after a 5xx."""
        self._single_shot = True
        try:
            return self.post(path, body)
        finally:
            self._single_shot = False

    # --- lookups ------------------------------------------------------------------------------
    def list(self, collection, **params):
        """Every resource of a collection, all pages read (``name=``, ``tag_name=``...)."""
        path, _key = COLLECTIONS[collection]
        query = {k: v for k, v in params.items() if v is not None}
        return self.paginate(path, collection, query)

    def get_by_id(self, collection, ident):
        """The resource with this id, or None."""
        path, key = COLLECTIONS[collection]
        try:
            return self.get(f"{path}/{quote(str(ident), safe='')}")[key]
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    def named(self, collection, name):
        """Every resource called ``name`` (DigitalOcean allows several)."""
        query = {"name": name} if collection == "droplets" else {}
        return [item for item in self.list(collection, **query) if item.get("name") == name]

    def find_unique(self, collection, name, field="name"):
        """The one resource called ``name``, None when there is none; an error naming the ids
        when there are several."""
        found = self.named(collection, name)
        if len(found) > 1:
            kind = COLLECTIONS[collection][1].replace("_", " ")
            raise duplicate_name_error(kind, name, found, field)
        return found[0] if found else None

    def find(self, collection, ident=None, name=None):
        if ident is not None:
            return self.get_by_id(collection, ident)
        if name is not None:
            return self.find_unique(collection, name)
        return None

    def resolve(self, collection, ref, field):
        """The id of a resource given by id or name; a 404 naming ``field`` when there is none."""
        text = str(ref).strip()
        found = self.get_by_id(collection, text) if looks_like_id(collection, text) else None
        if found is None:
            found = self.find_unique(collection, text, field)
        if found is None:
            kind = COLLECTIONS[collection][1].replace("_", " ")
            raise DigitalOceanError(404, "not_found", f"{kind} '{text}' not found", field)
        return found["id"]

    # --- actions ------------------------------------------------------------------------------
    def wait_actions(self, actions, deadline):
        """Wait until each action has finished; an errored action raises. Returns the seconds
        spent waiting."""
        spent = 0.0
        for action in actions:
            if not action:
                continue
            final = action
            if not action_done(action):
                _done, final, took = self.poll(
                    lambda ident=action["id"]: self.get(f"/actions/{ident}")["action"],
                    action_done,
                    deadline,
                    f"action '{action.get('type', 'create')}' ({action['id']})",
                )
                spent += took
            if final.get("status") == "errored":
                raise action_error(final)
        return spent

    def poll(self, fetch, ready, deadline, what):
        """``wait_until`` against the task's deadline; a clear timeout error when it passes."""
        done, final, took = wait_until(
            fetch,
            ready,
            deadline.remaining(),
            interval=self.poll_interval,
            max_interval=self.poll_max_interval,
            clock=self.clock,
            sleep=self.sleep,
        )
        if not done:
            raise DigitalOceanError(
                None,
                "timeout",
                f"{what} still not done after {deadline.seconds:g}s (wait_timeout)",
                "wait_timeout",
            )
        return done, final, took


def client_from_module(module):
    """The client for a module's auth and transport options."""
    require_requests(module)
    params = module.params
    retry = RetryPolicy(retries=params["api_retries"], total=params["api_retry_timeout"])
    return DigitalOceanClient(
        params["api_endpoint"],
        params["api_token"],
        validate_certs=params["validate_certs"],
        ca_path=params["ca_path"],
        timeout=params["request_timeout"],
        retry=retry,
    )
