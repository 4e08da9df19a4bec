"""Shared helpers of the DigitalOcean simulator: errors, time stamps, URLs, pagination."""

from __future__ import annotations

import math
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from ..core import ApiError, Request

JSON = dict[str, Any]

PREFIX = "/digitalocean/v2"
NOT_FOUND_MESSAGE = "The resource you were accessing could not be found."
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200

# Droplet names are hostnames (the spec's pattern); tags are letters, digits, - _ :
NAME_RE = re.compile(r"^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]$")
TAG_RE = re.compile(r"^[a-zA-Z0-9_\-:]+$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
NUMERIC_RE = re.compile(r"^[0-9]{1,18}$")


def unprocessable(field_name: str, message: str) -> ApiError:
    """DigitalOcean's 422 ``unprocessable_entity``; the message names the field."""
    return ApiError(
        422, "invalid_input", message, {"fields": [{"name": field_name, "messages": [message]}]}
    )


def missing(kind: str) -> ApiError:
    """DigitalOcean's 404: the same message for every kind of resource."""
    return ApiError(404, "not_found", NOT_FOUND_MESSAGE, {"resource": kind})


def iso(ts: float | None = None) -> str:
    """A UTC time stamp the way DigitalOcean writes them: 2024-05-01T10:00:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if ts is None else ts))


def zulu(core_stamp: str | None) -> str | None:
    """core.now_iso() writes +00:00; DigitalOcean writes Z."""
    if core_stamp is None:
        return None
    return core_stamp.replace("+00:00", "Z")


def _scheme() -> str:
    """http or https, from the socket of the thread serving this request.

    The server does not pass its scheme to the vendors; ThreadingHTTPServer runs each request
    on a thread whose arguments are (socket, address), and a TLS socket is an SSLSocket.
    """
    args = getattr(threading.current_thread(), "_args", ())
    if args and isinstance(args[0], ssl.SSLSocket):
        return "https"
    if args and isinstance(args[0], socket.socket):
        return "http"
    return "https"


def base_url(request: Request) -> str:
    """The absolute URL of the API root as the client reached it (``.../digitalocean/v2``)."""
    host = request.headers.get("host") or "api.digitalocean.com"
    scheme = request.headers.get("x-forwarded-proto") or _scheme()
    return f"{scheme}://{host}{PREFIX}"


def path_param(request: Request, name: str) -> str:
    """A path parameter, percent-decoded (clients quote ``:`` in fingerprints and tags)."""
    return urllib.parse.unquote(request.params[name])


def require_int(raw: str, kind: str) -> int:
    """A numeric id from the path; anything else is a 404 like the API's."""
    try:
        value = int(raw)
    except ValueError as exc:
        raise missing(kind) from exc
    if value < 1:
        raise missing(kind)
    return value


def page_args(request: Request) -> tuple[int, int]:
    page = request.int_arg("page", 1)
    per_page = request.int_arg("per_page", DEFAULT_PER_PAGE)
    if page < 1:
        raise unprocessable("page", "page must be greater than or equal to 1")
    if per_page < 1:
        raise unprocessable("per_page", "per_page must be greater than or equal to 1")
    return page, min(per_page, MAX_PER_PAGE)


def paginate(
    request: Request,
    key: str,
    items: Sequence[Any],
    render: Callable[[Any], JSON] | None = None,
) -> JSON:
    """One page of ``items`` with DigitalOcean's ``links.pages`` and ``meta.total``.

    Like the API: page 1 of several has ``next`` and ``last``, a middle page also ``first``
    and ``prev``, the last page only ``first`` and ``prev``; a single page has ``links: {}``.
    The links are absolute URLs at the address the client used, keeping its other filters.
    """
    page, per_page = page_args(request)
    total = len(items)
    last = max(1, math.ceil(total / per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    body: JSON = {key: [render(x) for x in chunk] if render else list(chunk)}
    pages: JSON = {}
    if last > 1 or page > 1:
        url = base_url(request) + request.path.rstrip("/")
        others = [
            (name, value)
            for name, values in request.query.items()
            if name not in ("page", "per_page")
            for value in values
        ]

        def link(n: int) -> str:
            query = [("page", str(n)), ("per_page", str(per_page)), *others]
            return url + "?" + urllib.parse.urlencode(query)

        if page > 1:
            pages["first"] = link(1)
            pages["prev"] = link(min(page - 1, last))
        if page < last:
            pages["next"] = link(page + 1)
            pages["last"] = link(last)
    body["links"] = {"pages": pages} if pages else {}
    body["meta"] = {"total": total}
    return body


def body_of(request: Request) -> JSON:
    """The JSON object body; a missing or non-object body is a 422 like the API's."""
    if not isinstance(request.body, dict):
        raise ApiError(422, "invalid_input", "request body must be a JSON object")
    return request.body


def check_type(body: JSON, name: str, kind: type | tuple[type, ...], what: str) -> Any:
    """The field's value when present; 422 naming the field when it has the wrong type."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind):
        raise unprocessable(name, f"{name} must be {what}")
    if not isinstance(value, kind):
        raise unprocessable(name, f"{name} must be {what}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def string_list(body: JSON, name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise unprocessable(name, f"{name} must be an array of strings")
    return list(value)


def numeric_strings_as_ints(value: Any) -> list[Any] | None:
    """A list with its numeric strings ("123") made integers, or None when it has none.

    For the fields where DigitalOcean takes ids as strings too (its spec says integers).
    Anything else stays as it was, for the checks that follow to refuse like the API.
    """
    if not isinstance(value, list) or not any(
        isinstance(v, str) and NUMERIC_RE.match(v) for v in value
    ):
        return None
    return [int(v) if isinstance(v, str) and NUMERIC_RE.match(v) else v for v in value]


def int_list(body: JSON, name: str) -> list[int]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise unprocessable(name, f"{name} must be an array of integers")
    return list(value)


def int_in(body: JSON, name: str, default: int, low: int, high: int) -> int:
    """An integer field within bounds (422 naming the field otherwise)."""
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise unprocessable(name, f"{name} must be an integer from {low} to {high}")
    return value
