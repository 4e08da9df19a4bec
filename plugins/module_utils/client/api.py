# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One HTTP API client base for every provider (Hetzner Cloud, DigitalOcean, ...).

What a provider adds (``hetzner/client.py``, ``digitalocean/client.py``): its base URL and
environment variables, how its errors look (:meth:`ApiClient.error_from_response`), how its
pages chain (:meth:`ApiClient.next_page`) and which of its error codes are worth a retry.
Resources, lookups and waits for actions are in ``resource_client.py``.

- One exception type, :class:`ApiError`, for every failure: HTTP errors, network errors,
  actions that end in error and waits that run out of time.
- Retries only for throttling (429), server errors (5xx, not 501) and the codes a provider
  marks retryable, with full-jitter exponential backoff that honours ``Retry-After``, bounded
  by a number of retries and a total time. Validation errors (other 4xx) are never retried.
  Retries know the method: GET, PUT, DELETE and HEAD are idempotent and retried after any of
  these; a POST is sent again only after a refusal (429) or a connect error, never after a 5xx
  or a read timeout (it may have been done), unless the caller says it is idempotent.
- The token travels only in the ``Authorization`` header and is removed from every message.
- TLS is verified by default; ``ca_path`` names a CA bundle, and requests itself honours
  ``REQUESTS_CA_BUNDLE`` when no ``ca_path`` is given.
"""

from __future__ import annotations

import re
import time
import traceback

try:
    import requests
except ImportError:  # pragma: no cover - reported through missing_required_lib
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.sigma.deploy.plugins.module_utils.client.retry import (
    RetryPolicy,
    may_resend,
    parse_retry_after,
    retryable_status,
)

USER_AGENT = "sigma.deploy"
REDACTED = "********"


class ApiError(Exception):
    """A failed API call: who answered (``vendor``), the HTTP status (None when no answer came),
    the vendor's error code, its message and, where the vendor names one, the offending field.

    The same type carries a module's own refusal of its options (:meth:`refusal`), so that a
    module's helpers raise one exception type and only ``finish()`` (``client/resource.py``)
    turns it into ``fail_json``.
    """

    def __init__(self, vendor, status, code, message, field=None):
        super().__init__(message)
        self.vendor = vendor
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = None  # seconds the server asked us to wait (429)
        self.sent = True  # False when the request cannot have reached the server

    @staticmethod
    def refusal(message):
        """A module's own refusal, before or instead of an API call (``image is required for
        state=rebuilt``): no vendor answered, so its text is ``message`` alone and it has no
        ``failure``."""
        return ApiError(None, None, None, message)

    def __str__(self):
        if self.vendor is None:
            return self.message
        status = f" (HTTP {self.status})" if self.status else ""
        field = f" for field '{self.field}'" if self.field else ""
        return f"{self.vendor} API error '{self.code}'{status}{field}: {self.message}"

    def failure(self):
        """The structured ``failure`` value a module returns; None for a :meth:`refusal`."""
        if self.vendor is None:
            return None
        return {
            "vendor": self.vendor,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "field": self.field,
        }


def require_requests(module):
    """Fail the module clearly when requests is not installed on the controller."""
    if requests is None:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)


def redact(text, secrets):
    """``text`` with every secret replaced; secrets shorter than 4 characters are ignored."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def link_next_page(next_url, params):
    """Pagination by link (DigitalOcean ``links.pages.next``): the parameters of the next page."""
    if not next_url:
        return None
    match = re.search(r"[?&]page=(\d+)", next_url)
    if not match:
        return None
    return dict(params, page=int(match.group(1)))


def _short_reason(exc):
    """A one-line reason for a network error, without object reprs."""
    reason = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    text = re.sub(r"<[^>]*object at 0x[0-9a-f]+>:?\s*", "", str(reason))
    return text.strip(" ()'\"") or type(exc).__name__


def _never_sent(exc):
    """True when the request cannot have reached the server (safe to retry any method)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return type(reason).__name__ in (
        "NewConnectionError",
        "ConnectTimeoutError",
        "NameResolutionError",
    )


class ApiClient:
    """A requests session for one API. Subclasses set ``vendor`` and the hooks below."""

    vendor = "API"
    default_endpoint = None
    token_env = ()  # environment variables the token may come from
    endpoint_env = ()  # and the endpoint
    page_size = None  # sent as ``per_page`` on the first page when set
    retry_codes = frozenset()  # vendor error codes (besides 429/5xx) that are worth a retry

    def __init__(
        self,
        base_url,
        token,
        validate_certs=True,
        ca_path=None,
        timeout=30.0,
        retry=None,
        clock=time.monotonic,
        sleep=time.sleep,
        session=None,
    ):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.sleep = sleep
        # verify=None lets requests use REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, else its own bundle.
        self.verify = False if not validate_certs else (ca_path or None)
        self.session = session if session is not None else requests.Session()
        self.api_calls = 0  # HTTP requests sent, retries included (the bench rows count them)
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            }
        )

    # --- a module's options -------------------------------------------------------------------
    @classmethod
    def argument_spec(cls, **options):
        """The auth and transport options (the provider's doc fragment) plus ``options``."""
        spec = dict(
            api_token=dict(
                type="str", required=True, no_log=True, fallback=(env_fallback, list(cls.token_env))
            ),
            api_endpoint=dict(
                type="str",
                default=cls.default_endpoint,
                fallback=(env_fallback, list(cls.endpoint_env)),
            ),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            request_timeout=dict(type="float", default=30.0),
            api_retries=dict(type="int", default=5),
            api_retry_timeout=dict(type="float", default=120.0),
        )
        spec.update(options)
        return spec

    @classmethod
    def from_module(cls, module):
        """The client for a module's auth and transport options."""
        require_requests(module)
        params = module.params
        retry = RetryPolicy(retries=params["api_retries"], total=params["api_retry_timeout"])
        return cls(
            params["api_endpoint"],
            params["api_token"],
            validate_certs=params["validate_certs"],
            ca_path=params["ca_path"],
            timeout=params["request_timeout"],
            retry=retry,
        )

    # --- hooks for a provider ---------------------------------------------------------------
    def error_from_response(self, status, body):
        """The :class:`ApiError` for an error answer (``body`` is parsed JSON or None)."""
        return ApiError(self.vendor, status, f"http_{status}", f"unexpected HTTP status {status}")

    def next_page(self, body, params):
        """The query parameters of the page after ``body``, or None on the last page."""
        return None

    def retryable(self, err):
        """Whether a failure may pass on a retry (the client also checks it is safe to resend)."""
        if err.status is None:
            return err.code in ("unreachable", "timeout")
        return retryable_status(err.status) or err.code in self.retry_codes

    # --- requests -----------------------------------------------------------------------------
    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def post(self, path, body=None, idempotent=False):
        """POST; ``idempotent=True`` says sending it twice does no harm, so it is retried like
        a GET (after a 5xx or a read timeout too)."""
        return self.request("POST", path, body=body, idempotent=idempotent)

    def put(self, path, body=None):
        return self.request("PUT", path, body=body)

    def delete(self, path):
        return self.request("DELETE", path)

    def request(
        self, method, path, params=None, body=None, idempotent=False, headers=None, timeout=None
    ):
        """Send one request, retrying as the policy allows; the parsed JSON body (or None).
        ``headers`` are added to this request only (Fly's lease nonce); ``timeout`` replaces
        the client's for this request (a call the vendor answers only when its work is done).

        A failure is retried when it may pass (:meth:`retryable`) and sending the request again
        cannot do it twice: the method is idempotent (or the caller says so with
        ``idempotent=True``), or the request never reached the server, or the server refused
        it (:func:`may_resend`).
        """
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send(method, path, params, body, headers, timeout)
            except ApiError as err:
                if not self.retryable(err):
                    raise
                if not (idempotent or may_resend(method, err.status, err.sent)):
                    raise
                wait = self.retry.next_delay(attempt, self.clock() - started, err.retry_after)
                if wait is None:
                    spent = self.clock() - started
                    err.message += f" (gave up after {attempt} attempts in {spent:.1f}s)"
                    raise
                self.sleep(wait)

    def paginate(self, path, key, params=None, max_pages=10000):
        """Every item under ``key`` on every page of a list endpoint."""
        params = dict(params or {})
        if self.page_size:
            params.setdefault("per_page", self.page_size)
        items = []
        for _page in range(max_pages):
            body = self.get(path, params) or {}
            items.extend(body.get(key) or [])
            following = self.next_page(body, params)
            if not following or following == params:
                return items
            params = following
        raise ApiError(
            self.vendor, None, "too_many_pages", f"{path} has more than {max_pages} pages"
        )

    # --- sending ------------------------------------------------------------------------------
    def _send(self, method, path, params, body, headers=None, timeout=None):
        self.api_calls += 1
        url = self.base_url + path
        timeout = timeout or self.timeout
        extra = {"headers": headers} if headers else {}
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=body,
                timeout=timeout,
                verify=self.verify,
                **extra,
            )
        except requests.exceptions.SSLError as exc:
            raise self._error(
                None,
                "tls_error",
                f"TLS verification failed for {self.base_url} ({_short_reason(exc)}); "
                "set ca_path (or REQUESTS_CA_BUNDLE) to the CA that signed it",
            ) from None
        except requests.exceptions.Timeout as exc:
            err = self._error(None, "timeout", f"no answer from {self.base_url} within {timeout}s")
            err.sent = not _never_sent(exc)
            raise err from None
        except requests.exceptions.RequestException as exc:
            err = self._error(
                None, "unreachable", f"cannot reach {self.base_url} ({_short_reason(exc)})"
            )
            err.sent = not _never_sent(exc)
            raise err from None
        return self._parse(response)

    def _parse(self, response):
        data = None
        if response.content:
            try:
                data = response.json()
            except ValueError:
                data = None
        if 200 <= response.status_code < 300:
            if response.content and data is None:
                raise self._error(response.status_code, "invalid_response", "answer is not JSON")
            return data
        err = self.error_from_response(response.status_code, data)
        err.message = redact(err.message, [self._token])
        err.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise err

    def _error(self, status, code, message):
        return ApiError(self.vendor, status, code, redact(message, [self._token]))
