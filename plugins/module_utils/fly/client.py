# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Fly.io Machines API (``https://api.machines.dev/v1``), as Fly's own Go client uses it.

Retries, redaction and TLS are the shared client's (``client/api.py``): 429 and 5xx are
retried (a POST only after a refusal), validation errors never. What Fly adds:

- Errors (``errors.py``) are ``{"error": "<message>"}`` (sometimes ``message``, and a
  machine-readable ``status`` such as ``name_taken``, which becomes the code).
- A machine changed under a lease names the lease in the ``fly-machine-lease-nonce`` header;
  a lease held by another answers 409, and the error then names the holder and the expiry.
- ``/wait`` long-polls and answers 408 when its own timeout passes; :meth:`wait_machine`
  asks again until the caller's deadline.
- ``api_calls`` counts the HTTP requests sent (retries included), for the bench rows.
"""

from __future__ import annotations

import math
import re
from urllib.parse import quote

from ansible.module_utils.basic import env_fallback

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import (
    ApiClient,
    ApiError,
    require_requests,
)
from ansible_collections.sigma.deploy.plugins.module_utils.fly.errors import (
    VENDOR,
    fly_error,
    lease_data,
    lease_holder,
    request_field,
)

DEFAULT_API_URL = "https://api.machines.dev"
NONCE_HEADER = "fly-machine-lease-nonce"
LAUNCH_TIMEOUT = 120  # seconds: the least a create or update of a machine may take
WAIT_CHUNK_MAX = 60  # the most seconds one /wait may be asked to hold (Fly's proxy limit)


def _segment(text):
    return quote(str(text), safe="")


def _flag(value):
    return "true" if value else "false"


def api_base(api_url):
    """The API root for a URL given with or without the ``/v1`` the client appends."""
    base = (api_url or DEFAULT_API_URL).rstrip("/")
    if base.endswith("/v1"):
        base = base[: -len("/v1")]
    return base + "/v1"


class FlyClient(ApiClient):
    """The Machines API. ``app`` is an app name, ``mid`` a machine id, ``vid`` a volume id; every
    method returns Fly's decoded JSON."""

    vendor = VENDOR
    default_endpoint = DEFAULT_API_URL
    token_env = ("FLY_API_TOKEN",)
    endpoint_env = ("FLY_FLAPS_BASE_URL",)

    def __init__(self, api_url, token, **kwargs):
        super().__init__(api_base(api_url), token, **kwargs)
        # Tokens from ``fly tokens create`` carry their own scheme (``FlyV1 fm2_...``).
        scheme = "" if re.match(r"^(FlyV1|Bearer) ", token or "") else "Bearer "
        self.session.headers["Authorization"] = f"{scheme}{token}"

    # --- a module's options -----------------------------------------------------------------
    @classmethod
    def argument_spec(cls, **options):
        """The auth and transport options (doc fragment ``sigma.deploy.fly``) plus ``options``."""
        spec = dict(
            api_token=dict(
                type="str", required=True, no_log=True, fallback=(env_fallback, list(cls.token_env))
            ),
            api_url=dict(
                type="str",
                default=DEFAULT_API_URL,
                fallback=(env_fallback, list(cls.endpoint_env)),
            ),
            ca_path=dict(type="path"),
            timeout=dict(type="float", default=30.0),
        )
        spec.update(options)
        return spec

    @classmethod
    def from_module(cls, module):
        require_requests(module)
        params = module.params
        return cls(
            params["api_url"],
            params["api_token"],
            ca_path=params["ca_path"],
            timeout=params["timeout"],
        )

    # --- transport ----------------------------------------------------------------------------
    def request(
        self, method, path, params=None, body=None, idempotent=False, headers=None, timeout=None
    ):
        try:
            return super().request(method, path, params, body, idempotent, headers, timeout)
        except ApiError as err:
            if err.field is None and err.status is not None:
                err.field = request_field(err.status, err.message, path, body)
            raise

    def error_from_response(self, status, body):
        return fly_error(status, body)

    @staticmethod
    def _nonce(nonce):
        return {NONCE_HEADER: nonce} if nonce else None

    # --- apps ---------------------------------------------------------------------------------
    def get_app(self, app):
        """The app, or None when there is none."""
        try:
            return self.get(f"/apps/{_segment(app)}")
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    def create_app(self, app, org_slug, network=None):
        # fly-go sends ``name``; the 2024 spec called it ``app_name``: both are sent.
        body = {"name": app, "app_name": app, "org_slug": org_slug}
        if network:
            body["network"] = network
        return self.post("/apps", body)

    def delete_app(self, app):
        return self.delete(f"/apps/{_segment(app)}")

    def list_apps(self, org_slug):
        return (self.get("/apps", {"org_slug": org_slug}) or {}).get("apps") or []

    # --- machines -----------------------------------------------------------------------------
    def _machines(self, app, suffix=""):
        return f"/apps/{_segment(app)}/machines{suffix}"

    def _machine(self, app, mid, suffix=""):
        return self._machines(app, f"/{_segment(mid)}{suffix}")

    def list_machines(self, app, include_deleted=False, metadata=None, region=None):
        params = {}
        if include_deleted:
            params["include_deleted"] = "true"
        if region:
            params["region"] = region
        for key, value in (metadata or {}).items():
            params[f"metadata.{key}"] = value
        return self.get(self._machines(app), params or None) or []

    def get_machine(self, app, mid):
        return self.get(self._machine(app, mid))

    # Fly answers a create or an update once the machine's image is pulled and the machine
    # launched: with a large image or a busy host that takes longer than an ordinary call.
    def _launch_timeout(self):
        return max(self.timeout, LAUNCH_TIMEOUT)

    def create_machine(self, app, body, nonce=None):
        return self.request(
            "POST", self._machines(app), body=body, headers=self._nonce(nonce),
            timeout=self._launch_timeout(),
        )  # fmt: skip

    def update_machine(self, app, mid, body, nonce):
        return self.request(
            "POST", self._machine(app, mid), body=body, headers=self._nonce(nonce),
            timeout=self._launch_timeout(),
        )  # fmt: skip

    def start_machine(self, app, mid, nonce=None):
        return self.request("POST", self._machine(app, mid, "/start"), headers=self._nonce(nonce))

    def stop_machine(self, app, mid, signal=None, timeout=None, nonce=None):
        """Stop; ``timeout`` in seconds (or a Go duration such as ``"10s"``) before SIGKILL."""
        body = {}
        if signal:
            body["signal"] = signal
        if timeout is not None:
            body["timeout"] = f"{timeout:g}s" if isinstance(timeout, (int, float)) else timeout
        return self.request(
            "POST",
            self._machine(app, mid, "/stop"),
            body=body,
            idempotent=True,
            headers=self._nonce(nonce),
        )

    def restart_machine(self, app, mid, nonce=None):
        return self.request("POST", self._machine(app, mid, "/restart"), headers=self._nonce(nonce))

    def delete_machine(self, app, mid, force=False, nonce=None):
        """Destroy; ``force`` kills a running machine (fly-go says ``kill``, the docs
        ``force``: both are sent)."""
        params = {"force": "true", "kill": "true"} if force else None
        return self.request(
            "DELETE", self._machine(app, mid), params=params, headers=self._nonce(nonce)
        )

    def wait_machine(self, app, mid, state, instance_id=None, timeout_s=60):
        """Wait until the machine is in ``state``; Fly holds each ``/wait`` at most 60 s (and
        this client at most a little less than its request timeout) and answers 408 when that
        passes, so it asks again until ``timeout_s`` is spent; then a 408 :class:`ApiError`."""
        deadline = self.clock() + timeout_s
        chunk_max = max(1, min(WAIT_CHUNK_MAX, int(self.timeout) - 2))
        while True:
            left = deadline - self.clock()
            params = {"state": state, "timeout": max(1, min(chunk_max, math.ceil(left)))}
            if instance_id:
                params["instance_id"] = instance_id
            asked = self.clock()
            try:
                return self.get(self._machine(app, mid, "/wait"), params)
            except ApiError as err:
                if err.status != 408:
                    raise
            if self.clock() - asked < 1:  # a 408 without waiting: do not spin
                self.sleep(max(0.0, min(1.0, deadline - self.clock())))
            if self.clock() >= deadline:
                raise ApiError(
                    VENDOR,
                    408,
                    "timeout",
                    f"machine {mid} of app {app} not {state} after {timeout_s:g}s",
                    "wait_timeout",
                )

    def cordon(self, app, mid, nonce=None):
        return self.request(
            "POST",
            self._machine(app, mid, "/cordon"),
            idempotent=True,
            headers=self._nonce(nonce),
        )

    def uncordon(self, app, mid, nonce=None):
        return self.request(
            "POST",
            self._machine(app, mid, "/uncordon"),
            idempotent=True,
            headers=self._nonce(nonce),
        )

    # --- leases ---------------------------------------------------------------------------------
    def acquire_lease(self, app, mid, ttl_s=30, description=""):
        """A lease on the machine; its nonce. When another holds one: a 409 :class:`ApiError`
        naming the holder and the expiry."""
        path = self._machine(app, mid, "/lease")
        body = {"ttl": int(ttl_s)}
        if description:
            body["description"] = description
        try:
            answer = self.request("POST", path, params={"ttl": int(ttl_s)}, body=body)
        except ApiError as err:
            if err.status == 409:
                self._name_holder(err, app, mid)
            raise
        nonce = lease_data(answer).get("nonce")
        if not nonce:
            raise ApiError(VENDOR, None, "invalid_response", f"lease on {mid} has no nonce")
        return nonce

    def _name_holder(self, err, app, mid):
        err.field = err.field or "lease"
        try:
            lease = self.get_lease(app, mid)
        except ApiError:
            return
        owner = lease_data(lease).get("owner")
        if owner and owner not in err.message:
            err.message = f"machine {mid} is leased by {lease_holder(lease)}: {err.message}"

    def release_lease(self, app, mid, nonce):
        return self.request("DELETE", self._machine(app, mid, "/lease"), headers=self._nonce(nonce))

    def get_lease(self, app, mid):
        return self.get(self._machine(app, mid, "/lease"))

    # --- metadata, events, versions --------------------------------------------------------------
    def get_metadata(self, app, mid):
        return self.get(self._machine(app, mid, "/metadata")) or {}

    def set_metadata(self, app, mid, key, value):
        path = self._machine(app, mid, f"/metadata/{_segment(key)}")
        return self.post(path, {"value": value}, idempotent=True)

    def delete_metadata(self, app, mid, key):
        return self.delete(self._machine(app, mid, f"/metadata/{_segment(key)}"))

    def list_events(self, app, mid):
        return self.get(self._machine(app, mid, "/events")) or []

    def list_versions(self, app, mid):
        return self.get(self._machine(app, mid, "/versions")) or []

    # --- secrets ------------------------------------------------------------------------------
    def _secrets(self, app, suffix=""):
        return f"/apps/{_segment(app)}/secrets{suffix}"

    def list_secrets(self, app):
        """Names, digests and dates of the app's secrets (never their values)."""
        return (self.get(self._secrets(app)) or {}).get("secrets") or []

    def set_secrets(self, app, values):
        """Set several secrets at once (``{name: value}``; a None value deletes that one)."""
        return self.post(self._secrets(app), {"values": dict(values)}, idempotent=True)

    def delete_secret(self, app, name):
        return self.delete(self._secrets(app, f"/{_segment(name)}"))

    # --- volumes ------------------------------------------------------------------------------
    def _volumes(self, app, suffix=""):
        return f"/apps/{_segment(app)}/volumes{suffix}"

    def list_volumes(self, app):
        return self.get(self._volumes(app)) or []

    def create_volume(self, app, body):
        return self.post(self._volumes(app), body)

    def get_volume(self, app, vid):
        return self.get(self._volumes(app, f"/{_segment(vid)}"))

    def extend_volume(self, app, vid, size_gb):
        """Grow a volume (never shrinks); Fly's answer ``{volume, needs_restart}``."""
        return self.put(self._volumes(app, f"/{_segment(vid)}/extend"), {"size_gb": int(size_gb)})

    def delete_volume(self, app, vid):
        return self.delete(self._volumes(app, f"/{_segment(vid)}"))


def fly_argument_spec(**options):
    """The auth and transport options (doc fragment ``sigma.deploy.fly``) plus ``options``."""
    return FlyClient.argument_spec(**options)
