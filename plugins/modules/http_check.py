#!/usr/bin/python
# Copyright: (c) 2026, sigma.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: http_check
short_description: Run a list of HTTP checks in one call and fail naming each one that failed
version_added: 0.2.0
description:
  - Sends one C(GET) request per item of O(checks), in order, from the host the task runs on
    (for example against a local slot, C(http://127.0.0.1:8001/healthz)). One module call
    instead of one M(ansible.builtin.uri) loop item per check.
  - A check passes when the status is O(checks[].status), if O(checks[].contains) is given the
    body contains that text, and if O(checks[].json) is given the body is a JSON object with
    those fields and values.
  - Every check runs, also after one has failed; the task then fails with a message naming
    each failed check and why, and returns RV(checks) for all of them.
  - Redirects are not followed; a redirect's own status is the answer (the reason of a failed
    check names where it points to). Set O(checks[].status) to C(301), say, to check a redirect.
  - Proxy environment variables (C(http_proxy), C(https_proxy), C(no_proxy)) apply as they do
    for M(ansible.builtin.uri).
  - Read-only; never reports a change.
author:
  - sigma.deploy maintainers (@sigma-deploy)
options:
  checks:
    description:
      - The checks to run, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      url:
        description:
          - The URL to request, C(http://) or C(https://).
        type: str
        required: true
      name:
        description:
          - The name of the check in RV(checks) and in messages.
          - Defaults to O(checks[].url).
        type: str
      status:
        description:
          - The status the answer must have, from 100 to 599.
        type: int
        default: 200
      contains:
        description:
          - Text the body must contain, compared with the body decoded as UTF-8 (bytes that are
            not UTF-8 read as U+FFFD).
          - Only the first MiB of the body is read and searched.
        type: str
      json:
        description:
          - Fields the body, read as a JSON object, must have, with these values (compared
            as JSON values; only the top-level fields named here), for example a field
            C(release_id) with the release's id.
          - Only the first MiB of the body is read.
        type: dict
  timeout:
    description:
      - Seconds to wait for each request, both to connect and for each read of the answer.
      - Must be positive.
    type: float
    default: 10
  validate_certs:
    description:
      - Whether to verify the TLS certificate of C(https://) URLs.
    type: bool
    default: true
  wait:
    description:
      - Seconds to keep running the checks that failed, every O(interval) seconds, until all
        pass; the module fails with the last answers when the time is up.
      - V(0) runs each check once.
      - One module call that polls on the host reacts sooner and costs less than a task
        retried with C(until), C(retries) and C(delay).
    type: float
    default: 0
  interval:
    description:
      - Seconds between two rounds of the failed checks when O(wait) is set. Must be positive.
    type: float
    default: 0.25
attributes:
  check_mode:
    support: full
    details: The module only reads; in check mode it sends the requests and judges them too.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: ansible.builtin.uri
"""

EXAMPLES = r"""
- name: Smoke-check the new slot
  sigma.deploy.http_check:
    checks:
      - name: API health
        url: http://127.0.0.1:8001/healthz
      - name: Home page
        url: http://127.0.0.1:3001/
        contains: "<title>Notes</title>"
      - name: Old path redirects
        url: http://127.0.0.1:3001/old
        status: 308
    timeout: 5

- name: Wait up to 30 seconds until the API answers
  sigma.deploy.http_check:
    checks:
      - url: http://127.0.0.1:8001/healthz
        contains: '"status":"ok"'
    timeout: 2
    wait: 30

- name: Wait until nginx serves the new release
  sigma.deploy.http_check:
    checks:
      - name: nginx serves the release
        url: https://127.0.0.1/version
        json:
          release_id: "{{ release_id }}"
    validate_certs: false
  register: served
  until: served is succeeded
  retries: 30
  delay: 1
"""

RETURN = r"""
checks:
  description:
    - One item per item of O(checks), in the same order; returned when the checks ran, on
      success and when a check failed.
  returned: when the checks ran
  type: list
  elements: dict
  sample:
    - name: API health
      url: http://127.0.0.1:8001/healthz
      status: 503
      passed: false
      reason: status 503, expected 200
      elapsed_ms: 3.2
    - name: Home page
      url: http://127.0.0.1:3001/
      status: -1
      passed: false
      reason: "no answer: connection refused"
      elapsed_ms: 0.4
  contains:
    name:
      description: The check's O(checks[].name) (its URL when not given).
      type: str
    url:
      description: The URL requested.
      type: str
    status:
      description: The status of the answer; C(-1) when there was no answer.
      type: int
    passed:
      description: Whether the check passed.
      type: bool
    reason:
      description: Why the check failed; empty when it passed.
      type: str
    elapsed_ms:
      description: Milliseconds the check took, from sending the request until its body was read
        (or the error); its last attempt when O(wait) is set.
      type: float
    attempts:
      description: How many times the check ran (more than once only with O(wait)).
      type: int
"""

import http.client
import json
import time
import urllib.error
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

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
) -> list[dict]:
    """The checks with their names filled in; HttpCheckError naming every wrong field."""
    errors = []
    if not checks:
        errors.append("checks: expected at least one check, got an empty list")
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
                f"checks[{index}].url: expected an http:// or https:// URL, got {check['url']!r}"
            )
        if not 100 <= check["status"] <= 599:
            errors.append(
                f"checks[{index}].status: expected an HTTP status from 100 to 599, "
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


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "checks": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "url": {"type": "str", "required": True},
                    "name": {"type": "str"},
                    "status": {"type": "int", "default": 200},
                    "contains": {"type": "str"},
                    "json": {"type": "dict"},
                },
            },
            "timeout": {"type": "float", "default": 10},
            "validate_certs": {"type": "bool", "default": True},
            "wait": {"type": "float", "default": DEFAULT_WAIT},
            "interval": {"type": "float", "default": DEFAULT_INTERVAL},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        checks = validate(params["checks"], params["timeout"], params["wait"], params["interval"])
    except HttpCheckError as err:
        module.fail_json(msg=str(err))
    results = run_checks(
        checks, params["timeout"], params["validate_certs"], params["wait"], params["interval"]
    )
    message = failure_message(results)
    if message:
        module.fail_json(msg=message, changed=False, checks=results)
    module.exit_json(changed=False, checks=results)


if __name__ == "__main__":
    main()
