# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP checks (a status, a piece of the body, JSON keys), retried until they pass or a wait
runs out: the core of the http_check module, also run by nginx_upstreams before and after a
switch, so that a switch and its checks are one module call."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
from urllib.parse import urlsplit

MAX_BODY = 1024 * 1024


class HttpCheckError(Exception):
    """An option is wrong."""


# Defaults of the options wait and interval, also of the functions below.
DEFAULT_WAIT = 0
DEFAULT_INTERVAL = 0.25


def validate(
    checks: list[dict],
    timeout: float,
    wait: float = DEFAULT_WAIT,
    interval: float = DEFAULT_INTERVAL,
    field: str = "checks",
) -> list[dict]:
    """The checks with their names filled in; HttpCheckError naming every wrong field (the
    list is the option ``field``)."""
    errors = []
    if not checks:
        errors.append(f"{field}: expected at least one check, got an empty list")
    if timeout <= 0:
        errors.append(f"timeout: expected a positive number of seconds, got {timeout:g}")
    if wait < 0:
        errors.append(f"wait: expected 0 or a positive number of seconds, got {wait:g}")
    if interval <= 0:
        errors.append(f"interval: expected a positive number of seconds, got {interval:g}")
    for index, check in enumerate(checks):
        parts = urlsplit(check["url"])
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            errors.append(
                f"{field}[{index}].url: expected an http:// or https:// URL, got {check['url']!r}"
            )
        if not 100 <= check["status"] <= 599:
            errors.append(
                f"{field}[{index}].status: expected an HTTP status from 100 to 599, "
                f"got {check['status']}"
            )
    if errors:
        raise HttpCheckError("; ".join(errors))
    return [dict(check, name=check["name"] or check["url"]) for check in checks]


def no_answer(err: BaseException, timeout: float) -> str:
    """Why a request got no answer, in a few words."""
    cause = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(cause, TimeoutError):
        return f"no answer: timed out after {timeout:g} s"
    text = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
    return f"no answer: {text[:1].lower()}{text[1:]}"


def run_check(check: dict, timeout: float, validate_certs: bool) -> dict:
    """Request one check's URL; the check's result."""
    # Here, not at the top: nginx_upstreams runs without checks far more often than with them,
    # and this module_utils file is large, compiled afresh on every run of a module.
    from ansible.module_utils.urls import open_url

    status, body, reason = -1, None, ""
    started = time.monotonic()
    try:
        response = open_url(
            check["url"],
            method="GET",
            timeout=timeout,
            validate_certs=validate_certs,
            follow_redirects="none",
            http_agent="sigma.deploy.http_check",
        )
    except urllib.error.HTTPError as err:  # an answer with a status of 300 or more
        response = err
    except (OSError, ValueError, http.client.HTTPException) as err:
        response, reason = None, no_answer(err, timeout)
    if response is not None:
        status = response.status
        try:
            wanted = check["contains"] is not None or check["json"] is not None
            if wanted and status == check["status"]:
                raw = response.read(MAX_BODY) if response.fp is not None else b""
                body = raw.decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException) as err:
            reason = no_answer(err, timeout).replace("no answer", "body not read", 1)
        finally:
            if response.fp is not None:
                response.close()
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    if not reason and status != check["status"]:
        location = response.headers.get("Location") if 300 <= status < 400 else None
        redirect = f" redirecting to {location}" if location else ""
        reason = f"status {status}{redirect}, expected {check['status']}"
    elif not reason and body is not None:
        reason = body_mismatch(check, body)
    return {
        "name": check["name"],
        "url": check["url"],
        "status": status,
        "passed": not reason,
        "reason": reason,
        "elapsed_ms": elapsed_ms,
    }


def body_mismatch(check: dict, body: str) -> str:
    """Why the body fails the check's contains and json; empty when it passes."""
    if check["contains"] is not None and check["contains"] not in body:
        return f"body does not contain {check['contains']!r}"
    if check["json"] is None:
        return ""
    try:
        document = json.loads(body)
    except ValueError:
        return "body is not JSON"
    if not isinstance(document, dict):
        return f"body is JSON but not an object ({type(document).__name__})"
    wrong = [
        f"{key} is {json.dumps(document[key]) if key in document else 'missing'}, "
        f"expected {json.dumps(value)}"
        for key, value in check["json"].items()
        if key not in document or document[key] != value
    ]
    return "body " + "; ".join(wrong) if wrong else ""


def run_checks(
    checks: list[dict],
    timeout: float,
    validate_certs: bool,
    wait: float = DEFAULT_WAIT,
    interval: float = DEFAULT_INTERVAL,
) -> list[dict]:
    """Every check's result; with ``wait``, the failed ones run again every ``interval``
    seconds until all pass or ``wait`` seconds have gone by."""
    deadline = time.monotonic() + wait
    results: list[dict] = [
        {"name": check["name"], "passed": False, "attempts": 0} for check in checks
    ]
    while True:
        for index, check in enumerate(checks):
            if not results[index]["passed"]:
                attempts = results[index]["attempts"] + 1
                results[index] = dict(run_check(check, timeout, validate_certs), attempts=attempts)
        if all(result["passed"] for result in results) or time.monotonic() + interval > deadline:
            return results
        time.sleep(interval)


def failure_message(results: list[dict]) -> str | None:
    """None when every check passed, else which failed and why."""
    failed = [result for result in results if not result["passed"]]
    if not failed:
        return None
    named = "; ".join(f"{result['name']} ({result['reason']})" for result in failed)
    return f"{len(failed)} of {len(results)} checks failed: {named}"


# The suboptions of one check, for an argument spec (http_check's checks, nginx_upstreams'
# checks_before and checks_after).
CHECK_OPTIONS = {
    "url": {"type": "str", "required": True},
    "name": {"type": "str"},
    "status": {"type": "int", "default": 200},
    "contains": {"type": "str"},
    "json": {"type": "dict"},
}
