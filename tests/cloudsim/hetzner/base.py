"""Shared pieces of the Hetzner Cloud simulator: errors, ids, pagination, sorting, labels.

Hetzner's conventions (https://docs.hetzner.cloud): errors are ``{"error": {"code", "message",
"details"}}``; lists take ``page`` / ``per_page`` (default 25, at most 50) and answer
``meta.pagination``; most lists take ``sort`` (``field`` or ``field:asc|desc``, repeatable),
``name`` and ``label_selector``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from ..core import JSON, ApiError, Request, Response

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 50


# --- errors ---------------------------------------------------------------------------------


def bad_field(field: str, message: str) -> ApiError:
    """422 invalid_input naming the field, as Hetzner words schema errors."""
    return ApiError(
        422,
        "invalid_input",
        f"invalid input in field '{field}': {message}",
        {"fields": [{"name": field, "messages": [message]}]},
    )


def unknown_ref(field: str, message: str) -> ApiError:
    """422 invalid_input for a reference that does not resolve ("image not found")."""
    return ApiError(
        422, "invalid_input", message, {"fields": [{"name": field, "messages": [message]}]}
    )


def name_taken(field: str = "name", message: str = "name is already used") -> ApiError:
    return ApiError(409, "uniqueness_error", message, {"fields": [{"name": field}]})


def operation_error(code: str, message: str, status: int = 422) -> ApiError:
    """An operation specific error (``server_not_stopped``, ``target_already_defined``...)."""
    return ApiError(status, code, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def path_id(req: Request, what: str, param: str = "id") -> int:
    raw = req.params.get(param, "")
    if not raw.isdigit():
        raise not_found(what)
    return int(raw)


def body(req: Request) -> JSON:
    """The JSON object a POST/PUT carries (an absent body counts as ``{}``)."""
    if req.body is None:
        return {}
    return req.json()


# --- request field checks -------------------------------------------------------------------

HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def need_str(data: JSON, key: str, *, required: bool = True, max_len: int = 0) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise bad_field(key, "Missing data for required field.")
        return None
    if not isinstance(value, str) or (required and not value):
        raise bad_field(key, "must be a non-empty string")
    if max_len and len(value) > max_len:
        raise bad_field(key, "is too long")
    return value


def need_bool(data: JSON, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_field(key, "Not a valid boolean.")
    return value


def need_int(data: JSON, key: str, *, required: bool = True, low: int = 1, high: int = 65535):
    value = data.get(key)
    if value is None:
        if required:
            raise bad_field(key, "Missing data for required field.")
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise bad_field(key, f"must be an integer between {low} and {high}")
    return value


def hostname(data: JSON, key: str = "name") -> str:
    value = need_str(data, key)
    if not HOSTNAME.match(value):
        raise bad_field(key, "must be a valid hostname")
    return value


def ref(value: Any) -> int | str | None:
    """An "ID or name" reference: ints and digit strings are ids, other strings names."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value:
        return int(value) if value.isdigit() else value
    return None


# --- labels ---------------------------------------------------------------------------------

_LABEL_VALUE = re.compile(r"^(|[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])$")
_LABEL_NAME = re.compile(r"^([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])$")
_LABEL_PREFIX = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$"
)


def valid_label_key(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (not _LABEL_PREFIX.match(prefix) or prefix.startswith("hetzner.cloud")):
        return False
    return bool(_LABEL_NAME.match(name))


def labels(data: JSON, key: str = "labels", current: dict[str, str] | None = None) -> dict:
    """The labels a request sets (they replace the current set), checked like Hetzner."""
    value = data.get(key)
    if value is None:
        return dict(current or {})
    if not isinstance(value, dict):
        raise bad_field(key, "must be an object")
    for k, v in value.items():
        if not valid_label_key(k):
            raise bad_field(key, f"invalid label key '{k}'")
        if not isinstance(v, str) or not _LABEL_VALUE.match(v):
            raise bad_field(key, f"invalid label value for key '{k}'")
    return dict(value)


# --- label selectors ------------------------------------------------------------------------

_TOKEN = r"[^\s!=(),]+"
_IN = re.compile(rf"^({_TOKEN})\s+(in|notin)\s+\(([^()]*)\)$")
_NEQ = re.compile(rf"^({_TOKEN})\s*!=\s*({_TOKEN}|)$")
_EQ = re.compile(rf"^({_TOKEN})\s*==?\s*({_TOKEN}|)$")
_NOT = re.compile(rf"^!\s*({_TOKEN})$")
_HAS = re.compile(rf"^({_TOKEN})$")

Matcher = Callable[[dict[str, str]], bool]


def _split_terms(text: str) -> list[str]:
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced parenthesis")
        elif ch == "," and depth == 0:
            terms.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError("unbalanced parenthesis")
    terms.append(text[start:])
    return [t.strip() for t in terms]


def _term(term: str) -> Matcher:
    if m := _IN.match(term):
        key, op = m.group(1), m.group(2)
        values = frozenset(v.strip() for v in m.group(3).split(","))
        if "" in values:
            raise ValueError(f"empty value in '{term}'")
        if op == "in":
            return lambda lb: lb.get(key) in values
        return lambda lb: lb.get(key) not in values
    if m := _NEQ.match(term):
        key, value = m.groups()
        return lambda lb: lb.get(key) != value
    if m := _EQ.match(term):
        key, value = m.groups()
        return lambda lb: lb.get(key) == value
    if m := _NOT.match(term):
        key = m.group(1)
        return lambda lb: key not in lb
    if m := _HAS.match(term):
        key = m.group(1)
        return lambda lb: key in lb
    raise ValueError(f"cannot parse '{term}'")


@lru_cache(maxsize=512)
def _compile(text: str) -> tuple[Matcher, ...]:
    terms = _split_terms(text)
    if any(not t for t in terms):
        raise ValueError("empty expression")
    return tuple(_term(t) for t in terms)


def selector(text: str, field: str = "label_selector") -> Matcher:
    """A label selector (``k=v``, ``k!=v``, ``k``, ``!k``, ``k in (a,b)``, ``k notin (a,b)``,
    comma = AND) compiled into a predicate on a label dict."""
    try:
        parts = _compile(text.strip())
    except ValueError as exc:
        raise bad_field(field, f"invalid label selector: {exc}") from exc
    if len(parts) == 1:
        return parts[0]
    return lambda lb: all(p(lb) for p in parts)


# --- lists ----------------------------------------------------------------------------------


def filter_common(req: Request, items: Iterable[Any]) -> list[Any]:
    """Apply the ``name`` and ``label_selector`` filters (objects with .name and .labels)."""
    name = req.arg("name")
    text = req.arg("label_selector")
    result = items if isinstance(items, list) else list(items)
    if name:
        result = [x for x in result if x.name == name]
    if text and text.strip():
        match = selector(text)
        result = [x for x in result if match(x.labels)]
    return result


def sort_items(req: Request, items: list[Any], keys: dict[str, Callable[[Any], Any]]) -> list:
    """Apply ``sort`` parameters (repeatable; the first is the primary key)."""
    specs = [s for value in req.query.get("sort", []) for s in value.split(",") if s]
    for spec in reversed(specs):
        field, _sep, direction = spec.partition(":")
        direction = direction or "asc"
        if field not in keys or direction not in ("asc", "desc"):
            raise bad_field("sort", f"invalid sort value '{spec}'")
        items = sorted(items, key=keys[field], reverse=direction == "desc")
    return items


def page(
    req: Request, items: Sequence[Any], key: str, render: Callable[[Any], JSON], **extra: Any
) -> Response:
    """One page of ``items`` as Hetzner answers a list: ``{key: [...], "meta": {...}}``."""
    number = req.int_arg("page", 1)
    per_page = req.int_arg("per_page", DEFAULT_PER_PAGE)
    if number < 1:
        raise bad_field("page", "must be greater than or equal to 1")
    if per_page < 1:
        raise bad_field("per_page", "must be greater than or equal to 1")
    per_page = min(per_page, MAX_PER_PAGE)
    total = len(items)
    last = max(1, math.ceil(total / per_page))
    chunk = items[(number - 1) * per_page : number * per_page]
    pagination = {
        "page": number,
        "per_page": per_page,
        "previous_page": number - 1 if number > 1 else None,
        "next_page": number + 1 if number < last else None,
        "last_page": last,
        "total_entries": total,
    }
    result = {key: [render(x) for x in chunk], "meta": {"pagination": pagination}, **extra}
    return Response(200, result)


BY_ID = {"id": lambda x: x.id}
BY_ID_NAME = {"id": lambda x: x.id, "name": lambda x: x.name}
BY_ID_NAME_CREATED = {**BY_ID_NAME, "created": lambda x: x.created}
