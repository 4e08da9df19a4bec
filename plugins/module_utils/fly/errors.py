# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fly's errors, as fly-go reads them (``flaps_flaps.go``, ``flaps_flaps_error.go``):
``{"error": "<message>"}`` (or ``message``), with a machine-readable ``status`` such as
``insufficient_capacity`` or ``name_taken`` at times. Fly names no field, so the field is what
the request that met the error says: the app or machine not found, or the field of the body
its message calls invalid. And how a lease's holder is named.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.sigma.deploy.plugins.module_utils.client.api import ApiError

VENDOR = "Fly"

# The code of an error without Fly's ``status``, by HTTP status.
_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    408: "timeout",
    409: "conflict",
    412: "lease_mismatch",
    422: "invalid",
    429: "rate_limited",
}


def sent_fields(body, prefix=""):
    """Every field of a request body as a dotted path (``config.guest.cpus``), parents first."""
    paths = []
    for key, value in (body or {}).items() if isinstance(body, dict) else ():
        path = f"{prefix}{key}"
        paths.append(path)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                paths.extend(p for p in sent_fields(item, path + ".") if p not in paths)
    return paths


# "invalid config.guest.cpus: ...", "invalid region: ..." (how Fly's validation words it)
_INVALID_FIELD = re.compile(r"\binvalid ([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*|\[\d+\])*)(?=:)")


def error_field(message, body=None):
    """The field a 400/422 is about: the one its message calls invalid (``invalid
    config.guest.cpus: ...``), else the deepest field of the request ``body`` it names
    (``config.image`` for ``unable to pull image ...``); else None."""
    text = message or ""
    match = _INVALID_FIELD.search(text)
    if match:
        return match.group(1)
    for field in sorted(sent_fields(body), key=lambda p: -p.count(".")):
        parts = field.split(".")
        for start in range(len(parts)):
            suffix = r"\.".join(re.escape(p) for p in parts[start:])
            if re.search(rf"(?<![\w.]){suffix}(?!\w|\.\w)", text):
                return field
    return None


def missing_field(message, path):
    """The option a 404 is about: ``app`` when the message or the path names only an app,
    ``machine_id`` or ``volume_id`` when it names one."""
    text = (message or "").lower()
    for word, field in (("machine", "machine_id"), ("volume", "volume_id"), ("secret", "secret")):
        if word in text:
            return field
    if re.search(r"\bapp\b|application", text):
        return "app"
    for word, field in (("/machines/", "machine_id"), ("/volumes/", "volume_id")):
        if word in path:
            return field
    return "app" if path.startswith("/apps/") else None


def fly_error(status, body):
    """The :class:`ApiError` for an error answer of the Machines API (its field, when the
    answer alone tells it: ``api_token`` for a refused token)."""
    if isinstance(body, dict) and (body.get("error") or body.get("message")):
        message = str(body.get("message") or body.get("error"))
        code = body.get("status") if isinstance(body.get("status"), str) else None
    else:
        message, code = f"unexpected answer with HTTP status {status}", None
    code = code or _CODES.get(status) or f"http_{status}"
    field = None
    if status in (401, 403):
        field = "api_token"
        message += " (check api_token or FLY_API_TOKEN)"
    return ApiError(VENDOR, status, code, message, field)


def request_field(status, message, path, body):
    """The field an error answer is about, from the request that met it: what was not found
    (404), or the field of the body the message names (400, 422)."""
    if status == 404:
        return missing_field(message, path)
    if status in (400, 422):
        return error_field(message, body)
    return None


def lease_data(answer):
    """The lease fields of an answer: fly-go's ``{status, data: {...}}`` or the flat 2024 form."""
    if not isinstance(answer, dict):
        return {}
    data = answer.get("data")
    return data if isinstance(data, dict) else answer


def lease_holder(lease):
    """``'deploy-bot (release 7), until 2026-08-01T10:00:00Z'`` for a lease's fields."""
    data = lease_data(lease)
    who = data.get("owner") or "someone"
    if data.get("description"):
        who += f" ({data['description']})"
    expires = data.get("expires_at")
    if isinstance(expires, (int, float)) and expires > 0:
        when = datetime.datetime.fromtimestamp(expires, tz=datetime.timezone.utc)
        who += f", until {when.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    elif expires:
        who += f", until {expires}"
    return who
