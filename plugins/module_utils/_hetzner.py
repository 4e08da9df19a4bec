# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Hetzner Cloud API v1: the client (errors, pages, actions, lookups by name or id), the
options every Hetzner module shares, and the base class of the Hetzner modules.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.sigma.deploy.plugins.module_utils._api import (
    ApiClient,
    ApiError,
    RetryPolicy,
    require_requests,
)
from ansible_collections.sigma.deploy.plugins.module_utils._waiter import Deadline, wait_until

VENDOR = "Hetzner"
DEFAULT_ENDPOINT = "https://api.hetzner.cloud/v1"


def hetzner_argument_spec(**options):
    """The auth and transport options (doc fragment ``sigma.deploy.hetzner``) plus ``options``."""
    spec = dict(
        api_token=dict(
            type="str", required=True, no_log=True, fallback=(env_fallback, ["HCLOUD_TOKEN"])
        ),
        api_endpoint=dict(
            type="str", default=DEFAULT_ENDPOINT, fallback=(env_fallback, ["HCLOUD_ENDPOINT"])
        ),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        request_timeout=dict(type="float", default=30.0),
        api_retries=dict(type="int", default=5),
        api_retry_timeout=dict(type="float", default=120.0),
    )
    spec.update(options)
    return spec


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


def singular(collection):
    """The key of one resource in a collection's answers: ``ssh_keys`` -> ``ssh_key``."""
    return collection[:-1]


class HetznerClient(ApiClient):
    vendor = VENDOR
    page_size = 50
    # conflict: changed meanwhile, retry; locked: another action runs on it; and the
    # vendor's transient codes.
    retry_codes = frozenset(
        ["conflict", "locked", "rate_limit_exceeded", "timeout", "unavailable", "maintenance"]
    )
    poll_interval = 0.5
    poll_max_interval = 5.0

    def error_from_response(self, status, body):
        return hetzner_error(status, body)

    def next_page(self, body, params):
        return hetzner_next_page(body, params)

    def list(self, collection, **params):
        """Every resource of a collection, all pages read (``name=``, ``label_selector=``...)."""
        query = {k: v for k, v in params.items() if v is not None}
        return self.paginate(f"/{collection}", collection, query)

    def get_by_id(self, collection, ident):
        """The resource with this id, or None."""
        try:
            return self.get(f"/{collection}/{int(ident)}")[singular(collection)]
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    def get_by_name(self, collection, name):
        """The resource with this name, or None (names are unique within a project)."""
        for item in self.get(f"/{collection}", {"name": name}).get(collection) or []:
            if item.get("name") == name:
                return item
        return None

    def find(self, collection, ident=None, name=None):
        if ident is not None:
            return self.get_by_id(collection, ident)
        if name is not None:
            return self.get_by_name(collection, name)
        return None

    def select(self, collection, ident=None, name=None, label_selector=None):
        """The resources an ``_info`` module asks for: one by id, by name, or all (every page)
        that match a label selector."""
        if ident is not None:
            found = self.get_by_id(collection, ident)
            return [found] if found is not None else []
        return self.list(collection, name=name, label_selector=label_selector)

    def resolve(self, collection, ref, field):
        """The id of a resource given by id or name; a 404 naming ``field`` when there is none."""
        text = str(ref).strip()
        found = self.get_by_id(collection, text) if text.isdigit() else None
        if found is None:
            found = self.get_by_name(collection, text)
        if found is None:
            kind = singular(collection).replace("_", " ")
            raise ApiError(VENDOR, 404, "not_found", f"{kind} '{text}' not found", field)
        return found["id"]

    def wait_actions(self, actions, deadline):
        """Wait until each action has finished; an action in error raises its error. Returns the
        seconds spent waiting."""
        spent = 0.0
        for action in actions:
            if not action:
                continue
            final = action
            if not action_done(action):
                done, final, took = wait_until(
                    self._action_reader(action["id"]),
                    action_done,
                    deadline.remaining(),
                    interval=self.poll_interval,
                    max_interval=self.poll_max_interval,
                    clock=self.clock,
                    sleep=self.sleep,
                )
                spent += took
                if not done:
                    raise ApiError(
                        VENDOR,
                        None,
                        "timeout",
                        f"action '{action.get('command')}' ({action['id']}) still running after "
                        f"{deadline.seconds:g}s (wait_timeout)",
                    )
            if final.get("status") == "error":
                raise action_error(final)
        return spent

    def _action_reader(self, action_id):
        return lambda: self.get(f"/actions/{action_id}")["action"]


def client_from_module(module):
    """The client for a module's auth and transport options."""
    require_requests(module)
    params = module.params
    retry = RetryPolicy(retries=params["api_retries"], total=params["api_retry_timeout"])
    return HetznerClient(
        params["api_endpoint"],
        params["api_token"],
        validate_certs=params["validate_certs"],
        ca_path=params["ca_path"],
        timeout=params["request_timeout"],
        retry=retry,
    )


class HetznerResource:
    """Base of a module that manages one Hetzner resource.

    Subclasses set ``collection`` and ``represent`` (the result key), and define ``shape``
    (the flat result) and ``managed`` (the keys shown in the diff). In check mode a change is
    applied to the local copy of the resource, so the result and the diff show what would be.
    """

    collection = ""
    represent = ""
    managed = ()

    def __init__(self, module, client=None):
        self.module = module
        self.params = module.params
        self.client = client if client is not None else client_from_module(module)
        self.changed = False
        self.resource = None
        self.before = {}
        self.deadline = Deadline(self.params.get("wait_timeout") or 0, clock=self.client.clock)

    @property
    def check_mode(self):
        return self.module.check_mode

    def mark_changed(self):
        self.changed = True

    def shape(self, resource):
        raise NotImplementedError

    def find(self):
        """Read the resource named by ``id`` or ``name`` into ``self.resource``."""
        self.resource = self.client.find(
            self.collection, self.params.get("id"), self.params.get("name")
        )
        return self.resource

    def check_create(self, *options):
        """Fail clearly when the resource cannot be created from the options given."""
        kind = self.collection[:-1].replace("_", " ")
        if self.params.get("id") is not None:
            self.module.fail_json(
                msg=f"{kind} with id {self.params['id']} not found (give a name to create one)"
            )
        missing = [option for option in options if not self.params.get(option)]
        if missing:
            self.module.fail_json(msg=f"{' and '.join(missing)} required to create a {kind}")

    def reread(self):
        """After real changes, read the resource again (in check mode keep the prediction)."""
        if (
            self.resource is not None
            and self.resource.get("id") is not None
            and not self.check_mode
        ):
            self.resource = self.client.get_by_id(self.collection, self.resource["id"])

    def remember_before(self):
        self.before = self.diff_view(self.resource)

    def diff_view(self, resource):
        if resource is None:
            return {}
        shaped = self.shape(resource)
        return {key: shaped.get(key) for key in self.managed}

    def wait(self, actions, always=False):
        """Wait for actions when ``wait`` is set (or ``always``, when a next step needs them)."""
        if self.check_mode or not (always or self.params.get("wait", True)):
            return
        self.client.wait_actions([a for a in actions if a], self.deadline)

    def result(self):
        shaped = self.shape(self.resource) if self.resource is not None else {}
        return {
            "changed": self.changed,
            self.represent: shaped,
            "diff": {"before": self.before, "after": self.diff_view(self.resource)},
        }
